// Package testenv gives integration tests access to the real mail servers
// (Postfix for SMTP submission, Dovecot for IMAP) that scripts/test.sh starts
// through scripts/testenv/start.sh.
//
// The servers are described by FOLLOWUP_TEST_* environment variables, which
// start.sh writes to DIR/env.sh. A test asks for them with
// RequireMailServer; when they are not set the test is skipped, unless
// FOLLOWUP_REQUIRE_SERVERS=1 (set by scripts/test.sh under CI), in which case
// it fails so that CI can never silently skip the mail tests.
//
// Every test user has the same password. Mail can be sent, after SMTP AUTH,
// from any address to any user in the test domain; mail to other domains is
// refused at RCPT. Tests that read a mailbox should use a user of their own,
// or call ClearMailbox first: the mailboxes are shared by every test of a run.
package testenv

import (
	"bytes"
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// RequireServersEnv is the environment variable that turns a missing test
// server environment from a skip into a failure ("1" in CI).
const RequireServersEnv = "FOLLOWUP_REQUIRE_SERVERS"

// Environment variables written by scripts/testenv/start.sh into DIR/env.sh.
const (
	EnvSMTPHost   = "FOLLOWUP_TEST_SMTP_HOST"   // 127.0.0.1
	EnvSMTPPort   = "FOLLOWUP_TEST_SMTP_PORT"   // submission: STARTTLS and AUTH required
	EnvSMTPSPort  = "FOLLOWUP_TEST_SMTPS_PORT"  // submission over implicit TLS, AUTH required
	EnvIMAPPort   = "FOLLOWUP_TEST_IMAP_PORT"   // IMAP: STARTTLS before LOGIN
	EnvIMAPSPort  = "FOLLOWUP_TEST_IMAPS_PORT"  // IMAP over implicit TLS
	EnvCAFile     = "FOLLOWUP_TEST_CA_FILE"     // PEM of the servers' self-signed certificate
	EnvDomain     = "FOLLOWUP_TEST_DOMAIN"      // followup.test
	EnvPassword   = "FOLLOWUP_TEST_PASSWORD"    // shared by all test users
	EnvUsers      = "FOLLOWUP_TEST_USERS"       // space-separated addresses
	EnvBounceAddr = "FOLLOWUP_TEST_BOUNCE_ADDR" // accepted by Postfix, bounced by Dovecot
	EnvMailLog    = "FOLLOWUP_TEST_MAIL_LOG"    // Postfix's log file
)

var allEnv = []string{
	EnvSMTPHost, EnvSMTPPort, EnvSMTPSPort, EnvIMAPPort, EnvIMAPSPort, EnvCAFile,
	EnvDomain, EnvPassword, EnvUsers, EnvBounceAddr, EnvMailLog,
}

// ServerName is the name the test certificate is issued to (it also carries
// the IP SAN 127.0.0.1).
const ServerName = "localhost"

// MailServer describes the running test Postfix and Dovecot.
type MailServer struct {
	// Host is the address both servers listen on (127.0.0.1).
	Host string
	// SMTPPort is Postfix submission with STARTTLS; AUTH (PLAIN or LOGIN)
	// is required and only offered after STARTTLS.
	SMTPPort int
	// SMTPSPort is Postfix submission over implicit TLS; AUTH required.
	SMTPSPort int
	// IMAPPort is Dovecot IMAP; LOGIN only after STARTTLS.
	IMAPPort int
	// IMAPSPort is Dovecot IMAP over implicit TLS.
	IMAPSPort int
	// Domain is the test mail domain (followup.test); every user is in it.
	Domain string
	// Password is the password of every user in Users.
	Password string
	// Users are the addresses that can log in (SMTP and IMAP) and receive
	// mail, e.g. "alice@followup.test".
	Users []string
	// BounceAddr is accepted by Postfix at RCPT but unknown to Dovecot, so
	// mail to it comes back to the sender as a delivery-status report
	// (an asynchronous bounce), within seconds.
	BounceAddr string
	// MailLog is the path of Postfix's log, handy in failure messages.
	MailLog string
	// RootCAs holds the servers' self-signed certificate.
	RootCAs *x509.CertPool
}

// RequireMailServer returns the test mail servers described by the
// FOLLOWUP_TEST_* environment. When the environment is absent it skips the
// test, or fails it if FOLLOWUP_REQUIRE_SERVERS=1. An environment that is
// present but incomplete or invalid always fails the test.
func RequireMailServer(t testing.TB) *MailServer {
	t.Helper()
	var missing []string
	for _, k := range allEnv {
		if os.Getenv(k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) == len(allEnv) {
		msg := "testenv: no test mail servers (" + EnvSMTPHost + " etc. unset): set by scripts/test.sh; run it to start Postfix and Dovecot"
		if os.Getenv(RequireServersEnv) == "1" {
			t.Fatal(msg + " (" + RequireServersEnv + "=1, so this is a failure, not a skip)")
		}
		t.Skip(msg)
	}
	if len(missing) > 0 {
		t.Fatalf("testenv: incomplete test mail server environment, missing %s; source the env.sh written by scripts/testenv/start.sh", strings.Join(missing, ", "))
	}

	s := &MailServer{
		Host:       os.Getenv(EnvSMTPHost),
		Domain:     os.Getenv(EnvDomain),
		Password:   os.Getenv(EnvPassword),
		Users:      strings.Fields(os.Getenv(EnvUsers)),
		BounceAddr: os.Getenv(EnvBounceAddr),
		MailLog:    os.Getenv(EnvMailLog),
	}
	for _, p := range []struct {
		env string
		dst *int
	}{
		{EnvSMTPPort, &s.SMTPPort},
		{EnvSMTPSPort, &s.SMTPSPort},
		{EnvIMAPPort, &s.IMAPPort},
		{EnvIMAPSPort, &s.IMAPSPort},
	} {
		n, err := strconv.Atoi(os.Getenv(p.env))
		if err != nil || n <= 0 || n > 65535 {
			t.Fatalf("testenv: %s=%q is not a port", p.env, os.Getenv(p.env))
		}
		*p.dst = n
	}
	pem, err := os.ReadFile(os.Getenv(EnvCAFile))
	if err != nil {
		t.Fatalf("testenv: reading %s: %v", EnvCAFile, err)
	}
	s.RootCAs = x509.NewCertPool()
	if !s.RootCAs.AppendCertsFromPEM(pem) {
		t.Fatalf("testenv: %s=%s holds no PEM certificate", EnvCAFile, os.Getenv(EnvCAFile))
	}
	if len(s.Users) == 0 {
		t.Fatalf("testenv: %s is empty", EnvUsers)
	}
	return s
}

// TLSConfig returns a TLS client configuration that verifies the test
// servers' certificate. Use it for STARTTLS and implicit TLS alike.
func (s *MailServer) TLSConfig() *tls.Config {
	return &tls.Config{
		ServerName: ServerName,
		RootCAs:    s.RootCAs,
		MinVersion: tls.VersionTLS12,
	}
}

// pollInterval is how often WaitForMessages asks Dovecot for new mail.
const pollInterval = 200 * time.Millisecond

// WaitForMessages logs in to user's mailbox over IMAP (STARTTLS) and waits
// until INBOX holds at least n messages, failing the test if it still holds
// fewer after timeout. It returns the raw RFC 5322 bytes of every message in
// INBOX (which may be more than n), in UID order, without marking any of
// them \Seen.
func (s *MailServer) WaitForMessages(t testing.TB, user string, n int, timeout time.Duration) [][]byte {
	t.Helper()
	c := s.dialIMAP(t, user, timeout+30*time.Second)
	defer logout(c)

	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatalf("testenv: IMAP SELECT INBOX as %s: %v", user, err)
	}
	count := int(sel.NumMessages)
	deadline := time.Now().Add(timeout)
	for count < n {
		if time.Now().After(deadline) {
			t.Fatalf("testenv: %s has %d message(s) in INBOX after %s, want at least %d (Postfix log: %s)", user, count, timeout, n, s.MailLog)
		}
		time.Sleep(pollInterval)
		// NOOP makes Dovecot report new mail as an untagged EXISTS, which
		// the client records in its selected-mailbox state.
		if err := c.Noop().Wait(); err != nil {
			t.Fatalf("testenv: IMAP NOOP as %s: %v", user, err)
		}
		if mbox := c.Mailbox(); mbox != nil {
			count = int(mbox.NumMessages)
		}
	}
	if count == 0 {
		return nil
	}

	// UID FETCH 1:* (UID BODY.PEEK[]); Stop 0 stands for "*".
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.UIDSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{
		UID:         true,
		BodySection: []*imap.FetchItemBodySection{section},
	}).Collect()
	if err != nil {
		t.Fatalf("testenv: IMAP FETCH as %s: %v", user, err)
	}
	slices.SortFunc(msgs, func(a, b *imapclient.FetchMessageBuffer) int {
		return cmp.Compare(a.UID, b.UID)
	})
	out := make([][]byte, 0, len(msgs))
	for _, m := range msgs {
		body := m.FindBodySection(section)
		if body == nil {
			t.Fatalf("testenv: IMAP FETCH as %s: no BODY[] for UID %d", user, m.UID)
		}
		out = append(out, body)
	}
	return out
}

// ClearMailbox deletes every message in user's INBOX (STORE +FLAGS
// \Deleted, then EXPUNGE), so that a test can start from an empty mailbox.
func (s *MailServer) ClearMailbox(t testing.TB, user string) {
	t.Helper()
	c := s.dialIMAP(t, user, time.Minute)
	defer logout(c)

	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatalf("testenv: IMAP SELECT INBOX as %s: %v", user, err)
	}
	if sel.NumMessages == 0 {
		return
	}
	store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}
	// STORE 1:* +FLAGS.SILENT (\Deleted)
	if err := c.Store(imap.SeqSet{{Start: 1, Stop: 0}}, store, nil).Close(); err != nil {
		t.Fatalf("testenv: IMAP STORE \\Deleted as %s: %v", user, err)
	}
	if err := c.Expunge().Close(); err != nil {
		t.Fatalf("testenv: IMAP EXPUNGE as %s: %v", user, err)
	}
}

// dialIMAP connects to the STARTTLS IMAP port, upgrades to TLS and logs in
// as user. Every I/O on the connection must finish within limit, so a stuck
// server fails the test instead of hanging it.
func (s *MailServer) dialIMAP(t testing.TB, user string, limit time.Duration) *imapclient.Client {
	t.Helper()
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.IMAPPort))
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatalf("testenv: connecting to IMAP %s: %v", addr, err)
	}
	if err := conn.SetDeadline(time.Now().Add(limit)); err != nil {
		conn.Close()
		t.Fatalf("testenv: IMAP %s: %v", addr, err)
	}
	c, err := imapclient.NewStartTLS(conn, &imapclient.Options{TLSConfig: s.TLSConfig()})
	if err != nil {
		t.Fatalf("testenv: IMAP STARTTLS to %s: %v", addr, err)
	}
	if err := c.Login(user, s.Password).Wait(); err != nil {
		c.Close()
		t.Fatalf("testenv: IMAP LOGIN as %s at %s: %v", user, addr, err)
	}
	return c
}

func logout(c *imapclient.Client) {
	_ = c.Logout().Wait()
	_ = c.Close()
}

// String describes the servers, for log lines.
func (s *MailServer) String() string {
	return fmt.Sprintf("smtp %s:%d (smtps %d), imap %s:%d (imaps %d), domain %s",
		s.Host, s.SMTPPort, s.SMTPSPort, s.Host, s.IMAPPort, s.IMAPSPort, s.Domain)
}

// RestartIMAP stops Dovecot, waits down seconds, and starts it again (the
// same configuration, mail kept), so tests can check that clients reconnect
// and catch up. Postfix's deliveries wait in its queue meanwhile.
func (s *MailServer) RestartIMAP(t testing.TB, down time.Duration) {
	t.Helper()
	dir := os.Getenv("FOLLOWUP_TEST_DIR")
	if dir == "" {
		t.Skip("testenv: FOLLOWUP_TEST_DIR is not set; cannot restart Dovecot")
	}
	conf := dir + "/dovecot.conf"
	if out, err := exec.Command("dovecot", "-c", conf, "stop").CombinedOutput(); err != nil {
		t.Fatalf("stopping dovecot: %v: %s", err, out)
	}
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.IMAPPort))
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) { // wait until it is really gone
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(down)
	cmd := exec.Command("dovecot", "-c", conf)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	if err := cmd.Run(); err != nil {
		t.Fatalf("starting dovecot again: %v", err)
	}
	for time.Now().Before(deadline.Add(15 * time.Second)) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("dovecot did not come back")
}

// DrainPostfix waits until the test Postfix's queue is empty, so that a
// benchmark starts with nothing queued ahead of it; without
// FOLLOWUP_TEST_DIR it returns at once.
func DrainPostfix(t testing.TB) {
	t.Helper()
	dir := os.Getenv("FOLLOWUP_TEST_DIR")
	if dir == "" {
		return
	}
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		out, err := exec.Command("postqueue", "-c", filepath.Join(dir, "postfix"), "-j").Output()
		if err != nil {
			t.Logf("cannot read the Postfix queue: %v", err)
			return
		}
		if len(bytes.TrimSpace(out)) == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("the Postfix queue did not drain within 3 minutes")
}
