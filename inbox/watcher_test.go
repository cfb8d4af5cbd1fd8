package inbox_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"followup/inbox"
	"followup/mailer"
	"followup/sequences"
	"followup/store"
)

const recruiter = "wangmin@acme.test"

// world is a real SQLite store with candidates who were sent step 1 of a
// two-step sequence through the SMTP sandbox, and an in-memory IMAP server
// holding the recruiter's mailbox.
type world struct {
	t     *testing.T
	db    *store.DB
	imap  string // address
	sent  map[string]string
	clock *sequences.FakeClock
	user  *imapmemserver.User
	sched *sequences.Scheduler
	sb    *mailer.Sandbox
	caps  imap.CapSet
}

func newWorld(t *testing.T, candidates ...string) *world {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"sequences/s.yaml":  "fields: []\nsteps:\n  - template: a\n    after: 1h\n  - template: b\n    after: 1w\n",
		"sequences/p.yaml":  "on_reply: pause\nsteps:\n  - template: a\n    after: 1h\n  - template: b\n    after: 1w\n",
		"templates/a.en.md": "---\nsubject: Hello\n---\nHi {{.name}}\n",
		"templates/b.en.md": "---\nsubject: Again\n---\nHi again\n",
	} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cat, ps := sequences.LoadCatalog(filepath.Join(dir, "sequences"), filepath.Join(dir, "templates"))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "f.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w := &world{t: t, db: db, sent: map[string]string{}, clock: sequences.NewFakeClock(time.Now().Add(-2 * time.Hour))}
	defaults := sequences.Defaults{Language: "en", Timezone: "UTC", Mailbox: "m", Mailboxes: []string{"m"}}
	for _, c := range candidates {
		seq := "s"
		if strings.HasPrefix(c, "pause") {
			seq = "p"
		}
		req, _, err := cat.Validate(sequences.EnrollRequest{Candidate: sequences.Candidate{Email: c, Name: c}, Sequence: seq}, defaults)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Enroll(ctx, []sequences.EnrollRequest{req}, cat.Sequences, w.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	sb, err := mailer.StartSandbox("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	ml := mailer.New(mailer.Config{Host: "127.0.0.1", Port: sb.Addr().Port, TLS: mailer.TLSNone}, nil)
	t.Cleanup(func() { ml.Close() })
	sched := &sequences.Scheduler{Store: db, Templates: cat.Templates, Clock: w.clock, DefaultLanguage: "en",
		Mailboxes: map[string]*sequences.Mailbox{"m": {Name: "m", From: mail.Address{Address: recruiter}, Sender: ml}},
		OnSent:    func(c sequences.Claim, m *mailer.Message) { w.sent[c.Enrollment.Email] = m.MessageID }}
	w.clock.Advance(time.Hour + time.Minute)
	if res, err := sched.RunOnce(ctx); err != nil || res.Sent != len(candidates) {
		t.Fatalf("sending step 1: %+v %v", res, err)
	}
	w.sched, w.sb = sched, sb
	w.startIMAP()
	return w
}

func (w *world) capSet() imap.CapSet {
	if w.caps != nil {
		return w.caps
	}
	return imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}}
}

func (w *world) startIMAP() {
	mem := imapmemserver.New()
	w.user = imapmemserver.NewUser(recruiter, "pw")
	if err := w.user.Create("INBOX", nil); err != nil {
		w.t.Fatal(err)
	}
	mem.AddUser(w.user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         w.capSet(),
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0), // connections closed by the test are not news
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		w.t.Fatal(err)
	}
	go srv.Serve(ln)
	w.t.Cleanup(func() { srv.Close() })
	w.imap = ln.Addr().String()
}

// deliver appends raw messages to the recruiter's INBOX, as an MTA would.
func (w *world) deliver(raws ...string) {
	w.t.Helper()
	c, err := imapclient.DialInsecure(w.imap, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(recruiter, "pw").Wait(); err != nil {
		w.t.Fatal(err)
	}
	for _, raw := range raws {
		raw = strings.ReplaceAll(raw, "\n", "\r\n")
		cmd := c.Append("INBOX", int64(len(raw)), nil)
		cmd.Write([]byte(raw))
		cmd.Close()
		if _, err := cmd.Wait(); err != nil {
			w.t.Fatal(err)
		}
	}
}

// watch runs a watcher until want messages about candidates were handled.
func (w *world) watch(want int) []inbox.Inbound {
	w.t.Helper()
	host, port, _ := net.SplitHostPort(w.imap)
	var mu sync.Mutex
	var got []inbox.Inbound
	done := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	wt := &inbox.Watcher{
		Name: "m", Folder: "INBOX", Poll: 50 * time.Millisecond, Own: []string{recruiter}, Store: w.db,
		Server: inbox.Server{Host: host, Port: atoi(port), TLS: "none", Username: recruiter, Password: "pw", Timeout: 5 * time.Second},
		OnReply: func(ctx context.Context, v int64) string {
			s, err := w.db.Version(ctx, v)
			if err != nil {
				return "stop"
			}
			return s.OnReply
		},
		Processed: func(in inbox.Inbound, recorded bool) {
			mu.Lock()
			defer mu.Unlock()
			if recorded {
				got = append(got, in)
				if len(got) == want {
					close(done)
				}
			}
		},
	}
	stopped := make(chan struct{})
	go func() { wt.Run(ctx); close(stopped) }()
	if want == 0 {
		time.Sleep(500 * time.Millisecond)
	} else {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			w.t.Errorf("handled %d messages, want %d", len(got), want)
		}
	}
	cancel()
	<-stopped
	mu.Lock()
	defer mu.Unlock()
	return got
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}

func (w *world) enrollment(email string) sequences.Enrollment {
	w.t.Helper()
	tl, err := w.db.Timeline(context.Background(), email)
	if err != nil {
		w.t.Fatal(err)
	}
	return tl.Enrollments[0]
}

func TestWatcherActsOnRepliesBouncesAndUnsubscribes(t *testing.T) {
	w := newWorld(t, "alice@example.com", "pause.bob@example.com", "carol@example.com", "dave@example.com", "erin@example.com", "frank@example.com")
	w.deliver(
		// A reply in the thread, with the quoted history below it.
		fmt.Sprintf("From: Alice <alice@example.com>\nTo: %s\nSubject: Re: Hello\nMessage-ID: <r1@example.com>\nIn-Reply-To: <%s>\nDate: Mon, 23 Nov 2026 10:00:00 +0000\n\nThanks, I'd like to talk next week.\n\nOn Mon, Nov 23, 2026 at 9:00 AM Wang Min <%s> wrote:\n> Hi alice\n", recruiter, w.sent["alice@example.com"], recruiter),
		// A reply to a sequence that pauses instead of stopping.
		fmt.Sprintf("From: pause.bob@example.com\nTo: %s\nSubject: Re: Hello\nMessage-ID: <r2@example.com>\nReferences: <%s>\nDate: Mon, 23 Nov 2026 10:01:00 +0000\n\nYes, keep me in mind.\n", recruiter, w.sent["pause.bob@example.com"]),
		// A Postfix DSN for carol, quoting our Message-ID.
		fmt.Sprintf("From: MAILER-DAEMON@mx.example.com (Mail Delivery System)\nTo: %s\nSubject: Undelivered Mail Returned to Sender\nMessage-ID: <dsn1@mx.example.com>\nDate: Mon, 23 Nov 2026 10:02:00 +0000\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n--B\nContent-Type: text/plain\n\nI'm sorry to have to inform you that your message could not be delivered.\n\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.com\n\nFinal-Recipient: rfc822; carol@example.com\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 <carol@example.com>: Recipient address rejected: User unknown\n\n--B\nContent-Type: text/rfc822-headers\n\nFrom: %s\nTo: carol@example.com\nSubject: Hello\nMessage-ID: <%s>\n\n--B--\n", recruiter, recruiter, w.sent["carol@example.com"]),
		// An out-of-office with a return date: never stops, postpones.
		fmt.Sprintf("From: dave@example.com\nTo: %s\nSubject: Automatic reply: Hello\nAuto-Submitted: auto-replied\nMessage-ID: <ooo1@example.com>\nIn-Reply-To: <%s>\nDate: Mon, 23 Nov 2026 10:03:00 +0000\n\nI am out of the office and will be back on 14 December 2026.\n", recruiter, w.sent["dave@example.com"]),
		// An unsubscribe in a fresh mail without threading headers.
		fmt.Sprintf("From: erin@example.com\nTo: %s\nSubject: 退订\nMessage-ID: <u1@example.com>\nDate: Mon, 23 Nov 2026 10:04:00 +0000\nContent-Type: text/plain; charset=utf-8\n\n请退订，谢谢。\n", recruiter),
		// Mail that is not about any candidate, and the recruiter's own.
		fmt.Sprintf("From: news@vendor.example\nTo: %s\nSubject: Newsletter\nMessage-ID: <n1@vendor.example>\n\nNews.\n", recruiter),
		fmt.Sprintf("From: %s\nTo: frank@example.com\nSubject: Re: Hello\nMessage-ID: <own1@acme.test>\nIn-Reply-To: <%s>\n\nA note I sent myself.\n", recruiter, w.sent["frank@example.com"]),
	)
	got := w.watch(5)
	kinds := map[string]string{}
	for _, in := range got {
		kinds[in.Target.Email] = in.Kind
	}
	want := map[string]string{"alice@example.com": "reply", "pause.bob@example.com": "reply", "carol@example.com": "bounce", "dave@example.com": "auto_reply", "erin@example.com": "unsubscribe"}
	for e, k := range want {
		if kinds[e] != k {
			t.Errorf("%s: kind %q, want %q (all: %v)", e, kinds[e], k, kinds)
		}
	}
	checks := []struct {
		email  string
		status sequences.Status
	}{
		{"alice@example.com", sequences.Stopped},
		{"pause.bob@example.com", sequences.Paused},
		{"carol@example.com", sequences.Stopped},
		{"dave@example.com", sequences.Active},
		{"erin@example.com", sequences.Stopped},
		{"frank@example.com", sequences.Active},
	}
	for _, c := range checks {
		if e := w.enrollment(c.email); e.Status != c.status {
			t.Errorf("%s: %s (%s), want %s", c.email, e.Status, e.StatusReason, c.status)
		}
	}
	if e := w.enrollment("dave@example.com"); e.NextDueAt == nil || e.NextDueAt.Before(time.Date(2026, 12, 14, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("dave's next step due %v, want after his return on 14 December", e.NextDueAt)
	}
	tl, _ := w.db.Timeline(context.Background(), "alice@example.com")
	if len(tl.Inbound) != 1 || tl.Inbound[0].Text != "Thanks, I'd like to talk next week." {
		t.Errorf("alice's logged reply: %+v", tl.Inbound)
	}
	if tl, _ := w.db.Timeline(context.Background(), "carol@example.com"); tl.Candidate.UndeliverableReason == "" {
		t.Error("carol not marked undeliverable")
	}
	// Erin is suppressed: enrolling her again creates nothing.
	out, err := w.db.Enroll(context.Background(), []sequences.EnrollRequest{{Candidate: sequences.Candidate{Email: "erin@example.com"}, Sequence: "s", Mailbox: "m"}},
		map[string]*sequences.Sequence{"s": {Name: "s", Steps: []sequences.Step{{Template: "a"}}}}, time.Now())
	if err != nil || out[0].Created || !strings.Contains(out[0].Reason, "suppressed") {
		t.Errorf("re-enrolling an unsubscribed address: %+v %v", out, err)
	}

	// The mailbox is the recruiter's: nothing was marked read, moved or deleted.
	c, err := imapclient.DialInsecure(w.imap, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Login(recruiter, "pw").Wait()
	sel, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil || sel.NumMessages != 7 {
		t.Fatalf("INBOX has %d messages, want 7: %v", sel.NumMessages, err)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1, 2, 3, 4, 5, 6, 7), &imap.FetchOptions{Flags: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if len(m.Flags) != 0 {
			t.Errorf("message %d has flags %v; the watcher must not change the mailbox", m.SeqNum, m.Flags)
		}
	}

	// A restart processes nothing twice; a new message is still seen.
	if again := w.watch(0); len(again) != 0 {
		t.Errorf("a restart recorded %d messages again", len(again))
	}
	// After a UIDVALIDITY change the folder is read again from the start:
	// every message is recognised by its Message-ID and nothing is logged
	// or acted on twice.
	if err := w.db.SaveCheckpoint(context.Background(), inbox.Checkpoint{Mailbox: "m", UIDValidity: 4242, LastUID: 99}); err != nil {
		t.Fatal(err)
	}
	if again := w.watch(0); len(again) != 0 {
		t.Errorf("a rescan recorded %d messages again", len(again))
	}
	if tl, _ := w.db.Timeline(context.Background(), "alice@example.com"); len(tl.Inbound) != 1 {
		t.Errorf("alice has %d logged replies after the rescan", len(tl.Inbound))
	}
	w.deliver(fmt.Sprintf("From: frank@example.com\nTo: %s\nSubject: Re: Hello\nMessage-ID: <r9@example.com>\nIn-Reply-To: <%s>\n\nNot looking at the moment, thanks.\n", recruiter, w.sent["frank@example.com"]))
	if got := w.watch(1); len(got) != 1 || got[0].Kind != "not_interested" {
		t.Errorf("after restart: %+v", got)
	}
	if e := w.enrollment("frank@example.com"); e.Status != sequences.Stopped {
		t.Errorf("frank: %s", e.Status)
	}
}

// A reply that lands a second before a step is due stops the step: before
// sending, the scheduler makes the watcher read the mailbox if its last
// read is older than the bound (here: any age), even though the server has
// no IDLE and the watcher would otherwise look only once an hour.
func TestReplyJustBeforeADueStepStopsIt(t *testing.T) {
	w := newWorld(t, "alice@example.com")
	w.caps = imap.CapSet{imap.CapIMAP4rev1: {}} // no IDLE: only polling
	w.startIMAP()
	host, port, _ := net.SplitHostPort(w.imap)
	wt := &inbox.Watcher{Name: "m", Folder: "INBOX", Poll: time.Hour, Own: []string{recruiter}, Store: w.db,
		Server: inbox.Server{Host: host, Port: atoi(port), TLS: "none", Username: recruiter, Password: "pw", Timeout: 5 * time.Second}}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { wt.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	for wt.LastSync().IsZero() { // the first read of the (empty) mailbox
		time.Sleep(5 * time.Millisecond)
	}
	before := w.sb.Count()

	w.deliver(fmt.Sprintf("From: alice@example.com\nTo: %s\nSubject: Re: Hello\nMessage-ID: <late1@example.com>\nIn-Reply-To: <%s>\n\nYes, let's talk.\n", recruiter, w.sent["alice@example.com"]))
	w.clock.Advance(7*24*time.Hour + time.Minute) // step 2 is due now
	w.sched.Guard = func(ctx context.Context, mailbox string) error { return wt.Fresh(ctx, 0) }
	res, err := w.sched.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 0 || w.sb.Count() != before {
		t.Fatalf("step 2 went out after the reply: %+v", res)
	}
	if e := w.enrollment("alice@example.com"); e.Status != sequences.Stopped {
		t.Errorf("alice: %s", e.Status)
	}
}
