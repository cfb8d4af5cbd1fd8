package sequences_test

// Benchmarks of the sending path and of the due-step scan.
//
//	go test -run '^$' -bench 'BenchmarkSend|BenchmarkFindDue' ./sequences/
//
// BenchmarkSend/raw is the limit: messages rendered and built beforehand,
// then sent with go-mail on one connection to the in-process sandbox.
// BenchmarkSend/full is the product path (claim → render → SMTP → record)
// against the same sink over the same single connection; scripts/bench.sh
// compares the two from the same run. See docs/PERFORMANCE.md.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	_ "github.com/mattn/go-sqlite3" // the "sqlite3" driver, for seeding

	"followup/internal/testenv"
	"followup/mailer"
	"followup/sequences"
	"followup/store"
	"followup/templates"
)

// benchSeq is a realistic one-step sequence: one email two hours after
// enrollment.
const benchSeq = `description: interview invitation
fields: [job_title]
steps:
  - template: invite
    after: 2h
`

// benchTemplate is a zh-CN Markdown email of about 150 Chinese characters
// (bold, a list, several merge fields).
const benchTemplate = `---
subject: "{{.company}}｜{{.job_title}}岗位面试邀请"
---
{{.name}}，您好：

感谢您对{{.company}}{{.job_title}}岗位的关注。我们仔细阅读了您的简历，团队对您过往的项目经历很感兴趣，诚挚邀请您参加下一轮**技术面试**。

面试约一小时，安排如下：

- 前半段请您介绍做过的项目和遇到的难题；
- 后半段是一道贴近实际工作的设计题。

请在方便时直接回复本邮件，告诉我们本周或下周可以安排的时间，我们会尽快确认并发送会议链接。如有任何疑问，欢迎随时联系我。
`

// benchSignature is the sender's Markdown signature.
const benchSignature = `{{.sender_name}}  
{{.company}} 招聘团队 · 电话 010-8888-6666  
[careers.acme.test](https://careers.acme.test)
`

var benchNames = []string{"李雷", "韩梅梅", "张伟", "王芳", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "周杰"}

var benchStart = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// benchProject writes the sequence and template into dir and loads them.
func benchProject(tb testing.TB, dir string) *sequences.Catalog {
	tb.Helper()
	files := map[string]string{
		"sequences/bench.yaml":      benchSeq,
		"templates/invite.zh-CN.md": benchTemplate,
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	c, ps := sequences.LoadCatalog(filepath.Join(dir, "sequences"), filepath.Join(dir, "templates"))
	if len(ps) > 0 {
		tb.Fatalf("catalog: %v", ps)
	}
	return c
}

func benchMailbox(tb testing.TB, sender sequences.Sender) *sequences.Mailbox {
	tb.Helper()
	sig, ps := templates.ParseSignature("bench signature", benchSignature)
	if len(ps) > 0 {
		tb.Fatalf("signature: %v", ps)
	}
	return &sequences.Mailbox{
		Name: "recruiter", From: mail.Address{Name: "王敏", Address: "wangmin@acme.test"},
		Company: "Acme 科技", Signature: sig, Sender: sender,
	}
}

// sink is where a Send benchmark delivers: a mailer with one connection,
// the recipient address of candidate i, and (when it can tell) how many
// messages arrived.
type sink struct {
	m     *mailer.Mailer
	rcpt  func(i int) string
	count func() int // nil: the sink cannot count
	// settle waits until the sink has finished earlier work (Postfix
	// delivering the previous run's queue would steal CPU from this one).
	settle func(b *testing.B)
}

// sandboxSink is the in-process sandbox in counting mode: the fastest
// possible SMTP peer, so the product's own costs show in full.
func sandboxSink(b *testing.B) sink {
	b.Helper()
	sb, err := mailer.StartSandbox("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	sb.Discard()
	b.Cleanup(func() { sb.Close() })
	m := mailer.New(mailer.Config{
		Host: "127.0.0.1", Port: sb.Addr().Port, TLS: mailer.TLSNone,
		Timeout: 10 * time.Second, Connections: 1,
	}, nil)
	b.Cleanup(func() { m.Close() })
	return sink{m: m, count: sb.Count, rcpt: func(i int) string { return fmt.Sprintf("cand%07d@example.test", i) }}
}

// postfixSink is the test Postfix (STARTTLS, SMTP AUTH, queue, delivery to
// Dovecot): a real MTA on loopback. Recipients are plus addresses of one
// test user.
func postfixSink(b *testing.B) sink {
	b.Helper()
	srv := testenv.RequireMailServer(b)
	m := mailer.New(mailer.Config{
		Host: srv.Host, Port: srv.SMTPPort, TLS: mailer.TLSStartTLS, Username: "recruiter@" + srv.Domain,
		Password: srv.Password, RootCAs: srv.RootCAs, Timeout: 30 * time.Second, Connections: 1,
	}, nil)
	b.Cleanup(func() { m.Close() })
	run := time.Now().UnixNano() % 1e6
	return sink{m: m, rcpt: func(i int) string { return fmt.Sprintf("bob+b%d-%d@%s", run, i, srv.Domain) }, settle: func(b *testing.B) { testenv.DrainPostfix(b) }}
}

func benchCandidate(i int, sk sink) sequences.Candidate {
	return sequences.Candidate{
		Email:    sk.rcpt(i),
		Name:     fmt.Sprintf("%s%d", benchNames[i%len(benchNames)], i),
		Language: "zh-CN",
		Timezone: "Asia/Shanghai",
	}
}

func benchFields(i int) map[string]string {
	titles := []string{"后端工程师", "前端工程师", "数据分析师", "产品经理"}
	return map[string]string{"job_title": titles[i%len(titles)]}
}

func BenchmarkSend(b *testing.B) {
	if testing.Short() {
		b.Skip("-short: skipping the sending benchmarks")
	}
	b.Run("raw", func(b *testing.B) { benchSendRaw(b, sandboxSink(b)) })
	b.Run("full", func(b *testing.B) { benchSendFull(b, sandboxSink(b)) })
}

// BenchmarkSendPostfix compares the same two paths against a real MTA
// (needs scripts/test.sh's servers: source DIR/env.sh).
func BenchmarkSendPostfix(b *testing.B) {
	if testing.Short() {
		b.Skip("-short: skipping the sending benchmarks")
	}
	b.Run("raw", func(b *testing.B) { benchSendRaw(b, postfixSink(b)) })
	b.Run("full", func(b *testing.B) { benchSendFull(b, postfixSink(b)) })
}

// benchSendRaw is the limit: b.N messages composed exactly as the scheduler
// composes them and built before the timer; timed is only go-mail sending
// them on one pooled connection to the sandbox.
func benchSendRaw(b *testing.B, sk sink) {
	cat := benchProject(b, b.TempDir())
	seq := cat.Sequences["bench"]
	m := sk.m
	mb := benchMailbox(b, m)
	built := make([]*gomail.Msg, b.N)
	for i := range built {
		e := sequences.Enrollment{
			ID: int64(i + 1), UID: fmt.Sprintf("benchraw%08d", i), CandidateID: int64(i + 1),
			Candidate: benchCandidate(i, sk), Sequence: seq.Name, Mailbox: mb.Name,
			Fields: benchFields(i), Status: sequences.Active,
		}
		msg, err := sequences.Compose(cat.Templates, "en", e, seq, 0, mb, nil, benchStart)
		if err != nil {
			b.Fatal(err)
		}
		if built[i], err = msg.Build(); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	if sk.settle != nil {
		sk.settle(b)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := m.SendBuilt(ctx, built[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	checkCount(b, sk)
}

func checkCount(b *testing.B, sk sink) {
	if sk.count == nil {
		return
	}
	if n := sk.count(); n != b.N {
		b.Fatalf("the sink accepted %d messages, want %d", n, b.N)
	}
}

// benchSendFull is the product path: b.N enrollments due now, then
// Scheduler.RunOnce (Workers 1, Batch 100) until all are sent.
// It enrolls b.N candidates (untimed), then times RunOnce until every
// message is sent.
func benchSendFull(b *testing.B, sk sink) {
	dir := b.TempDir()
	cat := benchProject(b, dir)
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "followup.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	m := sk.m
	var st sequences.Store = db
	var sender sequences.Sender = m
	clock := sequences.NewFakeClock(benchStart)
	sched := &sequences.Scheduler{
		Store: st, Templates: cat.Templates, Clock: clock, DefaultLanguage: "en",
		Mailboxes: map[string]*sequences.Mailbox{"recruiter": benchMailbox(b, sender)},
		Workers:   1, Batch: 100,
	}
	defaults := sequences.Defaults{Language: "en", Timezone: "Asia/Shanghai", Mailbox: "recruiter", Mailboxes: []string{"recruiter"}}
	const enrollBatch = 500
	for start := 0; start < b.N; start += enrollBatch {
		var reqs []sequences.EnrollRequest
		for i := start; i < min(start+enrollBatch, b.N); i++ {
			req, _, err := cat.Validate(sequences.EnrollRequest{
				Candidate: benchCandidate(i, sk), Sequence: "bench", Fields: benchFields(i), Source: "bench",
			}, defaults)
			if err != nil {
				b.Fatal(err)
			}
			reqs = append(reqs, req)
		}
		out, err := db.Enroll(ctx, reqs, cat.Sequences, clock.Now())
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range out {
			if !o.Created {
				b.Fatalf("enrolling %s: %s", o.Enrollment.Email, o.Reason)
			}
		}
	}
	clock.Advance(3 * time.Hour) // every first step is due
	if sk.settle != nil {
		sk.settle(b)
	}
	b.ResetTimer()
	sent := 0
	for pass := 0; sent < b.N; pass++ {
		res, err := sched.RunOnce(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if res.Sent == 0 || res.Deferred+res.Failed+res.Held > 0 || pass > b.N {
			b.Fatalf("pass %d after %d sent: %+v", pass, sent, res)
		}
		sent += res.Sent
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	checkCount(b, sk)
}

// seeded is a store file holding a FindDue fixture, reused by every
// iteration, sub-benchmark and -count repetition of the process.
type seeded struct {
	once sync.Once
	path string
	err  error
}

var (
	seedMu    sync.Mutex
	seedDir   string
	seedFiles = map[int]*seeded{}
)

// seedDue is the number of enrollments due at benchStart in every fixture.
const seedDue = 100

// seededStore returns the path of a store with n enrollments due over the
// next year plus seedDue due at benchStart, seeding it on first use.
func seededStore(b *testing.B, n int) string {
	b.Helper()
	seedMu.Lock()
	if seedDir == "" {
		d, err := os.MkdirTemp("", "followup-bench-")
		if err != nil {
			seedMu.Unlock()
			b.Fatal(err)
		}
		seedDir = d
	}
	s := seedFiles[n]
	if s == nil {
		s = &seeded{path: filepath.Join(seedDir, fmt.Sprintf("due-%d.db", n))}
		seedFiles[n] = s
	}
	seedMu.Unlock()
	s.once.Do(func() {
		s.err = errors.New("seeding stopped half-way")
		start := time.Now()
		var version string
		version, s.err = seed(b, s.path, filepath.Join(seedDir, fmt.Sprintf("project-%d", n)), n)
		if s.err == nil {
			b.Logf("seeded %d+%d enrollments in %.1f s (SQLite %s)", n, seedDue, time.Since(start).Seconds(), version)
		}
	})
	if s.err != nil {
		b.Fatal(s.err)
	}
	return s.path
}

// seed creates the schema with store.Open, then inserts the rows directly in
// one transaction of prepared INSERTs on a plain connection. It returns the
// SQLite version the driver links.
func seed(b *testing.B, path, projectDir string, n int) (string, error) {
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		return "", err
	}
	if err := db.Close(); err != nil {
		return "", err
	}
	if err := os.MkdirAll(projectDir, 0o755); err != nil {
		return "", err
	}
	cat := benchProject(b, projectDir)
	seq := cat.Sequences["bench"]

	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?_journal_mode=WAL&_synchronous=OFF&_cache_size=-262144"
	raw, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return "", err
	}
	defer raw.Close()
	raw.SetMaxOpenConns(1)
	tx, err := raw.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	var vid int64
	if err := tx.QueryRowContext(ctx,
		`INSERT INTO sequence_versions (sequence, hash, definition, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		seq.Name, seq.Version(), seq.Definition(), benchStart).Scan(&vid); err != nil {
		return "", fmt.Errorf("seeding sequence_versions: %w", err)
	}
	cand, err := tx.PrepareContext(ctx, `INSERT INTO candidates (id, email, name, language, timezone, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return "", err
	}
	enr, err := tx.PrepareContext(ctx, `INSERT INTO enrollments (id, uid, candidate_id, sequence, version_id, mailbox, fields, status, next_step, next_due_at, source, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, 'active', 0, ?, 'seed', ?, ?)`)
	if err != nil {
		return "", err
	}
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	year := int64(365 * 24 * time.Hour / time.Second)
	created := benchStart.Add(-24 * time.Hour)
	for i := 0; i < n+seedDue; i++ {
		var due time.Time
		if i%(n/seedDue+1) == 0 && i/(n/seedDue+1) < seedDue {
			// due now: up to an hour ago
			due = benchStart.Add(-time.Duration(rng.Int64N(3600)) * time.Second)
		} else {
			// the rest: over the next year, never at or before benchStart
			due = benchStart.Add(time.Duration(1+rng.Int64N(year)) * time.Second)
		}
		c := benchCandidate(i, sink{rcpt: func(i int) string { return fmt.Sprintf("cand%07d@example.test", i) }})
		id := int64(i + 1)
		if _, err := cand.ExecContext(ctx, id, c.Email, c.Name, c.Language, c.Timezone, created, created); err != nil {
			return "", fmt.Errorf("seeding candidates: %w", err)
		}
		fields := fmt.Sprintf(`{"job_title":%q}`, benchFields(i)["job_title"])
		if _, err := enr.ExecContext(ctx, id, fmt.Sprintf("seed%012d", i), id, seq.Name, vid, "recruiter", fields, due, created, created); err != nil {
			return "", fmt.Errorf("seeding enrollments: %w", err)
		}
	}
	var version string
	if err := tx.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&version); err != nil {
		return "", err
	}
	return version, tx.Commit()
}

func BenchmarkFindDue(b *testing.B) {
	if testing.Short() {
		b.Skip("-short: skipping the due-scan benchmarks")
	}
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("enrollments=%d", n), func(b *testing.B) {
			path := seededStore(b, n)
			ctx := context.Background()
			db, err := store.Open(ctx, path)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			// Warm the reader connection as a running daemon's would be, and
			// check the fixture: exactly seedDue are due.
			if due, err := db.Due(ctx, benchStart, 2*seedDue); err != nil || len(due) != seedDue {
				b.Fatalf("due at start: %d, %v; want %d", len(due), err, seedDue)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				due, err := db.Due(ctx, benchStart, seedDue)
				if err != nil {
					b.Fatal(err)
				}
				if len(due) != seedDue {
					b.Fatalf("%d due, want %d", len(due), seedDue)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/op")
		})
	}
}

// TestMain removes the FindDue fixtures once every benchmark has run.
func TestMain(m *testing.M) {
	code := m.Run()
	seedMu.Lock()
	if seedDir != "" {
		os.RemoveAll(seedDir)
	}
	seedMu.Unlock()
	os.Exit(code)
}
