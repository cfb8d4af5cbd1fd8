package metrics_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"followup/inbox"
	"followup/mailer"
	"followup/metrics"
	"followup/sequences"
	"followup/store"
)

const oneSequence = `description: test
fields: [job_title]
window: {days: [mon, tue, wed, thu, fri, sat, sun], start: "00:00", end: "24:00"}
steps:
  - template: first
    after: 1m
  - template: second
    after: 1d
`

type harness struct {
	t       *testing.T
	db      *store.DB
	smtp    *mailer.Sandbox
	clock   *sequences.FakeClock
	catalog *sequences.Catalog
	sched   *sequences.Scheduler
	imapUp  bool
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"sequences/interview.yaml": oneSequence,
		"templates/first.en.md":    "---\nsubject: \"Your {{.job_title}} interview\"\n---\nThanks.\n",
		"templates/second.en.md":   "---\nsubject: \"Checking in\"\n---\nHow is it going?\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cat, ps := sequences.LoadCatalog(filepath.Join(dir, "sequences"), filepath.Join(dir, "templates"))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	db, err := store.Open(context.Background(), filepath.Join(dir, "followup.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	smtp, err := mailer.StartSandbox("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { smtp.Close() })
	ml := mailer.New(mailer.Config{Host: "127.0.0.1", Port: smtp.Addr().Port, TLS: mailer.TLSNone, Timeout: 2 * time.Second}, nil)
	t.Cleanup(func() { ml.Close() })
	h := &harness{t: t, db: db, smtp: smtp, catalog: cat, imapUp: true,
		clock: sequences.NewFakeClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))}
	h.sched = &sequences.Scheduler{Store: db, Templates: cat.Templates, Clock: h.clock, DefaultLanguage: "en",
		Mailboxes: map[string]*sequences.Mailbox{"recruiter": {
			Name: "recruiter", From: mail.Address{Address: "wangmin@acme.test"}, Sender: ml}}}
	return h
}

func (h *harness) enroll(email string) {
	h.t.Helper()
	req, _, err := h.catalog.Validate(sequences.EnrollRequest{
		Candidate: sequences.Candidate{Email: email, Language: "en", Timezone: "UTC"},
		Sequence:  "interview", Fields: map[string]string{"job_title": "Engineer"},
	}, sequences.Defaults{Language: "en", Timezone: "UTC", Mailbox: "recruiter", Mailboxes: []string{"recruiter"}})
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.db.Enroll(context.Background(), []sequences.EnrollRequest{req}, h.catalog.Sequences, h.clock.Now()); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) metrics() *metrics.Metrics {
	h.t.Helper()
	m, err := metrics.New(context.Background(), metrics.Options{
		Source: h.db, Now: h.clock.Now, Mailboxes: []string{"recruiter"},
		IMAPConnected: func(mb string) (bool, bool) { return h.imapUp, mb == "recruiter" },
		SMTPDown:      func(mb string) bool { _, down := h.sched.MailboxDown(mb); return down },
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return m
}

func scrape(t *testing.T, h http.Handler, auth string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b)
}

func wantLines(t *testing.T, text string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains("\n"+text, "\n"+l+"\n") {
			t.Errorf("metrics lack %q", l)
		}
	}
}

func TestMetricsAfterSendsAndAfterARestart(t *testing.T) {
	h := newHarness(t)
	h.smtp.SetFault(func(stage, arg string) error {
		if stage == "RCPT" && strings.Contains(arg, "gone@") {
			return mailer.ErrSandboxRefused
		}
		return nil
	})
	for _, e := range []string{"a@example.com", "b@example.com", "gone@example.com"} {
		h.enroll(e)
	}
	m := h.metrics()
	h.sched.Store = m.CountingStore(h.db)
	h.clock.Advance(2 * time.Minute)
	if res, err := h.sched.RunOnce(context.Background()); err != nil || res.Sent != 2 || res.Failed != 1 {
		t.Fatalf("pass: %+v %v", res, err)
	}
	h.enroll("later@example.com")
	h.clock.Advance(2 * time.Minute) // later@ is due now, not yet sent
	_, text := scrape(t, m.Handler(""), "")
	next := h.clock.Now().Add(-time.Minute) // later@: enrolled 2 min ago, first step after 1 min
	wantLines(t, text,
		`followup_messages_sent_total{mailbox="recruiter"} 2`,
		`followup_messages_failed_total{mailbox="recruiter"} 1`,
		`followup_queue_due 1`,
		`followup_next_due_timestamp_seconds `+strconv.FormatFloat(float64(next.Unix()), 'g', -1, 64),
		`followup_imap_connected{mailbox="recruiter"} 1`,
		`followup_smtp_up{mailbox="recruiter"} 1`,
		`followup_webhook_pending 0`,
		`followup_webhook_deliveries_total{outcome="delivered"} 0`,
	)
	if !strings.Contains(text, "go_goroutines ") || !strings.Contains(text, "process_") {
		t.Error("the Go and process collectors are missing")
	}
	// A restart: a new process counts from the database's totals.
	h.imapUp = false
	_, text = scrape(t, h.metrics().Handler(""), "")
	wantLines(t, text,
		`followup_messages_sent_total{mailbox="recruiter"} 2`,
		`followup_messages_failed_total{mailbox="recruiter"} 1`,
		`followup_imap_connected{mailbox="recruiter"} 0`,
	)
}

func TestSMTPDownShows(t *testing.T) {
	h := newHarness(t)
	h.smtp.Close() // nothing listens: the mailbox is down
	h.enroll("a@example.com")
	m := h.metrics()
	h.clock.Advance(2 * time.Minute)
	if _, err := h.sched.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, text := scrape(t, m.Handler(""), "")
	wantLines(t, text, `followup_smtp_up{mailbox="recruiter"} 0`, `followup_messages_sent_total{mailbox="recruiter"} 0`)
}

func TestHTTPLatencyIsLabelledByRoutePattern(t *testing.T) {
	h := newHarness(t)
	m := h.metrics()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /s/{token}", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("survey")) })
	mux.HandleFunc("POST /u/{token}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadRequest) })
	srv := m.Middleware(mux)
	for _, p := range []string{"GET /s/tok-one", "GET /s/tok-two", "POST /u/tok-three", "GET /wp-login.php", "DELETE /s/x"} {
		method, path, _ := strings.Cut(p, " ")
		srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, path, nil))
	}
	_, text := scrape(t, m.Handler(""), "")
	wantLines(t, text,
		`followup_http_request_duration_seconds_count{code="200",route="GET /s/{token}"} 2`,
		`followup_http_request_duration_seconds_count{code="400",route="POST /u/{token}"} 1`,
		`followup_http_request_duration_seconds_count{code="404",route="unmatched"} 1`,
		`followup_http_request_duration_seconds_count{code="405",route="unmatched"} 1`,
	)
	for _, raw := range []string{"tok-one", "tok-three", "wp-login"} {
		if strings.Contains(text, raw) {
			t.Errorf("a raw path (%s) became a label", raw)
		}
	}
}

func TestMetricsToken(t *testing.T) {
	h := newHarness(t)
	hd := h.metrics().Handler("a-long-enough-token")
	for auth, want := range map[string]int{"": 401, "Bearer wrong": 401, "a-long-enough-token": 401, "Bearer a-long-enough-token": 200} {
		if code, _ := scrape(t, hd, auth); code != want {
			t.Errorf("Authorization %q: %d, want %d", auth, code, want)
		}
	}
}

func TestReplyLatencyObservesAnswersThatStop(t *testing.T) {
	h := newHarness(t)
	m := h.metrics()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	stop := inbox.Action{Stop: true}
	m.ObserveInbound(inbox.Inbound{Kind: "reply", ReceivedAt: now.Add(-90 * time.Second), Action: stop}, true, now)
	m.ObserveInbound(inbox.Inbound{Kind: "not_interested", ReceivedAt: now.Add(-10 * time.Second), Action: inbox.Action{Pause: true}}, true, now)
	m.ObserveInbound(inbox.Inbound{Kind: "reply", ReceivedAt: now.Add(-time.Hour), Action: stop}, false, now) // recorded before
	m.ObserveInbound(inbox.Inbound{Kind: "auto_reply", ReceivedAt: now.Add(-time.Hour)}, true, now)           // stops nothing
	m.ObserveInbound(inbox.Inbound{Kind: "bounce", ReceivedAt: now.Add(-time.Hour), Action: stop}, true, now) // not an answer
	_, text := scrape(t, m.Handler(""), "")
	wantLines(t, text,
		`followup_reply_stop_latency_seconds_count 2`,
		`followup_reply_stop_latency_seconds_sum 100`,
		`followup_reply_stop_latency_seconds_bucket{le="15"} 1`,
	)
}
