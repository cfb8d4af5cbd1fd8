package web

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"followup/sequences"
	"followup/store"
	"followup/surveys"
)

// SurveyStore is what the survey pages need from the database.
type SurveyStore interface {
	EnrollmentByUID(ctx context.Context, uid string) (sequences.Enrollment, error)
	SaveSurveyResponse(ctx context.Context, tokenHash string, r store.SurveyResponse) (bool, error)
	SurveyLink(ctx context.Context, uid, tokenHash string) (language string, used bool, err error)
}

// Surveys serves the survey pages: GET shows the form (a score link from
// the email preselects its score), POST records the answers. A GET never
// records anything: link scanners open every link in an email.
type Surveys struct {
	Set    *surveys.Set
	Store  SurveyStore
	Secret []byte
	Now    func() time.Time
	// Answered, if set, acts on a recorded response (notify the recruiter,
	// enroll or stop) after it is saved; errors are logged by the caller.
	Answered func(ctx context.Context, s *surveys.Survey, e sequences.Enrollment, a surveys.Answers)
	// PerAddress and PerLink are how many requests a minute one client
	// address and one survey link may make (0: 60 and 20).
	PerAddress, PerLink int

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
	forms    sync.Map // formKey → formPage: a blank form rendered once
}

// A blank form (a GET, nothing answered yet) is the same for everyone who
// opens that survey in that language with that score preselected, except
// for the CSRF value; it is rendered once and kept as the bytes before and
// after that value.
type formKey struct {
	def         *surveys.Survey
	lang, score string
}

type formPage struct{ before, after []byte }

// csrfMark stands in for the CSRF value while a blank form is rendered for
// the cache; it has the length and alphabet of a real one.
const csrfMark = "CSRFxMARKxCSRFxMARKxCSRF"

// maxLimiters bounds the rate limiters kept in memory (one per client
// address and per link seen in the last minutes).
const maxLimiters = 10000

// allow rate-limits requests per key: burst at once, then burst a minute.
// A link scanner opening all eleven score links of an NPS email stays
// under the per-link burst; a flood does not.
func (sv *Surveys) allow(key string, burst int) bool {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if sv.limiters == nil {
		sv.limiters = map[string]*rate.Limiter{}
	}
	if len(sv.limiters) >= maxLimiters {
		// Forget the idle ones (back to a full burst: they would start
		// afresh anyway); the ones still being hammered stay limited.
		for k, l := range sv.limiters {
			if l.Tokens() >= float64(l.Burst()) {
				delete(sv.limiters, k)
			}
		}
		if len(sv.limiters) >= maxLimiters { // a flood from everywhere: bound the memory
			clear(sv.limiters)
		}
	}
	l, ok := sv.limiters[key]
	if !ok {
		l = rate.NewLimiter(rate.Every(time.Minute/time.Duration(burst)), burst)
		sv.limiters[key] = l
	}
	return l.Allow()
}

type scalePoint struct {
	Value   int
	Checked bool
}

type choice struct {
	ID, Label, OtherText string
	Checked, Other       bool
}

type questionView struct {
	ID, Kind, Prompt, MinLabel, MaxLabel, Problem, Text string
	Required                                            bool
	Points                                              []scalePoint
	Choices                                             []choice
}

type surveyView struct {
	Lang, Title, Intro, State, Message, CSRF, Submit string
	Questions                                        []questionView
}

var surveyTexts = map[string]map[string]string{
	"zh": {"submit": "提交", "invalid": "这个问卷链接无效。请直接回复邮件告诉我们您的想法。", "invalidTitle": "链接无效",
		"expired": "这个问卷已经结束，谢谢您的关注。", "expiredTitle": "问卷已结束", "used": "您已经提交过这份问卷，谢谢！", "usedTitle": "已提交",
		"busy": "请求太频繁，请稍后再试。", "csrf": "提交没有通过校验，请重新打开邮件中的链接再提交。"},
	"en": {"submit": "Send", "invalid": "This survey link does not work. Reply to the email and tell us what you think.", "invalidTitle": "This link does not work",
		"expired": "This survey has closed. Thank you for your interest.", "expiredTitle": "The survey has closed", "used": "You have already answered this survey. Thank you!", "usedTitle": "Already answered",
		"busy": "Too many requests; please try again in a minute.", "csrf": "The form could not be verified; open the link from the email again and resend it."},
}

func (s *Server) csrfToken(token string) string {
	m := hmac.New(sha256.New, s.Secret)
	m.Write([]byte("survey-csrf\x00" + token))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// surveyPage is GET /s/{token}.
func (s *Server) surveyPage(w http.ResponseWriter, r *http.Request) {
	s.surveyRequest(w, r, false)
}

// surveyAnswer is POST /s/{token}.
func (s *Server) surveyAnswer(w http.ResponseWriter, r *http.Request) {
	s.surveyRequest(w, r, true)
}

func (s *Server) surveyRequest(w http.ResponseWriter, r *http.Request, post bool) {
	sv := s.Surveys
	token := r.PathValue("token")
	lang := pickLang("", r.Header.Get("Accept-Language"))
	ip := clientAddr(r)
	if !sv.allow("ip:"+ip, cmp.Or(sv.PerAddress, 60)) || !sv.allow("t:"+token, cmp.Or(sv.PerLink, 20)) {
		s.surveyMessage(w, lang, http.StatusTooManyRequests, "invalidTitle", "busy")
		return
	}
	link, err := surveys.ParseToken(sv.Secret, token, 0, sv.Now())
	if err != nil {
		s.surveyMessage(w, lang, http.StatusNotFound, "invalidTitle", "invalid")
		return
	}
	def, ok := sv.Set.Get(link.Survey)
	if !ok {
		s.surveyMessage(w, lang, http.StatusNotFound, "invalidTitle", "invalid")
		return
	}
	hash := surveys.TokenHash(token)
	candLang, used, err := sv.Store.SurveyLink(r.Context(), link.UID, hash)
	if errors.Is(err, store.ErrNotFound) {
		s.surveyMessage(w, lang, http.StatusNotFound, "invalidTitle", "invalid")
		return
	} else if err != nil {
		s.Log.Error("opening a survey link", "err", err)
		http.Error(w, "please try again", http.StatusServiceUnavailable)
		return
	}
	lang = pickLang(candLang, r.Header.Get("Accept-Language"))
	if link.Expired(def.ExpiresD, sv.Now()) {
		s.surveyMessage(w, lang, http.StatusGone, "expiredTitle", "expired")
		return
	}
	if used {
		s.surveyMessage(w, lang, http.StatusOK, "usedTitle", "used")
		return
	}
	full := map[string]string{"zh": "zh-CN", "en": "en"}[lang]
	if !post {
		form := url.Values{}
		if q, ok := def.ScaleQuestion(); ok {
			if n, err := strconv.Atoi(r.URL.Query().Get("score")); err == nil && n >= q.Min && n <= q.Max {
				form.Set(q.ID, strconv.Itoa(n)) // preselected, not recorded
			}
		}
		s.blankForm(w, def, full, form, token)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "request too large or malformed", http.StatusRequestEntityTooLarge)
		return
	}
	// CSRF: the form carries a token derived from the link, and a browser
	// that says the request comes from another site is refused.
	if !hmac.Equal([]byte(r.PostForm.Get("csrf")), []byte(s.csrfToken(token))) || r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		s.surveyMessage(w, lang, http.StatusForbidden, "invalidTitle", "csrf")
		return
	}
	answers, problems := def.FromForm(r.PostForm, full)
	if len(problems) > 0 {
		s.renderSurvey(w, http.StatusBadRequest, def, full, token, r.PostForm, problems)
		return
	}
	e, err := sv.Store.EnrollmentByUID(r.Context(), link.UID)
	if err != nil {
		s.Log.Error("loading the enrollment of a survey answer", "err", err)
		http.Error(w, "please try again", http.StatusServiceUnavailable)
		return
	}
	resp := store.SurveyResponse{Survey: def.Name, Sequence: e.Sequence, Job: e.Fields["job_title"], Mailbox: e.Mailbox,
		Answers: answers, At: sv.Now()}
	if n, ok := def.Score(answers); ok {
		resp.Score = &n
	}
	if !def.Anonymous {
		resp.EnrollmentID, resp.CandidateID = e.ID, e.CandidateID
	}
	saved, err := sv.Store.SaveSurveyResponse(r.Context(), hash, resp)
	if err != nil {
		s.Log.Error("saving a survey response", "err", err)
		http.Error(w, "please try again", http.StatusServiceUnavailable)
		return
	}
	if !saved {
		s.surveyMessage(w, lang, http.StatusOK, "usedTitle", "used")
		return
	}
	if sv.Answered != nil {
		sv.Answered(context.WithoutCancel(r.Context()), def, e, answers)
	}
	s.Log.Info("survey answered", "survey", def.Name, "sequence", e.Sequence, "anonymous", def.Anonymous)
	v := surveyView{Lang: full, Title: def.Title.In(full), State: "done", Message: def.Thanks.In(full)}
	s.writeSurvey(w, http.StatusOK, v)
}

// blankForm writes the form as a GET shows it, from the cache.
func (s *Server) blankForm(w http.ResponseWriter, def *surveys.Survey, lang string, form url.Values, token string) {
	key := formKey{def: def, lang: lang, score: form.Encode()}
	cached, ok := s.Surveys.forms.Load(key)
	if !ok {
		var buf bytes.Buffer
		if err := s.pages.ExecuteTemplate(&buf, "survey", s.formView(def, lang, csrfMark, form, nil)); err != nil {
			s.Log.Error("rendering a survey page", "err", err)
			http.Error(w, "please try again", http.StatusInternalServerError)
			return
		}
		before, after, found := bytes.Cut(buf.Bytes(), []byte(csrfMark))
		if !found {
			s.renderSurvey(w, http.StatusOK, def, lang, token, form, nil)
			return
		}
		cached, _ = s.Surveys.forms.LoadOrStore(key, formPage{before, after})
	}
	p, csrf := cached.(formPage), s.csrfToken(token)
	surveyHeaders(w)
	w.Header().Set("Content-Length", strconv.Itoa(len(p.before)+len(csrf)+len(p.after)))
	w.WriteHeader(http.StatusOK)
	w.Write(p.before)
	io.WriteString(w, csrf)
	w.Write(p.after)
}

func (s *Server) renderSurvey(w http.ResponseWriter, code int, def *surveys.Survey, lang, token string, form url.Values, problems map[string]string) {
	s.writeSurvey(w, code, s.formView(def, lang, s.csrfToken(token), form, problems))
}

func (s *Server) formView(def *surveys.Survey, lang, csrf string, form url.Values, problems map[string]string) surveyView {
	v := surveyView{Lang: lang, Title: def.Title.In(lang), Intro: def.Intro.In(lang), State: "form", CSRF: csrf,
		Submit: surveyTexts[pickLang(lang, "")]["submit"]}
	for _, q := range def.Questions {
		qv := questionView{ID: q.ID, Kind: q.Kind, Prompt: q.Prompt.In(lang), Required: q.Required, Problem: problems[q.ID],
			MinLabel: q.MinLabel.In(lang), MaxLabel: q.MaxLabel.In(lang), Text: form.Get(q.ID)}
		picked := map[string]bool{}
		for _, v := range form[q.ID] {
			picked[v] = true
		}
		for n := q.Min; q.Kind == surveys.Scale && n <= q.Max; n++ {
			qv.Points = append(qv.Points, scalePoint{Value: n, Checked: picked[strconv.Itoa(n)]})
		}
		for _, o := range q.Options {
			qv.Choices = append(qv.Choices, choice{ID: o.ID, Label: o.Label.In(lang), Checked: picked[o.ID], Other: o.Other,
				OtherText: form.Get(q.ID + ".other")})
		}
		v.Questions = append(v.Questions, qv)
	}
	return v
}

func (s *Server) surveyMessage(w http.ResponseWriter, lang string, code int, title, msg string) {
	t := surveyTexts[lang]
	s.writeSurvey(w, code, surveyView{Lang: map[string]string{"zh": "zh-CN", "en": "en"}[lang], Title: t[title], State: "message", Message: t[msg]})
}

func surveyHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
}

func (s *Server) writeSurvey(w http.ResponseWriter, code int, v surveyView) {
	surveyHeaders(w)
	w.WriteHeader(code)
	if err := s.pages.ExecuteTemplate(w, "survey", v); err != nil {
		s.Log.Error("rendering a survey page", "err", err)
	}
}

// SurveyURL builds a personal survey link; score (when not nil) preselects
// that score on the page.
func SurveyURL(base string, secret []byte, uid, survey string, issued time.Time, score *int) string {
	u := strings.TrimRight(base, "/") + "/s/" + surveys.NewToken(secret, uid, survey, issued)
	if score != nil {
		u += "?score=" + strconv.Itoa(*score)
	}
	return u
}

// clientAddr is the address a request comes from, for rate limits. Behind
// a reverse proxy on the same machine or network (the connection comes
// from a loopback or private address) it is the last address of
// X-Forwarded-For, the one that proxy saw; the earlier entries are the
// client's own word and are ignored.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer := net.ParseIP(host)
	xff := r.Header.Values("X-Forwarded-For")
	if peer == nil || !(peer.IsLoopback() || peer.IsPrivate()) || len(xff) == 0 {
		return host
	}
	last := xff[len(xff)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	if ip := net.ParseIP(strings.TrimSpace(last)); ip != nil {
		return ip.String()
	}
	return host
}
