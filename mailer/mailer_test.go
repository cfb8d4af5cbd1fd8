package mailer

import (
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"
)

func sandbox(t *testing.T) *Sandbox {
	t.Helper()
	s, err := StartSandbox("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func sandboxMailer(t *testing.T, s *Sandbox, timeout time.Duration) *Mailer {
	m := New(Config{Host: "127.0.0.1", Port: s.Addr().Port, TLS: TLSNone, Username: "u", Password: "p", Timeout: timeout}, nil)
	t.Cleanup(func() { m.Close() })
	return m
}

func testMessage() *Message {
	return &Message{
		From:       mail.Address{Name: "王敏", Address: "wangmin@acme.test"},
		To:         mail.Address{Name: "李雷", Address: "li.lei@example.test"},
		Subject:    "关于高级工程师面试的反馈 — thank you",
		Text:       "李雷，您好：\n\n感谢您参加面试。\n",
		HTML:       "<p>李雷，您好：</p><p>感谢您参加面试。</p>",
		MessageID:  "abc123.1@acme.test",
		InReplyTo:  "abc123.0@acme.test",
		References: []string{"abc123.0@acme.test"},
		Date:       time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
	}
}

func TestSendDeliversWellFormedMessage(t *testing.T) {
	s := sandbox(t)
	m := sandboxMailer(t, s, 5*time.Second)
	if err := m.Send(context.Background(), testMessage()); err != nil {
		t.Fatal(err)
	}
	got := s.Messages()
	if len(got) != 1 {
		t.Fatalf("captured %d messages", len(got))
	}
	if got[0].From != "wangmin@acme.test" || len(got[0].To) != 1 || got[0].To[0] != "li.lei@example.test" {
		t.Errorf("envelope %q -> %q", got[0].From, got[0].To)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(got[0].Data)))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	subj, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subj != "关于高级工程师面试的反馈 — thank you" {
		t.Errorf("subject %q decodes to %q, %v", msg.Header.Get("Subject"), subj, err)
	}
	checks := map[string]string{"Message-Id": "<abc123.1@acme.test>", "In-Reply-To": "<abc123.0@acme.test>", "References": "<abc123.0@acme.test>"}
	for h, want := range checks {
		if got := msg.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	from, err := msg.Header.AddressList("From")
	if err != nil || from[0].Name != "王敏" {
		t.Errorf("From %q parses to %v, %v", msg.Header.Get("From"), from, err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q", msg.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var types []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		types = append(types, ct)
		if p.Header.Get("Content-Transfer-Encoding") != "base64" {
			t.Errorf("%s part uses %q; Chinese text should be base64", ct, p.Header.Get("Content-Transfer-Encoding"))
		}
	}
	if strings.Join(types, ",") != "text/plain,text/html" {
		t.Errorf("parts %v", types)
	}
}

func TestSendVerdicts(t *testing.T) {
	tests := []struct {
		name    string
		fault   Fault
		timeout time.Duration
		want    Verdict
	}{
		{"recipient refused", func(stage, _ string) error {
			if stage == "RCPT" {
				return ErrSandboxRefused
			}
			return nil
		}, 5 * time.Second, Permanent},
		{"recipient greylisted", func(stage, _ string) error {
			if stage == "RCPT" {
				return ErrSandboxBusy
			}
			return nil
		}, 5 * time.Second, Transient},
		{"content refused at end of DATA", func(stage, _ string) error {
			if stage == "DATA" {
				return ErrSandboxRefused
			}
			return nil
		}, 5 * time.Second, Rejected},
		{"recipient refused by policy", func(stage, _ string) error {
			if stage == "RCPT" {
				return ErrSandboxPolicy
			}
			return nil
		}, 5 * time.Second, Rejected},
		{"sender refused", func(stage, _ string) error {
			if stage == "MAIL" {
				return ErrSandboxRefused
			}
			return nil
		}, 5 * time.Second, MailboxDown},
		{"login refused", func(stage, _ string) error {
			if stage == "AUTH" {
				return errors.New("bad password")
			}
			return nil
		}, 5 * time.Second, MailboxDown},
		{"no reply after DATA", func(stage, _ string) error {
			if stage == "DATA" {
				time.Sleep(1500 * time.Millisecond)
			}
			return nil
		}, 500 * time.Millisecond, Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sandbox(t)
			s.SetFault(tt.fault)
			m := sandboxMailer(t, s, tt.timeout)
			err := m.Send(context.Background(), testMessage())
			var me *Error
			if !errors.As(err, &me) || me.Verdict != tt.want {
				t.Fatalf("err = %v, want verdict %v", err, tt.want)
			}
			// The mailer recovers: the next message goes through.
			s.SetFault(nil)
			if err := m.Send(context.Background(), testMessage()); err != nil {
				t.Errorf("send after %s: %v", tt.name, err)
			}
		})
	}
}

func TestServerDownIsMailboxDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there now
	m := New(Config{Host: "127.0.0.1", Port: port, TLS: TLSNone, Timeout: time.Second}, nil)
	err = m.Send(context.Background(), testMessage())
	var me *Error
	if !errors.As(err, &me) || me.Verdict != MailboxDown {
		t.Fatalf("err = %v, want mailbox-down", err)
	}
}

func TestHeaderInjectionRefused(t *testing.T) {
	s := sandbox(t)
	m := sandboxMailer(t, s, time.Second)
	for _, mod := range []func(*Message){
		func(m *Message) { m.Subject = "Hi\r\nBcc: victim@example.test" },
		func(m *Message) { m.To.Name = "Li\nBcc: victim@example.test" },
		func(m *Message) { m.InReplyTo = "x@y\r\nX-Evil: 1" },
	} {
		msg := testMessage()
		mod(msg)
		err := m.Send(context.Background(), msg)
		var me *Error
		if !errors.As(err, &me) || me.Verdict != Rejected || !strings.Contains(err.Error(), "line break") {
			t.Errorf("err = %v, want the message rejected for header injection", err)
		}
	}
	if n := s.Count(); n != 0 {
		t.Errorf("%d messages reached the server", n)
	}
}

func TestDKIMSignsEveryMessage(t *testing.T) {
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := sandbox(t)
	m := New(Config{Host: "127.0.0.1", Port: s.Addr().Port, TLS: TLSNone, Timeout: 5 * time.Second,
		DKIM: gomail.NewDKIMSigner("acme.test", "followup2026", key)}, nil)
	t.Cleanup(func() { m.Close() })
	if err := m.Send(context.Background(), testMessage()); err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(s.Messages()[0].Data)))
	if err != nil {
		t.Fatal(err)
	}
	sig := msg.Header.Get("Dkim-Signature")
	for _, want := range []string{"d=acme.test", "s=followup2026", "a=ed25519-sha256", "b="} {
		if !strings.Contains(strings.ReplaceAll(sig, " ", ""), want) {
			t.Errorf("DKIM-Signature %q lacks %q", sig, want)
		}
	}
}
