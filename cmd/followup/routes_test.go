package main

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// publicRoutes are the only routes anyone may use without signing in or a
// token: what candidates reach from their emails (unsubscribe, surveys,
// tracking), the probes of load balancers (/healthz, /readyz: no personal
// data), and the sign-in page with its script and style sheet.
var publicRoutes = map[string]bool{
	"GET /healthz": true, "GET /readyz": true,
	"GET /u/{token}": true, "POST /u/{token}": true,
	"GET /s/{token}": true, "POST /s/{token}": true,
	"GET /t/o/{token}": true, "GET /t/c/{token}": true,
	"GET /login": true, "POST /login": true, "GET /static/{file}": true,
}

// TestEveryRouteNeedsAuthentication walks the whole route table of `serve`
// (pages, API, dashboard, tracking, operations) and proves that every
// route outside publicRoutes refuses a request without credentials: the
// API and /metrics with 401, the dashboard with a redirect to sign-in (or
// 401/403 for its scripts' requests).
func TestEveryRouteNeedsAuthentication(t *testing.T) {
	tp := newTestProject(t)
	tp.write("followup.yaml", tp.read("followup.yaml")+"\nhttp:\n  public_url: https://followup.example.com\n  secret_env: FOLLOWUP_SECRET\n"+
		"  tracking: {opens: true, clicks: true}\n  metrics: true\n  metrics_token_env: FOLLOWUP_METRICS_TOKEN\n")
	tp.getenv = func(k string) string {
		return map[string]string{"FOLLOWUP_SMTP_PASSWORD": "pw", "FOLLOWUP_SECRET": strings.Repeat("s", 40), "FOLLOWUP_METRICS_TOKEN": strings.Repeat("m", 20)}[k]
	}
	w := tp.wire(tp.now)
	m, err := w.p.metrics(t.Context(), w.db, nil, w.sched)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := w.p.webRoutes(w.db, w.mbs, nil, m, w.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	handler := srv.Handler()
	patterns := srv.Patterns()
	sort.Strings(patterns)
	seen := map[string]bool{}
	for _, p := range patterns {
		seen[p] = true
		method, path, ok := strings.Cut(p, " ")
		if !ok {
			method, path = "GET", p // a pattern for every method (the API's JSON 404)
		}
		url := strings.NewReplacer("{token}", "x", "{file}", "dash.css", "{id}", "1", "{job}", "1", "{name}", "nps",
			"{uid}", "x", "{email}", "a@example.com", "{$}", "").Replace(path)
		if strings.HasSuffix(url, "/") && url != "/" {
			url += "anything"
		}
		r := httptest.NewRequest(method, url, strings.NewReader("x=1"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, r)
		code, loc := rec.Code, rec.Header().Get("Location")
		refused := code == http.StatusUnauthorized || code == http.StatusForbidden ||
			(code == http.StatusSeeOther || code == http.StatusFound) && strings.HasPrefix(loc, "/login")
		switch {
		case publicRoutes[p] && (code == http.StatusUnauthorized || strings.HasPrefix(loc, "/login")):
			// (POST /login without its form's token is a 403: that is the
			// sign-in form's own CSRF check, not a demand to sign in.)
			t.Errorf("%s: a public route refuses anonymous requests (%d %s)", p, code, loc)
		case !publicRoutes[p] && !refused:
			t.Errorf("%s (%s %s): answered %d without credentials", p, method, url, code)
		}
	}
	// The walk covered every part of the table.
	for _, p := range []string{"GET /api/v1/enrollments", "POST /api/v1/enrollments", "GET /candidates/{id}", "POST /candidates/{id}/stop",
		"GET /insights", "GET /metrics", "GET /t/o/{token}", "GET /surveys/{name}", "POST /enroll/upload"} {
		if !seen[p] {
			t.Errorf("%s is not in the route table:\n%s", p, strings.Join(patterns, "\n"))
		}
	}
	for p := range publicRoutes {
		if !seen[p] {
			t.Errorf("public route %s is not registered", p)
		}
	}
	if len(patterns) < 50 {
		t.Errorf("only %d routes walked", len(patterns))
	}
	t.Logf("%d routes walked, %d public", len(patterns), len(publicRoutes))
}

// With http.tracking on, a sent email's HTML part carries the pixel and
// tracked links (its text part does not), and fetching them through
// serve's route table records an open and a click and redirects.
func TestTrackingThroughServe(t *testing.T) {
	tp := newTestProject(t)
	tp.write("followup.yaml", tp.read("followup.yaml")+"\nhttp:\n  public_url: https://followup.example.com\n  secret_env: FOLLOWUP_SECRET\n"+
		"  tracking: {opens: true, clicks: true}\n")
	tp.getenv = func(k string) string {
		return map[string]string{"FOLLOWUP_SMTP_PASSWORD": "pw", "FOLLOWUP_SECRET": strings.Repeat("s", 40)}[k]
	}
	tp.write("templates/post-interview-thanks.en.md", "---\nsubject: Thanks\n---\nHi {{.name}}, see [our roles](https://jobs.example.com/open?team=sre&city=sh).\n")
	w := tp.wire(tp.now)
	tp.mustRun("enroll", "bob@example.com", "-s", "post-interview-thanks", "-n", "Bob", "-l", "en", "-f", "job_title=SRE")
	w.clock.Advance(3 * time.Hour)
	if res, err := w.sched.RunOnce(t.Context()); err != nil || res.Sent != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	text, html := parts(t, parseMail(t, tp.sandbox.Messages()[0].Data))
	pixel := regexp.MustCompile(`<img src="https://followup.example.com(/t/o/[^"]+)"`).FindStringSubmatch(html)
	link := regexp.MustCompile(`href="https://followup.example.com(/t/c/[^"]+)"`).FindStringSubmatch(html)
	if pixel == nil || link == nil || strings.Contains(text, "/t/") || !strings.Contains(text, "https://jobs.example.com/open?team=sre&city=sh") {
		t.Fatalf("tracking in the email:\ntext: %s\nhtml: %s", text, html)
	}
	srv, err := w.p.webRoutes(w.db, w.mbs, nil, nil, func() time.Time { return w.clock.Now().Add(time.Hour) })
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	get := func(path string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", strings.ReplaceAll(path, "&amp;", "&"), nil)
		r.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	if rec := get(pixel[1]); rec.Code != 200 || rec.Header().Get("Content-Type") != "image/gif" {
		t.Errorf("pixel: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	if rec := get(link[1]); rec.Code != http.StatusFound || rec.Header().Get("Location") != "https://jobs.example.com/open?team=sre&city=sh" {
		t.Errorf("click: %d → %q", rec.Code, rec.Header().Get("Location"))
	}
	var opens, clicks int
	w.db.RawDB().Get(&opens, "SELECT COUNT(*) FROM tracking_events WHERE kind = 'open' AND class = 'person'")
	w.db.RawDB().Get(&clicks, "SELECT COUNT(*) FROM tracking_events WHERE kind = 'click' AND class = 'person'")
	if opens != 1 || clicks != 1 {
		t.Errorf("recorded %d opens and %d clicks, want 1 and 1", opens, clicks)
	}
	// The timeline shows them (the dashboard's and the API's).
	tl, err := w.db.Timeline(t.Context(), "bob@example.com")
	if err != nil || len(tl.Tracking) != 2 || tl.Tracking[0].Kind != "open" || tl.Tracking[1].URL != "https://jobs.example.com/open?team=sre&city=sh" ||
		tl.Tracking[0].MessageRow != tl.Messages[0].ID {
		t.Errorf("timeline tracking: %+v %v", tl.Tracking, err)
	}
}
