package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"followup/store"
)

// Open and click tracking is off by default (http.tracking in the config).
// When it is on, each HTML part gets a 1×1 image and its links go through
// /t/c/; the text part is never changed. Both kinds of request are
// classified, since many of them are not the candidate: Apple Mail fetches
// every image when the mail arrives, security gateways open and click
// every link to scan it. Only "person" and "proxy" (Gmail's image proxy,
// which fetches when the person opens) count, and the numbers are shown
// as estimates.

// Tracking request classes.
const (
	ClassPerson   = "person"
	ClassProxy    = "proxy"    // a webmail image proxy fetching for the reader
	ClassPrefetch = "prefetch" // Apple Mail Privacy Protection: every message, on arrival
	ClassScanner  = "scanner"  // a security gateway, a link unfurler, a script
)

// Counted says whether a class counts as the candidate.
func Counted(class string) bool { return class == ClassPerson || class == ClassProxy }

// Tracker rewrites HTML parts and signs the links.
type Tracker struct {
	Base          string // public URL of the web server
	Secret        []byte
	Opens, Clicks bool
}

func (t *Tracker) sign(kind, s string) string {
	m := hmac.New(sha256.New, t.Secret)
	m.Write([]byte("track\x00" + kind + "\x00" + s))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// token names a message (by its Message-ID, which holds no personal data).
func (t *Tracker) token(messageID string) string {
	id := base64.RawURLEncoding.EncodeToString([]byte(messageID))
	return id + "." + t.sign("m", id)
}

func (t *Tracker) messageID(token string) (string, bool) {
	id, sig, ok := strings.Cut(token, ".")
	if !ok || len(t.Secret) == 0 || !hmac.Equal([]byte(sig), []byte(t.sign("m", id))) {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(id)
	return string(b), err == nil
}

var hrefRE = regexp.MustCompile(`(<a\s[^>]*?href=")([^"]*)(")`)

// Rewrite adds the pixel and routes http(s) links through the redirect.
// Links to Followup itself (unsubscribe, surveys) and mailto: are left
// alone: they must work even if the redirect did not, and they are not
// clicks on content.
func (t *Tracker) Rewrite(messageID, doc string) string {
	base := strings.TrimRight(t.Base, "/")
	tok := t.token(messageID)
	if t.Clicks {
		doc = hrefRE.ReplaceAllStringFunc(doc, func(m string) string {
			p := hrefRE.FindStringSubmatch(m)
			target := html.UnescapeString(p[2])
			u, err := url.Parse(target)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || strings.HasPrefix(target, base+"/") {
				return m
			}
			link := base + "/t/c/" + tok + "?" + url.Values{"u": {target}, "s": {t.sign("u", tok+"\x00"+target)}}.Encode()
			return p[1] + html.EscapeString(link) + p[3]
		})
	}
	if t.Opens {
		img := `<img src="` + html.EscapeString(base+"/t/o/"+tok) + `" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0">`
		if i := strings.LastIndex(doc, "</body>"); i >= 0 {
			doc = doc[:i] + img + doc[i:]
		} else {
			doc += img
		}
	}
	return doc
}

// scannerAgents are parts of User-Agent strings of programs that fetch
// links and images without a person: security gateways, link previews,
// scripts.
var scannerAgents = []string{"bot", "spider", "crawl", "scan", "barracuda", "mimecast", "proofpoint", "symantec",
	"forcepoint", "trendmicro", "sophos", "safelinks", "fortiguard", "python", "curl", "wget", "go-http-client",
	"java/", "libwww", "okhttp", "headless", "preview", "validator", "monitor", "facebookexternalhit"}

// classify guesses who made a tracking request. since is the time from
// sending; burst is true when another link of the same message was clicked
// a moment before (scanners click them all).
func classify(method, agent string, since time.Duration, burst bool) string {
	a := strings.ToLower(strings.TrimSpace(agent))
	switch {
	case method == http.MethodHead, a == "":
		return ClassScanner
	case strings.Contains(a, "googleimageproxy"), strings.Contains(a, "yahoomailproxy"):
		return ClassProxy
	case a == "mozilla/5.0":
		return ClassPrefetch // Apple Mail Privacy Protection sends only this
	}
	for _, s := range scannerAgents {
		if strings.Contains(a, s) {
			return ClassScanner
		}
	}
	if since < 10*time.Second || burst {
		return ClassScanner // faster than a person can open and read
	}
	return ClassPerson
}

// pixel is a transparent 1×1 GIF.
var pixel = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// TrackStore is what the tracking routes need.
type TrackStore interface {
	RecordTracking(ctx context.Context, messageID, kind, url string, at time.Time, class func(sentAt time.Time, lastClick *time.Time) string) error
}

// TrackRoutes serves /t/o/ (the pixel) and /t/c/ (the redirect).
func (t *Tracker) TrackRoutes(st TrackStore, now func() time.Time, log func(msg string, args ...any)) func(Mux) {
	record := func(r *http.Request, kind, target string) {
		id, ok := t.messageID(r.PathValue("token"))
		if !ok {
			return
		}
		agent, method := r.UserAgent(), r.Method
		at := now()
		err := st.RecordTracking(r.Context(), id, kind, target, at, func(sentAt time.Time, lastClick *time.Time) string {
			burst := lastClick != nil && at.Sub(*lastClick) < 2*time.Second
			return classify(method, agent, at.Sub(sentAt), burst)
		})
		if err != nil {
			log("recording a tracking request", "kind", kind, "err", err)
		}
	}
	return func(mux Mux) {
		mux.HandleFunc("GET /t/o/{token}", func(w http.ResponseWriter, r *http.Request) {
			record(r, "open", "")
			w.Header().Set("Content-Type", "image/gif")
			w.Header().Set("Cache-Control", "no-store, private")
			w.Write(pixel)
		})
		mux.HandleFunc("GET /t/c/{token}", func(w http.ResponseWriter, r *http.Request) {
			tok, target := r.PathValue("token"), r.URL.Query().Get("u")
			if !hmac.Equal([]byte(r.URL.Query().Get("s")), []byte(t.sign("u", tok+"\x00"+target))) {
				// Never an open redirect: only links Followup signed.
				http.Error(w, "This link is not valid.", http.StatusNotFound)
				return
			}
			record(r, "click", target)
			w.Header().Set("Cache-Control", "no-store, private")
			http.Redirect(w, r, target, http.StatusFound)
		})
	}
}

var _ TrackStore = (*store.DB)(nil)
