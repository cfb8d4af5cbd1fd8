package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"

	"github.com/emersion/go-msgauth/dkim"

	"encoding/base64"
	"fmt"
	"followup/web"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"followup/internal/testenv"
	"followup/sequences"
)

// TestSendThroughPostfix runs sequence steps through a real MTA: Postfix
// submission with STARTTLS and with implicit TLS, SMTP AUTH checked by
// Dovecot, delivery over LMTP, and the messages read back over IMAP.
func TestSendThroughPostfix(t *testing.T) {
	srv := testenv.RequireMailServer(t)
	tp := &testProject{t: t, dir: t.TempDir(), now: time.Now()}
	if out, err := tp.run("init", tp.dir, "--force"); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	ca := os.Getenv(testenv.EnvCAFile)
	// DKIM: a fresh RSA key; its public half is what DNS would publish.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	tp.write("dkim.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	dnsTXT := "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(pub)
	// The web server for one-click unsubscribes, reachable at its URL.
	var webHandler http.Handler
	ws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { webHandler.ServeHTTP(w, r) }))
	defer ws.Close()
	secret := strings.Repeat("k", 40)
	tp.write("followup.yaml", fmt.Sprintf(`company: "示例科技"
http: {public_url: %[6]s, secret_env: FOLLOWUP_TEST_WEB_SECRET}
sending:
  window: {days: [mon, tue, wed, thu, fri, sat, sun], start: "00:00", end: "24:00"}
mailboxes:
  - name: starttls
    from: "王敏 <recruiter@%[1]s>"
    signature: "{{.sender_name}} · 招聘经理"
    smtp: {host: %[2]s, port: %[3]d, tls: starttls, username: recruiter@%[1]s, password_env: FOLLOWUP_TEST_PASSWORD, ca_file: %[4]s}
    dkim: {selector: fu2026, private_key_file: dkim.pem}
  - name: implicit
    from: "Wang Min <recruiter2@%[1]s>"
    smtp: {host: %[2]s, port: %[5]d, tls: implicit, username: recruiter2@%[1]s, password_env: FOLLOWUP_TEST_PASSWORD, ca_file: %[4]s}
`, srv.Domain, srv.Host, srv.SMTPPort, ca, srv.SMTPSPort, ws.URL))
	tp.getenv = func(k string) string {
		if k == "FOLLOWUP_TEST_WEB_SECRET" {
			return secret
		}
		return os.Getenv(k)
	}
	for _, u := range []string{"alice@" + srv.Domain, "bob@" + srv.Domain} {
		srv.ClearMailbox(t, u)
	}
	enroll := func(email, name, lang, mailbox string) {
		tp.mustRun("enroll", email, "-s", "rejected-after-interview", "-n", name, "-l", lang, "-m", mailbox,
			"-f", "job_title=高级后端工程师", "-f", "strengths=系统设计思路清晰", "-f", "gaps=大规模故障排查经验少")
	}
	enroll("alice@"+srv.Domain, "李雷", "zh-CN", "starttls")
	enroll("bob@"+srv.Domain, "Bob Smith", "en", "implicit")
	enroll("nobody@"+srv.Domain, "Nobody", "en", "starttls") // unknown to Postfix: refused at RCPT

	w := tp.wire(tp.now)
	db, clock, sched := w.db, w.clock, w.sched
	webSrv, err := web.New(db, []byte(secret), nil)
	if err != nil {
		t.Fatal(err)
	}
	webHandler = webSrv.Handler()
	for _, d := range []time.Duration{4 * time.Hour, 7 * 24 * time.Hour} {
		clock.Advance(d)
		res, err := sched.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("after %v: %+v", d, res)
	}

	tl, err := db.Timeline(context.Background(), "nobody@"+srv.Domain)
	if err != nil {
		t.Fatal(err)
	}
	if tl.Enrollments[0].Status != sequences.Failed || tl.Candidate.UndeliverableReason == "" {
		t.Errorf("unknown recipient: status %s, undeliverable %q", tl.Enrollments[0].Status, tl.Candidate.UndeliverableReason)
	}

	tests := []struct {
		user, from, subject string
		bodyHas             []string
	}{
		{"alice", "recruiter@" + srv.Domain, "高级后端工程师面试反馈", []string{"李雷，您好", "系统设计思路清晰", "王敏 · 招聘经理"}},
		{"bob", "recruiter2@" + srv.Domain, "Feedback on your 高级后端工程师 interview", []string{"Hi Bob Smith,", "大规模故障排查经验少"}},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			raw := srv.WaitForMessages(t, tt.user+"@"+srv.Domain, 2, 60*time.Second)
			if len(raw) != 2 {
				t.Fatalf("%d messages delivered, want 2", len(raw))
			}
			tl, err := db.Timeline(context.Background(), tt.user+"@"+srv.Domain)
			if err != nil {
				t.Fatal(err)
			}
			first, second := parseMail(t, raw[0]), parseMail(t, raw[1])
			if got := decode(t, first.Header.Get("Subject")); got != tt.subject {
				t.Errorf("subject %q, want %q", got, tt.subject)
			}
			if got := decode(t, second.Header.Get("Subject")); got != "Re: "+tt.subject {
				t.Errorf("reply subject %q", got)
			}
			if got, want := first.Header.Get("Message-Id"), "<"+tl.Messages[0].MessageID+">"; got != want {
				t.Errorf("Message-ID %q, the send record says %q", got, want)
			}
			if second.Header.Get("In-Reply-To") != first.Header.Get("Message-Id") || second.Header.Get("References") != first.Header.Get("Message-Id") {
				t.Errorf("threading: In-Reply-To %q References %q, want %q", second.Header.Get("In-Reply-To"), second.Header.Get("References"), first.Header.Get("Message-Id"))
			}
			if from, err := first.Header.AddressList("From"); err != nil || from[0].Address != tt.from {
				t.Errorf("From %q: %v", first.Header.Get("From"), err)
			}
			text, html := parts(t, first)
			for _, want := range tt.bodyHas {
				if !strings.Contains(text, want) || !strings.Contains(html, want) {
					t.Errorf("a part lacks %q:\ntext: %s\nhtml: %s", want, text, html)
				}
			}
			if first.Header.Get("Received") == "" {
				t.Error("no Received header: the message did not go through Postfix")
			}
			if lu := first.Header.Get("List-Unsubscribe"); !strings.HasPrefix(lu, "<"+ws.URL+"/u/") || !strings.Contains(lu, "<mailto:") ||
				first.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
				t.Errorf("List-Unsubscribe %q", lu)
			}
			if tt.user == "alice" { // the mailbox with a DKIM key
				vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw[0]), &dkim.VerifyOptions{LookupTXT: func(domain string) ([]string, error) {
					if domain != "fu2026._domainkey."+srv.Domain {
						return nil, fmt.Errorf("no TXT record for %s", domain)
					}
					return []string{dnsTXT}, nil
				}})
				if err != nil || len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != srv.Domain {
					t.Errorf("DKIM after Postfix and Dovecot: %+v %v", vs, err)
				}
				// The candidate's mail client unsubscribes in one click.
				lu := first.Header.Get("List-Unsubscribe")
				resp, err := http.Post(lu[1:strings.Index(lu, ">")], "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("one-click POST: %v %v", resp, err)
				}
				resp.Body.Close()
				if list, _ := db.Suppressions(context.Background()); len(list) != 1 || list[0].Email != "alice@"+srv.Domain {
					t.Errorf("suppressions after the one-click POST: %+v", list)
				}
			}
		})
	}
}

func (tp *testProject) env() *runEnv {
	return &runEnv{ctx: context.Background(), stdout: io.Discard, stderr: io.Discard, getenv: tp.getenvOr(), configPath: filepath.Join(tp.dir, "followup.yaml"), now: func() time.Time { return tp.now }}
}

func decodeTransfer(cte string, r io.Reader) io.Reader {
	if strings.EqualFold(cte, "base64") {
		return base64.NewDecoder(base64.StdEncoding, r)
	}
	return r
}

func parseMail(t *testing.T, raw []byte) *mail.Message {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func decode(t *testing.T, h string) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// parts returns the decoded text/plain and text/html parts of a
// multipart/alternative message.
func parts(t *testing.T, m *mail.Message) (text, html string) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q", m.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // decodes quoted-printable; base64 below
		if err == io.EOF {
			return text, html
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(decodeTransfer(p.Header.Get("Content-Transfer-Encoding"), p))
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			text = string(body)
		case "text/html":
			html = string(body)
		}
	}
}
