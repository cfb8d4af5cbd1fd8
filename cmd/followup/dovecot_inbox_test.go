package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"followup/internal/testenv"
)

// TestInboxSurvivesRealWorldMail runs the inbox against real Dovecot and
// Postfix: an out-of-office reply does not stop a sequence, a reply without
// threading headers is matched by address, Dovecot going away and coming
// back is survived (the watcher reconnects and catches up with mail that
// arrived meanwhile), and a restarted watcher processes nothing twice.
func TestInboxSurvivesRealWorldMail(t *testing.T) {
	srv := testenv.RequireMailServer(t)
	tp := &testProject{t: t, dir: t.TempDir(), now: time.Now(), getenv: os.Getenv}
	if out, err := tp.run("init", tp.dir, "--force"); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	recruiter := "li.lei@" + srv.Domain // this test's recruiter mailbox
	ca := os.Getenv(testenv.EnvCAFile)
	tp.write("followup.yaml", fmt.Sprintf(`company: "示例科技"
sending:
  window: {days: [mon, tue, wed, thu, fri, sat, sun], start: "00:00", end: "24:00"}
mailboxes:
  - name: r
    from: "王敏 <%[1]s>"
    smtp: {host: %[2]s, port: %[3]d, tls: starttls, username: %[1]s, password_env: FOLLOWUP_TEST_PASSWORD, ca_file: %[4]s}
    imap: {host: %[2]s, port: %[5]d, tls: implicit, ca_file: %[4]s, poll: 1s}
`, recruiter, srv.Host, srv.SMTPPort, ca, srv.IMAPSPort))
	srv.ClearMailbox(t, recruiter)
	amy, ben, cat := "alice+amy@"+srv.Domain, "alice+ben@"+srv.Domain, "alice+cat@"+srv.Domain
	for _, c := range []string{amy, ben, cat} {
		tp.mustRun("enroll", c, "-s", "post-interview-thanks", "-n", "Test", "-l", "en", "-f", "job_title=SRE")
		tp.mustRun("enroll", c, "-s", "offer-declined", "-n", "Test", "-l", "en", "-f", "job_title=SRE")
	}
	w := tp.wire(tp.now.Add(3 * time.Hour))
	p, db, mbs, sched := w.p, w.db, w.mbs, w.sched
	if res, err := sched.RunOnce(context.Background()); err != nil || res.Sent != 3 {
		t.Fatalf("step 1: %+v %v", res, err)
	}
	msgID := func(email string) string {
		tl, err := db.Timeline(context.Background(), email)
		if err != nil || len(tl.Messages) == 0 {
			t.Fatalf("no message to %s: %v", email, err)
		}
		return "<" + tl.Messages[0].MessageID + ">"
	}
	send := func(from string, m *gomail.Msg) {
		t.Helper()
		c, err := gomail.NewClient(srv.Host, gomail.WithPort(srv.SMTPPort), gomail.WithTLSPolicy(gomail.TLSMandatory),
			gomail.WithTLSConfig(srv.TLSConfig()), gomail.WithSMTPAuth(gomail.SMTPAuthPlain),
			gomail.WithUsername("alice@"+srv.Domain), gomail.WithPassword(srv.Password))
		if err != nil {
			t.Fatal(err)
		}
		m.From(from)
		m.To(recruiter)
		if err := c.DialAndSend(m); err != nil {
			t.Fatalf("sending as %s: %v", from, err)
		}
	}
	// Amy's out-of-office, in the thread.
	ooo := gomail.NewMsg()
	ooo.Subject("Automatic reply: Your SRE interview")
	ooo.SetGenHeaderPreformatted(gomail.HeaderInReplyTo, msgID(amy))
	ooo.SetGenHeader("Auto-Submitted", "auto-replied")
	ooo.SetBodyString(gomail.TypeTextPlain, "I am out of the office with limited access to email.\n")
	send(amy, ooo)
	// Ben writes a new email, no threading headers at all.
	fresh := gomail.NewMsg()
	fresh.Subject("About the SRE role")
	fresh.SetBodyString(gomail.TypeTextPlain, "Hi Wang Min, thanks for the note. Could we talk on Friday?\n")
	send(ben, fresh)

	var wg sync.WaitGroup
	run := func() (context.CancelFunc, *sync.WaitGroup) {
		ws, err := p.watchers(db, mbs)
		if err != nil || len(ws) != 1 {
			t.Fatalf("watchers: %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		wg.Add(1)
		go func() { defer wg.Done(); ws[0].Run(ctx) }()
		return cancel, &wg
	}
	cancel, _ := run()
	inbound := func(email string) []string {
		tl, err := db.Timeline(context.Background(), email)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, in := range tl.Inbound {
			kinds = append(kinds, in.Kind)
		}
		return kinds
	}
	live := func(email string) int {
		tl, _ := db.Timeline(context.Background(), email)
		n := 0
		for _, e := range tl.Enrollments {
			if e.Status.Live() {
				n++
			}
		}
		return n
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s (postfix log %s)", what, srv.MailLog)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitFor("ben's reply and amy's auto-reply", func() bool { return live(ben) == 0 && len(inbound(amy)) == 1 })
	if got := strings.Join(inbound(amy), ","); got != "auto_reply" || live(amy) != 1 {
		t.Errorf("amy's out-of-office: %s, %d live enrollments (want auto_reply, 1: the out-of-office stops nothing)", got, live(amy))
	}
	if got := strings.Join(inbound(ben), ","); got != "reply" {
		t.Errorf("ben: %s", got)
	}

	// Dovecot goes away; Cat replies meanwhile (Postfix queues it); Dovecot
	// comes back and the watcher catches up.
	srv.RestartIMAP(t, 2*time.Second)
	reply := gomail.NewMsg()
	reply.Subject("Re: Your SRE interview")
	reply.SetGenHeaderPreformatted(gomail.HeaderInReplyTo, msgID(cat))
	reply.SetBodyString(gomail.TypeTextPlain, "Thank you! Looking forward to hearing from you.\n")
	send(cat, reply)
	waitFor("cat's reply after Dovecot restarted", func() bool { return live(cat) == 0 })

	// A new watcher (a restarted daemon) reads nothing twice.
	cancel()
	wg.Wait()
	cancel, _ = run()
	time.Sleep(3 * time.Second)
	cancel()
	wg.Wait()
	for _, c := range []string{amy, ben, cat} {
		if n := len(inbound(c)); n != 1 {
			t.Errorf("%s has %d logged messages after a restart, want 1", c, n)
		}
	}
}
