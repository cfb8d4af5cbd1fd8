package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"followup/sequences"
	"followup/store"
)

func TestTrackerRewrite(t *testing.T) {
	tr := &Tracker{Base: "https://f.example.com/", Secret: []byte(strings.Repeat("k", 32)), Opens: true, Clicks: true}
	doc := `<html><body><p><a href="https://jobs.example.com/a?x=1&amp;y=2">roles</a> ` +
		`<a href="mailto:hr@example.com">mail</a> <a href="https://f.example.com/s/TOKEN">survey</a> ` +
		`<a class="c" href="http://plain.example.com">plain</a></p></body></html>`
	out := tr.Rewrite("u1.0@example.com", doc)
	if strings.Count(out, `/t/c/`) != 2 {
		t.Errorf("want 2 tracked links:\n%s", out)
	}
	for _, keep := range []string{`href="mailto:hr@example.com"`, `href="https://f.example.com/s/TOKEN"`, `<a class="c" href="https://f.example.com/t/c/`} {
		if !strings.Contains(out, keep) {
			t.Errorf("missing %s:\n%s", keep, out)
		}
	}
	if !regexp.MustCompile(`<img src="https://f.example.com/t/o/[^"]+" width="1" height="1" alt=""[^>]*></body>`).MatchString(out) {
		t.Errorf("no pixel before </body>:\n%s", out)
	}
	// The redirect carries the original URL, unescaped once.
	href := regexp.MustCompile(`href="(https://f.example.com/t/c/[^"]+)"`).FindStringSubmatch(out)[1]
	u, _ := url.Parse(strings.ReplaceAll(href, "&amp;", "&"))
	if got := u.Query().Get("u"); got != "https://jobs.example.com/a?x=1&y=2" {
		t.Errorf("target %q", got)
	}
	// Off: nothing changes.
	if got := (&Tracker{Base: tr.Base, Secret: tr.Secret}).Rewrite("m", doc); got != doc {
		t.Errorf("tracking off changed the HTML:\n%s", got)
	}
}

func TestClassify(t *testing.T) {
	const safari = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
	for _, c := range []struct {
		method, agent string
		since         time.Duration
		burst         bool
		want          string
	}{
		{"GET", safari, time.Hour, false, ClassPerson},
		{"GET", safari, 3 * time.Second, false, ClassScanner}, // on arrival
		{"GET", safari, time.Hour, true, ClassScanner},        // every link at once
		{"HEAD", safari, time.Hour, false, ClassScanner},
		{"GET", "", time.Hour, false, ClassScanner},
		{"GET", "Mozilla/5.0", time.Minute, false, ClassPrefetch},
		{"GET", "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", time.Hour, false, ClassProxy},
		{"GET", "Mozilla/5.0 (compatible; Barracuda Sentinel)", time.Hour, false, ClassScanner},
		{"GET", "python-requests/2.31", time.Hour, false, ClassScanner},
		{"GET", "Slackbot-LinkExpanding 1.0", time.Hour, false, ClassScanner},
	} {
		if got := classify(c.method, c.agent, c.since, c.burst); got != c.want {
			t.Errorf("%s %q after %v (burst %v): %s, want %s", c.method, c.agent, c.since, c.burst, got, c.want)
		}
	}
}

// A tracked message is opened and clicked through the real routes and the
// store; the metrics count only what was probably the candidate.
func TestTrackingRoutesRecordAndMeasure(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "f.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sent := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	seq := &sequences.Sequence{Name: "s", Steps: []sequences.Step{{Template: "t", After: sequences.Delay{D: time.Hour}}}}
	if _, err := db.Enroll(ctx, []sequences.EnrollRequest{{Candidate: sequences.Candidate{Email: "a@example.com"}, Sequence: "s", Mailbox: "m",
		Fields: map[string]string{}}}, map[string]*sequences.Sequence{"s": seq}, sent.Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	claims, err := db.ClaimDue(ctx, sent, 10, func(e sequences.Enrollment) string { return sequences.MessageID(e.UID, 0, "example.com") })
	if err != nil || len(claims) != 1 {
		t.Fatal(claims, err)
	}
	msgID := claims[0].MessageID
	if err := db.Settle(ctx, []sequences.Outcome{{Claim: claims[0], Kind: sequences.OutSent, At: sent,
		Sent: sequences.Sent{At: sent, From: "hr@example.com", To: "a@example.com", Subject: "Hi", Body: "Hello", Tracked: true}}}); err != nil {
		t.Fatal(err)
	}
	now := sent
	tr := &Tracker{Base: "https://f.example.com", Secret: []byte(strings.Repeat("k", 32)), Opens: true, Clicks: true}
	mux := http.NewServeMux()
	tr.TrackRoutes(db, func() time.Time { return now }, func(string, ...any) {})(mux)
	html := tr.Rewrite(msgID, `<html><body><a href="https://jobs.example.com/1">a</a><a href="https://jobs.example.com/2">b</a></body></html>`)
	pixel := strings.TrimPrefix(regexp.MustCompile(`src="([^"]+)"`).FindStringSubmatch(html)[1], "https://f.example.com")
	var links []string
	for _, m := range regexp.MustCompile(`href="([^"]+)"`).FindAllStringSubmatch(html, -1) {
		links = append(links, strings.ReplaceAll(strings.TrimPrefix(m[1], "https://f.example.com"), "&amp;", "&"))
	}
	get := func(method, path, agent string, at time.Time) *httptest.ResponseRecorder {
		now = at
		r := httptest.NewRequest(method, path, nil)
		r.Header.Set("User-Agent", agent)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w
	}
	const person = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
	get("GET", pixel, "Mozilla/5.0", sent.Add(5*time.Second))             // Apple prefetch on arrival
	get("GET", links[0], "Mimecast URL Protect", sent.Add(6*time.Second)) // gateway scanning
	if w := get("GET", pixel, person, sent.Add(time.Hour)); w.Code != 200 || w.Header().Get("Content-Type") != "image/gif" || w.Body.Len() < 30 {
		t.Errorf("pixel: %d %q %d bytes", w.Code, w.Header().Get("Content-Type"), w.Body.Len())
	}
	w := get("GET", links[1], person, sent.Add(time.Hour+time.Minute))
	if w.Code != http.StatusFound || w.Header().Get("Location") != "https://jobs.example.com/2" {
		t.Errorf("click: %d → %q", w.Code, w.Header().Get("Location"))
	}
	// Forged or edited links never redirect (no open redirect).
	forged := strings.Replace(links[1], url.QueryEscape("https://jobs.example.com/2"), url.QueryEscape("https://evil.example.net/"), 1)
	if w := get("GET", forged, person, sent.Add(2*time.Hour)); w.Code != http.StatusNotFound || w.Header().Get("Location") != "" {
		t.Errorf("forged link: %d → %q", w.Code, w.Header().Get("Location"))
	}
	// A pixel for a message that does not exist, or a broken token: still a GIF, nothing recorded.
	if w := get("GET", "/t/o/bm9wZQ.bad", person, sent.Add(2*time.Hour)); w.Code != 200 {
		t.Errorf("unknown pixel: %d", w.Code)
	}
	// Fetching the pixel in a loop adds a bounded number of rows.
	for i := 0; i < 50; i++ {
		get("GET", pixel, person, sent.Add(3*time.Hour))
	}
	var body string
	if err := db.RawDB().Get(&body, "SELECT body FROM messages"); err != nil || body != "Hello" {
		t.Errorf("the text as sent is not kept: %q %v", body, err)
	}
	var rows int
	if err := db.RawDB().Get(&rows, "SELECT COUNT(*) FROM tracking_events WHERE kind = 'open'"); err != nil || rows != 20 {
		t.Errorf("%d open rows (%v), want the cap of 20", rows, err)
	}
	m, err := db.Metrics(ctx, store.MetricsQuery{From: sent.Add(-time.Hour), To: sent.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Tracking) != 1 || m.Tracking[0] != (store.TrackingMetrics{Sequence: "s", Tracked: 1, Opened: 1, Clicked: 1, Machine: 1, OpenRate: 1, ClickRate: 1}) {
		t.Errorf("tracking metrics %+v", m.Tracking)
	}
}
