package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	gomail "github.com/wneessen/go-mail"

	"followup/internal/testenv"
)

// TestDashboardEndToEnd is a recruiter's day through the real servers:
// `serve` sends through Postfix and reads its inbox from Dovecot, and the
// recruiter uses the dashboard in headless Chromium. They sign in and
// enroll a candidate with the form; the email reaches the candidate's
// Dovecot mailbox; the candidate replies through Postfix and the reply
// appears on the candidate's timeline; the candidate answers the NPS survey
// from the link in the email; the metrics page counts the reply and the
// score. Screenshots of each stage are kept as dashboard-e2e-*.png in
// $FOLLOWUP_ARTIFACTS.
func TestDashboardEndToEnd(t *testing.T) {
	srv := testenv.RequireMailServer(t)
	browser, shot := testenv.Browser(t, testenv.BrowserOptions{Width: 1366, Height: 900, Lang: "en-US", Timeout: 5 * time.Minute})
	q := chromedp.ByQuery

	recruiter := "li.lei@" + srv.Domain // the recruiter's mailbox, read by serve
	tok := randomToken(t)
	// The candidate's mail goes to alice's mailbox (Postfix's + delimiter);
	// this run's messages are told apart by the address.
	candidate := "alice+e2e-" + tok + "@" + srv.Domain
	srv.ClearMailbox(t, recruiter)

	tp := &testProject{t: t, dir: t.TempDir(), now: time.Now()}
	if out, err := tp.run("init", tp.dir, "--force"); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	addr := freeLoopbackAddr(t)
	base := "http://" + addr
	tp.write("followup.yaml", fmt.Sprintf(`company: "Example Tech"
sending:
  window: {days: [mon, tue, wed, thu, fri, sat, sun], start: "00:00", end: "24:00"}
mailboxes:
  - name: r
    from: "Wang Min <%[1]s>"
    smtp: {host: %[2]s, port: %[3]d, tls: starttls, username: %[1]s, password_env: FOLLOWUP_TEST_PASSWORD, ca_file: %[4]s}
    imap: {host: %[2]s, port: %[5]d, tls: starttls, ca_file: %[4]s, poll: 1s}
http:
  listen: %[6]s
  public_url: %[7]s
  secret_env: FOLLOWUP_SECRET
`, recruiter, srv.Host, srv.SMTPPort, os.Getenv(testenv.EnvCAFile), srv.IMAPPort, addr, base))
	// The starter's first step waits 2 hours; here it is due at once.
	seq := tp.read("sequences/post-interview-thanks.yaml")
	if !strings.Contains(seq, "after: 2h") {
		t.Fatalf("the starter sequence changed:\n%s", seq)
	}
	tp.write("sequences/post-interview-thanks.yaml", strings.Replace(seq, "after: 2h", "after: 0m", 1))
	secret := strings.Repeat("e", 40)
	tp.getenv = func(k string) string {
		return map[string]string{"FOLLOWUP_TEST_PASSWORD": srv.Password, "FOLLOWUP_SECRET": secret}[k]
	}
	const login, password = "wang", "correct horse battery staple"
	tp.write("password.txt", password+"\n")
	tp.mustRun("user", "add", login, "--password-file", filepath.Join(tp.dir, "password.txt"), "--lang", "en")

	// serve on the wall clock, as in production.
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		env := &runEnv{ctx: ctx, stdout: &logs, stderr: &logs, getenv: tp.getenv}
		done <- runWith(env, []string{"--config", filepath.Join(tp.dir, "followup.yaml"), "serve"})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if t.Failed() {
			t.Logf("serve's log:\n%s", logs.String())
		}
	}()
	waitFor(t, "serve to answer /healthz", func() bool {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	run := func(what string, actions ...chromedp.Action) {
		t.Helper()
		if err := chromedp.Run(browser, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	// Sign in and enroll through the form.
	var candidatePage string
	run("signing in",
		chromedp.Navigate(base+"/candidates"),
		chromedp.WaitVisible(`input[name=login]`, q),
		chromedp.SendKeys(`input[name=login]`, login, q),
		chromedp.SendKeys(`input[name=password]`, password, q),
		shot("dashboard-e2e-1-sign-in.png"),
		chromedp.Submit(`input[name=password]`, q),
		chromedp.WaitVisible(`form.filters`, q),
	)
	run("enrolling",
		chromedp.Navigate(base+"/enroll"),
		chromedp.WaitVisible(`#choose-sequence`, q),
		chromedp.SetValue(`#choose-sequence`, "post-interview-thanks", q),
		chromedp.Click(`#next`, q),
		chromedp.WaitVisible(`#enroll-form`, q),
		chromedp.SendKeys(`#enroll-form input[name=email]`, candidate, q),
		chromedp.SendKeys(`#enroll-form input[name=name]`, "Alice Chen", q),
		chromedp.SetValue(`#enroll-form select[name=language]`, "en", q),
		chromedp.SendKeys(`#enroll-form textarea[name="f.job_title"]`, "Site Reliability Engineer", q),
		shot("dashboard-e2e-2-enroll.png"),
		chromedp.Click(`#enroll-submit`, q),
		chromedp.WaitVisible(`#add-note`, q),
		chromedp.Location(&candidatePage),
	)
	if !strings.Contains(candidatePage, "/candidates/") {
		t.Fatalf("after enrolling the browser is at %s", candidatePage)
	}

	// The first step goes out through Postfix and lands in Dovecot.
	sent := waitForMail(t, srv, "alice@"+srv.Domain, 60*time.Second, func(m []byte) bool {
		return bytes.Contains(m, []byte(candidate))
	})
	msg := parseMail(t, sent)
	msgID := msg.Header.Get("Message-Id")
	if subject := decode(t, msg.Header.Get("Subject")); !strings.Contains(subject, "Site Reliability Engineer") || msgID == "" {
		t.Fatalf("delivered: subject %q, Message-ID %q", subject, msgID)
	}
	text, _ := parts(t, msg)
	surveyLink := regexp.MustCompile(`https?://\S+/s/[A-Za-z0-9_.-]+\?score=9\b`).FindString(text)
	if !strings.HasPrefix(surveyLink, base+"/s/") {
		t.Fatalf("no NPS link for the score 9 to %s in the email:\n%s", base, text)
	}

	// The timeline shows the email as sent; the metrics count a contact
	// without a reply and no NPS yet.
	timeline := func() (entries string) {
		t.Helper()
		run("reading the timeline",
			chromedp.Navigate(candidatePage),
			chromedp.WaitVisible(`ol.timeline`, q),
			chromedp.Text(`ol.timeline`, &entries, q),
		)
		return entries
	}
	waitFor(t, "the timeline to show the email as sent", func() bool {
		return strings.Contains(timeline(), "Site Reliability Engineer")
	})
	run("screenshot", shot("dashboard-e2e-3-sent.png"))
	replied0, nps0 := insights(t, browser, base)
	run("screenshot", shot("dashboard-e2e-4-insights-before.png"))
	if replied0 != "0" || nps0 != "" {
		t.Errorf("metrics before the reply: replied %q, NPS %q; want 0 and none", replied0, nps0)
	}

	// The candidate replies from their mail client, in the thread.
	replyText := "Thank you, Wang Min! Friday afternoon works for me. " + tok
	reply := gomail.NewMsg()
	if err := reply.From(candidate); err != nil {
		t.Fatal(err)
	}
	if err := reply.To(recruiter); err != nil {
		t.Fatal(err)
	}
	reply.Subject("Re: " + decode(t, msg.Header.Get("Subject")))
	reply.SetGenHeaderPreformatted(gomail.HeaderInReplyTo, msgID)
	reply.SetGenHeaderPreformatted(gomail.HeaderReferences, msgID)
	reply.SetDate()
	reply.SetMessageID()
	reply.SetBodyString(gomail.TypeTextPlain, replyText+"\n\nOn Mon, Nov 23, 2026 at 10:00 AM Wang Min <"+recruiter+"> wrote:\n"+
		"> Thank you for making the time to interview for the Site Reliability Engineer role.\n")
	c, err := gomail.NewClient(srv.Host, gomail.WithPort(srv.SMTPPort), gomail.WithTLSPolicy(gomail.TLSMandatory),
		gomail.WithTLSConfig(srv.TLSConfig()), gomail.WithSMTPAuth(gomail.SMTPAuthPlain),
		gomail.WithUsername("alice@"+srv.Domain), gomail.WithPassword(srv.Password), gomail.WithTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DialAndSend(reply); err != nil {
		t.Fatalf("sending the reply through Postfix: %v", err)
	}

	// serve's watcher reads it from Dovecot; the recruiter reloads the
	// timeline until it is there: a reply, without the quoted history.
	waitFor(t, "the reply on the timeline", func() bool {
		return strings.Contains(timeline(), replyText)
	})
	var inbound string
	run("reading the reply",
		chromedp.Text(`li.entry.inbound`, &inbound, q),
		shot("dashboard-e2e-5-reply.png"),
	)
	if !strings.Contains(inbound, "← reply") || strings.Contains(inbound, "wrote:") || strings.Contains(inbound, "making the time") {
		t.Errorf("the reply on the timeline:\n%s", inbound)
	}
	// The recruiter is told by email too.
	waitForMail(t, srv, recruiter, 60*time.Second, func(m []byte) bool {
		return bytes.Contains(m, []byte("[Followup]")) && bytes.Contains(m, []byte(candidate))
	})

	// The candidate follows the score link in the email: the score is
	// chosen, nothing is recorded until they send.
	var preselected, thanks string
	run("answering the survey",
		chromedp.Navigate(surveyLink),
		chromedp.WaitVisible(`button[type=submit]`, q),
		chromedp.Evaluate(`document.querySelector('input[name=score]:checked').value`, &preselected),
		chromedp.SendKeys(`textarea[name=reason]`, "Clear questions and a quick answer.", q),
		shot("dashboard-e2e-6-survey.png"),
		chromedp.Click(`button[type=submit]`, q),
		chromedp.WaitNotPresent(`button[type=submit]`, q),
		chromedp.Text(`main`, &thanks, q),
		shot("dashboard-e2e-7-survey-thanks.png"),
	)
	if preselected != "9" || !strings.Contains(thanks, "We read every answer") {
		t.Errorf("survey: preselected %q, thanks page %q", preselected, thanks)
	}

	// The metrics page counts the reply and the score.
	replied1, nps1 := insights(t, browser, base)
	run("screenshot", shot("dashboard-e2e-8-insights-after.png"))
	if replied1 != "1" || nps1 != "+100" {
		t.Errorf("metrics after the reply and the survey: replied %q, NPS %q; want 1 and +100", replied1, nps1)
	}
}

// insights opens the metrics page and returns the number of replies in
// post-interview-thanks and the NPS shown ("" when there is none).
func insights(t *testing.T, browser context.Context, base string) (replied, nps string) {
	t.Helper()
	err := chromedp.Run(browser,
		chromedp.Navigate(base+"/insights"),
		chromedp.WaitVisible(`#m-reply`, chromedp.ByQuery),
		chromedp.Evaluate(`(() => {
			const row = [...document.querySelectorAll('#m-reply tbody tr')].find(r => r.cells[0].textContent.trim() === 'post-interview-thanks');
			return row ? row.cells[3].textContent.trim() : '';
		})()`, &replied),
		chromedp.Evaluate(`(document.querySelector('#m-nps .num') || {textContent: ''}).textContent.trim()`, &nps),
	)
	if err != nil {
		t.Fatalf("reading /insights: %v", err)
	}
	return replied, nps
}

// waitFor polls ok until it is true, failing the test after a minute.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// waitForMail polls user's INBOX in Dovecot until a message matches and
// returns it. The mailboxes are shared by every test of a run, so a test
// recognizes its own messages rather than counting them.
func waitForMail(t *testing.T, srv *testenv.MailServer, user string, timeout time.Duration, match func([]byte) bool) []byte {
	t.Helper()
	deadline := time.Now().Add(timeout)
	n := 1
	for {
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("no matching message in %s's INBOX after %s (Postfix log: %s)", user, timeout, srv.MailLog)
		}
		msgs := srv.WaitForMessages(t, user, n, left)
		for _, m := range msgs {
			if match(m) {
				return m
			}
		}
		n = len(msgs) + 1
	}
}

func randomToken(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// freeLoopbackAddr returns a loopback address with a port free just now.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
