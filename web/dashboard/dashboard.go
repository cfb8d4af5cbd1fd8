// Package dashboard is the recruiters' web dashboard: sign-in, candidates
// and their timelines, enrolling (one at a time, by tag, or from a CSV
// file), tags and notes, pause/resume/stop, the review queue, the
// per-step overview of each sequence and the survey results. Pages are
// rendered on the server with html/template; one small embedded script
// shows the progress of an upload.
package dashboard

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"golang.org/x/crypto/bcrypt"

	"followup/sequences"
	"followup/store"
	"followup/surveys"
	"followup/web"
	"followup/web/api"
)

//go:embed templates/*.html
var templatesFS embed.FS

//go:embed static
var staticFS embed.FS

// Store is what the dashboard needs from the database (*store.DB).
type Store interface {
	UserByLogin(ctx context.Context, login string) (store.User, error)
	SetUserLanguage(ctx context.Context, userID int64, language string, now time.Time) error
	CreateSession(ctx context.Context, idHash string, userID int64, now, expires time.Time) error
	SessionByHash(ctx context.Context, idHash string) (store.Session, error)
	TouchSession(ctx context.Context, idHash string, now time.Time) error
	DeleteSession(ctx context.Context, idHash string) error
	PurgeSessions(ctx context.Context, now, idleSince time.Time) (int64, error)

	SearchEnrollments(ctx context.Context, f store.SearchFilter) ([]sequences.Enrollment, error)
	CandidateByID(ctx context.Context, id int64) (store.CandidateRecord, error)
	Timeline(ctx context.Context, email string) (*store.Timeline, error)
	MessageTextsOf(ctx context.Context, candidateID int64) (map[int64]store.MessageText, error)
	SurveyAnswersOf(ctx context.Context, candidateID int64) ([]store.SurveyAnswer, error)
	AddNote(ctx context.Context, candidateID int64, author, text string, now time.Time) error
	NotesOf(ctx context.Context, candidateID int64) ([]store.Note, error)
	TagCandidate(ctx context.Context, candidateID int64, tags []string, now time.Time) (int, error)
	UntagCandidate(ctx context.Context, candidateID int64, tag string, now time.Time) (bool, error)
	TagsOf(ctx context.Context, candidateID int64) ([]string, error)
	AllTags(ctx context.Context) ([]store.TagCount, error)
	CandidatesWithTag(ctx context.Context, tag string) ([]store.CandidateRecord, error)

	Enroll(ctx context.Context, reqs []sequences.EnrollRequest, seqs map[string]*sequences.Sequence, now time.Time) ([]sequences.EnrollOutcome, error)
	Pause(ctx context.Context, a store.Action, now time.Time) ([]store.Changed, error)
	Stop(ctx context.Context, a store.Action, now time.Time) ([]store.Changed, error)
	Resume(ctx context.Context, a store.Action, now time.Time, nextDue func(e sequences.Enrollment, at time.Time) (*time.Time, error)) ([]store.Changed, error)
	Version(ctx context.Context, id int64) (*sequences.Sequence, error)

	Reviews(ctx context.Context) ([]store.Review, error)
	Approve(ctx context.Context, email, sequence, subject, body string, now time.Time) (store.Review, error)
	NextStepDue(ctx context.Context, cals *sequences.Calendars) func(e sequences.Enrollment, at time.Time) (*time.Time, error)
	Reject(ctx context.Context, email, sequence string, now time.Time, cals *sequences.Calendars) (store.Review, error)

	StatusCounts(ctx context.Context) ([]store.SequenceCount, error)
	StepOverview(ctx context.Context) ([]store.StepStats, error)
	SurveyResponses(ctx context.Context, survey string) ([]store.SurveyRow, error)
}

// Config is what the dashboard is built from. Store, Catalog and Defaults
// are required; the rest have defaults.
type Config struct {
	Store     Store
	Catalog   *sequences.Catalog
	Defaults  sequences.Defaults
	Calendars *sequences.Calendars // working days for "next step due" after resume or reject
	Surveys   *surveys.Set         // nil: no survey pages
	Location  *time.Location       // times are shown in it (nil: UTC)
	Now       func() time.Time
	Log       *slog.Logger

	// Secure marks cookies Secure (set it when the public URL is https).
	Secure bool
	// BcryptCost for new password hashes (0: bcrypt.DefaultCost).
	BcryptCost int
	// SessionIdle ends a session unused this long (0: 12 hours);
	// SessionMax ends any session this long after sign-in (0: 7 days).
	SessionIdle, SessionMax time.Duration
	// SignIn limits guessing; zero values take the defaults.
	SignIn SignInLimits
	// UploadLimit is the largest CSV file accepted (0: 10 MiB).
	UploadLimit int64
	// Pages are more pages behind sign-in, each with a nav item.
	Pages []Page
	// Metrics computes the recruiting metrics of [from, to) for the
	// metrics page (the API's computation); nil: no metrics page.
	Metrics func(ctx context.Context, from, to time.Time, field, lang string) (*api.MetricsReport, error)
	// Today is the clock of the metrics page's default period (nil: Now);
	// the demo, whose sending runs on a faster clock, sets it.
	Today func() time.Time
}

// Page is a route added to the dashboard, registered behind sign-in. Its
// handler can draw inside the dashboard with Dashboard.Frame; a form it
// draws carries CSRFToken(r) in a "csrf" field, and a POST is refused
// without it, as the dashboard's own forms are.
type Page struct {
	Method  string            // "GET" when empty, or "POST"
	Path    string            // "/insights"; registered as "GET /insights"
	Label   map[string]string // by language, "en", "zh": a GET page with a label gets a nav item
	Handler http.Handler
}

// Dashboard serves the dashboard's routes.
type Dashboard struct {
	cfg       Config
	pages     map[string]*template.Template
	signIn    *limiter
	jobs      *uploads
	dummyHash []byte // compared against when the login is unknown, so both cost the same
}

// New checks the config and parses the pages once (a broken template fails
// at start-up).
func New(cfg Config) (*Dashboard, error) {
	if cfg.Store == nil || cfg.Catalog == nil {
		return nil, errors.New("dashboard: a store and a catalog are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	cfg.BcryptCost = cmp.Or(cfg.BcryptCost, bcrypt.DefaultCost)
	cfg.SessionIdle = cmp.Or(cfg.SessionIdle, 12*time.Hour)
	cfg.SessionMax = cmp.Or(cfg.SessionMax, 7*24*time.Hour)
	cfg.UploadLimit = cmp.Or(cfg.UploadLimit, 10<<20)
	cfg.SignIn = cfg.SignIn.withDefaults()
	pages, err := parsePages(cfg.Location)
	if err != nil {
		return nil, err
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("not a password of anyone"), cfg.BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	return &Dashboard{cfg: cfg, pages: pages, signIn: newLimiter(), jobs: newUploads(), dummyHash: dummy}, nil
}

func parsePages(loc *time.Location) (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"when": func(t any) string {
			switch v := t.(type) {
			case time.Time:
				return v.In(loc).Format("2006-01-02 15:04")
			case *time.Time:
				if v == nil {
					return "—"
				}
				return v.In(loc).Format("2006-01-02 15:04")
			}
			return ""
		},
		"add": func(a, b int) int { return a + b },
		// tx translates a value (a status, an event kind) when there is a text for it.
		"tx": func(t map[string]string, prefix string, key any) string {
			k := fmt.Sprint(key)
			if s, ok := t[prefix+k]; ok {
				return s
			}
			return k
		},
		"hours": hours,
		"rate":  ratePtr,
		"rate1": func(f float64) string { return ratePtr(&f) },
		"pct": func(n, of int) string {
			if of == 0 {
				return "—"
			}
			return fmt.Sprintf("%.0f%%", 100*float64(n)/float64(of))
		},
	}
	layout, err := template.New("layout.html").Funcs(funcs).Option("missingkey=error").ParseFS(templatesFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("dashboard: parsing the layout: %w", err)
	}
	names, err := fs.Glob(templatesFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := n[len("templates/"):]
		if base == "layout.html" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templatesFS, n)
		if err != nil {
			return nil, fmt.Errorf("dashboard: parsing %s: %w", base, err)
		}
		out[base[:len(base)-len(".html")]] = t
	}
	return out, nil
}

// Route is one entry of the dashboard's route table.
type Route struct {
	Pattern string // as http.ServeMux takes it: "GET /candidates/{id}"
	Public  bool   // reachable without signing in
	handler http.HandlerFunc
}

// RouteTable is every route the dashboard registers; tests walk it to
// prove that every route but the public ones needs a session.
func (d *Dashboard) RouteTable() []Route {
	rs := []Route{
		{"GET /login", true, d.loginPage},
		{"POST /login", true, d.login},
		{"GET /static/{file}", true, d.static},
		{"POST /logout", false, d.logout},
		{"POST /settings/language", false, d.setLanguage},
		{"GET /{$}", false, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/candidates", http.StatusSeeOther) }},
		{"GET /candidates", false, d.candidates},
		{"GET /candidates/{id}", false, d.candidate},
		{"POST /candidates/{id}/pause", false, d.action("pause")},
		{"POST /candidates/{id}/resume", false, d.action("resume")},
		{"POST /candidates/{id}/stop", false, d.action("stop")},
		{"POST /candidates/{id}/tags", false, d.addTags},
		{"POST /candidates/{id}/tags/remove", false, d.removeTag},
		{"POST /candidates/{id}/notes", false, d.addNote},
		{"GET /enroll", false, d.enrollForm},
		{"POST /enroll", false, d.enroll},
		{"GET /enroll/tag", false, d.enrollTagForm},
		{"POST /enroll/tag", false, d.enrollTag},
		{"GET /enroll/upload", false, d.uploadForm},
		{"POST /enroll/upload", false, d.upload},
		{"GET /enroll/upload/{job}", false, d.uploadPage},
		{"GET /enroll/upload/{job}/status", false, d.uploadStatus},
		{"GET /sequences", false, d.sequencesPage},
		{"GET /review", false, d.reviewPage},
		{"POST /review/approve", false, d.reviewApprove},
		{"POST /review/reject", false, d.reviewReject},
		{"GET /surveys", false, d.surveysPage},
		{"GET /surveys/{name}", false, d.surveyResults},
	}
	if d.cfg.Metrics != nil {
		rs = append(rs, Route{"GET /insights", false, d.insightsPage})
	}
	for _, p := range d.cfg.Pages {
		rs = append(rs, Route{Pattern: cmp.Or(p.Method, http.MethodGet) + " " + p.Path, handler: p.Handler.ServeHTTP})
	}
	return rs
}

// Routes registers the route table on mux (web.Server.Routes takes it).
func (d *Dashboard) Routes(mux web.Mux) {
	for _, rt := range d.RouteTable() {
		h := rt.handler
		if !rt.Public {
			h = d.requireSession(h)
		}
		mux.Handle(rt.Pattern, d.headers(h))
	}
}

// headers: the dashboard's own CSP (its script and style sheet come from
// 'self'), and no caching of pages with personal data.
func (d *Dashboard) headers(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Frame-Options", "DENY")
		// Browsers then send the real Origin on the dashboard's own forms
		// (under no-referrer it is "null"); nothing leaks to other sites.
		w.Header().Set("Referrer-Policy", "same-origin")
		defer func() {
			// A bug must not show a stack trace (or kill the server).
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				d.cfg.Log.Error("dashboard: internal error", "path", r.URL.Path, "panic", fmt.Sprint(v))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		h(w, r)
	})
}

func (d *Dashboard) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := staticFS.ReadFile("static/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	switch {
	case len(name) > 3 && name[len(name)-3:] == ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case len(name) > 4 && name[len(name)-4:] == ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "max-age=3600")
	w.Write(b)
}

// navItem is one link of the header.
type navItem struct {
	Path, Label string
	Active      bool
}

func (d *Dashboard) nav(r *http.Request, lang string) []navItem {
	t := texts[lang]
	items := []navItem{{"/candidates", t["navCandidates"], false}, {"/enroll", t["navEnroll"], false}, {"/sequences", t["navSequences"], false}}
	if d.hasReviewSteps() {
		items = append(items, navItem{"/review", t["navReview"], false})
	}
	if d.cfg.Surveys != nil && len(d.cfg.Surveys.Names()) > 0 {
		items = append(items, navItem{"/surveys", t["navSurveys"], false})
	}
	if d.cfg.Metrics != nil {
		items = append(items, navItem{"/insights", t["navInsights"], false})
	}
	for _, p := range d.cfg.Pages {
		if len(p.Label) == 0 || cmp.Or(p.Method, http.MethodGet) != http.MethodGet {
			continue
		}
		items = append(items, navItem{p.Path, cmp.Or(p.Label[lang], p.Label["en"], p.Path), false})
	}
	for i := range items {
		p := items[i].Path
		items[i].Active = r.URL.Path == p || len(r.URL.Path) > len(p) && r.URL.Path[:len(p)+1] == p+"/"
	}
	return items
}

func (d *Dashboard) hasReviewSteps() bool {
	for _, s := range d.cfg.Catalog.Sequences {
		for _, st := range s.Steps {
			if st.Review {
				return true
			}
		}
	}
	return false
}

func (d *Dashboard) sequenceNames() []string {
	names := make([]string, 0, len(d.cfg.Catalog.Sequences))
	for n := range d.cfg.Catalog.Sequences {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
