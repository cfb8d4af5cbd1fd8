package mailer

import (
	"bytes"
	"io"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Captured is a message a Sandbox accepted.
type Captured struct {
	From string
	To   []string
	Data []byte
	At   time.Time
}

// Fault lets a test make the sandbox misbehave: return an *smtp.SMTPError
// to refuse, or block to simulate a server that never answers.
type Fault func(stage, arg string) error

// Sandbox is an in-process SMTP server that accepts and keeps every message.
// `followup demo` sends to it, and tests use it as a fast SMTP peer. It
// accepts any AUTH PLAIN login.
type Sandbox struct {
	srv *smtp.Server
	ln  net.Listener

	mu       sync.Mutex
	messages []Captured
	fault    Fault
	arrived  chan struct{}
	discard  bool
}

// StartSandbox listens on addr ("127.0.0.1:0" for any free port).
func StartSandbox(addr string) (*Sandbox, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Sandbox{ln: ln, arrived: make(chan struct{}, 1)}
	s.srv = smtp.NewServer(s)
	s.srv.Domain = "sandbox.followup.local"
	s.srv.AllowInsecureAuth = true
	s.srv.MaxMessageBytes = 25 << 20
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Discard makes the sandbox count messages without keeping their bytes
// (for benchmarks).
func (s *Sandbox) Discard() { s.mu.Lock(); s.discard = true; s.mu.Unlock() }

// Addr is the listening address.
func (s *Sandbox) Addr() *net.TCPAddr { return s.ln.Addr().(*net.TCPAddr) }

// SetFault installs (or with nil removes) a fault.
func (s *Sandbox) SetFault(f Fault) { s.mu.Lock(); s.fault = f; s.mu.Unlock() }

// Messages returns what was accepted so far.
func (s *Sandbox) Messages() []Captured {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Captured(nil), s.messages...)
}

// Count is the number of accepted messages.
func (s *Sandbox) Count() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.messages) }

// Arrived is signalled (non-blocking, coalesced) after each accepted message.
func (s *Sandbox) Arrived() <-chan struct{} { return s.arrived }

// Close stops the server. The listener is closed here too: go-smtp only
// closes listeners its Serve goroutine has registered, which may not have
// happened yet.
func (s *Sandbox) Close() error {
	_ = s.ln.Close()
	return s.srv.Close()
}

func (s *Sandbox) check(stage, arg string) error {
	s.mu.Lock()
	f := s.fault
	s.mu.Unlock()
	if f == nil {
		return nil
	}
	return f(stage, arg)
}

// NewSession implements smtp.Backend.
func (s *Sandbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &sandboxSession{s: s}, nil }

type sandboxSession struct {
	s    *Sandbox
	from string
	to   []string
}

func (ss *sandboxSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *sandboxSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, _ string) error {
		return ss.s.check("AUTH", user)
	}), nil
}

func (ss *sandboxSession) Mail(from string, _ *smtp.MailOptions) error {
	if err := ss.s.check("MAIL", from); err != nil {
		return err
	}
	ss.from = from
	return nil
}

func (ss *sandboxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ss.s.check("RCPT", to); err != nil {
		return err
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *sandboxSession) Data(r io.Reader) error {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		return err
	}
	if err := ss.s.check("DATA", ss.from); err != nil {
		return err
	}
	s := ss.s
	s.mu.Lock()
	c := Captured{From: ss.from, To: ss.to, At: time.Now()}
	if !s.discard {
		c.Data = buf.Bytes()
	}
	s.messages = append(s.messages, c)
	s.mu.Unlock()
	select {
	case s.arrived <- struct{}{}:
	default:
	}
	return nil
}

func (ss *sandboxSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *sandboxSession) Logout() error { return nil }

// ErrSandboxRefused is a ready-made permanent refusal for tests.
var ErrSandboxRefused = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable"}

// ErrSandboxPolicy is a ready-made policy refusal (not about the address).
var ErrSandboxPolicy = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "rejected by policy"}

// ErrSandboxBusy is a ready-made transient refusal for tests.
var ErrSandboxBusy = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
