package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"followup/config"
	"followup/inbox"
	"followup/mailer"
	"followup/sequences"
	"followup/store"
	"followup/surveys"
	"followup/web"
)

type demoCmd struct {
	Once  bool    `help:"Run the sample sequences to their end on a simulated clock, print a summary and exit."`
	Dir   string  `help:"Keep the demo project, its database and the captured mail in this folder (default: a temporary folder, removed at exit)." type:"path"`
	Speed float64 `help:"Simulated seconds per real second (without --once): 3600 shows an hour a second, time to read and reply in the browser; 86400 a day a second." default:"3600"`
	Open  bool    `help:"Also open the sign-in link in the default browser (without --once)."`
}

const demoConfig = `# Followup demo configuration: one mailbox sending to an in-process SMTP
# sandbox and reading replies from an in-process IMAP sandbox.
company: "示例科技 Example Tech"
language: zh-CN
timezone: Asia/Shanghai
mailboxes:
  - name: recruiter
    from: "王敏 Wang Min <wangmin@followup.test>"
    signature: |
      {{.sender_name}} · 招聘经理 Recruiting Manager · {{.company}}
    smtp:
      host: 127.0.0.1
      port: %d
      tls: none
      timeout: 10s
    imap:
      host: 127.0.0.1
      port: %d
      tls: none
      username: wangmin@followup.test
      password: demo
      poll: 1s
      max_age: 0s   # the demo's clock races ahead: read the inbox before every send
sending:
  workers: 2
http:
  listen: %[3]s
  public_url: http://%[3]s
  secret_env: FOLLOWUP_DEMO_SECRET
`

// demoSurveyor is the sample candidate who answers the NPS survey in his
// thank-you email, so the demo shows an answer reaching the report.
const demoSurveyor = "bob@followup.test"

// demoRecruiter is the recruiter's address in the demo configuration.
const demoRecruiter = "wangmin@followup.test"

// demoReplier is the sample candidate who answers the first email, so the
// demo shows a reply stopping a sequence.
const demoReplier = "li.lei@followup.test"

func (c demoCmd) Run(env *runEnv) error {
	if !c.Once && !(c.Speed > 0) {
		return fmt.Errorf("--speed %v: give a number of simulated seconds per real second, above 0", c.Speed)
	}
	dir := c.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "followup-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	sandbox, err := mailer.StartSandbox("127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("starting the sandbox mail server: %w", err)
	}
	defer sandbox.Close()
	imapBox, err := inbox.StartSandbox("127.0.0.1:0", "wangmin@followup.test", "demo")
	if err != nil {
		return fmt.Errorf("starting the sandbox IMAP server: %w", err)
	}
	defer imapBox.Close()
	webLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("starting the web server: %w", err)
	}
	defer webLn.Close()
	// Every demo starts afresh, even in a --dir kept from an earlier run.
	for _, f := range []string{"followup.db", "followup.db-wal", "followup.db-shm"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	os.RemoveAll(filepath.Join(dir, "mail"))
	if _, err := writeStarter(dir, true); err != nil {
		return err
	}
	cfgPath := filepath.Join(dir, "followup.yaml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(demoConfig, sandbox.Addr().Port, imapBox.Addr().Port, webLn.Addr().String())), 0o644); err != nil {
		return err
	}
	denv := *env
	denv.configPath = cfgPath
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	demoSecret := hex.EncodeToString(secret)
	denv.getenv = func(k string) string {
		if k == "FOLLOWUP_DEMO_SECRET" {
			return demoSecret
		}
		return env.getenv(k)
	}
	p, err := denv.loadProject(true)
	if err != nil {
		return err
	}
	// Only problems go to the terminal; the sends are listed below.
	p.log = newLogger(env.stderr, config.Log{Level: "warn", Format: p.cfg.Log.Format})
	if c.Once {
		p.log = newLogger(discard{}, p.cfg.Log)
	}
	db, err := p.openDB(env.ctx)
	if err != nil {
		return err
	}
	defer db.Close()

	var clock sequences.Clock
	start := env.clock()
	idle := 24 * time.Hour
	if c.Once {
		fc := sequences.NewFakeClock(start)
		fc.Jump = true
		clock = fc
		idle = 10 * 365 * 24 * time.Hour
	} else {
		clock = &sequences.ScaledClock{Start: start, Origin: time.Now(), Factor: c.Speed}
	}
	mbs, closeMailers, err := p.mailboxes(p.cfg.Sending.Workers)
	if err != nil {
		return err
	}
	defer closeMailers()

	// The whole route table of serve (survey pages, API, dashboard), on
	// the wall clock (sessions, survey links), plus the sandbox mailbox.
	dw := &demoWeb{db: db, smtp: sandbox, imap: imapBox, recruiter: demoRecruiter, clock: clock, speed: c.Speed, loc: p.location(), log: p.log}
	p.today = clock.Now // the metrics page shows the demo's period
	webSrv, dash, err := p.webRoutesWith(db, mbs, nil, nil, time.Now, dw.pages())
	if err != nil {
		return err
	}
	dw.dash = dash
	webSrv.Routes = append(webSrv.Routes, dw.routes)
	var signInURL, password string
	if !c.Once {
		if signInURL, password, err = dw.prepareSignIn(env.ctx, "http://"+webLn.Addr().String()); err != nil {
			return err
		}
	}
	hs := &http.Server{Handler: webSrv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(webLn) }()
	defer hs.Close()

	f, err := os.Open(filepath.Join(dir, "candidates.csv"))
	if err != nil {
		return err
	}
	sum, err := importCSV(env.ctx, p, db, f, importOptions{Name: "candidates.csv", Now: clock.Now, Rejects: env.stderr})
	f.Close()
	if err != nil {
		return fmt.Errorf("importing the sample candidates: %w", err)
	}
	fmt.Fprintf(env.stdout, "Followup demo — project in %s, sandbox mail server on %s\n", dir, sandbox.Addr())
	fmt.Fprintf(env.stdout, "Enrolled %d sample candidates from candidates.csv; ", sum.Enrolled)
	if c.Once {
		fmt.Fprintf(env.stdout, "running every sequence to its end on a simulated clock.\n\n")
	} else {
		fmt.Fprintf(env.stdout, "the clock runs %.0f× fast: %s (Ctrl-C to stop).\n", c.Speed, speedText(c.Speed, "en"))
		fmt.Fprintf(env.stdout, "\n在浏览器中打开 Open in your browser:\n\n  %s\n\n", signInURL)
		fmt.Fprintf(env.stdout, "这个链接只能登录一次；之后请用用户名 %s、密码 %s 登录。时钟加速 %.0f 倍：%s。\n", demoLogin, password, c.Speed, speedText(c.Speed, "zh"))
		fmt.Fprintf(env.stdout, "The link signs one browser in, once; after that sign in as %s with the password %s.\n", demoLogin, password)
		fmt.Fprintf(env.stdout, "沙箱邮箱 Sandbox mail: every message sent, with \"reply as the candidate\" (以候选人身份回复).\n\n")
		if c.Open {
			openBrowser(signInURL, p.log)
		}
	}

	sched := p.scheduler(db, mbs, clock)
	sched.Idle = idle
	if !c.Once {
		// Enrolling or resuming in the dashboard wakes the sending loop.
		sched.Changes = db.WatchChanges(env.ctx, time.Second)
	}
	var surveyDone sync.WaitGroup
	var outMu sync.Mutex
	steps := map[string]int{}
	for n, s := range p.catalog.Sequences {
		steps[n] = len(s.Steps)
	}
	sched.OnSent = func(cl sequences.Claim, m *mailer.Message) {
		outMu.Lock()
		defer outMu.Unlock()
		// The candidate's own clock: every email lands inside the window.
		local := m.Date.In(sequences.Location(cl.Enrollment.Timezone)).Format("Mon 2006-01-02 15:04 MST")
		fmt.Fprintf(env.stdout, "%s  → %s %s %s %d/%d\n", padRight(local, 26), padRight(m.To.Address, 26), padRight(m.Subject, 44),
			cl.Enrollment.Sequence, cl.Step+1, steps[cl.Enrollment.Sequence])
		if m.To.Address == demoSurveyor && cl.Step == 0 {
			// Bob clicks "9" in the NPS scale of his email, and sends the
			// page with a sentence, as a person in a browser would.
			surveyDone.Add(1)
			go func(text string) {
				defer surveyDone.Done()
				if err := answerDemoSurvey(text, "9", "面试安排得很顺畅，反馈也很及时。 The process was smooth and quick."); err != nil {
					p.log.Warn("demo survey", "err", err)
					return
				}
				outMu.Lock()
				defer outMu.Unlock()
				fmt.Fprintf(env.stdout, "%s  ← %s %s survey nps: 9 — recorded anonymously\n", padRight("", 26), padRight(demoSurveyor, 26), padRight("", 44))
			}(m.Text)
		}
		if m.To.Address == demoReplier && cl.Step == 0 {
			// Li Lei answers from his mail client; the reply lands in the
			// recruiter's mailbox and goes through the real inbox path.
			reply := fmt.Sprintf("From: 李雷 <%s>\nTo: %s\nSubject: =?UTF-8?B?%s?=\nMessage-ID: <demo-reply-1@followup.test>\nIn-Reply-To: <%s>\nReferences: <%s>\nDate: %s\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n谢谢王老师这么具体的反馈！我愿意留在人才库，有合适的机会再联系我。\n\n------------------ 原始邮件 ------------------\n发件人: \"王敏\" <%s>\n\n李雷，您好：……\n",
				demoReplier, m.From.Address, base64.StdEncoding.EncodeToString([]byte("回复："+m.Subject)), m.MessageID, m.MessageID,
				clock.Now().Format(time.RFC1123Z), m.From.Address)
			if err := dw.deliver(reply); err != nil {
				p.log.Error("demo reply", "err", err)
			}
		}
	}

	watchers, err := p.watchers(db, mbs)
	if err != nil {
		return err
	}
	sched.Guard = p.inboxGuard(watchers)
	for _, w := range watchers {
		w.Processed = func(in inbox.Inbound, recorded bool) {
			if !recorded {
				return
			}
			outMu.Lock()
			defer outMu.Unlock()
			effect := "logged"
			switch {
			case in.Action.Stop:
				effect = "their sequences stop"
			case in.Action.Pause:
				effect = "their sequences pause"
			}
			fmt.Fprintf(env.stdout, "%s  ← %s %s %s: %q — %s\n", padRight("", 26), padRight(in.From, 26), padRight("", 44), strings.ReplaceAll(in.Kind, "_", "-"), snippetText(in.Text, 24), effect)
		}
	}
	ctx, cancel := context.WithCancel(env.ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, w := range watchers {
		wg.Add(1)
		go func() { defer wg.Done(); _ = w.Run(ctx) }()
	}
	defer wg.Wait()
	done := make(chan error, 1)
	go func() { done <- sched.Run(ctx) }()
	if c.Once {
		if err := waitAllFinished(ctx, db, 3*time.Minute); err != nil {
			cancel()
			<-done
			return err
		}
	} else {
		<-env.ctx.Done() // until Ctrl-C
	}
	cancel()
	if err := <-done; err != nil {
		return err
	}
	surveyDone.Wait()
	return c.summary(env, p, db, sandbox, dir)
}

// waitAllFinished returns when no enrollment is live any more.
func waitAllFinished(ctx context.Context, db *store.DB, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		counts, err := db.StatusCounts(ctx)
		if err != nil {
			return err
		}
		live := 0
		for _, c := range counts {
			if c.Status == string(sequences.Active) || c.Status == string(sequences.Paused) {
				live += c.N
			}
		}
		if live == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("demo: %d enrollments still running after %s", live, limit)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (c demoCmd) summary(env *runEnv, p *project, db *store.DB, sandbox *mailer.Sandbox, dir string) error {
	// Ctrl-C ended the run, not the summary.
	senv := *env
	senv.ctx = context.WithoutCancel(env.ctx)
	env = &senv
	ctx := env.ctx
	sent, err := db.SentPerSequence(ctx)
	if err != nil {
		return err
	}
	total := 0
	fmt.Fprintf(env.stdout, "\nMessages sent per sequence:\n")
	for _, s := range sent {
		fmt.Fprintf(env.stdout, "  %-28s %d\n", s.Sequence, s.N)
		total += s.N
	}
	var captured []mailer.Captured
	notes := 0
	for _, m := range sandbox.Messages() {
		if !strings.EqualFold(m.From, demoRecruiter) { // not the demo's mail
			continue
		}
		if m.To[0] == demoRecruiter { // a note to the recruiter about a reply
			notes++
			continue
		}
		captured = append(captured, m)
	}
	fmt.Fprintf(env.stdout, "  %-28s %d (the sandbox received %d, plus %d note(s) to the recruiter about replies)\n", "total", total, len(captured), notes)
	mailDir := filepath.Join(dir, "mail")
	if err := os.MkdirAll(mailDir, 0o755); err != nil {
		return err
	}
	for i, m := range captured {
		name := fmt.Sprintf("%03d-%s.eml", i+1, strings.NewReplacer("@", "_at_", "/", "_").Replace(m.To[0]))
		if err := os.WriteFile(filepath.Join(mailDir, name), m.Data, 0o644); err != nil {
			return err
		}
	}
	// The survey Bob answered, as the recruiter would read it.
	if s, ok := p.surveys.Get("nps"); ok {
		rows, err := db.SurveyRows(env.ctx, "nps")
		if err != nil {
			return err
		}
		fmt.Fprintln(env.stdout, "\nSurvey results (followup report surveys):")
		printSummary(env, surveys.Summarize(s, rows, p.cfg.Language), p.cfg.Language)
	}
	if c.Dir != "" {
		sums, err := surveySummaries(env, p, db, p.surveys.Names())
		if err != nil {
			return err
		}
		var page bytes.Buffer
		if err := web.RenderResults(&page, sums, p.cfg.Language, env.clock().In(p.location())); err != nil {
			return err
		}
		results := filepath.Join(dir, "survey-results.html")
		if err := os.WriteFile(results, page.Bytes(), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "\nEvery message is in %s (open the .eml files in any mail client); the survey results with charts are in %s.\nTry: followup -c %s show li.lei@followup.test\n", mailDir, results, filepath.Join(dir, "followup.yaml"))
	} else {
		fmt.Fprintf(env.stdout, "\nRun with --dir DIR to keep the project, the database and the %d captured .eml files.\n", len(captured))
	}
	if total != len(captured) {
		return &exitError{code: 1, msg: fmt.Sprintf("demo: %d messages recorded as sent but the sandbox received %d", total, len(captured))}
	}
	return nil
}

var scoreLink = regexp.MustCompile(`https?://[^\s()]+\?score=(\d+)`)

// answerDemoSurvey follows the score link in an email's text and sends the
// survey page's form, like a person in a browser.
func answerDemoSurvey(text, score, reason string) error {
	var link string
	for _, m := range scoreLink.FindAllStringSubmatch(text, -1) {
		if m[1] == score {
			link = m[0]
		}
	}
	if link == "" {
		return fmt.Errorf("no score link %s in the email", score)
	}
	resp, err := http.Get(link)
	if err != nil {
		return err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		return fmt.Errorf("no form on the survey page (%s)", resp.Status)
	}
	form := url.Values{"csrf": {string(m[1])}, "score": {score}, "reason": {reason}}
	resp, err = http.PostForm(strings.SplitN(link, "?", 2)[0], form)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("sending the survey: %s", resp.Status)
	}
	return nil
}

func snippetText(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
