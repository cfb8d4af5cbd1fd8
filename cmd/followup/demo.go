package main

import (
	"golang.org/x/text/width"

	"context"
	"fmt"
	"followup/config"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"followup/mailer"
	"followup/sequences"
	"followup/store"
)

type demoCmd struct {
	Once  bool    `help:"Run the sample sequences to their end on a simulated clock, print a summary and exit."`
	Dir   string  `help:"Keep the demo project, its database and the captured mail in this folder (default: a temporary folder, removed at exit)." type:"path"`
	Speed float64 `help:"Simulated seconds per real second (without --once): 86400 shows a day a second." default:"86400"`
}

const demoConfig = `# Followup demo configuration: one mailbox sending to an in-process sandbox.
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
sending:
  workers: 2
`

func (c demoCmd) Run(env *runEnv) error {
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
	if _, err := writeStarter(dir, true); err != nil {
		return err
	}
	cfgPath := filepath.Join(dir, "followup.yaml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(demoConfig, sandbox.Addr().Port)), 0o644); err != nil {
		return err
	}
	denv := *env
	denv.configPath = cfgPath
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
		fmt.Fprintf(env.stdout, "the clock runs %.0f× fast (Ctrl-C to stop).\n\n", c.Speed)
	}

	mbs, closeMailers, err := p.mailboxes(p.cfg.Sending.Workers)
	if err != nil {
		return err
	}
	defer closeMailers()
	sched := p.scheduler(db, mbs, clock)
	sched.Idle = idle
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
	}

	ctx, cancel := context.WithCancel(env.ctx)
	defer cancel()
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
	ctx := context.WithoutCancel(env.ctx)
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
	captured := sandbox.Messages()
	fmt.Fprintf(env.stdout, "  %-28s %d (the sandbox received %d)\n", "total", total, len(captured))
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
	if c.Dir != "" {
		fmt.Fprintf(env.stdout, "\nEvery message is in %s (open the .eml files in any mail client).\nTry: followup -c %s show li.lei@followup.test\n", mailDir, filepath.Join(dir, "followup.yaml"))
	} else {
		fmt.Fprintf(env.stdout, "\nRun with --dir DIR to keep the project, the database and the %d captured .eml files.\n", len(captured))
	}
	if total != len(captured) {
		return &exitError{code: 1, msg: fmt.Sprintf("demo: %d messages recorded as sent but the sandbox received %d", total, len(captured))}
	}
	return nil
}

// padRight pads s to n terminal columns; Chinese characters take two.
func padRight(s string, n int) string {
	w := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			w += 2
		default:
			w++
		}
	}
	if w >= n {
		return s
	}
	return s + strings.Repeat(" ", n-w)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
