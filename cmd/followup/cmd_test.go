package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"followup/mailer"
	"followup/sequences"
	"followup/store"
	"followup/web"
)

// testProject is a project made by `followup init`, with its mailbox
// pointed at an in-process SMTP sandbox.
type testProject struct {
	t       *testing.T
	dir     string
	sandbox *mailer.Sandbox
	now     time.Time
	getenv  func(string) string // nil: only FOLLOWUP_SMTP_PASSWORD is set
}

func (tp *testProject) getenvOr() func(string) string {
	if tp.getenv != nil {
		return tp.getenv
	}
	return func(k string) string {
		if k == "FOLLOWUP_SMTP_PASSWORD" {
			return "secret-password"
		}
		return ""
	}
}

func newTestProject(t *testing.T) *testProject {
	t.Helper()
	tp := &testProject{t: t, dir: t.TempDir(), now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	if out, err := tp.run("init", tp.dir, "--force"); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	sb, err := mailer.StartSandbox("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	tp.sandbox = sb
	cfg := tp.read("followup.yaml")
	cfg = strings.Replace(cfg, "host: smtp.example.com", "host: 127.0.0.1", 1)
	cfg = strings.Replace(cfg, "port: 465", fmt.Sprintf("port: %d", sb.Addr().Port), 1)
	cfg = strings.Replace(cfg, "tls: implicit ", "tls: none ", 1)
	// Tests run at any hour: the sending window is always open here
	// (TestEnrollRespectsTheSendingWindow checks the real default).
	cfg = strings.Replace(cfg, "days: [working]\n    start: \"09:00\"\n    end: \"20:00\"", alwaysOpen, 1)
	tp.write("followup.yaml", cfg)
	return tp
}

const alwaysOpen = `days: [mon, tue, wed, thu, fri, sat, sun]
    start: "00:00"
    end: "24:00"`

func (tp *testProject) read(name string) string {
	b, err := os.ReadFile(filepath.Join(tp.dir, name))
	if err != nil {
		tp.t.Fatal(err)
	}
	return string(b)
}

func (tp *testProject) write(name, content string) {
	p := filepath.Join(tp.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tp.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		tp.t.Fatal(err)
	}
}

// run runs a command in-process; it returns stdout+stderr and the error.
func (tp *testProject) run(args ...string) (string, error) {
	return tp.runCtx(context.Background(), args...)
}

// syncBuffer is the test's terminal: commands write to it from several
// goroutines (logs and output), as they may to a real one.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) WriteString(x string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.WriteString(x)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (tp *testProject) runCtx(ctx context.Context, args ...string) (string, error) {
	var out syncBuffer
	env := &runEnv{ctx: ctx, stdout: &out, stderr: &out, getenv: tp.getenvOr(), now: func() time.Time { return tp.now }}
	if tp.dir != "" {
		args = append([]string{"--config", filepath.Join(tp.dir, "followup.yaml")}, args...)
	}
	err := runWith(env, args)
	var ee *exitError
	if errors.As(err, &ee) {
		out.WriteString(ee.msg)
	}
	return out.String(), err
}

func (tp *testProject) mustRun(args ...string) string {
	tp.t.Helper()
	out, err := tp.run(args...)
	if err != nil {
		tp.t.Fatalf("followup %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if err != nil {
		return 1
	}
	return 0
}

// The starter config's commented http and webhooks sections are valid as
// they stand once uncommented: a recruiter can turn them on line by line.
func TestStarterConfigOptionalSectionsAreValid(t *testing.T) {
	tp := newTestProject(t)
	cfg := tp.read("followup.yaml")
	start, end := strings.Index(cfg, "# http:"), strings.Index(cfg, "\nlog:")
	if start < 0 || end < start {
		t.Fatalf("no commented http section before log: in the starter config")
	}
	var lines []string
	for _, l := range strings.Split(cfg[start:end], "\n") {
		if rest, ok := strings.CutPrefix(l, "# "); ok && (strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, "http:") || strings.HasPrefix(rest, "webhooks:")) {
			l = rest
		}
		lines = append(lines, l)
	}
	tp.write("followup.yaml", cfg[:start]+strings.Join(lines, "\n")+cfg[end:])
	if !strings.Contains(tp.read("followup.yaml"), "\nwebhooks:\n") || !strings.Contains(tp.read("followup.yaml"), "\n  tracking:") {
		t.Fatalf("uncommenting failed:\n%s", tp.read("followup.yaml"))
	}
	tp.getenv = func(k string) string {
		return map[string]string{"FOLLOWUP_SMTP_PASSWORD": "pw", "FOLLOWUP_SECRET": strings.Repeat("s", 40),
			"FOLLOWUP_METRICS_TOKEN": strings.Repeat("m", 20), "FOLLOWUP_WEBHOOK_SECRET": strings.Repeat("w", 40)}[k]
	}
	if out, err := tp.run("check"); err != nil {
		t.Errorf("check with the optional sections on: %v\n%s", err, out)
	}
}

func TestInitThenCheckIsClean(t *testing.T) {
	tp := newTestProject(t)
	out := tp.mustRun("check")
	for _, want := range []string{"OK", "rejected-after-interview", "password from $FOLLOWUP_SMTP_PASSWORD"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "secret-password") {
		t.Error("check printed the password")
	}
	if _, err := tp.run("init", tp.dir); err == nil {
		t.Error("init over an existing project succeeded without --force")
	}
}

func TestCheckReportsEveryProblemWithPosition(t *testing.T) {
	tp := newTestProject(t)
	tp.write("sequences/broken.yaml", `descripton: typo
fields: [job_title]
steps:
  - template: no-such-template
    after: 2d
  - template: broken-uses-field
    after: 3x
`)
	tp.write("templates/broken-uses-field.en.md", "---\nsubject: Hi\n---\nHello {{.salary}}\n")
	cfg := tp.read("followup.yaml")
	tp.write("followup.yaml", strings.Replace(cfg, `from: "王敏 Wang Min <wangmin@example.com>"`, `from: "not-an-address"`, 1))
	out, err := tp.run("check")
	if exitCode(err) != 1 {
		t.Fatalf("exit %d, want 1\n%s", exitCode(err), out)
	}
	for _, want := range []string{
		`broken.yaml:1:1: unknown key "descripton"`,
		`broken.yaml:4:15: step 1: no template "no-such-template"`,
		`broken.yaml:7:12: step 2: bad delay "3x"`,
		`broken-uses-field.en.md:4: field "salary" is not provided by sequence broken`,
		`followup.yaml:24:11: from "not-an-address"`,
		"5 problem(s)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
}

func TestEnrollValidatesAndIsIdempotent(t *testing.T) {
	tp := newTestProject(t)
	out := tp.mustRun("enroll", "Li.Lei@Example.com", "-s", "post-interview-thanks", "-n", "李雷", "-l", "zh_cn", "-f", "job_title=高级工程师")
	if !strings.Contains(out, "Enrolled li.lei@example.com in post-interview-thanks: step 1 due 2026-11-23 19:00") {
		t.Errorf("enroll said:\n%s", out)
	}
	out = tp.mustRun("enroll", "li.lei@example.com", "-s", "post-interview-thanks", "-f", "job_title=高级工程师")
	if !strings.Contains(out, "nothing to do: already active in post-interview-thanks") {
		t.Errorf("second enroll said:\n%s", out)
	}
	bad := []struct {
		args []string
		want string
	}{
		{[]string{"enroll", "not-an-email", "-s", "post-interview-thanks", "-f", "job_title=x"}, `email "not-an-email": not a valid address`},
		{[]string{"enroll", "a@example.com", "-s", "post-interview-thanks"}, "sequence post-interview-thanks needs job_title"},
		{[]string{"enroll", "a@example.com", "-s", "nope"}, `no sequence named "nope"`},
		{[]string{"enroll", "a@example.com", "-s", "post-interview-thanks", "-f", "job_title=x", "--tz", "Mars/Base"}, `unknown time zone "Mars/Base"`},
		{[]string{"enroll", "a@example.com", "-s", "post-interview-thanks", "-f", "job_title=x", "-n", "Bob\r\nBcc: x@evil.test"}, "name: contains a line break"},
	}
	for _, b := range bad {
		out, err := tp.run(b.args...)
		if err == nil || !strings.Contains(out, b.want) {
			t.Errorf("%v: err %v, output lacks %q:\n%s", b.args, err, b.want, out)
		}
	}
}

const csvHeader = "email,name,language,timezone,sequence,job_title,strengths,gaps\n"

func TestImportReportsBadRowsAndImportsTheRest(t *testing.T) {
	tp := newTestProject(t)
	tp.write("in.csv", csvHeader+
		"alice@example.com,Alice,en,Europe/London,post-interview-thanks,Designer,,\n"+
		"broken-email,Bob,en,,post-interview-thanks,Engineer,,\n"+
		"carol@example.com,Carol,en,,rejected-after-interview,PM,,\n"+
		"dave@example.com,Dave,en,,post-interview-thanks\n"+
		"li.lei@example.com,李雷,zh-CN,Asia/Shanghai,rejected-after-interview,工程师,思路清晰,经验少\n"+
		"\"erin@example.com,Erin\n")
	out, err := tp.run("import", filepath.Join(tp.dir, "in.csv"))
	if exitCode(err) != exitRejectedRows {
		t.Fatalf("exit %d, want %d:\n%s", exitCode(err), exitRejectedRows, out)
	}
	for _, want := range []string{
		`in.csv:3: broken-email: email "broken-email": not a valid address`,
		"in.csv:4: carol@example.com: sequence rejected-after-interview needs strengths, gaps",
		"in.csv:5: 5 columns, the header has 8",
		`in.csv:7: extraneous or missing " in quoted-field`,
		"6 rows: 2 enrolled, 0 already enrolled, 4 rejected.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	out, _ = tp.run("import", filepath.Join(tp.dir, "in.csv"))
	if !strings.Contains(out, "0 enrolled, 2 already enrolled") {
		t.Errorf("re-import enrolled someone again:\n%s", out)
	}
	list := tp.mustRun("list")
	if strings.Count(list, "@example.com") != 2 {
		t.Errorf("list:\n%s", list)
	}
}

func TestImportFileProblems(t *testing.T) {
	tp := newTestProject(t)
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(csvHeader + "li.lei@example.com,李雷,zh-CN,,post-interview-thanks,高级工程师,,\n")
	if err != nil {
		t.Fatal(err)
	}
	tp.write("gbk.csv", gbk)
	tp.write("bom.csv", "\ufeff"+csvHeader+"bom@example.com,Bom,en,,post-interview-thanks,QA,,\n")
	tp.write("noemail.csv", "mail,name\nx@example.com,X\n")
	tp.write("dup.csv", "email,email\nx@example.com,y@example.com\n")
	tp.write("empty.csv", "")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"import", "gbk.csv"}, 1, "it looks like GBK/GB18030"},
		{[]string{"import", "gbk.csv", "--encoding", "gb18030"}, 0, "1 enrolled"},
		{[]string{"import", "bom.csv"}, 0, "1 enrolled"},
		{[]string{"import", "noemail.csv", "-s", "post-interview-thanks"}, 1, `wrong header: no "email" column`},
		{[]string{"import", "dup.csv", "-s", "post-interview-thanks"}, 1, `column "email" appears twice`},
		{[]string{"import", "empty.csv"}, 1, "the file is empty"},
		{[]string{"import", "missing.csv"}, 1, "no such file"},
	}
	for _, tt := range tests {
		tt.args[1] = filepath.Join(tp.dir, tt.args[1])
		out, err := tp.run(tt.args...)
		if exitCode(err) != tt.code || !strings.Contains(out, tt.want) {
			t.Errorf("%v: exit %d (want %d), output lacks %q:\n%s", tt.args, exitCode(err), tt.code, tt.want, out)
		}
	}
	if show := tp.mustRun("show", "li.lei@example.com"); !strings.Contains(show, "李雷") {
		t.Errorf("GBK import garbled the name:\n%s", show)
	}
}

func TestPauseResumeStopAndTimeline(t *testing.T) {
	tp := newTestProject(t)
	tp.mustRun("enroll", "alice@example.com", "-s", "post-interview-thanks", "-n", "Alice", "-l", "en", "-f", "job_title=Designer")
	tp.mustRun("enroll", "alice@example.com", "-s", "offer-declined", "-n", "Alice", "-l", "en", "-f", "job_title=Designer")
	if out := tp.mustRun("pause", "alice@example.com", "-s", "offer-declined", "--reason", "on holiday"); !strings.Contains(out, "offer-declined → paused") {
		t.Errorf("pause: %s", out)
	}
	if out := tp.mustRun("list", "--status", "paused"); !strings.Contains(out, "paused (on holiday)") || strings.Contains(out, "post-interview-thanks") {
		t.Errorf("list --status paused:\n%s", out)
	}
	tp.now = tp.now.Add(48 * time.Hour)
	if out := tp.mustRun("resume", "alice@example.com"); !strings.Contains(out, "offer-declined → active") {
		t.Errorf("resume: %s", out)
	}
	if out := tp.mustRun("stop", "alice@example.com"); !strings.Contains(out, "post-interview-thanks → stopped, offer-declined → stopped") {
		t.Errorf("stop: %s", out)
	}
	if out := tp.mustRun("stop", "alice@example.com"); !strings.Contains(out, "nothing to do") {
		t.Errorf("second stop: %s", out)
	}
	show := tp.mustRun("show", "alice@example.com")
	for _, want := range []string{"enrolled", "paused", "resumed", "stopped", "on holiday"} {
		if !strings.Contains(show, want) {
			t.Errorf("timeline lacks %q:\n%s", want, show)
		}
	}
	if out, err := tp.run("show", "nobody@example.com"); err == nil || !strings.Contains(out, "not a candidate here") {
		t.Errorf("show of an unknown address: %v %s", err, out)
	}
}

func TestPreviewRendersTextAndHTML(t *testing.T) {
	tp := newTestProject(t)
	html := filepath.Join(tp.dir, "p.html")
	out := tp.mustRun("preview", "rejected-after-interview", "-n", "李雷", "-f", "job_title=高级工程师", "-f", "strengths=<script>alert(1)</script>", "--html", html)
	for _, want := range []string{"Subject: 高级工程师面试反馈", "李雷，您好", "<script>alert(1)</script>", "«gaps»", "王敏"} {
		if !strings.Contains(out, want) {
			t.Errorf("preview lacks %q:\n%s", want, out)
		}
	}
	page := tp.read("p.html")
	if strings.Contains(page, "<script>") || !strings.Contains(page, "&lt;script&gt;") {
		t.Errorf("HTML preview does not escape the value:\n%s", page)
	}
	out = tp.mustRun("preview", "rejected-after-interview", "--step", "2", "-l", "en", "--html", html)
	if !strings.Contains(out, "Subject: Re: Feedback on your «job_title» interview") || !strings.Contains(out, "In-Reply-To: <preview.0@example.com>") {
		t.Errorf("reply step preview:\n%s", out)
	}
}

func TestServeSendsDueStepsAndStopsOnSignal(t *testing.T) {
	tp := newTestProject(t)
	tp.now = time.Now().Add(-3 * time.Hour) // enrolled three hours ago: step 1 (2 h) is due
	tp.mustRun("enroll", "bob@example.com", "-s", "post-interview-thanks", "-n", "Bob", "-l", "en", "-f", "job_title=SRE")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out string
	go func() {
		var err error
		out, err = tp.runCtx(ctx, "serve")
		done <- err
	}()
	select {
	case <-tp.sandbox.Arrived():
	case <-time.After(20 * time.Second):
		t.Fatal("serve sent nothing")
	}
	cancel() // SIGTERM
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, out)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	if n := tp.sandbox.Count(); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
	tp.now = time.Now()
	if show := tp.mustRun("show", "bob@example.com"); !strings.Contains(show, "sent") || !strings.Contains(show, "finished") {
		t.Errorf("timeline after serve:\n%s", show)
	}
}

func TestServeKeepsRunningWhenSMTPIsDown(t *testing.T) {
	tp := newTestProject(t)
	tp.sandbox.Close() // nothing listens on the configured port any more
	tp.now = time.Now().Add(-3 * time.Hour)
	tp.mustRun("enroll", "bob@example.com", "-s", "post-interview-thanks", "-n", "Bob", "-f", "job_title=SRE")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := tp.runCtx(ctx, "serve")
	if err != nil {
		t.Fatalf("serve exited with %v:\n%s", err, out)
	}
	if !strings.Contains(out, "mailbox cannot send; will retry") {
		t.Errorf("serve log lacks the retry notice:\n%s", out)
	}
	tp.now = time.Now()
	if show := tp.mustRun("show", "bob@example.com"); !strings.Contains(show, "deferred") {
		t.Errorf("timeline:\n%s", show)
	}
}

func TestDemoOnce(t *testing.T) {
	tp := &testProject{t: t, now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	keep := t.TempDir()
	out := tp.mustRun("demo", "--once", "--dir", keep)
	for _, want := range []string{"Enrolled 6 sample candidates", "← li.lei@followup.test", "their sequences stop", "rejected-after-interview     1", "total                        16 (the sandbox received 16, plus 1 note(s)", "Re: 产品经理（B端）：下一轮面试安排", "survey nps: 9", "NPS +100  (promoters 1, passives 0, detractors 0, of 1)"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	emls, _ := filepath.Glob(filepath.Join(keep, "mail", "*.eml"))
	if len(emls) != 16 {
		t.Errorf("%d .eml files kept, want 16", len(emls))
	}
	if page, err := os.ReadFile(filepath.Join(keep, "survey-results.html")); err != nil || !strings.Contains(string(page), "<svg") {
		t.Errorf("survey results page: %v", err)
	}
	// Again in the same folder: a fresh start, the same result.
	if out := tp.mustRun("demo", "--once", "--dir", keep); !strings.Contains(out, "total                        16 (the sandbox received 16") {
		t.Errorf("second demo in the same folder:\n%s", out)
	}
}

func TestEnrollRespectsTheSendingWindow(t *testing.T) {
	tp := newTestProject(t)
	cfg := strings.Replace(tp.read("followup.yaml"), alwaysOpen, "days: [mon, tue, wed, thu, fri]\n    start: \"09:00\"\n    end: \"20:00\"", 1)
	tp.write("followup.yaml", cfg)
	// Friday 11:00 UTC is 19:00 in Shanghai: step 1 (2 h later) would land
	// at 21:00 on a Friday, so it waits for Monday morning, Shanghai time;
	// for a candidate in London it is 13:00, well inside the window.
	tp.now = time.Date(2026, 11, 27, 11, 0, 0, 0, time.UTC)
	out := tp.mustRun("enroll", "li.lei@example.com", "-s", "post-interview-thanks", "--tz", "Asia/Shanghai", "-f", "job_title=工程师")
	if !strings.Contains(out, "step 1 due 2026-11-30 09:") {
		t.Errorf("Shanghai candidate: %s", out)
	}
	out = tp.mustRun("enroll", "alice@example.com", "-s", "post-interview-thanks", "--tz", "Europe/London", "-f", "job_title=Designer")
	if !strings.Contains(out, "step 1 due 2026-11-27 21:00") { // 13:00 London, shown in the project's zone
		t.Errorf("London candidate: %s", out)
	}
	cfg = strings.Replace(cfg, `start: "09:00"`, `start: "21:00"`, 1)
	tp.write("followup.yaml", cfg)
	if out, err := tp.run("check"); err == nil || !strings.Contains(out, "empty window") {
		t.Errorf("check accepted an empty window: %v\n%s", err, out)
	}
}

func TestUnknownDeliveryThenResume(t *testing.T) {
	tp := newTestProject(t)
	tp.write("followup.yaml", strings.Replace(tp.read("followup.yaml"), "timeout: 30s", "timeout: 1s", 1))
	tp.mustRun("enroll", "li.lei@example.com", "-s", "rejected-after-interview", "-n", "李雷", "-f", "job_title=工程师", "-f", "strengths=清晰", "-f", "gaps=经验")
	w := tp.wire(tp.now)
	clock, sched := w.clock, w.sched
	tp.sandbox.SetFault(func(stage, _ string) error {
		if stage == "DATA" {
			time.Sleep(2 * time.Second) // the server takes the message but answers too late
		}
		return nil
	})
	clock.Advance(5 * time.Hour)
	if res, err := sched.RunOnce(context.Background()); err != nil || res.Held != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	tp.sandbox.SetFault(nil)
	tp.now = clock.Now()
	if out, err := tp.run("resume", "li.lei@example.com"); err == nil || !strings.Contains(out, "may have been delivered") || !strings.Contains(out, "--assume-sent") {
		t.Errorf("resume without a decision: %v\n%s", err, out)
	}
	if out := tp.mustRun("show", "li.lei@example.com"); !strings.Contains(out, `unknown   rejected-after-interview step 1  "工程师面试反馈"`) {
		t.Errorf("timeline of an unknown delivery:\n%s", out)
	}
	tp.mustRun("resume", "li.lei@example.com", "--assume-sent")
	clock.Advance(8 * 24 * time.Hour)
	res, err := sched.RunOnce(context.Background())
	if err != nil || res.Sent != 1 {
		t.Fatalf("step 2: %+v %v", res, err)
	}
	msgs := tp.sandbox.Messages()
	last := parseMail(t, msgs[len(msgs)-1].Data)
	if got := decode(t, last.Header.Get("Subject")); got != "Re: 工程师面试反馈" {
		t.Errorf("the reply step after an assumed delivery has subject %q", got)
	}
}

func TestRejectedMessageHoldsWithoutBlamingTheAddress(t *testing.T) {
	tp := newTestProject(t)
	tp.mustRun("enroll", "bob@example.com", "-s", "post-interview-thanks", "-n", "Bob", "-f", "job_title=SRE")
	tp.sandbox.SetFault(func(stage, _ string) error {
		if stage == "DATA" {
			return mailer.ErrSandboxRefused // "550 5.1.1" after DATA: the content, not the address
		}
		return nil
	})
	w := tp.wire(tp.now.Add(3 * time.Hour))
	db := w.db
	if res, err := w.sched.RunOnce(context.Background()); err != nil || res.Held != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	tl, _ := db.Timeline(context.Background(), "bob@example.com")
	if tl.Candidate.UndeliverableReason != "" || tl.Enrollments[0].Status != sequences.Paused || !strings.Contains(tl.Enrollments[0].StatusReason, "not the address") {
		t.Errorf("after a content refusal: undeliverable %q, %s %q", tl.Candidate.UndeliverableReason, tl.Enrollments[0].Status, tl.Enrollments[0].StatusReason)
	}
}

func TestCommandsThatSendNothingNeedNoPassword(t *testing.T) {
	tp := newTestProject(t)
	tp.getenv = func(string) string { return "" } // FOLLOWUP_SMTP_PASSWORD unset
	tp.mustRun("enroll", "a@example.com", "-s", "post-interview-thanks", "-f", "job_title=x")
	tp.mustRun("list")
	tp.mustRun("show", "a@example.com")
	for _, cmd := range []string{"check", "serve"} {
		if out, err := tp.run(cmd); err == nil || !strings.Contains(out, "environment variable FOLLOWUP_SMTP_PASSWORD is not set") {
			t.Errorf("%s without the password: %v\n%s", cmd, err, out)
		}
	}
}

func TestCheckFindsASequenceNamingAnUnknownMailbox(t *testing.T) {
	tp := newTestProject(t)
	tp.write("sequences/x.yaml", "mailbox: nobody\nsteps:\n  - template: post-interview-thanks\n    after: 1h\nfields: [job_title]\n")
	out, err := tp.run("check")
	if err == nil || !strings.Contains(out, `x.yaml:1:10: mailbox "nobody" is not in the config (mailboxes: recruiter)`) {
		t.Errorf("%v\n%s", err, out)
	}
}

func TestSuppressionListAndForget(t *testing.T) {
	tp := newTestProject(t)
	tp.mustRun("enroll", "li.lei@example.com", "-s", "post-interview-thanks", "-n", "李雷", "-f", "job_title=工程师")
	if out := tp.mustRun("suppress", "add", "li.lei@example.com", "--reason", "asked by phone"); !strings.Contains(out, "1 added") {
		t.Errorf("add: %s", out)
	}
	if out := tp.mustRun("show", "li.lei@example.com"); !strings.Contains(out, "stopped") {
		t.Errorf("suppressing did not stop the sequence:\n%s", out)
	}
	tp.write("sup.txt", "email\nbob@example.com\nnot-an-address\n\"carol@example.com\",x\n")
	out, err := tp.run("suppress", "import", filepath.Join(tp.dir, "sup.txt"))
	if exitCode(err) != exitRejectedRows || !strings.Contains(out, "sup.txt:3:") || !strings.Contains(out, "2 added, 0 already suppressed, 1 rejected") {
		t.Errorf("import: %v\n%s", err, out)
	}
	if out := tp.mustRun("suppress", "export"); !strings.Contains(out, "email,reason,created_at\n") || strings.Count(out, "@example.com") != 3 {
		t.Errorf("export:\n%s", out)
	}
	if out, err := tp.run("enroll", "bob@example.com", "-s", "post-interview-thanks", "-f", "job_title=x"); exitCode(err) != 1 || !strings.Contains(out, "suppressed") {
		t.Errorf("enrolling a suppressed address: %v %s", err, out)
	}
	tp.mustRun("suppress", "remove", "bob@example.com")
	tp.mustRun("enroll", "bob@example.com", "-s", "post-interview-thanks", "-f", "job_title=x")

	if out, err := tp.run("forget", "li.lei@example.com"); err == nil || !strings.Contains(out, "--yes") {
		t.Errorf("forget without --yes: %v %s", err, out)
	}
	tp.mustRun("forget", "li.lei@example.com", "--yes")
	if out, err := tp.run("show", "li.lei@example.com"); err == nil || !strings.Contains(out, "not a candidate here") {
		t.Errorf("after forget, show: %v\n%s", err, out)
	}
	list := tp.mustRun("suppress", "list")
	if strings.Contains(list, "li.lei") || !strings.Contains(list, "sha256:") {
		t.Errorf("after forget the suppression should be a hash:\n%s", list)
	}
	if out, err := tp.run("enroll", "li.lei@example.com", "-s", "post-interview-thanks", "-f", "job_title=x"); exitCode(err) != 1 || !strings.Contains(out, "suppressed") {
		t.Errorf("an erased, suppressed address was enrolled again: %v %s", err, out)
	}
	// Nothing of hers is left in the database files, not even in free pages
	// or the write-ahead log.
	for _, f := range []string{"followup.db", "followup.db-wal"} {
		b, err := os.ReadFile(filepath.Join(tp.dir, f))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, trace := range []string{"li.lei@example.com", "李雷"} {
			if i := strings.Index(string(b), trace); i >= 0 {
				t.Errorf("%s still contains %q: %q", f, trace, b[max(0, i-120):min(len(b), i+60)])
			}
		}
	}
}

func TestOneClickUnsubscribeEndToEnd(t *testing.T) {
	tp := newTestProject(t)
	addr := tp.enableHTTP(t)
	tp.now = time.Now().Add(-3 * time.Hour)
	tp.mustRun("enroll", "bob@example.com", "-s", "post-interview-thanks", "-n", "Bob", "-l", "en", "-f", "job_title=SRE")
	defer tp.serveInBackground()()
	select {
	case <-tp.sandbox.Arrived():
	case <-time.After(20 * time.Second):
		t.Fatal("nothing sent")
	}
	m := parseMail(t, tp.sandbox.Messages()[0].Data)
	lu := m.Header.Get("List-Unsubscribe")
	if m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !strings.HasPrefix(lu, "<http://"+addr+"/u/") || !strings.Contains(lu, "<mailto:") {
		t.Fatalf("List-Unsubscribe %q, List-Unsubscribe-Post %q", lu, m.Header.Get("List-Unsubscribe-Post"))
	}
	link := lu[1:strings.Index(lu, ">")]
	// The mail client's one-click POST (RFC 8058).
	resp, err := http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("one-click POST: %d", resp.StatusCode)
	}
	tp.now = time.Now()
	if out := tp.mustRun("suppress", "list"); !strings.Contains(out, "bob@example.com") || !strings.Contains(out, "one-click") {
		t.Errorf("after the one-click POST:\n%s", out)
	}
}

// serveInBackground runs `followup serve` until the returned function is
// called, which stops it and waits for it to end.
func (tp *testProject) serveInBackground() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := tp.runCtx(ctx, "serve"); done <- err }()
	return func() { cancel(); <-done }
}

// enableHTTP configures the web server on a free loopback port.
func (tp *testProject) enableHTTP(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	tp.write("followup.yaml", tp.read("followup.yaml")+fmt.Sprintf("\nhttp:\n  listen: %s\n  public_url: http://%s\n  secret_env: FOLLOWUP_SECRET\n", addr, addr))
	tp.getenv = func(k string) string {
		return map[string]string{"FOLLOWUP_SMTP_PASSWORD": "pw", "FOLLOWUP_SECRET": strings.Repeat("s", 40)}[k]
	}
	return addr
}

func TestTalentPoolNeedsConsent(t *testing.T) {
	tp := newTestProject(t)
	out, err := tp.run("enroll", "carol@example.com", "-s", "talent-pool-warmup", "-n", "Carol")
	if exitCode(err) != 1 || !strings.Contains(out, "needs their consent") {
		t.Fatalf("without consent: %v\n%s", err, out)
	}
	tp.mustRun("enroll", "carol@example.com", "-s", "talent-pool-warmup", "-n", "Carol", "--consent")
	tp.mustRun("consent", "carol@example.com", "--withdrawn")
	if out := tp.mustRun("show", "carol@example.com"); !strings.Contains(out, "talent-pool consent withdrawn") || !strings.Contains(out, "stopped") {
		t.Errorf("after withdrawing:\n%s", out)
	}
	if out, err := tp.run("enroll", "carol@example.com", "-s", "talent-pool-warmup"); exitCode(err) != 1 || !strings.Contains(out, "consent") {
		t.Errorf("re-enrolled after withdrawing: %v %s", err, out)
	}
	if out := tp.mustRun("report"); !strings.Contains(out, "Nothing sent yet") {
		t.Errorf("report: %s", out)
	}
}

// wired is a project's sending side built as serve builds it, on a fake
// clock, for tests that drive the scheduler step by step.
type wired struct {
	p     *project
	db    *store.DB
	mbs   map[string]*sequences.Mailbox
	clock *sequences.FakeClock
	sched *sequences.Scheduler
}

func (tp *testProject) wire(start time.Time) *wired {
	tp.t.Helper()
	p, err := tp.env().loadProject(true)
	if err != nil {
		tp.t.Fatal(err)
	}
	db, err := p.openDB(context.Background())
	if err != nil {
		tp.t.Fatal(err)
	}
	tp.t.Cleanup(func() { db.Close() })
	mbs, closeAll, err := p.mailboxes(1)
	if err != nil {
		tp.t.Fatal(err)
	}
	tp.t.Cleanup(closeAll)
	clock := sequences.NewFakeClock(start)
	return &wired{p: p, db: db, mbs: mbs, clock: clock, sched: p.scheduler(db, mbs, clock)}
}

// surveyProject is a test project with the web server (in-process, on its
// own port) so emails carry survey and unsubscribe links.
func surveyProject(t *testing.T) (*testProject, *wired, string) {
	t.Helper()
	tp := newTestProject(t)
	var handler http.Handler
	ws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(ws.Close)
	secret := strings.Repeat("q", 40)
	tp.write("followup.yaml", tp.read("followup.yaml")+fmt.Sprintf("\nhttp:\n  public_url: %s\n  secret_env: FOLLOWUP_SECRET\n", ws.URL))
	tp.getenv = func(k string) string {
		return map[string]string{"FOLLOWUP_SMTP_PASSWORD": "pw", "FOLLOWUP_SECRET": secret}[k]
	}
	w := tp.wire(tp.now)
	srv, err := web.New(w.db, []byte(secret), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Surveys = &web.Surveys{Set: w.p.surveys, Store: w.db, Secret: []byte(secret), Now: time.Now, Answered: w.p.surveyActions(w.db, w.mbs, time.Now)}
	handler = srv.Handler()
	return tp, w, ws.URL
}

var anyLink = regexp.MustCompile(`https?://[^\s()<>"]+`)

func TestFollowingEveryLinkOfASurveyEmailRecordsNothing(t *testing.T) {
	tp, w, _ := surveyProject(t)
	tp.mustRun("enroll", "bob@example.com", "-s", "post-interview-thanks", "-n", "Bob", "-l", "en", "-f", "job_title=SRE")
	w.clock.Advance(3 * time.Hour)
	if res, err := w.sched.RunOnce(context.Background()); err != nil || res.Sent != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	raw := string(tp.sandbox.Messages()[0].Data)
	m := parseMail(t, tp.sandbox.Messages()[0].Data)
	text, html := parts(t, m)
	links := map[string]bool{}
	for _, l := range anyLink.FindAllString(text+html+m.Header.Get("List-Unsubscribe"), -1) {
		links[strings.ReplaceAll(l, "&amp;", "&")] = true
	}
	if len(links) < 12 { // eleven score links and the unsubscribe link
		t.Fatalf("only %d links in the email:\n%s", len(links), raw)
	}
	for l := range links { // a link scanner opens every one of them
		resp, err := http.Get(l)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	rows, _ := w.db.SurveyResponses(context.Background(), "")
	sup, _ := w.db.Suppressions(context.Background())
	if len(rows) != 0 || len(sup) != 0 {
		t.Errorf("plain GETs recorded %d survey responses and %d unsubscribes", len(rows), len(sup))
	}
}

func TestSurveyAnswersAct(t *testing.T) {
	tp, w, _ := surveyProject(t)
	for _, e := range []string{"yes@example.com", "no@example.com"} {
		tp.mustRun("enroll", e, "-s", "offer-declined", "-n", "X", "-l", "en", "-f", "job_title=Analyst")
	}
	w.clock.Advance(25 * time.Hour)
	if res, err := w.sched.RunOnce(context.Background()); err != nil || res.Sent != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	answer := func(to string, form url.Values) {
		t.Helper()
		for _, m := range tp.sandbox.Messages() {
			if m.To[0] != to {
				continue
			}
			text, _ := parts(t, parseMail(t, m.Data))
			link := regexp.MustCompile(`https?://\S+/s/[A-Za-z0-9_.-]+`).FindString(text)
			resp, err := http.Get(link)
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			form.Set("csrf", regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(page))[1])
			resp, err = http.PostForm(link, form)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("answering: %v %v", resp, err)
			}
			resp.Body.Close()
			return
		}
		t.Fatalf("no email to %s", to)
	}
	answer("yes@example.com", url.Values{"reasons": {"salary", "other-offer"}, "contact_again": {"yes"}})
	answer("no@example.com", url.Values{"reasons": {"team"}, "contact_again": {"no"}})
	tp.now = time.Now()
	if out := tp.mustRun("show", "yes@example.com"); !strings.Contains(out, "talent-pool-warmup") || !strings.Contains(out, "survey    declined-offer") {
		t.Errorf("a yes did not enroll them in the talent pool:\n%s", out)
	}
	if out := tp.mustRun("show", "no@example.com"); !strings.Contains(out, "do not contact again") {
		t.Errorf("a no did not stop their sequences:\n%s", out)
	}
	notes := 0
	for _, m := range tp.sandbox.Messages() {
		if m.To[0] == "wangmin@example.com" {
			notes++
			nm := parseMail(t, m.Data)
			b, _ := io.ReadAll(decodeTransfer(nm.Header.Get("Content-Transfer-Encoding"), nm.Body))
			if text := decodeQP(string(b), nm.Header.Get("Content-Transfer-Encoding")); !strings.Contains(text, "Salary below expectations") && !strings.Contains(text, "Team or manager") && !strings.Contains(text, "薪资低于预期") && !strings.Contains(text, "团队或上级") {
				t.Errorf("note without the reasons:\n%s", text)
			}
		}
	}
	if notes != 2 {
		t.Errorf("%d notes to the recruiter, want 2", notes)
	}
	if out := tp.mustRun("report", "surveys", "-s", "declined-offer"); !strings.Contains(out, "2 responses") {
		t.Errorf("report:\n%s", out)
	}
	if out := tp.mustRun("report", "surveys", "--csv"); !strings.HasPrefix(out, "\ufeffsurvey,") || !strings.Contains(out, "declined-offer,") || !strings.Contains(out, "salary;other-offer") {
		t.Errorf("csv:\n%s", out)
	}
	results := filepath.Join(tp.dir, "results.html")
	if out := tp.mustRun("report", "surveys", "--html", results); !strings.Contains(out, "Wrote ") {
		t.Errorf("html: %s", out)
	}
	if page := tp.read("results.html"); !strings.Contains(page, "薪资低于预期") || !strings.Contains(page, " CST</p>") {
		t.Errorf("results page:\n%s", page)
	}
}

func decodeQP(s, cte string) string {
	if !strings.EqualFold(cte, "quoted-printable") {
		return s
	}
	b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(s)))
	if err != nil {
		return s
	}
	return string(b)
}

func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{
		"":                         "",
		"薪资低于预期":                   "薪资低于预期",
		"=HYPERLINK(\"http://x\")": "'=HYPERLINK(\"http://x\")",
		"+1 555":                   "'+1 555",
		"-2+3":                     "'-2+3",
		"@SUM(A1)":                 "'@SUM(A1)",
		"\tx":                      "'\tx",
		"9":                        "9",
	} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
}
