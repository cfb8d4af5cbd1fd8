package dashboard

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"followup/store"
	"followup/web"
)

// Password rules: bcrypt reads at most 72 bytes.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 72
)

// HashPassword checks a new password and hashes it with bcrypt at cost
// (0: bcrypt.DefaultCost).
func HashPassword(password string, cost int) (string, error) {
	switch {
	case !utf8.ValidString(password):
		return "", errors.New("the password is not valid UTF-8")
	case utf8.RuneCountInString(password) < MinPasswordLen:
		return "", fmt.Errorf("the password is too short: at least %d characters", MinPasswordLen)
	case len(password) > MaxPasswordLen:
		return "", fmt.Errorf("the password is too long: at most %d bytes", MaxPasswordLen)
	}
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("hashing the password: %w", err)
	}
	return string(h), nil
}

// NormalizeLogin trims a login (a name or an address) and lower-cases it.
func NormalizeLogin(s string) (string, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	switch {
	case l == "":
		return "", errors.New("the login is empty")
	case len(l) > 254:
		return "", errors.New("the login is longer than 254 bytes")
	case !utf8.ValidString(l) || strings.ContainsFunc(l, func(r rune) bool { return r < 0x20 || r == 0x7f || r == ' ' }):
		return "", fmt.Errorf("the login %q has spaces or control characters", s)
	}
	return l, nil
}

type ctxKey struct{}

// signedIn is the session of the request.
type signedIn struct {
	store.Session
	csrf string
}

func sessionOf(r *http.Request) *signedIn {
	s, _ := r.Context().Value(ctxKey{}).(*signedIn)
	return s
}

func (d *Dashboard) cookieName() string {
	if d.cfg.Secure {
		return "__Host-followup_session" // only over https, for this host, path /
	}
	return "followup_session"
}

const loginCookie = "followup_login"

func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// csrfFor is the session's CSRF token: derived from the session id, which
// only the HttpOnly cookie holds.
func csrfFor(sessionID string) string {
	m := hmac.New(sha256.New, []byte(sessionID))
	m.Write([]byte("followup dashboard csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sameOrigin refuses a request a browser says comes from another site.
// Sec-Fetch-Site, which pages cannot forge, decides when it is there;
// otherwise the Origin header is compared with the host ("null", sent by
// some browsers under a no-referrer policy, proves nothing either way and
// is left to the CSRF token).
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	case "":
	default:
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return false
		}
	}
	return true
}

// requireSession lets a request through only with a live session: a page
// without one goes to /login, anything else gets 401. Every non-GET must
// also carry the session's CSRF token and come from this site (403).
func (d *Dashboard) requireSession(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := d.session(r)
		if !ok {
			d.clearCookie(w)
			if r.Method == http.MethodGet && !strings.HasSuffix(r.URL.Path, "/status") {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !d.parseBody(w, r) {
				return
			}
			token := r.Header.Get("X-CSRF-Token")
			if token == "" {
				token = r.PostForm.Get("csrf")
			}
			if !sameOrigin(r) || subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf)) != 1 {
				d.cfg.Log.Warn("dashboard: refused a request without a valid CSRF token", "path", r.URL.Path, "user", s.Login)
				http.Error(w, "this form has expired or came from another site; reload the page and try again", http.StatusForbidden)
				return
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, s)))
	}
}

// session loads the request's session, ending it when expired or idle.
func (d *Dashboard) session(r *http.Request) (*signedIn, bool) {
	c, err := r.Cookie(d.cookieName())
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil, false
	}
	ctx := r.Context()
	idHash := hashID(c.Value)
	s, err := d.cfg.Store.SessionByHash(ctx, idHash)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			d.cfg.Log.Error("dashboard: loading a session", "err", err)
		}
		return nil, false
	}
	now := d.cfg.Now()
	if !now.Before(s.ExpiresAt) || now.Sub(s.LastSeenAt) >= d.cfg.SessionIdle {
		if err := d.cfg.Store.DeleteSession(ctx, idHash); err != nil {
			d.cfg.Log.Error("dashboard: ending an expired session", "err", err)
		}
		return nil, false
	}
	if now.Sub(s.LastSeenAt) > time.Minute { // one write a minute, not one a request
		if err := d.cfg.Store.TouchSession(ctx, idHash, now); err != nil {
			d.cfg.Log.Error("dashboard: touching a session", "err", err)
		}
	}
	return &signedIn{Session: s, csrf: csrfFor(c.Value)}, true
}

func (d *Dashboard) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: d.cookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: d.cfg.Secure, SameSite: http.SameSiteLaxMode})
}

type loginView struct {
	Login, Next, Token, Problem string
}

func (d *Dashboard) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := d.session(r); ok {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	d.renderLogin(w, r, http.StatusOK, loginView{Next: safeNext(r.URL.Query().Get("next"))})
}

// renderLogin shows the form with a fresh double-submit token (the form
// has no session yet to bind a CSRF token to).
func (d *Dashboard) renderLogin(w http.ResponseWriter, r *http.Request, code int, v loginView) {
	v.Token = randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: v.Token, Path: "/login", MaxAge: 3600, HttpOnly: true, Secure: d.cfg.Secure, SameSite: http.SameSiteStrictMode})
	d.render(w, r, code, "login", texts[d.lang(r, nil)]["signIn"], v)
}

// safeNext keeps a redirect after sign-in on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.HasPrefix(next, "/login") {
		return "/candidates"
	}
	return next
}

func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	t := texts[d.lang(r, nil)]
	v := loginView{Login: r.PostForm.Get("login"), Next: safeNext(r.PostForm.Get("next"))}
	c, err := r.Cookie(loginCookie)
	if err != nil || !sameOrigin(r) || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostForm.Get("token"))) != 1 {
		v.Problem = t["formExpired"]
		d.renderLogin(w, r, http.StatusForbidden, v)
		return
	}
	now := d.cfg.Now()
	login, _ := NormalizeLogin(v.Login)
	keys := []string{"login:" + login, "addr:" + web.ClientAddr(r)}
	for _, k := range keys {
		if wait := d.signIn.lockedFor(k, now); wait > 0 {
			d.cfg.Log.Warn("dashboard: sign-in refused while locked", "login", login, "addr", web.ClientAddr(r))
			w.Header().Set("Retry-After", fmt.Sprint(int(math.Ceil(wait.Seconds()))))
			v.Problem = fmt.Sprintf(t["locked"], int(math.Ceil(wait.Minutes())))
			d.renderLogin(w, r, http.StatusTooManyRequests, v)
			return
		}
	}
	u, err := d.cfg.Store.UserByLogin(r.Context(), login)
	hash := d.dummyHash
	if err == nil {
		hash = []byte(u.PasswordHash)
	} else if !errors.Is(err, store.ErrNotFound) {
		d.fail(w, r, err)
		return
	}
	pwErr := bcrypt.CompareHashAndPassword(hash, []byte(r.PostForm.Get("password")))
	if err != nil || pwErr != nil {
		d.signIn.fail(keys[0], d.cfg.SignIn.Threshold, d.cfg.SignIn, now)
		d.signIn.fail(keys[1], d.cfg.SignIn.AddressThreshold, d.cfg.SignIn, now)
		d.cfg.Log.Warn("dashboard: sign-in failed", "login", login, "addr", web.ClientAddr(r))
		v.Problem = t["wrongPassword"]
		d.renderLogin(w, r, http.StatusUnauthorized, v)
		return
	}
	d.signIn.reset(keys[0])
	if err := d.startSession(w, r, u.ID); err != nil {
		d.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/login", MaxAge: -1, HttpOnly: true, Secure: d.cfg.Secure})
	d.cfg.Log.Info("dashboard: signed in", "login", login)
	http.Redirect(w, r, v.Next, http.StatusSeeOther)
}

// startSession stores a new session for the user and sets its cookie.
func (d *Dashboard) startSession(w http.ResponseWriter, r *http.Request, userID int64) error {
	now := d.cfg.Now()
	if _, err := d.cfg.Store.PurgeSessions(r.Context(), now, now.Add(-d.cfg.SessionIdle)); err != nil {
		d.cfg.Log.Error("dashboard: purging sessions", "err", err)
	}
	id := randomToken()
	if err := d.cfg.Store.CreateSession(r.Context(), hashID(id), userID, now, now.Add(d.cfg.SessionMax)); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: d.cookieName(), Value: id, Path: "/", HttpOnly: true, Secure: d.cfg.Secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(d.cfg.SessionMax.Seconds())})
	return nil
}

// StartSession signs the browser of this request in as login, an existing
// user, without a password: only for a caller that has made sure by other
// means who is asking (`followup demo`'s one-time sign-in link). The
// caller then redirects.
func (d *Dashboard) StartSession(w http.ResponseWriter, r *http.Request, login string) error {
	l, err := NormalizeLogin(login)
	if err != nil {
		return err
	}
	u, err := d.cfg.Store.UserByLogin(r.Context(), l)
	if err != nil {
		return fmt.Errorf("dashboard: user %s: %w", l, err)
	}
	if err := d.startSession(w, r, u.ID); err != nil {
		return fmt.Errorf("dashboard: starting a session: %w", err)
	}
	d.cfg.Log.Info("dashboard: signed in without a password", "login", l)
	return nil
}

// CSRFToken is the CSRF token of the request's session, for the "csrf"
// field of forms drawn by pages added with Config.Pages ("" outside the
// dashboard's signed-in routes).
func CSRFToken(r *http.Request) string {
	if s := sessionOf(r); s != nil {
		return s.csrf
	}
	return ""
}

// Lang is the language the dashboard speaks to this request: "zh" or "en"
// (the user's setting, else the browser's).
func (d *Dashboard) Lang(r *http.Request) string { return d.lang(r, nil) }

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(d.cookieName()); err == nil {
		if err := d.cfg.Store.DeleteSession(r.Context(), hashID(c.Value)); err != nil {
			d.fail(w, r, err)
			return
		}
	}
	d.clearCookie(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (d *Dashboard) setLanguage(w http.ResponseWriter, r *http.Request) {
	lang := r.PostFormValue("language")
	switch lang {
	case "", "zh-CN", "en":
	default:
		http.Error(w, "unknown language", http.StatusBadRequest)
		return
	}
	if err := d.cfg.Store.SetUserLanguage(r.Context(), sessionOf(r).UserID, lang, d.cfg.Now()); err != nil {
		d.fail(w, r, err)
		return
	}
	http.Redirect(w, r, safeNext(r.PostFormValue("back")), http.StatusSeeOther)
}

// parseBody reads a form within limits: an upload (multipart) up to the
// upload limit, anything else up to 1 MiB. Too large: 413.
func (d *Dashboard) parseBody(w http.ResponseWriter, r *http.Request) bool {
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		r.Body = http.MaxBytesReader(w, r.Body, d.cfg.UploadLimit+64<<10)
		err = r.ParseMultipartForm(d.cfg.UploadLimit + 64<<10)
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		err = r.ParseForm()
	}
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		t := texts[d.lang(r, nil)]
		http.Error(w, fmt.Sprintf(t["tooBig"], d.cfg.UploadLimit>>20), http.StatusRequestEntityTooLarge)
		return false
	}
	http.Error(w, "bad request", http.StatusBadRequest)
	return false
}
