package sequences_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"followup/mailer"
	"followup/sequences"
	"followup/store"
)

// harness is a real SQLite store, a real SMTP peer (the in-process sandbox)
// and a fake clock.
type harness struct {
	t       *testing.T
	dir     string
	db      *store.DB
	smtp    *mailer.Sandbox
	mailer  *mailer.Mailer
	clock   *sequences.FakeClock
	catalog *sequences.Catalog
	sched   *sequences.Scheduler
}

const threeSteps = `description: test
fields: [job_title]
steps:
  - template: first
    after: 2h
  - template: second
    after: 1w
    reply: true
  - template: third
    after: 30d
`

func writeProject(t *testing.T, dir, seqYAML string) {
	t.Helper()
	files := map[string]string{
		"sequences/interview.yaml": seqYAML,
		"templates/first.en.md":    "---\nsubject: \"Your {{.job_title}} interview\"\n---\nHi {{.name}}, thanks.\n",
		"templates/first.zh-CN.md": "---\nsubject: \"关于{{.job_title}}面试\"\n---\n{{.name}}，您好：感谢。\n",
		"templates/second.en.md":   "---\n---\nA resource for you.\n",
		"templates/third.en.md":    "---\nsubject: \"How is the search going?\"\n---\nChecking in.\n",
		"templates/fourth.en.md":   "---\nsubject: \"Fourth\"\n---\nNew step.\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir()}
	writeProject(t, h.dir, threeSteps)
	h.loadCatalog()
	db, err := store.Open(context.Background(), filepath.Join(h.dir, "followup.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h.db = db
	h.smtp, err = mailer.StartSandbox("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.smtp.Close() })
	h.mailer = mailer.New(mailer.Config{Host: "127.0.0.1", Port: h.smtp.Addr().Port, TLS: mailer.TLSNone, Timeout: 2 * time.Second}, nil)
	t.Cleanup(func() { h.mailer.Close() })
	h.clock = sequences.NewFakeClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	h.sched = &sequences.Scheduler{
		Store: db, Templates: h.catalog.Templates, Clock: h.clock, DefaultLanguage: "en",
		Mailboxes: map[string]*sequences.Mailbox{"recruiter": {
			Name: "recruiter", From: mail.Address{Name: "Wang Min", Address: "wangmin@acme.test"}, Company: "Acme", Sender: h.mailer,
		}},
		Retry: sequences.Retry{Initial: time.Minute, Max: time.Hour, MaxAttempts: 3},
	}
	return h
}

func (h *harness) loadCatalog() {
	c, ps := sequences.LoadCatalog(filepath.Join(h.dir, "sequences"), filepath.Join(h.dir, "templates"))
	if len(ps) > 0 {
		h.t.Fatalf("catalog: %v", ps)
	}
	h.catalog = c
	if h.sched != nil {
		h.sched.Templates = c.Templates
	}
}

func (h *harness) enroll(email, name, lang string) sequences.EnrollOutcome {
	h.t.Helper()
	req, _, err := h.catalog.Validate(sequences.EnrollRequest{
		Candidate: sequences.Candidate{Email: email, Name: name, Language: lang},
		Sequence:  "interview", Fields: map[string]string{"job_title": "Engineer"},
	}, sequences.Defaults{Language: "en", Timezone: "Asia/Shanghai", Mailbox: "recruiter", Mailboxes: []string{"recruiter"}})
	if err != nil {
		h.t.Fatal(err)
	}
	out, err := h.db.Enroll(context.Background(), []sequences.EnrollRequest{req}, h.catalog.Sequences, h.clock.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	return out[0]
}

func (h *harness) runOnce() sequences.Result {
	h.t.Helper()
	res, err := h.sched.RunOnce(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return res
}

func (h *harness) status(email string) sequences.Enrollment {
	h.t.Helper()
	tl, err := h.db.Timeline(context.Background(), email)
	if err != nil {
		h.t.Fatal(err)
	}
	return tl.Enrollments[len(tl.Enrollments)-1]
}

func header(t *testing.T, raw []byte, name string) string {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	v, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get(name))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSequenceRunsOnTimeAndThreads(t *testing.T) {
	h := newHarness(t)
	h.enroll("li.lei@example.test", "李雷", "zh-CN")
	h.enroll("alice@example.test", "Alice", "en")

	if res := h.runOnce(); res.Sent != 0 || !res.HasNext || !res.Next.Equal(h.clock.Now().Add(2*time.Hour)) {
		t.Fatalf("before the first step is due: %+v", res)
	}
	h.clock.Advance(2 * time.Hour)
	if res := h.runOnce(); res.Sent != 2 {
		t.Fatalf("step 1: %+v", res)
	}
	h.clock.Advance(7*24*time.Hour - time.Minute)
	if res := h.runOnce(); res.Sent != 0 {
		t.Fatalf("step 2 went early: %+v", res)
	}
	h.clock.Advance(time.Minute)
	if res := h.runOnce(); res.Sent != 2 {
		t.Fatalf("step 2: %+v", res)
	}
	h.clock.Advance(30 * 24 * time.Hour)
	if res := h.runOnce(); res.Sent != 2 || res.HasNext {
		t.Fatalf("step 3: %+v", res)
	}
	if res := h.runOnce(); res.Sent != 0 {
		t.Fatalf("sent after the end: %+v", res)
	}
	msgs := h.smtp.Messages()
	if len(msgs) != 6 {
		t.Fatalf("%d messages delivered, want 6", len(msgs))
	}
	byRcpt := map[string][][]byte{}
	for _, m := range msgs {
		byRcpt[m.To[0]] = append(byRcpt[m.To[0]], m.Data)
	}
	li := byRcpt["li.lei@example.test"]
	if got := header(t, li[0], "Subject"); got != "关于Engineer面试" {
		t.Errorf("Chinese subject = %q", got)
	}
	if got := header(t, li[1], "Subject"); got != "Re: 关于Engineer面试" {
		t.Errorf("reply subject = %q", got)
	}
	first, second := header(t, li[0], "Message-Id"), header(t, li[1], "Message-Id")
	if header(t, li[1], "In-Reply-To") != first || header(t, li[1], "References") != first {
		t.Errorf("reply threading: In-Reply-To %q References %q, want %q", header(t, li[1], "In-Reply-To"), header(t, li[1], "References"), first)
	}
	if got := header(t, li[0], "List-Unsubscribe"); got != "<mailto:wangmin@acme.test?subject=unsubscribe>" {
		t.Errorf("List-Unsubscribe = %q", got)
	}
	if !strings.HasSuffix(first, "@acme.test>") || first == second {
		t.Errorf("message ids %q %q", first, second)
	}
	// Step 2 has no zh-CN version: the default language is used.
	if got := header(t, li[2], "Subject"); got != "How is the search going?" {
		t.Errorf("step 3 subject = %q", got)
	}
	if e := h.status("li.lei@example.test"); e.Status != sequences.Finished {
		t.Errorf("status = %s, want finished", e.Status)
	}
}

func TestOneBadRecipientDoesNotBlockOthers(t *testing.T) {
	h := newHarness(t)
	h.enroll("gone@example.test", "Gone", "en")
	h.enroll("bob@example.test", "Bob", "en")
	h.smtp.SetFault(func(stage, arg string) error {
		if stage == "RCPT" && arg == "gone@example.test" {
			return mailer.ErrSandboxRefused
		}
		return nil
	})
	h.clock.Advance(2 * time.Hour)
	if res := h.runOnce(); res.Sent != 1 || res.Failed != 1 {
		t.Fatalf("%+v", res)
	}
	if e := h.status("gone@example.test"); e.Status != sequences.Failed {
		t.Errorf("gone: %s", e.Status)
	}
	if e := h.status("bob@example.test"); e.Status != sequences.Active || e.NextStep != 1 {
		t.Errorf("bob: %s step %d", e.Status, e.NextStep)
	}
	// An undeliverable address is not enrolled again.
	if o := h.enroll("gone@example.test", "Gone", "en"); o.Created || !strings.Contains(o.Reason, "undeliverable") {
		t.Errorf("re-enrolling an undeliverable address: %+v", o)
	}
}

func TestTransientFailureRetriesWithBackoffThenHolds(t *testing.T) {
	h := newHarness(t)
	h.enroll("alice@example.test", "Alice", "en")
	h.smtp.SetFault(func(stage, _ string) error {
		if stage == "RCPT" {
			return mailer.ErrSandboxBusy
		}
		return nil
	})
	h.clock.Advance(2 * time.Hour)
	if res := h.runOnce(); res.Deferred != 1 {
		t.Fatalf("first try: %+v", res)
	}
	// Backoff: about 1 minute (±20 %), not sooner.
	if res := h.runOnce(); res.Deferred != 0 || res.Next.Sub(h.clock.Now()) < 48*time.Second || res.Next.Sub(h.clock.Now()) > 72*time.Second {
		t.Fatalf("retry scheduled at +%v", res.Next.Sub(h.clock.Now()))
	}
	h.clock.Advance(2 * time.Minute)
	if res := h.runOnce(); res.Deferred != 1 {
		t.Fatalf("second try: %+v", res)
	}
	h.smtp.SetFault(nil)
	h.clock.Advance(3 * time.Minute)
	if res := h.runOnce(); res.Sent != 1 {
		t.Fatalf("third try: %+v", res)
	}
	if n := h.smtp.Count(); n != 1 {
		t.Errorf("%d delivered, want exactly 1", n)
	}

	// A second candidate whose attempts run out is held, not failed.
	h.enroll("carol@example.test", "Carol", "en")
	h.smtp.SetFault(func(stage, _ string) error {
		if stage == "RCPT" {
			return mailer.ErrSandboxBusy
		}
		return nil
	})
	for i := 0; i < 3; i++ {
		h.clock.Advance(3 * time.Hour)
		h.runOnce()
	}
	if e := h.status("carol@example.test"); e.Status != sequences.Paused || !strings.Contains(e.StatusReason, "gave up after 3 attempts") {
		t.Errorf("carol: %s %q", e.Status, e.StatusReason)
	}
}

func TestUnknownDeliveryIsNeverResent(t *testing.T) {
	h := newHarness(t)
	h.mailer = mailer.New(mailer.Config{Host: "127.0.0.1", Port: h.smtp.Addr().Port, TLS: mailer.TLSNone, Timeout: 300 * time.Millisecond}, nil)
	t.Cleanup(func() { h.mailer.Close() })
	h.sched.Mailboxes["recruiter"].Sender = h.mailer
	h.enroll("alice@example.test", "Alice", "en")
	h.smtp.SetFault(func(stage, _ string) error {
		if stage == "DATA" {
			time.Sleep(time.Second) // accepted late: the client gave up waiting
		}
		return nil
	})
	h.clock.Advance(2 * time.Hour)
	if res := h.runOnce(); res.Held != 1 {
		t.Fatalf("%+v", res)
	}
	e := h.status("alice@example.test")
	if e.Status != sequences.Paused || !strings.Contains(e.StatusReason, "--assume-sent") {
		t.Errorf("status %s %q", e.Status, e.StatusReason)
	}
	h.smtp.SetFault(nil)
	h.clock.Advance(30 * 24 * time.Hour)
	if res := h.runOnce(); res.Sent != 0 {
		t.Fatalf("resent an unknown delivery: %+v", res)
	}
	time.Sleep(time.Second)
	if n := h.smtp.Count(); n != 1 {
		t.Errorf("server has %d copies, want 1", n)
	}
}

func TestMailboxDownDefersWithoutCountingAttempts(t *testing.T) {
	h := newHarness(t)
	for _, e := range []string{"a@example.test", "b@example.test", "c@example.test"} {
		h.enroll(e, "X", "en")
	}
	h.smtp.SetFault(func(stage, _ string) error {
		if stage == "MAIL" {
			return mailer.ErrSandboxBusy
		}
		return nil
	})
	h.clock.Advance(2 * time.Hour)
	res := h.runOnce()
	if res.Deferred != 3 || res.Sent != 0 {
		t.Fatalf("%+v", res)
	}
	h.smtp.SetFault(nil)
	for i := 0; i < 5 && h.smtp.Count() < 3; i++ {
		h.clock.Advance(time.Minute)
		h.runOnce()
	}
	if n := h.smtp.Count(); n != 3 {
		t.Fatalf("delivered %d after the mailbox came back", n)
	}
}

func TestCrashMidSendIsRecoveredAsUnknown(t *testing.T) {
	h := newHarness(t)
	h.enroll("alice@example.test", "Alice", "en")
	h.clock.Advance(2 * time.Hour)
	ctx := context.Background()
	// A process claims the step and dies before recording anything.
	claims, err := h.db.ClaimDue(ctx, h.clock.Now(), 10, func(e sequences.Enrollment) string {
		return sequences.MessageID(e.UID, e.NextStep, "acme.test")
	})
	if err != nil || len(claims) != 1 {
		t.Fatal(claims, err)
	}
	if res := h.runOnce(); res.Sent != 0 {
		t.Fatalf("a claimed step was sent again: %+v", res)
	}
	// The daemon restarts at once (systemd Restart=on-failure): the claim
	// is seconds old, but it was made before this process started.
	h.clock.Advance(2 * time.Second)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.sched.Run(runCtx) }()
	deadline := time.Now().Add(5 * time.Second)
	for h.status("alice@example.test").Status != sequences.Paused && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if e := h.status("alice@example.test"); e.Status != sequences.Paused {
		t.Errorf("status %s", e.Status)
	}
	if h.smtp.Count() != 0 {
		t.Error("sent")
	}
}

func TestEditedSequencePinsRunningEnrollments(t *testing.T) {
	h := newHarness(t)
	h.enroll("old@example.test", "Old", "en")
	// The recruiter reorders the file and adds a step.
	writeProject(t, h.dir, `fields: [job_title]
steps:
  - template: fourth
    after: 1h
  - template: first
    after: 1h
`)
	h.loadCatalog()
	h.enroll("new@example.test", "New", "en")
	for i := 0; i < 6; i++ {
		h.clock.Advance(31 * 24 * time.Hour)
		h.runOnce()
	}
	subjects := map[string][]string{}
	for _, m := range h.smtp.Messages() {
		subjects[m.To[0]] = append(subjects[m.To[0]], header(t, m.Data, "Subject"))
	}
	if got := strings.Join(subjects["old@example.test"], " | "); got != "Your Engineer interview | Re: Your Engineer interview | How is the search going?" {
		t.Errorf("old enrollment followed %q", got)
	}
	if got := strings.Join(subjects["new@example.test"], " | "); got != "Fourth | Your Engineer interview" {
		t.Errorf("new enrollment followed %q", got)
	}
}

func TestShutdownFinishesInFlightAndGivesBackTheRest(t *testing.T) {
	h := newHarness(t)
	for _, e := range []string{"a@example.test", "b@example.test", "c@example.test"} {
		h.enroll(e, "X", "en")
	}
	h.clock.Advance(2 * time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	// SIGTERM arrives while the first message is being transmitted (the
	// server is reading its DATA).
	h.smtp.SetFault(func(stage, _ string) error {
		if stage == "DATA" {
			cancel()
		}
		return nil
	})
	if _, err := h.sched.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n := h.smtp.Count(); n != 1 {
		t.Fatalf("%d sent before stopping, want the one in flight", n)
	}
	h.smtp.SetFault(nil)
	if res := h.runOnce(); res.Sent != 2 {
		t.Fatalf("after restart: %+v", res)
	}
	if n := h.smtp.Count(); n != 3 {
		t.Fatalf("%d delivered in all, want 3", n)
	}
}

func TestStepsArriveOnlyInsideTheSendingWindow(t *testing.T) {
	h := newHarness(t)
	h.catalog.SetDefaultWindow(sequences.DefaultWindow)
	sh := sequences.Location("Asia/Shanghai")
	h.clock.Set(time.Date(2026, 11, 23, 19, 30, 0, 0, sh)) // Monday evening in Shanghai
	o := h.enroll("li.lei@example.test", "李雷", "zh-CN")    // step 1 would be due at 21:30
	due := o.Enrollment.NextDueAt.In(sh)
	if due.Format("2006-01-02 15") != "2026-11-24 09" {
		t.Fatalf("step 1 due %v, want Tuesday 09:xx in Shanghai", due)
	}
	h.clock.Set(time.Date(2026, 11, 23, 21, 30, 0, 0, sh))
	if res := h.runOnce(); res.Sent != 0 {
		t.Fatalf("sent at night: %+v", res)
	}
	h.clock.Set(due)
	if res := h.runOnce(); res.Sent != 1 {
		t.Fatalf("not sent in the morning: %+v", res)
	}
	// Step 2 is a week later, 09:xx on a Tuesday: inside; a retry pushed
	// past 20:00 by backoff waits for the next morning.
	h.smtp.SetFault(func(stage, _ string) error {
		if stage == "RCPT" {
			return mailer.ErrSandboxBusy
		}
		return nil
	})
	e := h.status("li.lei@example.test")
	h.clock.Set(*e.NextDueAt)
	h.runOnce() // deferred by the fault
	h.smtp.SetFault(nil)
	h.clock.Set(time.Date(2026, 12, 1, 20, 30, 0, 0, sh))
	if res := h.runOnce(); res.Sent != 0 {
		t.Fatalf("a retry went out at 20:30: %+v", res)
	}
	h.clock.Set(time.Date(2026, 12, 2, 9, 30, 0, 0, sh))
	if res := h.runOnce(); res.Sent != 1 {
		t.Fatalf("the retry did not go in the morning: %+v", res)
	}
}

func TestFrequencyCapSlidesStepsWithoutDroppingThem(t *testing.T) {
	h := newHarness(t)
	writeProject(t, h.dir, "fields: [job_title]\nsteps:\n  - template: first\n    after: 1h\n  - template: third\n    after: 1h\n  - template: fourth\n    after: 1h\n")
	h.loadCatalog()
	h.sched.Cap = sequences.Cap{Emails: 2, Window: 7 * 24 * time.Hour}
	h.enroll("alice@example.test", "Alice", "en")
	start := h.clock.Now()
	for i := 0; i < 3; i++ {
		h.clock.Advance(time.Hour)
		h.runOnce()
	}
	if n := h.smtp.Count(); n != 2 {
		t.Fatalf("%d sent in the first hours, want 2 (the cap)", n)
	}
	e := h.status("alice@example.test")
	if e.Status != sequences.Active || e.NextDueAt == nil || e.NextDueAt.Before(start.Add(7*24*time.Hour)) {
		t.Fatalf("step 3 waits until %v, want a week after step 1", e.NextDueAt)
	}
	h.clock.Set(*e.NextDueAt)
	if res := h.runOnce(); res.Sent != 1 {
		t.Fatalf("step 3 after the cap: %+v", res)
	}
}

func TestDailyCapPerMailbox(t *testing.T) {
	h := newHarness(t)
	h.sched.Location = time.UTC
	h.sched.Mailboxes["recruiter"].Limits = sequences.Limits{PerDay: 2}
	for _, e := range []string{"a@example.test", "b@example.test", "c@example.test"} {
		h.enroll(e, "X", "en")
	}
	h.clock.Advance(2 * time.Hour) // 11:00 UTC
	if res := h.runOnce(); res.Sent != 2 || res.Deferred != 1 {
		t.Fatalf("first day: %+v", res)
	}
	if res := h.runOnce(); res.Sent != 0 || !res.Next.Equal(time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("the third waits for tomorrow: %+v", res)
	}
	h.clock.Set(time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC))
	if res := h.runOnce(); res.Sent != 1 {
		t.Fatalf("next day: %+v", res)
	}
}

func TestRateLimitSpreadsSends(t *testing.T) {
	h := newHarness(t)
	h.sched.Mailboxes["recruiter"].Limits = sequences.Limits{PerMinute: 1}
	for _, e := range []string{"a@example.test", "b@example.test"} {
		h.enroll(e, "X", "en")
	}
	h.clock.Advance(2 * time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	h.sched.OnSent = func(sequences.Claim, *mailer.Message) {
		// The second send waits about a minute for its slot; stop there.
		time.AfterFunc(200*time.Millisecond, cancel)
	}
	if _, err := h.sched.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n := h.smtp.Count(); n != 1 {
		t.Fatalf("%d sent at once at a rate of one a minute", n)
	}
	h.sched.OnSent = nil
}

func TestDatedStepsFireOnTheirDayOrAreSkipped(t *testing.T) {
	h := newHarness(t)
	writeProject(t, h.dir, "fields: [job_title]\nsteps:\n  - template: first\n    after: 1h\n  - template: fourth\n    on: 2027-02-05 10:00\n  - template: third\n    on: 2026-11-01\n")
	h.loadCatalog()
	h.enroll("li.lei@example.test", "李雷", "zh-CN")
	h.clock.Advance(time.Hour)
	if res := h.runOnce(); res.Sent != 1 {
		t.Fatalf("step 1: %+v", res)
	}
	sh := sequences.Location("Asia/Shanghai")
	e := h.status("li.lei@example.test")
	if e.NextDueAt == nil || !e.NextDueAt.Equal(time.Date(2027, 2, 5, 10, 0, 0, 0, sh)) {
		t.Fatalf("the dated step is due %v, want 2027-02-05 10:00 in Shanghai", e.NextDueAt)
	}
	h.clock.Set(*e.NextDueAt)
	if res := h.runOnce(); res.Sent != 1 {
		t.Fatalf("the dated step: %+v", res)
	}
	// Step 3's day (1 November 2026) is long gone: skipped, not sent late.
	if res := h.runOnce(); res.Sent != 0 || res.Skipped != 1 {
		t.Fatalf("the past dated step: %+v", res)
	}
	if e := h.status("li.lei@example.test"); e.Status != sequences.Finished {
		t.Errorf("status %s", e.Status)
	}
}

func TestReviewStepWaitsForApproval(t *testing.T) {
	h := newHarness(t)
	writeProject(t, h.dir, "fields: [job_title]\nsteps:\n  - template: first\n    after: 1h\n    review: true\n  - template: third\n    after: 1d\n    review: true\n")
	h.loadCatalog()
	h.enroll("alice@example.test", "Alice", "en")
	h.clock.Advance(time.Hour)
	if res := h.runOnce(); res.Sent != 0 || res.Review != 1 {
		t.Fatalf("a review step went out unapproved: %+v", res)
	}
	h.clock.Advance(30 * 24 * time.Hour)
	if res := h.runOnce(); res.Sent != 0 {
		t.Fatalf("sent without approval a month later: %+v", res)
	}
	reviews, err := h.db.Reviews(context.Background())
	if err != nil || len(reviews) != 1 || !strings.Contains(reviews[0].Draft, "Hi Alice, thanks.") || reviews[0].Subject != "Your Engineer interview" {
		t.Fatalf("reviews: %+v %v", reviews, err)
	}
	// The recruiter rewrites it for Alice.
	if _, err := h.db.Approve(context.Background(), "alice@example.test", "", "A note from Wang Min", "Hi Alice,\n\nYour **system design** answer stood out.\n", h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if res := h.runOnce(); res.Sent != 1 {
		t.Fatalf("after approval: %+v", res)
	}
	m := h.smtp.Messages()[0].Data
	if got := header(t, m, "Subject"); got != "A note from Wang Min" {
		t.Errorf("subject %q", got)
	}
	if !strings.Contains(string(m), "<strong>system design</strong>") {
		t.Error("the recruiter's Markdown was not rendered")
	}
	// Step 2 is rejected: never sent, the enrollment finishes.
	h.clock.Advance(2 * 24 * time.Hour)
	if res := h.runOnce(); res.Review != 1 {
		t.Fatalf("step 2: %+v", res)
	}
	if _, err := h.db.Reject(context.Background(), "alice@example.test", "", h.clock.Now(), nil); err != nil {
		t.Fatal(err)
	}
	if e := h.status("alice@example.test"); e.Status != sequences.Finished || h.smtp.Count() != 1 {
		t.Errorf("after rejecting the last step: %s, %d sent", e.Status, h.smtp.Count())
	}
}

func TestVariantsAreStableAndSpread(t *testing.T) {
	st := sequences.Step{Template: "a", Variants: []string{"b"}}
	counts := map[string]int{}
	for i := 0; i < 400; i++ {
		uid := fmt.Sprintf("uid%d", i)
		v := sequences.ChooseTemplate(st, uid, 0)
		if v != sequences.ChooseTemplate(st, uid, 0) {
			t.Fatal("not stable")
		}
		counts[v]++
	}
	if counts["a"] < 150 || counts["b"] < 150 {
		t.Errorf("uneven split: %v", counts)
	}
	h := newHarness(t)
	writeProject(t, h.dir, "fields: [job_title]\nsteps:\n  - template: first\n    variants: [fourth, missing]\n    after: 1h\n")
	_, ps := sequences.LoadCatalog(filepath.Join(h.dir, "sequences"), filepath.Join(h.dir, "templates"))
	if len(ps) != 1 || !strings.Contains(ps[0].String(), `interview.yaml:4:24: step 1: no template "missing"`) {
		t.Errorf("problems %v", ps)
	}
}

// Property: over random schedules (random delays, time zones, enrollment
// times, candidates in several sequences), no email is ever sent outside
// the candidate's working-day window, and no candidate ever gets more than
// the cap in any period of its length.
func TestNoSendOutsideTheWindowAndNoCapExceeded(t *testing.T) {
	cals, ps := sequences.LoadCalendars("")
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	zones := []string{"Asia/Shanghai", "Europe/London", "America/New_York", "America/Los_Angeles", "Asia/Tokyo"}
	units := []string{"m", "h", "d", "bd"}
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 42))
			h := newHarness(t)
			for s := 0; s < 3; s++ {
				var b strings.Builder
				b.WriteString("fields: [job_title]\nsteps:\n")
				for i := 0; i < 2+rng.IntN(4); i++ {
					fmt.Fprintf(&b, "  - template: first\n    after: %d%s\n", 1+rng.IntN(5), units[rng.IntN(len(units))])
				}
				os.WriteFile(filepath.Join(h.dir, "sequences", fmt.Sprintf("r%d.yaml", s)), []byte(b.String()), 0o644)
			}
			h.loadCatalog()
			h.catalog.SetDefaultWindow(sequences.DefaultWindow)
			h.catalog.UseCalendars(cals)
			cap := sequences.Cap{Emails: 2, Window: 3 * 24 * time.Hour}
			h.sched.Cap, h.sched.Calendars = cap, cals
			tzOf := map[string]string{}
			sent := map[string][]time.Time{}
			h.sched.OnSent = func(c sequences.Claim, m *mailer.Message) {
				loc := sequences.Location(c.Enrollment.Timezone)
				if !sequences.DefaultWindow.Contains(m.Date, loc, cals.For(c.Enrollment.Timezone)) {
					t.Errorf("%s got mail at %s, outside the window", c.Enrollment.Email, m.Date.In(loc).Format("Mon 2006-01-02 15:04 MST"))
				}
				sent[c.Enrollment.Email] = append(sent[c.Enrollment.Email], m.Date)
			}
			for i := 0; i < 25; i++ {
				email := fmt.Sprintf("c%d@example.test", i)
				tzOf[email] = zones[rng.IntN(len(zones))]
				for s := 0; s < 3; s++ {
					if rng.IntN(2) == 0 {
						continue
					}
					h.clock.Set(time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(40*24)) * time.Hour))
					req, _, err := h.catalog.Validate(sequences.EnrollRequest{Candidate: sequences.Candidate{Email: email, Name: "X", Timezone: tzOf[email]},
						Sequence: fmt.Sprintf("r%d", s), Fields: map[string]string{"job_title": "x"}},
						sequences.Defaults{Language: "en", Mailbox: "recruiter", Mailboxes: []string{"recruiter"}})
					if err != nil {
						t.Fatal(err)
					}
					if _, err := h.db.Enroll(context.Background(), []sequences.EnrollRequest{req}, h.catalog.Sequences, h.clock.Now()); err != nil {
						t.Fatal(err)
					}
				}
			}
			h.clock.Set(time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC))
			for i := 0; i < 5000; i++ {
				res := h.runOnce()
				if !res.HasNext {
					break
				}
				if res.Next.After(h.clock.Now()) {
					h.clock.Set(res.Next)
				}
			}
			total := 0
			for email, times := range sent {
				total += len(times)
				for i := range times {
					n := 0
					for _, u := range times {
						if !u.Before(times[i]) && u.Before(times[i].Add(cap.Window)) {
							n++
						}
					}
					if n > cap.Emails {
						t.Errorf("%s got %d emails within %v from %v", email, n, cap.Window, times[i])
					}
				}
			}
			if total < 20 {
				t.Errorf("only %d emails sent: the property was barely exercised", total)
			}
		})
	}
}
