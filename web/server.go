package web

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"followup/sequences"
	"followup/store"
)

//go:embed pages/*.html
var pagesFS embed.FS

// Store is what the web pages need from the database.
type Store interface {
	EnrollmentByUID(ctx context.Context, uid string) (sequences.Enrollment, error)
	Suppress(ctx context.Context, emails []string, reason string, now time.Time) (int, error)
}

// Server serves Followup's HTTP routes.
type Server struct {
	Store  Store
	Secret []byte // signs unsubscribe links
	Now    func() time.Time
	Log    *slog.Logger
	// Surveys, if set, serves the survey pages under /s/.
	Surveys *Surveys
	// Routes add more of the route table (the dashboard, the API, /metrics);
	// each registers its own patterns.
	Routes []func(mux Mux)

	pages    *template.Template
	patterns []string
}

// Mux is where routes are registered (an *http.ServeMux, recorded).
type Mux interface {
	Handle(pattern string, h http.Handler)
	HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request))
}

// recorder registers on a ServeMux and remembers every pattern.
type recorder struct {
	mux      *http.ServeMux
	patterns *[]string
}

func (r recorder) Handle(p string, h http.Handler) {
	*r.patterns = append(*r.patterns, p)
	r.mux.Handle(p, h)
}

func (r recorder) HandleFunc(p string, h func(http.ResponseWriter, *http.Request)) {
	r.Handle(p, http.HandlerFunc(h))
}

// Patterns lists every route pattern of the table Handler built, for
// tests that walk the whole route table.
func (s *Server) Patterns() []string { return append([]string(nil), s.patterns...) }

// New parses the pages once (a broken template fails at start-up).
func New(st Store, secret []byte, log *slog.Logger) (*Server, error) {
	pages, err := template.ParseFS(pagesFS, "pages/*.html")
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{Store: st, Secret: secret, Now: time.Now, Log: log, pages: pages}, nil
}

// Handler is the route table.
func (s *Server) Handler() http.Handler {
	s.patterns = nil
	mux := recorder{mux: http.NewServeMux(), patterns: &s.patterns}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /u/{token}", s.unsubscribePage)
	mux.HandleFunc("POST /u/{token}", s.unsubscribe)
	if s.Surveys != nil {
		mux.HandleFunc("GET /s/{token}", s.surveyPage)
		mux.HandleFunc("POST /s/{token}", s.surveyAnswer)
	}
	for _, add := range s.Routes {
		add(mux)
	}
	return securityHeaders(mux.mux)
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
		h.ServeHTTP(w, r)
	})
}

// URL builds an enrollment's unsubscribe link under base.
func URL(base string, secret []byte, uid string) string {
	return strings.TrimRight(base, "/") + "/u/" + sequences.UnsubscribeToken(secret, uid)
}

type unsubscribeText struct {
	ConfirmTitle, ConfirmText, Button, Note, DoneTitle, DoneText, InvalidTitle, InvalidText string
}

var unsubscribeTexts = map[string]unsubscribeText{
	"zh": {
		ConfirmTitle: "退订邮件", ConfirmText: "确认后，我们将不再给这个邮箱发送任何邮件：", Button: "确认退订",
		Note: "如果您只是想暂时不收，也可以直接回复邮件告诉招聘顾问。", DoneTitle: "已退订",
		DoneText:     "我们不会再给您发送邮件。感谢您一直以来的关注，祝一切顺利。",
		InvalidTitle: "链接无效", InvalidText: "这个退订链接不完整或已失效。请直接回复邮件，告诉我们不再联系您即可。",
	},
	"en": {
		ConfirmTitle: "Unsubscribe", ConfirmText: "Once you confirm, we will send no more email to", Button: "Unsubscribe",
		Note: "If you only want a break, you can also reply to the email and tell the recruiter.", DoneTitle: "You are unsubscribed",
		DoneText:     "We will not email you again. Thank you, and all the best.",
		InvalidTitle: "This link does not work", InvalidText: "The unsubscribe link is incomplete or no longer valid. Reply to the email and ask us to stop; we will.",
	},
}

type unsubscribeView struct {
	Lang, Title, State, Email string
	T                         unsubscribeText
}

func (s *Server) lookup(r *http.Request) (sequences.Enrollment, bool) {
	uid, ok := sequences.VerifyUnsubscribeToken(s.Secret, r.PathValue("token"))
	if !ok {
		return sequences.Enrollment{}, false
	}
	e, err := s.Store.EnrollmentByUID(r.Context(), uid)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.Log.Error("unsubscribe lookup", "err", err)
		}
		return sequences.Enrollment{}, false
	}
	return e, true
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, lang, state, email string) {
	key := pickLang(lang, r.Header.Get("Accept-Language"))
	t := unsubscribeTexts[key]
	title := t.ConfirmTitle
	switch state {
	case "done":
		title = t.DoneTitle
	case "invalid":
		title = t.InvalidTitle
	}
	htmlLang := map[string]string{"zh": "zh-CN", "en": "en"}[key]
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if err := s.pages.ExecuteTemplate(w, "page", unsubscribeView{Lang: htmlLang, Title: title, State: state, Email: email, T: t}); err != nil {
		s.Log.Error("rendering the unsubscribe page", "err", err)
	}
}

// pickLang chooses zh or en: the enrollment's language, then the browser's.
func pickLang(enrollment, accept string) string {
	for _, l := range []string{enrollment, accept} {
		l = strings.ToLower(strings.TrimSpace(l))
		if strings.HasPrefix(l, "zh") {
			return "zh"
		}
		if strings.HasPrefix(l, "en") {
			return "en"
		}
	}
	return "en"
}

// unsubscribePage shows what the button will do; it records nothing.
func (s *Server) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	e, ok := s.lookup(r)
	if !ok {
		s.render(w, r, http.StatusNotFound, "", "invalid", "")
		return
	}
	s.render(w, r, http.StatusOK, e.Language, "confirm", e.Email)
}

// unsubscribe records the request: the page's button, or a mail client's
// RFC 8058 one-click POST ("List-Unsubscribe=One-Click").
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	e, ok := s.lookup(r)
	if !ok {
		s.render(w, r, http.StatusNotFound, "", "invalid", "")
		return
	}
	oneClick := r.PostForm.Get("List-Unsubscribe") == "One-Click"
	if !oneClick && r.PostForm.Get("confirm") != "yes" {
		s.render(w, r, http.StatusBadRequest, e.Language, "confirm", e.Email)
		return
	}
	how := "unsubscribe page"
	if oneClick {
		how = "one-click unsubscribe (RFC 8058)"
	}
	if _, err := s.Store.Suppress(r.Context(), []string{e.Email}, how, s.Now()); err != nil {
		s.Log.Error("unsubscribing", "err", err)
		http.Error(w, "please try again", http.StatusServiceUnavailable)
		return
	}
	s.Log.Info("unsubscribed", "how", how, "sequence", e.Sequence)
	if oneClick {
		w.WriteHeader(http.StatusOK)
		return
	}
	s.render(w, r, http.StatusOK, e.Language, "done", "")
}
