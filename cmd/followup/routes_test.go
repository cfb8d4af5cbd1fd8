package main

import (
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
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
