package mailer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLSMode is how the connection is secured.
type TLSMode string

// TLS modes.
const (
	TLSImplicit TLSMode = "implicit" // SMTPS, usually port 465
	TLSStartTLS TLSMode = "starttls" // STARTTLS required, usually port 587
	TLSNone     TLSMode = "none"     // plain text: only for a local relay
)

// Config is one mailbox's SMTP settings.
type Config struct {
	Host     string
	Port     int
	TLS      TLSMode
	Username string
	Password string
	// Timeout bounds connecting and each command; a reply to the end of
	// DATA that takes longer makes the message "unknown".
	Timeout time.Duration
	HELO    string
	RootCAs *x509.CertPool // nil: the system roots
	// Connections is the number of SMTP connections kept open (one per
	// sending worker; go-mail serializes sends on a connection).
	Connections int
	// IdleTimeout closes a connection unused that long; servers drop idle
	// clients (often after 60 s) and a stale connection would fail.
	IdleTimeout time.Duration
	// DKIM, if set, signs every message (RFC 6376).
	DKIM *gomail.DKIMSigner
}

// Mailer sends through one SMTP server over a small pool of connections.
type Mailer struct {
	cfg  Config
	log  *slog.Logger
	pool chan *conn
}

type conn struct {
	client   *gomail.Client
	lastUsed time.Time
	open     bool
}

// New returns a mailer; it connects lazily, so a server that is down at
// start-up only delays sending.
func New(cfg Config, log *slog.Logger) *Mailer {
	if cfg.Connections < 1 {
		cfg.Connections = 1
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Second
	}
	m := &Mailer{cfg: cfg, log: log, pool: make(chan *conn, cfg.Connections)}
	for i := 0; i < cfg.Connections; i++ {
		m.pool <- &conn{}
	}
	return m
}

func (m *Mailer) options() []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(m.cfg.Port),
		gomail.WithTimeout(m.cfg.Timeout),
		// Each send still extends the deadline; the NOOP before every
		// message is replaced by closing connections idle too long.
		gomail.WithoutNoop(),
		gomail.WithTLSConfig(&tls.Config{ServerName: m.cfg.Host, RootCAs: m.cfg.RootCAs, MinVersion: tls.VersionTLS12}),
	}
	switch m.cfg.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if m.cfg.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover // the strongest the server offers
		if m.cfg.TLS == TLSNone {
			// go-mail refuses to send a password in clear; "none" exists
			// only for a relay on the same machine, so allow it there.
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth),
			gomail.WithUsername(m.cfg.Username), gomail.WithPassword(m.cfg.Password))
	}
	if m.cfg.HELO != "" {
		opts = append(opts, gomail.WithHELO(m.cfg.HELO))
	}
	if m.cfg.DKIM != nil {
		opts = append(opts, gomail.WithAlwaysDKIMSign(m.cfg.DKIM))
	}
	return opts
}

// Send delivers one message. A nil error means the server accepted it; any
// other error is an *Error carrying the verdict.
func (m *Mailer) Send(ctx context.Context, msg *Message) error {
	built, err := msg.Build()
	if err != nil {
		// The message itself is unusable (a header that cannot be built):
		// not the address's fault.
		return &Error{Verdict: Rejected, Stage: "preparing", Err: err}
	}
	return m.SendBuilt(ctx, built)
}

// SendBuilt delivers an already built go-mail message.
func (m *Mailer) SendBuilt(ctx context.Context, built *gomail.Msg) error {
	var c *conn
	select {
	case c = <-m.pool: // a free connection wins over a cancelled context
	default:
		select {
		case c = <-m.pool:
		case <-ctx.Done():
			return &Error{Verdict: MailboxDown, Stage: "waiting for a connection", Err: ctx.Err()}
		}
	}
	defer func() { m.pool <- c }()
	if c.open && time.Since(c.lastUsed) > m.cfg.IdleTimeout {
		m.closeConn(c)
	}
	if !c.open {
		if err := m.dial(ctx, c); err != nil {
			return err
		}
	}
	err := c.client.Send(built)
	c.lastUsed = time.Now()
	if err == nil {
		return nil
	}
	e := classify(err)
	if e == nil { // delivered; the RSET after it failed
		m.closeConn(c)
		return nil
	}
	if e.Code == 0 || e.Verdict == MailboxDown || e.Verdict == Unknown {
		m.closeConn(c) // the connection is in an unknown state
	}
	return e
}

func (m *Mailer) dial(ctx context.Context, c *conn) error {
	client, err := gomail.NewClient(m.cfg.Host, m.options()...)
	if err != nil {
		return &Error{Verdict: MailboxDown, Stage: "configuring", Err: err}
	}
	if err := client.DialWithContext(ctx); err != nil {
		return &Error{Verdict: MailboxDown, Stage: "connect", Code: replyCode(err),
			Err: fmt.Errorf("connecting to %s:%d: %w", m.cfg.Host, m.cfg.Port, err)}
	}
	c.client, c.open, c.lastUsed = client, true, time.Now()
	return nil
}

func replyCode(err error) int {
	s := err.Error()
	for i := 0; i+3 <= len(s); i++ {
		if (s[i] == '4' || s[i] == '5') && isDigit(s[i+1]) && isDigit(s[i+2]) && (i == 0 || s[i-1] == ' ') && (i+3 == len(s) || s[i+3] == ' ' || s[i+3] == '-') {
			return int(s[i]-'0')*100 + int(s[i+1]-'0')*10 + int(s[i+2]-'0')
		}
	}
	return 0
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func (m *Mailer) closeConn(c *conn) {
	if c.client != nil {
		_ = c.client.Close()
	}
	c.client, c.open = nil, false
}

// Close closes every pooled connection.
func (m *Mailer) Close() error {
	var errs []error
	for i := 0; i < cap(m.pool); i++ {
		c := <-m.pool
		if c.client != nil && c.open {
			errs = append(errs, c.client.Close())
		}
		c.client, c.open = nil, false
		m.pool <- c
	}
	return errors.Join(errs...)
}
