package testenv

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/wneessen/go-mail"
)

// The servers' users are shared by every test of a run (other packages'
// tests included), so these tests find their own messages by a unique token
// rather than by position, and each uses its own recipient where it can.

func token(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "tok-" + hex.EncodeToString(b)
}

// user returns the test user with the given local part.
func user(t *testing.T, s *MailServer, local string) string {
	t.Helper()
	addr := local + "@" + s.Domain
	for _, u := range s.Users {
		if u == addr {
			return addr
		}
	}
	t.Fatalf("%s is not among the test users %v", addr, s.Users)
	return ""
}

type sendOpts struct {
	implicitTLS bool   // SMTPS port instead of STARTTLS on the submission port
	login       string // SMTP AUTH user; defaults to from
	password    string // defaults to the shared test password
}

// send submits one message through Postfix with go-mail.
func send(t *testing.T, s *MailServer, o sendOpts, from, to, subject, body string) error {
	t.Helper()
	if o.login == "" {
		o.login = from
	}
	if o.password == "" {
		o.password = s.Password
	}
	opts := []mail.Option{
		mail.WithSMTPAuth(mail.SMTPAuthPlain),
		mail.WithUsername(o.login),
		mail.WithPassword(o.password),
		mail.WithTLSConfig(s.TLSConfig()),
		mail.WithTimeout(20 * time.Second),
	}
	if o.implicitTLS {
		opts = append(opts, mail.WithSSL(), mail.WithPort(s.SMTPSPort))
	} else {
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory), mail.WithPort(s.SMTPPort))
	}
	c, err := mail.NewClient(s.Host, opts...)
	if err != nil {
		t.Fatalf("mail.NewClient: %v", err)
	}
	m := mail.NewMsg()
	if err := m.From(from); err != nil {
		t.Fatal(err)
	}
	if err := m.To(to); err != nil {
		t.Fatal(err)
	}
	m.Subject(subject)
	m.SetDate()
	m.SetMessageID()
	m.SetBodyString(mail.TypeTextPlain, body)
	return c.DialAndSend(m)
}

// waitForToken polls user's INBOX until a message containing tok arrives
// and returns it; it fails the test after timeout.
func waitForToken(t *testing.T, s *MailServer, user, tok string, timeout time.Duration) []byte {
	t.Helper()
	deadline := time.Now().Add(timeout)
	n := 1
	for {
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("no message containing %s in %s's INBOX after %s (Postfix log: %s)", tok, user, timeout, s.MailLog)
		}
		msgs := s.WaitForMessages(t, user, n, left)
		for _, m := range msgs {
			if bytes.Contains(m, []byte(tok)) {
				return m
			}
		}
		n = len(msgs) + 1
	}
}

func parse(t *testing.T, raw []byte) *netmail.Message {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parsing delivered message: %v\n%s", err, raw)
	}
	return m
}

func decodedSubject(t *testing.T, m *netmail.Message) string {
	t.Helper()
	subj, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("decoding Subject %q: %v", m.Header.Get("Subject"), err)
	}
	return subj
}

func TestSendSTARTTLSAndReadBack(t *testing.T) {
	s := RequireMailServer(t)
	from, to := user(t, s, "recruiter"), user(t, s, "alice")
	tok := token(t)
	subject := "面试邀请：高级后端工程师（第二轮） " + tok
	body := "您好，Alice：\n\n感谢您参加第一轮面试。\n" + tok + "\n"

	if err := send(t, s, sendOpts{}, from, to, subject, body); err != nil {
		t.Fatalf("sending over STARTTLS on port %d: %v", s.SMTPPort, err)
	}
	raw := waitForToken(t, s, to, tok, 30*time.Second)
	m := parse(t, raw)
	if got := decodedSubject(t, m); got != subject {
		t.Errorf("Subject = %q, want %q", got, subject)
	}
	if got := m.Header.Get("From"); !strings.Contains(got, from) {
		t.Errorf("From = %q, want %s", got, from)
	}
	if got := m.Header.Get("Delivered-To"); got != to {
		t.Errorf("Delivered-To = %q, want %s", got, to)
	}
	// Postfix records that the submission was encrypted.
	if !bytes.Contains(raw, []byte("(using TLS")) {
		t.Errorf("Received header does not show TLS:\n%s", raw)
	}
}

func TestSendImplicitTLSAsOtherSender(t *testing.T) {
	s := RequireMailServer(t)
	// Authenticated as recruiter2 but sending as recruiter: the test
	// environment has no sender-login restriction.
	login, from, to := user(t, s, "recruiter2"), user(t, s, "recruiter"), user(t, s, "bob")
	tok := token(t)
	subject := "跟进：您的申请 " + tok

	if err := send(t, s, sendOpts{implicitTLS: true, login: login}, from, to, subject, "正文 "+tok); err != nil {
		t.Fatalf("sending over implicit TLS on port %d: %v", s.SMTPSPort, err)
	}
	m := parse(t, waitForToken(t, s, to, tok, 30*time.Second))
	if got := decodedSubject(t, m); got != subject {
		t.Errorf("Subject = %q, want %q", got, subject)
	}
}

func TestWrongPasswordRefusedAtAuth(t *testing.T) {
	s := RequireMailServer(t)
	from, to := user(t, s, "recruiter"), user(t, s, "alice")
	err := send(t, s, sendOpts{password: "not-the-password"}, from, to, "never sent", "x")
	if err == nil {
		t.Fatal("sending with a wrong password succeeded")
	}
	if !strings.Contains(err.Error(), "535") {
		t.Fatalf("error = %v, want a 535 authentication failure", err)
	}
	t.Logf("refused as expected: %v", err)
}

func TestUnknownRecipientRefusedAtRCPT(t *testing.T) {
	s := RequireMailServer(t)
	from, to := user(t, s, "recruiter"), "nobody@"+s.Domain
	err := send(t, s, sendOpts{}, from, to, "to nobody", "x")
	if err == nil {
		t.Fatalf("sending to %s succeeded; want a synchronous 5xx at RCPT", to)
	}
	var se *mail.SendError
	if !errors.As(err, &se) {
		t.Fatalf("error = %v (%T), want a *mail.SendError", err, err)
	}
	if se.Reason != mail.ErrSMTPRcptTo || se.ErrorCode()/100 != 5 || se.IsTemp() {
		t.Fatalf("error = %v (reason %v, code %d, temp %v), want a permanent RCPT TO failure with 5xx", err, se.Reason, se.ErrorCode(), se.IsTemp())
	}
	t.Logf("refused as expected: %v", err)
}

func TestBounceComesBackAsDeliveryStatusReport(t *testing.T) {
	s := RequireMailServer(t)
	from := user(t, s, "recruiter")
	tok := token(t)
	if err := send(t, s, sendOpts{}, from, s.BounceAddr, "will bounce "+tok, "x"); err != nil {
		t.Fatalf("sending to %s was refused synchronously; want an asynchronous bounce: %v", s.BounceAddr, err)
	}
	// The report quotes the original headers, so it contains the token.
	start := time.Now()
	raw := waitForToken(t, s, from, tok, 30*time.Second)
	t.Logf("bounce arrived after %s", time.Since(start).Round(time.Millisecond))
	m := parse(t, raw)
	mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	if mediaType != "multipart/report" || params["report-type"] != "delivery-status" {
		t.Fatalf("Content-Type = %q, want multipart/report; report-type=delivery-status\n%s", m.Header.Get("Content-Type"), raw)
	}
	body, _ := io.ReadAll(m.Body)
	for _, want := range []string{"Final-Recipient: rfc822; " + s.BounceAddr, "Action: failed", "Status: 5."} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("delivery-status report lacks %q:\n%s", want, raw)
		}
	}
}

func TestClearMailbox(t *testing.T) {
	s := RequireMailServer(t)
	from, to := user(t, s, "recruiter"), user(t, s, "han.meimei")
	tok := token(t)
	for i := range 2 {
		if err := send(t, s, sendOpts{}, from, to, "清理测试 "+strconv.Itoa(i)+" "+tok, tok); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		found := 0
		for _, m := range s.WaitForMessages(t, to, 2, time.Until(deadline)) {
			if bytes.Contains(m, []byte(tok)) {
				found++
			}
		}
		if found == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of 2 messages arrived", found)
		}
		time.Sleep(pollInterval)
	}
	s.ClearMailbox(t, to)
	for _, m := range s.WaitForMessages(t, to, 0, time.Second) {
		if bytes.Contains(m, []byte(tok)) {
			t.Fatalf("message with %s still in INBOX after ClearMailbox", tok)
		}
	}
}

func TestIMAPImplicitTLSLogin(t *testing.T) {
	s := RequireMailServer(t)
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.IMAPSPort))
	c, err := imapclient.DialTLS(addr, &imapclient.Options{TLSConfig: s.TLSConfig()})
	if err != nil {
		t.Fatalf("IMAPS %s: %v", addr, err)
	}
	defer c.Close()
	if err := c.Login(user(t, s, "li.lei"), s.Password).Wait(); err != nil {
		t.Fatalf("IMAPS LOGIN: %v", err)
	}
	if err := c.Logout().Wait(); err != nil {
		t.Fatalf("IMAPS LOGOUT: %v", err)
	}
}

// fakeTB records Skip and Fatal instead of ending the goroutine's test.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

type stop struct{}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skip(args ...any) {
	f.skipped, f.msg = true, strings.TrimSpace(fmtArgs(args))
	panic(stop{})
}
func (f *fakeTB) Fatal(args ...any) {
	f.failed, f.msg = true, strings.TrimSpace(fmtArgs(args))
	panic(stop{})
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.Fatal(fmt.Sprintf(format, args...))
}

func (f *fakeTB) run(fn func(testing.TB)) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(stop); !ok {
				panic(r)
			}
		}
	}()
	fn(f)
}

// TestRequireMailServerWithoutEnvironment runs without any server: it checks
// that a missing environment skips, or fails under FOLLOWUP_REQUIRE_SERVERS=1,
// and that a partial one fails.
func TestRequireMailServerWithoutEnvironment(t *testing.T) {
	for _, k := range allEnv {
		t.Setenv(k, "")
	}

	t.Setenv(RequireServersEnv, "")
	f := &fakeTB{TB: t}
	f.run(func(tb testing.TB) { RequireMailServer(tb) })
	if !f.skipped || !strings.Contains(f.msg, "scripts/test.sh") {
		t.Errorf("without environment: skipped=%v failed=%v msg=%q, want a skip naming scripts/test.sh", f.skipped, f.failed, f.msg)
	}

	t.Setenv(RequireServersEnv, "1")
	f = &fakeTB{TB: t}
	f.run(func(tb testing.TB) { RequireMailServer(tb) })
	if !f.failed || f.skipped {
		t.Errorf("with %s=1: skipped=%v failed=%v msg=%q, want a failure", RequireServersEnv, f.skipped, f.failed, f.msg)
	}

	t.Setenv(RequireServersEnv, "")
	t.Setenv(EnvSMTPHost, "127.0.0.1")
	f = &fakeTB{TB: t}
	f.run(func(tb testing.TB) { RequireMailServer(tb) })
	if !f.failed || !strings.Contains(f.msg, EnvSMTPPort) {
		t.Errorf("partial environment: skipped=%v failed=%v msg=%q, want a failure naming %s", f.skipped, f.failed, f.msg, EnvSMTPPort)
	}
}

func TestRequireMailServerParsesEnvironment(t *testing.T) {
	dir := t.TempDir()
	setFakeEnv(t, dir)
	s := RequireMailServer(t)
	if s.SMTPPort != 1 || s.SMTPSPort != 2 || s.IMAPPort != 3 || s.IMAPSPort != 4 {
		t.Errorf("ports = %d %d %d %d", s.SMTPPort, s.SMTPSPort, s.IMAPPort, s.IMAPSPort)
	}
	if len(s.Users) != 2 || s.Users[1] != "b@x.test" {
		t.Errorf("Users = %q", s.Users)
	}
	if cfg := s.TLSConfig(); cfg.ServerName != ServerName || cfg.RootCAs == nil {
		t.Errorf("TLSConfig = %+v", cfg)
	}
}

// setFakeEnv points the FOLLOWUP_TEST_* environment at made-up servers and
// a freshly generated self-signed certificate in dir.
func setFakeEnv(t *testing.T, dir string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: ServerName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{ServerName},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		EnvSMTPHost: "127.0.0.1", EnvSMTPPort: "1", EnvSMTPSPort: "2", EnvIMAPPort: "3", EnvIMAPSPort: "4",
		EnvCAFile: ca, EnvDomain: "x.test", EnvPassword: "pw", EnvUsers: " a@x.test  b@x.test ",
		EnvBounceAddr: "gone@x.test", EnvMailLog: filepath.Join(dir, "log"),
	} {
		t.Setenv(k, v)
	}
}

func fmtArgs(args []any) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(fmt.Sprintf("%v", a))
	}
	return b.String()
}
