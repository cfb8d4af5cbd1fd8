package inbox

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// SentArchive appends a copy of every message Followup sends to the
// mailbox's Sent folder, so the recruiter sees whole threads in their own
// mail client. Gmail (and Microsoft 365 for SMTP AUTH) file SMTP-sent mail
// in Sent themselves: turn this on only for providers that do not (Tencent
// Exmail and NetEase leave it to a client setting, plain Dovecot never
// does). Copies are queued and written by one connection in the background;
// a copy that cannot be written is logged, never retried into a loop, and
// never delays sending.
type SentArchive struct {
	Server  Server
	Folder  string // "" finds it: SPECIAL-USE \Sent (RFC 6154), then common names
	Log     *slog.Logger
	Version string

	queue chan []byte
}

// sentNames are tried, in order, when the server does not mark a folder \Sent.
var sentNames = []string{"Sent", "Sent Messages", "Sent Items", "Sent Mail", "已发送", "已发送邮件", "INBOX.Sent", "INBOX/Sent"}

// Save queues a raw message for the Sent folder; it never blocks.
func (a *SentArchive) Save(raw []byte) {
	select {
	case a.queue <- raw:
	default:
		a.Log.Warn("sent-folder copy dropped: the queue is full")
	}
}

// Run writes queued copies until ctx is cancelled.
func (a *SentArchive) Run(ctx context.Context) {
	var c *imapclient.Client
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case raw := <-a.queue:
			for attempt := 0; attempt < 2; attempt++ {
				if c == nil {
					var err error
					if c, err = Dial(ctx, a.Server, a.Version, nil); err != nil {
						a.Log.Warn("sent-folder copy: cannot connect", "err", err)
						c = nil
						break
					}
					if a.Folder == "" {
						if a.Folder, err = findSent(ctx, c, a.Server.Timeout); err != nil {
							a.Log.Warn("sent-folder copy: no Sent folder", "err", err)
							c.Close()
							c = nil
							break
						}
					}
				}
				if err := appendTo(ctx, c, a.Server.Timeout, a.Folder, raw); err != nil {
					a.Log.Warn("sent-folder copy failed", "folder", a.Folder, "err", err)
					c.Close()
					c = nil
					continue // once more on a fresh connection
				}
				break
			}
		}
	}
}

// NewSentArchive prepares an archive with a queue of queueLen messages.
func NewSentArchive(s Server, folder, version string, log *slog.Logger, queueLen int) *SentArchive {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if s.Timeout <= 0 {
		s.Timeout = 30 * time.Second
	}
	return &SentArchive{Server: s, Folder: folder, Log: log, Version: version, queue: make(chan []byte, queueLen)}
}

func findSent(ctx context.Context, c *imapclient.Client, timeout time.Duration) (string, error) {
	var list []*imap.ListData
	err := timed(ctx, c, timeout, func() error {
		var opts *imap.ListOptions
		if c.Caps().Has(imap.CapSpecialUse) {
			opts = &imap.ListOptions{ReturnSpecialUse: true}
		}
		var err error
		list, err = c.List("", "*", opts).Collect()
		return err
	})
	if err != nil {
		return "", err
	}
	for _, l := range list {
		for _, attr := range l.Attrs {
			if attr == imap.MailboxAttrSent {
				return l.Mailbox, nil
			}
		}
	}
	for _, n := range sentNames {
		for _, l := range list {
			if strings.EqualFold(l.Mailbox, n) {
				return l.Mailbox, nil
			}
		}
	}
	return "", fmt.Errorf("none of the %d folders is marked \\Sent or named like one; set imap.sent_folder", len(list))
}

func appendTo(ctx context.Context, c *imapclient.Client, timeout time.Duration, folder string, raw []byte) error {
	return timed(ctx, c, timeout, func() error {
		cmd := c.Append(folder, int64(len(raw)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagSeen}, Time: time.Now()})
		if _, err := bytes.NewReader(raw).WriteTo(cmd); err != nil {
			cmd.Close()
			return err
		}
		if err := cmd.Close(); err != nil {
			return err
		}
		_, err := cmd.Wait()
		return err
	})
}
