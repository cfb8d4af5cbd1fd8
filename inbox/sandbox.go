package inbox

import (
	"io"
	"log"
	"net"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// Sandbox is an in-process IMAP server holding one mailbox: `followup demo`
// delivers candidates' replies into it so they go through the real inbox
// path, and tests use it as a fast IMAP peer. Plain text, loopback only.
type Sandbox struct {
	srv        *imapserver.Server
	ln         net.Listener
	user, pass string
}

// StartSandbox listens on addr ("127.0.0.1:0" for any free port) with one
// user whose INBOX is empty.
func StartSandbox(addr, user, pass string) (*Sandbox, error) {
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(user, pass)
	if err := u.Create("INBOX", nil); err != nil {
		return nil, err
	}
	mem.AddUser(u)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Sandbox{ln: ln, user: user, pass: pass}
	s.srv = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0),
	})
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the listening address.
func (s *Sandbox) Addr() *net.TCPAddr { return s.ln.Addr().(*net.TCPAddr) }

// Deliver appends a raw message (LF or CRLF line ends) to the INBOX, as an
// MTA delivering mail would.
func (s *Sandbox) Deliver(raw string) error {
	c, err := imapclient.DialInsecure(s.ln.Addr().String(), nil)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Login(s.user, s.pass).Wait(); err != nil {
		return err
	}
	raw = strings.ReplaceAll(strings.ReplaceAll(raw, "\r\n", "\n"), "\n", "\r\n")
	cmd := c.Append("INBOX", int64(len(raw)), nil)
	if _, err := cmd.Write([]byte(raw)); err != nil {
		return err
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	_, err = cmd.Wait()
	return err
}

// Close stops the server.
func (s *Sandbox) Close() error {
	_ = s.ln.Close()
	return s.srv.Close()
}
