package inbox_test

// Benchmarks of reading replies, against the real Dovecot and Postfix that
// scripts/testenv/start.sh starts (source DIR/env.sh first; without the
// FOLLOWUP_TEST_* environment they skip):
//
//	go test -run '^$' -bench 'BenchmarkIngest|BenchmarkReplyToStop' -benchtime=1x -count=3 ./inbox/
//
// BenchmarkIngest reads one folder of N replies (N = 10,000; override with
// FOLLOWUP_BENCH_INGEST_N) two ways in the same process: raw is the limit
// (one IMAP connection, one UID FETCH 1:* BODY.PEEK[] of everything, each
// body read to the end and thrown away); full is the product (a Watcher
// reading the folder into a SQLite store in which every sender is an
// enrolled candidate, until all N are recorded). Each b.N iteration reads
// the whole folder once, so -benchtime=1x is one read per -count
// repetition; both report msgs/s = N·b.N / timed seconds.
//
// BenchmarkReplyToStop sends 100 replies (per b.N iteration) through
// Postfix to a mailbox a Watcher is IDLE on and reports the p50 and p99 of
// the time from Postfix accepting a reply to the enrollment being stopped
// in the store. scripts/bench.sh runs both and compares them with the
// targets in docs/PERFORMANCE.md.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	gomail "github.com/wneessen/go-mail"

	"followup/inbox"
	"followup/internal/testenv"
	"followup/mailer"
	"followup/sequences"
	"followup/store"
)

// ingestUser is the mailbox BenchmarkIngest fills; no other test uses it.
const ingestUser = "bob@followup.test"

// replyUser is the recruiter mailbox BenchmarkReplyToStop sends to.
const replyUser = "recruiter2@followup.test"

// ingestMailbox is the folder both BenchmarkIngest sub-benchmarks read,
// filled once per process.
var ingestMailbox struct {
	mu    sync.Mutex
	ready bool
	n     int
	bytes int64 // total message size
}

func ingestN(b *testing.B) int {
	b.Helper()
	s := os.Getenv("FOLLOWUP_BENCH_INGEST_N")
	if s == "" {
		return 10_000
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		b.Fatalf("FOLLOWUP_BENCH_INGEST_N=%q is not a positive number", s)
	}
	return n
}

// imapServer is Dovecot's STARTTLS port as the product reaches it.
func imapServer(srv *testenv.MailServer, user string) inbox.Server {
	return inbox.Server{Host: srv.Host, Port: srv.IMAPPort, TLS: "starttls", Username: user,
		Password: srv.Password, Timeout: 30 * time.Second, RootCAs: srv.RootCAs}
}

// The words of the replies: what candidates write back to an interview
// invitation, in Chinese and in English, none of it an unsubscribe or a
// refusal (so every message is a reply that stops the sequence).
var (
	zhOpen = []string{"王老师您好：", "您好！", "王敏您好，", "HR您好："}
	zhBody = []string{
		"感谢您的邀请，我对这个岗位很感兴趣。",
		"我下周二下午和周四上午都有时间，您看哪个时间方便？",
		"如果线上面试的话，我这边用腾讯会议或者 Zoom 都可以。",
		"另外想确认一下，面试大概需要多长时间，是否需要提前准备作品集？",
		"我的简历附在之前的邮件里，如有需要我可以再发一份最新版。",
		"目前的离职流程大约需要一个月，入职时间可以再商量。",
	}
	zhSign = "\n祝好！\n%s\n手机：138-0000-%04d\n"
	zhHead = "在 2026年11月23日 周一 10:00，王敏 <%s> 写道："

	enOpen = []string{"Hi Wang Min,", "Hello,", "Dear Ms. Wang,", "Hi there,"}
	enBody = []string{
		"Thanks a lot for reaching out, the role sounds like a great fit.",
		"I am available next Tuesday afternoon or Thursday morning (Beijing time).",
		"A video call works for me; Zoom or Tencent Meeting are both fine.",
		"Could you tell me a bit more about the team and the tech stack?",
		"I can send an updated CV and a couple of code samples if that helps.",
		"My notice period is about four weeks, but the start date is flexible.",
	}
	enSign = "\nBest regards,\n%s\nMobile: +86 138 0000 %04d\n"
	enHead = "On Mon, Nov 23, 2026 at 10:00 AM Wang Min <%s> wrote:"

	quoted = []string{
		"%s，您好：",
		"",
		"感谢您对 Acme 科技后端工程师岗位的关注。我们仔细阅读了您的简历，团队对您",
		"过往的项目经历很感兴趣，诚挚邀请您参加下一轮技术面试。",
		"",
		"面试约一小时：前半段请您介绍做过的项目和遇到的难题；后半段是一道贴近实际",
		"工作的设计题。请在方便时直接回复本邮件，告诉我们本周或下周可以安排的时间。",
		"",
		"王敏",
		"Acme 科技 招聘团队 · 电话 010-8888-6666",
	}
	names = []string{"李雷", "韩梅梅", "张伟", "王芳", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "周杰"}
)

// replyText is a candidate's plain-text answer of about 1 KB: a few lines
// of their own, a signature, and the quoted invitation below an
// "On … wrote:" line.
func replyText(i int, recruiter string) string {
	var sb strings.Builder
	name := names[i%len(names)]
	if i%2 == 0 {
		sb.WriteString(zhOpen[i%len(zhOpen)] + "\n\n")
		for k := range 3 {
			sb.WriteString(zhBody[(i+k)%len(zhBody)])
		}
		sb.WriteString("\n")
		fmt.Fprintf(&sb, zhSign, name, i%10000)
		sb.WriteString("\n" + fmt.Sprintf(zhHead, recruiter) + "\n")
	} else {
		sb.WriteString(enOpen[i%len(enOpen)] + "\n\n")
		for k := range 3 {
			sb.WriteString(enBody[(i+k)%len(enBody)] + " ")
		}
		sb.WriteString("\n")
		fmt.Fprintf(&sb, enSign, name, i%10000)
		sb.WriteString("\n" + fmt.Sprintf(enHead, recruiter) + "\n")
	}
	for _, l := range quoted {
		if strings.Contains(l, "%s") {
			l = fmt.Sprintf(l, name)
		}
		if l == "" {
			sb.WriteString(">\n")
		} else {
			sb.WriteString("> " + l + "\n")
		}
	}
	return sb.String()
}

// ingestMessage is reply i as it would sit in the recruiter's INBOX: a
// mail client's headers (an RFC 2047 name, threading headers that point at
// the recruiter's invitation) and the text as 8bit, base64 or
// quoted-printable UTF-8, in turn. CRLF line ends.
func ingestMessage(i int, run int64, recruiter string, date time.Time) []byte {
	name := names[i%len(names)]
	var b bytes.Buffer
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("Date", date.Format(time.RFC1123Z))
	h("From", mime.BEncoding.Encode("UTF-8", name)+fmt.Sprintf(" <cand%05d@example.com>", i))
	h("To", mime.BEncoding.Encode("UTF-8", "王敏")+" <"+recruiter+">")
	if i%2 == 0 {
		h("Subject", mime.BEncoding.Encode("UTF-8", "回复：Acme 科技｜后端工程师岗位面试邀请"))
	} else {
		h("Subject", "Re: Interview invitation - Backend Engineer at Acme")
	}
	h("Message-ID", fmt.Sprintf("<bench.%d.%05d@mail.example.com>", run, i))
	// The invitation the recruiter sent: not in the store (nothing was sent
	// through Followup here), so matching falls back to the address.
	h("In-Reply-To", fmt.Sprintf("<invite.%05d@acme.test>", i))
	h("References", fmt.Sprintf("<invite.%05d@acme.test>", i))
	h("MIME-Version", "1.0")
	h("X-Mailer", []string{"Foxmail 7.2.25.331[cn]", "Apple Mail (2.3774.200.91.1.1)", "Microsoft Outlook 16.0"}[i%3])
	text := strings.ReplaceAll(replyText(i, recruiter), "\n", "\r\n")
	switch i % 3 {
	case 0:
		h("Content-Type", "text/plain; charset=UTF-8")
		h("Content-Transfer-Encoding", "8bit")
		b.WriteString("\r\n" + text)
	case 1:
		h("Content-Type", "text/plain; charset=utf-8")
		h("Content-Transfer-Encoding", "base64")
		b.WriteString("\r\n")
		enc := base64.StdEncoding.EncodeToString([]byte(text))
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\r\n")
	default:
		h("Content-Type", `text/plain; charset="utf-8"`)
		h("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		w := quotedprintable.NewWriter(&b)
		w.Write([]byte(text))
		w.Close()
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// fillIngestMailbox empties bob's INBOX and APPENDs n replies over one
// connection (pipelined), once per process.
func fillIngestMailbox(b *testing.B, srv *testenv.MailServer, n int) {
	b.Helper()
	ingestMailbox.mu.Lock()
	defer ingestMailbox.mu.Unlock()
	if ingestMailbox.ready && ingestMailbox.n == n {
		return
	}
	ingestMailbox.ready = false
	start := time.Now()
	// BenchmarkSendPostfix (sequences) delivers to bob+…@ too: let its
	// queue drain first, or its mail would land among ours.
	testenv.DrainPostfix(b)
	srv.ClearMailbox(b, ingestUser)
	ctx := context.Background()
	c, err := inbox.Dial(ctx, imapServer(srv, ingestUser), "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	run := time.Now().UnixNano()
	date := time.Now().Add(-time.Hour)
	var size int64
	const window = 64 // APPENDs in flight (Dovecot has LITERAL+)
	var inFlight []*imapclient.AppendCommand
	wait := func(cmd *imapclient.AppendCommand) {
		if _, err := cmd.Wait(); err != nil {
			b.Fatalf("APPEND to %s: %v", ingestUser, err)
		}
	}
	for i := range n {
		raw := ingestMessage(i, run, ingestUser, date.Add(time.Duration(i)*time.Millisecond))
		size += int64(len(raw))
		cmd := c.Append("INBOX", int64(len(raw)), nil)
		if _, err := cmd.Write(raw); err != nil {
			b.Fatalf("APPEND to %s: %v", ingestUser, err)
		}
		if err := cmd.Close(); err != nil {
			b.Fatalf("APPEND to %s: %v", ingestUser, err)
		}
		inFlight = append(inFlight, cmd)
		if len(inFlight) == window {
			for _, cmd := range inFlight {
				wait(cmd)
			}
			inFlight = inFlight[:0]
		}
	}
	for _, cmd := range inFlight {
		wait(cmd)
	}
	sel, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		b.Fatal(err)
	}
	if int(sel.NumMessages) != n {
		b.Fatalf("%s holds %d messages after appending %d", ingestUser, sel.NumMessages, n)
	}
	_ = c.Logout().Wait()
	ingestMailbox.ready, ingestMailbox.n, ingestMailbox.bytes = true, n, size
	b.Logf("setup: appended %d replies (%.1f MB, %d bytes each on average) to %s in %s",
		n, float64(size)/1e6, size/int64(n), ingestUser, time.Since(start).Round(time.Millisecond))
}

func BenchmarkIngest(b *testing.B) {
	if testing.Short() {
		b.Skip("-short: skipping the ingest benchmarks")
	}
	srv := testenv.RequireMailServer(b)
	n := ingestN(b)
	b.Run("raw", func(b *testing.B) {
		fillIngestMailbox(b, srv, n)
		b.ResetTimer()
		for range b.N {
			ingestRaw(b, srv, n)
		}
		b.StopTimer()
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Run("full", func(b *testing.B) {
		fillIngestMailbox(b, srv, n)
		b.StopTimer()
		b.ResetTimer()
		for range b.N {
			ingestFull(b, srv, n)
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
}

// ingestRaw is the limit: connect and log in as the watcher does
// (STARTTLS, ID, LOGIN), EXAMINE INBOX, then one UID FETCH 1:* (UID
// BODY.PEEK[]) streamed, every body read to its end.
func ingestRaw(b *testing.B, srv *testenv.MailServer, n int) {
	ctx := context.Background()
	c, err := inbox.Dial(ctx, imapServer(srv, ingestUser), "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		b.Fatal(err)
	}
	cmd := c.Fetch(imap.UIDSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{
		UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	})
	msgs, bodies := 0, 0
	var size int64
	for {
		m := cmd.Next()
		if m == nil {
			break
		}
		msgs++
		for {
			item := m.Next()
			if item == nil {
				break
			}
			if body, ok := item.(imapclient.FetchItemDataBodySection); ok && body.Literal != nil {
				k, err := io.Copy(io.Discard, body.Literal)
				if err != nil {
					b.Fatal(err)
				}
				size += k
				bodies++
			}
		}
	}
	if err := cmd.Close(); err != nil {
		b.Fatal(err)
	}
	c.Close()
	b.StopTimer()
	if msgs != n || bodies != n || size != ingestMailbox.bytes {
		b.Fatalf("raw fetch read %d messages, %d bodies, %d bytes; want %d, %d, %d", msgs, bodies, size, n, n, ingestMailbox.bytes)
	}
	b.StartTimer()
}

// benchCatalog is a two-step sequence "s" (step 1 after an hour, step 2 a
// week later) with English templates.
func benchCatalog(b *testing.B, dir string) *sequences.Catalog {
	b.Helper()
	for name, content := range map[string]string{
		"sequences/s.yaml":  "fields: []\nsteps:\n  - template: a\n    after: 1h\n  - template: b\n    after: 1w\n",
		"templates/a.en.md": "---\nsubject: Interview invitation\n---\nHi {{.name}}, would you like to talk?\n",
		"templates/b.en.md": "---\nsubject: Again\n---\nHi again\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	cat, ps := sequences.LoadCatalog(filepath.Join(dir, "sequences"), filepath.Join(dir, "templates"))
	if len(ps) > 0 {
		b.Fatal(ps)
	}
	return cat
}

// enrollAll opens a fresh store in dir and enrolls every address in
// sequence "s" (batches of 500), at now. It returns the enrollments' ids by
// address.
func enrollAll(b *testing.B, dir string, cat *sequences.Catalog, emails []string, now time.Time) (*store.DB, map[string]int64) {
	b.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "followup.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	defaults := sequences.Defaults{Language: "en", Timezone: "Asia/Shanghai", Mailbox: "m", Mailboxes: []string{"m"}}
	ids := make(map[string]int64, len(emails))
	for start := 0; start < len(emails); start += 500 {
		var reqs []sequences.EnrollRequest
		for i := start; i < min(start+500, len(emails)); i++ {
			req, _, err := cat.Validate(sequences.EnrollRequest{
				Candidate: sequences.Candidate{Email: emails[i], Name: names[i%len(names)]}, Sequence: "s", Source: "bench",
			}, defaults)
			if err != nil {
				b.Fatal(err)
			}
			reqs = append(reqs, req)
		}
		out, err := db.Enroll(ctx, reqs, cat.Sequences, now)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range out {
			if !o.Created {
				b.Fatalf("enrolling %s: %s", o.Enrollment.Email, o.Reason)
			}
			ids[o.Enrollment.Email] = o.Enrollment.ID
		}
	}
	return db, ids
}

// timedStore measures, in wall time, what the watcher waits for in the
// store: the read queries that match a message to a candidate, and the
// write transactions (Record, SaveCheckpoint). Only the watcher's goroutine
// calls it; read the totals after the watcher has stopped.
type timedStore struct {
	inbox.Store
	match, record, other    time.Duration
	nMatch, nRecord, nOther int
}

func (s *timedStore) MatchMessageIDs(ctx context.Context, ids []string) (inbox.Target, bool, error) {
	t := time.Now()
	defer func() { s.match += time.Since(t); s.nMatch++ }()
	return s.Store.MatchMessageIDs(ctx, ids)
}

func (s *timedStore) MatchAddress(ctx context.Context, email string) (inbox.Target, bool, error) {
	t := time.Now()
	defer func() { s.match += time.Since(t); s.nMatch++ }()
	return s.Store.MatchAddress(ctx, email)
}

func (s *timedStore) RecordBatch(ctx context.Context, ins []inbox.Inbound, cp inbox.Checkpoint) ([]bool, error) {
	t := time.Now()
	defer func() { s.record += time.Since(t); s.nRecord++ }()
	return s.Store.RecordBatch(ctx, ins, cp)
}

func (s *timedStore) SaveCheckpoint(ctx context.Context, cp inbox.Checkpoint) error {
	t := time.Now()
	defer func() { s.other += time.Since(t); s.nOther++ }()
	return s.Store.SaveCheckpoint(ctx, cp)
}

func (s *timedStore) Checkpoint(ctx context.Context, mailbox string) (inbox.Checkpoint, bool, error) {
	t := time.Now()
	defer func() { s.other += time.Since(t); s.nOther++ }()
	return s.Store.Checkpoint(ctx, mailbox)
}

func (s *timedStore) OldestEnrollment(ctx context.Context) (time.Time, bool, error) {
	t := time.Now()
	defer func() { s.other += time.Since(t); s.nOther++ }()
	return s.Store.OldestEnrollment(ctx)
}

// ingestFull is the product: a fresh store with the N senders enrolled
// (untimed), then a Watcher reading bob's INBOX over STARTTLS until it has
// recorded all N (timed). The timed region runs under the pprof label
// bench=ingest-full, so a -cpuprofile can be narrowed to it with
// -tagfocus (the setup's enrolling is left out).
func ingestFull(b *testing.B, srv *testenv.MailServer, n int) {
	dir := b.TempDir()
	cat := benchCatalog(b, dir)
	emails := make([]string, n)
	for i := range emails {
		emails[i] = fmt.Sprintf("cand%05d@example.com", i)
	}
	db, _ := enrollAll(b, dir, cat, emails, time.Now())
	ts := &timedStore{Store: db}

	// Parse and classify the same messages here, untimed, to tell that part
	// of the watcher's work from waiting for IMAP and SQLite.
	raws := make([][]byte, n)
	for i := range raws {
		raws[i] = ingestMessage(i, 0, ingestUser, time.Now())
	}
	rules := inbox.DefaultRules()
	t0 := time.Now()
	for _, raw := range raws {
		p, err := inbox.Parse(bytes.NewReader(raw), 2<<20)
		if err != nil {
			b.Fatal(err)
		}
		if cl := inbox.Classify(p, rules); cl.Kind != inbox.KindReply {
			b.Fatalf("message classified %s (%s), want reply:\n%s", cl.Kind, cl.Reason, raw)
		}
	}
	parseClassify := time.Since(t0)
	raws = nil

	var recorded, seen int
	var mu sync.Mutex
	done := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wt := &inbox.Watcher{
		Name: "bench", Server: imapServer(srv, ingestUser), Store: ts, Own: []string{ingestUser},
		Processed: func(in inbox.Inbound, ok bool) {
			mu.Lock()
			defer mu.Unlock()
			seen++
			if ok {
				recorded++
				if recorded == n {
					close(done)
				}
			}
		},
	}
	stopped := make(chan struct{})
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	b.StartTimer()
	start := time.Now()
	pprof.Do(ctx, pprof.Labels("bench", "ingest-full"), func(ctx context.Context) {
		go func() { wt.Run(ctx); close(stopped) }()
	})
wait:
	for {
		select {
		case <-done:
			break wait
		case <-tick.C:
			// A complete sync that recorded fewer than N is a failure, not a
			// reason to wait for mail that will never come.
			if !wt.LastSync().IsZero() {
				select {
				case <-done:
					break wait
				default:
				}
				mu.Lock()
				r, s := recorded, seen
				mu.Unlock()
				b.Fatalf("the watcher finished reading the folder having recorded %d of %d messages (%d matched)", r, n, s)
			}
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	<-stopped
	other := elapsed - ts.match - ts.record - ts.other - parseClassify
	pct := func(d time.Duration) float64 { return 100 * d.Seconds() / elapsed.Seconds() }
	b.Logf("full: %d recorded in %s; per message: store match %.0f µs (%d calls), Record %.0f µs (%d transactions), checkpoint etc. %.0f µs (%d calls), parse+classify %.0f µs (measured apart); IMAP + the rest %.0f µs",
		n, elapsed.Round(time.Millisecond),
		ts.match.Seconds()*1e6/float64(n), ts.nMatch, ts.record.Seconds()*1e6/float64(n), ts.nRecord,
		ts.other.Seconds()*1e6/float64(n), ts.nOther, parseClassify.Seconds()*1e6/float64(n), other.Seconds()*1e6/float64(n))
	b.Logf("full: shares of the wall time: match %.0f %%, Record %.0f %%, checkpoint etc. %.0f %%, parse+classify %.0f %%, IMAP + the rest %.0f %%",
		pct(ts.match), pct(ts.record), pct(ts.other), pct(parseClassify), pct(other))
}

// BenchmarkReplyToStop sends 100 replies per b.N iteration, one at a time,
// through Postfix (submission, STARTTLS, AUTH as bob) to the recruiter
// mailbox recruiter2@, which a Watcher is IDLE on. Each comes from an
// enrolled candidate (bob+rNNN@) and answers (In-Reply-To) the step-1
// message Followup sent them. Measured for each: the time from DialAndSend
// returning (Postfix has accepted the reply) to the enrollment's status
// being "stopped" in the store, polled every 5 ms. That includes Postfix's
// queue manager, its LMTP delivery to Dovecot, Dovecot telling the IDLE-ing
// watcher, and the watcher's fetch, parse, match and record.
func BenchmarkReplyToStop(b *testing.B) {
	if testing.Short() {
		b.Skip("-short: skipping the reply latency benchmark")
	}
	srv := testenv.RequireMailServer(b)
	const perIter = 100
	n := perIter * b.N
	ctx := context.Background()
	dir := b.TempDir()
	cat := benchCatalog(b, dir)
	emails := make([]string, n)
	for i := range emails {
		emails[i] = fmt.Sprintf("bob+r%03d@%s", i, srv.Domain)
	}
	clock := sequences.NewFakeClock(time.Now().Add(-2 * time.Hour))
	db, ids := enrollAll(b, dir, cat, emails, clock.Now())

	// Step 1 goes out through the SMTP sandbox, so the replies answer
	// Message-IDs recorded in the store (matched by thread, not address).
	sb, err := mailer.StartSandbox("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	sb.Discard()
	b.Cleanup(func() { sb.Close() })
	ml := mailer.New(mailer.Config{Host: "127.0.0.1", Port: sb.Addr().Port, TLS: mailer.TLSNone, Timeout: 10 * time.Second}, nil)
	b.Cleanup(func() { ml.Close() })
	sent := map[string]string{}
	var sentMu sync.Mutex
	sched := &sequences.Scheduler{Store: db, Templates: cat.Templates, Clock: clock, DefaultLanguage: "en",
		Mailboxes: map[string]*sequences.Mailbox{"m": {Name: "m", From: mail.Address{Address: replyUser}, Sender: ml}},
		OnSent: func(c sequences.Claim, m *mailer.Message) {
			sentMu.Lock()
			sent[c.Enrollment.Email] = m.MessageID
			sentMu.Unlock()
		}}
	clock.Advance(time.Hour + time.Minute)
	for tries := 0; len(sent) < n; tries++ {
		if _, err := sched.RunOnce(ctx); err != nil {
			b.Fatal(err)
		}
		if tries > 10*n {
			b.Fatalf("step 1 went to %d of %d candidates", len(sent), n)
		}
	}

	testenv.DrainPostfix(b) // nothing queued ahead of the replies
	srv.ClearMailbox(b, replyUser)
	recordedAt := map[string]time.Time{}
	var recMu sync.Mutex
	wt := &inbox.Watcher{
		Name: "r2", Server: imapServer(srv, replyUser), Store: db, Own: []string{replyUser},
		Processed: func(in inbox.Inbound, ok bool) {
			if ok {
				recMu.Lock()
				recordedAt[in.From] = time.Now()
				recMu.Unlock()
			}
		},
	}
	wctx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() { wt.Run(wctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	for deadline := time.Now().Add(30 * time.Second); wt.LastSync().IsZero(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("the watcher did not read the empty mailbox within 30 s")
		}
	}
	run := time.Now().UnixNano()
	msgIDs := map[string]int{} // our Message-ID → reply index, for the Postfix log
	lat := make([]time.Duration, n)
	toRecord := make([]time.Duration, n)
	accepted := make([]time.Time, n)
	b.ResetTimer()
	for i := range n {
		m := gomail.NewMsg()
		if err := m.From(emails[i]); err != nil {
			b.Fatal(err)
		}
		if err := m.To(replyUser); err != nil {
			b.Fatal(err)
		}
		id := fmt.Sprintf("rts.%d.%03d@mail.followup.test", run, i)
		msgIDs[id] = i
		m.SetMessageIDWithValue(id)
		m.Subject("Re: Interview invitation")
		m.SetGenHeaderPreformatted(gomail.HeaderInReplyTo, "<"+sent[emails[i]]+">")
		m.SetGenHeaderPreformatted(gomail.HeaderReferences, "<"+sent[emails[i]]+">")
		m.SetBodyString(gomail.TypeTextPlain, replyText(i, replyUser))
		c, err := gomail.NewClient(srv.Host, gomail.WithPort(srv.SMTPPort), gomail.WithTLSPolicy(gomail.TLSMandatory),
			gomail.WithTLSConfig(srv.TLSConfig()), gomail.WithSMTPAuth(gomail.SMTPAuthPlain),
			gomail.WithUsername(ingestUser), gomail.WithPassword(srv.Password))
		if err != nil {
			b.Fatal(err)
		}
		if err := c.DialAndSend(m); err != nil {
			b.Fatalf("sending reply %d: %v", i, err)
		}
		t0 := time.Now()
		accepted[i] = t0
		eid := ids[emails[i]]
		for {
			st, err := db.Status(ctx, eid)
			if err != nil {
				b.Fatal(err)
			}
			if st == sequences.Stopped {
				break
			}
			if time.Since(t0) > 2*time.Minute {
				b.Fatalf("reply %d from %s: enrollment still %s after 2 minutes (Postfix log %s)", i, emails[i], st, srv.MailLog)
			}
			time.Sleep(5 * time.Millisecond)
		}
		lat[i] = time.Since(t0)
		recMu.Lock()
		toRecord[i] = recordedAt[emails[i]].Sub(t0)
		recMu.Unlock()
	}
	b.StopTimer()
	p50, p99 := percentile(lat, 0.50), percentile(lat, 0.99)
	b.ReportMetric(ms(p50), "p50-ms")
	b.ReportMetric(ms(p99), "p99-ms")
	b.Logf("reply→stopped over %d replies: min %.0f ms, p50 %.0f ms, p99 %.0f ms, max %.0f ms; reply→recorded by the watcher p50 %.0f ms",
		n, ms(slices.Min(lat)), ms(p50), ms(p99), ms(slices.Max(lat)), ms(percentile(toRecord, 0.5)))
	if d := postfixDelays(srv.MailLog, msgIDs); len(d) > 0 {
		b.Logf("Postfix: %d of the replies in its log; delivery delay (arrival to LMTP delivered, as Postfix logs it) p50 %.0f ms, p99 %.0f ms, max %.0f ms",
			len(d), ms(percentile(d, 0.5)), ms(percentile(d, 0.99)), ms(slices.Max(d)))
	}
}

func ms(d time.Duration) float64 { return d.Seconds() * 1000 }

// percentile is the nearest-rank percentile p (0 < p ≤ 1) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	k := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(0, min(k, len(s)-1))]
}

// postfixDelays reads Postfix's log for the replies whose Message-IDs are
// in ids: cleanup logs "QUEUEID: message-id=<…>", the LMTP delivery
// "QUEUEID: to=<…>, relay=…, delay=S, …, status=sent".
func postfixDelays(path string, ids map[string]int) []time.Duration {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	msgID := regexp.MustCompile(`: ([0-9A-F]+): message-id=<([^>]+)>`)
	sentRe := regexp.MustCompile(`: ([0-9A-F]+): to=<[^>]*>, relay=[^,]*, delay=([0-9.]+),.* status=sent`)
	ours := map[string]bool{}
	var out []time.Duration
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := msgID.FindStringSubmatch(line); m != nil {
			if _, ok := ids[m[2]]; ok {
				ours[m[1]] = true
			}
			continue
		}
		if m := sentRe.FindStringSubmatch(line); m != nil && ours[m[1]] {
			s, _ := strconv.ParseFloat(m[2], 64)
			out = append(out, time.Duration(s*float64(time.Second)))
		}
	}
	return out
}
