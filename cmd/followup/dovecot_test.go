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
	"followup/sequences"
)

// TestRepliesAndBouncesThroughDovecot is the product's promise end to end
// on real servers: a step goes out through Postfix; the candidate's reply
// and a real asynchronous bounce (Postfix accepts, Dovecot refuses, Postfix
// mails a DSN back) land in the recruiter's mailbox; the inbox watcher reads
// them over IMAP from Dovecot; the reply stops the candidate's sequence and
// the bounce marks the address undeliverable; nothing more is sent to either.
func TestRepliesAndBouncesThroughDovecot(t *testing.T) {
	srv := testenv.RequireMailServer(t)
	tp := &testProject{t: t, dir: t.TempDir(), now: time.Now(), getenv: os.Getenv}
	if out, err := tp.run("init", tp.dir, "--force"); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	recruiter := "recruiter2@" + srv.Domain // a mailbox no other test reads
	ca := os.Getenv(testenv.EnvCAFile)
	tp.write("followup.yaml", fmt.Sprintf(`company: "示例科技"
sending:
  window: {days: [mon, tue, wed, thu, fri, sat, sun], start: "00:00", end: "24:00"}
mailboxes:
  - name: wangmin
    from: "王敏 <%[1]s>"
    smtp: {host: %[2]s, port: %[3]d, tls: starttls, username: %[1]s, password_env: FOLLOWUP_TEST_PASSWORD, ca_file: %[4]s}
    imap: {host: %[2]s, port: %[5]d, tls: starttls, ca_file: %[4]s, poll: 1s}
`, recruiter, srv.Host, srv.SMTPPort, ca, srv.IMAPPort))
	candidate := "han.meimei@" + srv.Domain
	srv.ClearMailbox(t, recruiter)
	srv.ClearMailbox(t, candidate)

	out := tp.mustRun("inbox", "test")
	for _, want := range []string{"logged in; capabilities:", "ID", "IDLE", "INBOX:", "OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("inbox test output lacks %q:\n%s", want, out)
		}
	}

	for _, email := range []string{candidate, srv.BounceAddr} {
		tp.mustRun("enroll", email, "-s", "rejected-after-interview", "-n", "韩梅梅", "-l", "zh-CN",
			"-f", "job_title=产品经理", "-f", "strengths=需求分析扎实", "-f", "gaps=B端经验少")
	}
	w := tp.wire(tp.now)
	p, db, mbs, clock, sched := w.p, w.db, w.mbs, w.clock, w.sched
	clock.Advance(4 * time.Hour)
	if res, err := sched.RunOnce(context.Background()); err != nil || res.Sent != 2 {
		t.Fatalf("step 1: %+v %v", res, err)
	}
	first := srv.WaitForMessages(t, candidate, 1, 30*time.Second)
	msgID := parseMail(t, first[0]).Header.Get("Message-Id")

	// The candidate answers from her mail client, quoting the original.
	m := gomail.NewMsg()
	m.From(candidate)
	m.To(recruiter)
	m.Subject("回复：产品经理面试反馈")
	m.SetGenHeaderPreformatted(gomail.HeaderInReplyTo, msgID)
	m.SetGenHeaderPreformatted(gomail.HeaderReferences, msgID)
	m.SetBodyString(gomail.TypeTextPlain, "谢谢您这么具体的反馈！我愿意留在人才库。\n\n------------------ 原始邮件 ------------------\n发件人: \"王敏\" <"+recruiter+">\n主题: 产品经理面试反馈\n\n韩梅梅，您好：……\n")
	c, err := gomail.NewClient(srv.Host, gomail.WithPort(srv.SMTPPort), gomail.WithTLSPolicy(gomail.TLSMandatory),
		gomail.WithTLSConfig(srv.TLSConfig()), gomail.WithSMTPAuth(gomail.SMTPAuthPlain),
		gomail.WithUsername(candidate), gomail.WithPassword(srv.Password))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DialAndSend(m); err != nil {
		t.Fatalf("sending the reply: %v", err)
	}

	watchers, err := p.watchers(db, mbs)
	if err != nil || len(watchers) != 1 {
		t.Fatalf("watchers: %v %v", watchers, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); watchers[0].Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()

	status := func(email string) sequences.Enrollment {
		tl, err := db.Timeline(context.Background(), email)
		if err != nil {
			t.Fatal(err)
		}
		return tl.Enrollments[0]
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && (status(candidate).Status == sequences.Active || status(srv.BounceAddr).Status == sequences.Active) {
		time.Sleep(200 * time.Millisecond)
	}
	if e := status(candidate); e.Status != sequences.Stopped || !strings.Contains(e.StatusReason, "replied: 谢谢您这么具体的反馈") {
		t.Errorf("after the reply: %s %q", e.Status, e.StatusReason)
	}
	tl, _ := db.Timeline(context.Background(), candidate)
	if len(tl.Inbound) != 1 || tl.Inbound[0].Text != "谢谢您这么具体的反馈！我愿意留在人才库。" || tl.Inbound[0].MatchedBy != "thread" {
		t.Errorf("logged reply: %+v", tl.Inbound)
	}
	tl, _ = db.Timeline(context.Background(), srv.BounceAddr)
	if e := tl.Enrollments[0]; e.Status != sequences.Stopped || tl.Candidate.UndeliverableReason == "" {
		t.Errorf("after the bounce: %s %q, undeliverable %q (postfix log: %s)", e.Status, e.StatusReason, tl.Candidate.UndeliverableReason, srv.MailLog)
	}

	// The recruiter was told, in their own mailbox (reply + bounce + note).
	found := false
	for _, raw := range srv.WaitForMessages(t, recruiter, 3, 30*time.Second) {
		m := parseMail(t, raw)
		if subj := decode(t, m.Header.Get("Subject")); strings.HasPrefix(subj, "[Followup] "+candidate+" 回复了") {
			found = true
			if m.Header.Get("Auto-Submitted") != "auto-generated" {
				t.Errorf("the notification lacks Auto-Submitted: %q", m.Header.Get("Auto-Submitted"))
			}
		}
	}
	if !found {
		t.Error("no notification of the reply in the recruiter's mailbox")
	}

	// A week later step 2 is due for both, and goes to neither.
	clock.Advance(8 * 24 * time.Hour)
	if res, err := sched.RunOnce(context.Background()); err != nil || res.Sent != 0 {
		t.Errorf("after the reply and the bounce: %+v %v", res, err)
	}
	show := tp.mustRun("show", candidate)
	for _, want := range []string{"reply", "谢谢您这么具体的反馈", "stopped"} {
		if !strings.Contains(show, want) {
			t.Errorf("timeline lacks %q:\n%s", want, show)
		}
	}
}
