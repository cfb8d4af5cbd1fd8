package webhooks_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"followup/mailer"
	"followup/sequences"
	"followup/store"
	"followup/webhooks"
)

// harness is a real SQLite store, the sandbox SMTP server, the real
// scheduler, a fake clock and a dispatcher.
type harness struct {
	t       *testing.T
	dir     string
	db      *store.DB
	smtp    *mailer.Sandbox
	clock   *sequences.FakeClock
	catalog *sequences.Catalog
	sched   *sequences.Scheduler
}

const twoSteps = `description: test
fields: [job_title]
window: {days: [mon, tue, wed, thu, fri, sat, sun], start: "00:00", end: "24:00"}
steps:
  - template: first
    after: 1m
  - template: second
    after: 1d
`

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir()}
	files := map[string]string{
		"sequences/interview.yaml": twoSteps,
		"templates/first.en.md":    "---\nsubject: \"Your {{.job_title}} interview\"\n---\nHi {{.name}}, thanks.\n",
		"templates/second.en.md":   "---\nsubject: \"Checking in\"\n---\nHow is it going?\n",
	}
	for name, content := range files {
		p := filepath.Join(h.dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cat, ps := sequences.LoadCatalog(filepath.Join(h.dir, "sequences"), filepath.Join(h.dir, "templates"))
	if len(ps) > 0 {
		t.Fatalf("catalog: %v", ps)
	}
	h.catalog = cat
	h.open()
	smtp, err := mailer.StartSandbox("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { smtp.Close() })
	h.smtp = smtp
	ml := mailer.New(mailer.Config{Host: "127.0.0.1", Port: smtp.Addr().Port, TLS: mailer.TLSNone, Timeout: 2 * time.Second}, nil)
	t.Cleanup(func() { ml.Close() })
	h.clock = sequences.NewFakeClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	h.sched = &sequences.Scheduler{
		Store: h.db, Templates: cat.Templates, Clock: h.clock, DefaultLanguage: "en",
		Mailboxes: map[string]*sequences.Mailbox{"recruiter": {
			Name: "recruiter", From: mail.Address{Name: "Wang Min", Address: "wangmin@acme.test"}, Company: "Acme", Sender: ml,
		}},
	}
	return h
}

// open opens (or reopens, after a "restart") the database.
func (h *harness) open() {
	h.t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(h.dir, "followup.db"))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { db.Close() })
	h.db = db
	if h.sched != nil {
		h.sched.Store = db
	}
}

func (h *harness) enroll(email, name string) sequences.Enrollment {
	h.t.Helper()
	req, _, err := h.catalog.Validate(sequences.EnrollRequest{
		Candidate: sequences.Candidate{Email: email, Name: name, Language: "en", Timezone: "UTC"},
		Sequence:  "interview", Fields: map[string]string{"job_title": "Engineer"},
	}, sequences.Defaults{Language: "en", Timezone: "UTC", Mailbox: "recruiter", Mailboxes: []string{"recruiter"}})
	if err != nil {
		h.t.Fatal(err)
	}
	out, err := h.db.Enroll(context.Background(), []sequences.EnrollRequest{req}, h.catalog.Sequences, h.clock.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	return out[0].Enrollment
}

// send lets the clock pass d and runs one scheduler pass.
func (h *harness) send(d time.Duration) sequences.Result {
	h.t.Helper()
	h.clock.Advance(d)
	res, err := h.sched.RunOnce(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return res
}

func (h *harness) dispatcher(eps ...webhooks.Endpoint) *webhooks.Dispatcher {
	return &webhooks.Dispatcher{Store: h.db, Endpoints: eps, Now: h.clock.Now, Jitter: func() float64 { return 0.5 }}
}

func (h *harness) fanout(d *webhooks.Dispatcher) int {
	h.t.Helper()
	n, err := d.Fanout(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

func (h *harness) deliver(d *webhooks.Dispatcher, ep webhooks.Endpoint) int {
	h.t.Helper()
	n, err := d.DeliverDue(context.Background(), ep)
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

func (h *harness) deliveries(status string) []webhooks.Delivery {
	h.t.Helper()
	ds, err := h.db.ListDeliveries(context.Background(), webhooks.Filter{Status: status, Limit: 1000})
	if err != nil {
		h.t.Fatal(err)
	}
	return ds
}

// receiver is an httptest server that checks every request's signature
// with webhooks.Verify, as a real receiver would, and answers with the
// next of codes (200 once they run out).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	codes    []int
	got      []webhooks.Payload
	headers  []http.Header
	rejected []error
}

func newReceiver(t *testing.T, now func() time.Time, codes ...int) *receiver {
	r := &receiver{codes: codes}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := webhooks.Verify(testSecret, req.Header.Get(webhooks.SignatureHeader), body, now(), 5*time.Minute); err != nil {
			r.rejected = append(r.rejected, err)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		code := http.StatusOK
		if len(r.codes) > 0 {
			code, r.codes = r.codes[0], r.codes[1:]
		}
		if code/100 == 2 {
			var p webhooks.Payload
			if err := json.Unmarshal(body, &p); err != nil {
				r.rejected = append(r.rejected, err)
			}
			r.got = append(r.got, p)
			r.headers = append(r.headers, req.Header.Clone())
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) payloads() []webhooks.Payload {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]webhooks.Payload(nil), r.got...)
}

func (r *receiver) endpoint() webhooks.Endpoint {
	return webhooks.Endpoint{URL: r.URL + "/hooks/followup", Secret: testSecret, Timeout: 5 * time.Second}
}
