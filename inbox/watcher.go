package inbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Server is how to reach and log in to an IMAP server.
type Server struct {
	Host     string
	Port     int
	TLS      string // implicit, starttls or none
	Username string
	Password string
	Timeout  time.Duration  // connecting and each command
	RootCAs  *x509.CertPool // nil: the system roots
}

// Watcher reads one mailbox folder over IMAP and records every message
// about a candidate exactly once. It never changes the mailbox: the folder
// is opened read-only (EXAMINE) and bodies are fetched with BODY.PEEK, so
// nothing is marked read, moved or deleted.
type Watcher struct {
	Name   string // the mailbox's name in the config
	Server Server
	Folder string
	// Poll is how often to look for new mail when the server has no IDLE;
	// with IDLE it is how often the connection is checked (timed NOOP).
	Poll time.Duration
	// Own are the recruiters' own addresses: mail from them is not a reply.
	Own   []string
	Store Store
	// OnReply decides whether a reply stops or pauses, from the pinned
	// sequence version of the enrollment it answers ("stop" or "pause").
	OnReply func(ctx context.Context, versionID int64) string
	Rules   Rules
	Log     *slog.Logger
	Version string // sent in the ID command
	// MaxBytes is how much of a message is fetched; attachments beyond it
	// are never downloaded.
	MaxBytes int64
	// Processed, if set, is called after each message is handled.
	Processed func(in Inbound, recorded bool)
	// Notify, if set, tells the recruiter about a candidate's answer (a
	// reply, not interested, unsubscribe) once it is recorded.
	Notify func(ctx context.Context, in Inbound) error

	reqOnce  sync.Once
	syncReq  chan chan error // Fresh asks the session for a sync now
	lastSync atomic.Int64    // unix nanoseconds of the last complete sync
	online   atomic.Bool     // logged in with the folder open
}

// Connected reports whether the watcher is logged in with its folder open
// right now (readiness and metrics).
func (w *Watcher) Connected() bool { return w.online.Load() }

func (w *Watcher) requests() chan chan error {
	w.reqOnce.Do(func() { w.syncReq = make(chan chan error) })
	return w.syncReq
}

// LastSync is when the mailbox was last read completely.
func (w *Watcher) LastSync() time.Time {
	n := w.lastSync.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// ErrNotWatching is returned by Fresh when the mailbox cannot be read now.
var ErrNotWatching = errors.New("the mailbox is not being read right now")

// Fresh makes sure the mailbox was read at most maxAge ago, reading it now
// if needed: the scheduler's guard against sending a follow-up to someone
// whose reply is sitting unread in the recruiter's inbox.
func (w *Watcher) Fresh(ctx context.Context, maxAge time.Duration) error {
	if last := w.LastSync(); !last.IsZero() && time.Since(last) <= maxAge {
		return nil
	}
	reply := make(chan error, 1)
	wait := 2 * w.Server.Timeout
	if wait <= 0 {
		wait = time.Minute
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case w.requests() <- reply:
	case <-t.C:
		return ErrNotWatching
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-t.C:
		return ErrNotWatching
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run watches until ctx is cancelled, reconnecting with backoff.
func (w *Watcher) Run(ctx context.Context) error {
	w.defaults()
	backoff := time.Second
	for {
		start := time.Now()
		err := w.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > 2*time.Minute {
			backoff = time.Second
		}
		w.Log.Warn("mailbox connection lost; reconnecting", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Minute)
	}
}

func (w *Watcher) defaults() {
	if w.Log == nil {
		w.Log = slog.New(slog.DiscardHandler)
	}
	w.Log = w.Log.With("mailbox", w.Name)
	if w.Folder == "" {
		w.Folder = "INBOX"
	}
	if w.Poll <= 0 {
		w.Poll = time.Minute
	}
	if w.Server.Timeout <= 0 {
		w.Server.Timeout = 30 * time.Second
	}
	if w.MaxBytes <= 0 {
		w.MaxBytes = 2 << 20
	}
	if w.Rules.Unsubscribe == nil && w.Rules.NotInterested == nil {
		w.Rules = DefaultRules()
	}
}

// Dial connects and logs in: TLS or STARTTLS as configured, then ID when
// the server advertises it (RFC 2971; NetEase 163/126 refuse SELECT
// without it).
func Dial(ctx context.Context, s Server, version string, onNewMail func()) (*imapclient.Client, error) {
	opts := &imapclient.Options{
		TLSConfig: &tls.Config{ServerName: s.Host, RootCAs: s.RootCAs, MinVersion: tls.VersionTLS12},
		Dialer:    &net.Dialer{Timeout: s.Timeout, KeepAlive: 30 * time.Second},
	}
	if onNewMail != nil {
		opts.UnilateralDataHandler = &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					onNewMail()
				}
			},
		}
	}
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	var c *imapclient.Client
	var err error
	switch s.TLS {
	case "implicit":
		c, err = imapclient.DialTLS(addr, opts)
	case "none":
		c, err = imapclient.DialInsecure(addr, opts)
	default:
		c, err = imapclient.DialStartTLS(addr, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", addr, err)
	}
	if err := timed(ctx, c, s.Timeout, func() error { return c.WaitGreeting() }); err != nil {
		c.Close()
		return nil, fmt.Errorf("waiting for the greeting of %s: %w", addr, err)
	}
	if c.Caps().Has(imap.CapID) {
		if err := timed(ctx, c, s.Timeout, func() error {
			_, err := c.ID(&imap.IDData{Name: "Followup", Version: version}).Wait()
			return err
		}); err != nil {
			c.Close()
			return nil, fmt.Errorf("sending ID to %s: %w", addr, err)
		}
	}
	if err := timed(ctx, c, s.Timeout, func() error { return c.Login(s.Username, s.Password).Wait() }); err != nil {
		c.Close()
		return nil, fmt.Errorf("logging in to %s as %s: %w", addr, s.Username, err)
	}
	return c, nil
}

// timed runs an IMAP command with a deadline. go-imap v2 has no deadline
// while waiting for a reply, so a half-open connection would block forever:
// on timeout the connection is closed, which fails the command.
func timed(ctx context.Context, c *imapclient.Client, d time.Duration, f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		c.Close()
		<-done
		return fmt.Errorf("no answer within %s: connection closed", d)
	case <-ctx.Done():
		c.Close()
		<-done
		return ctx.Err()
	}
}

func (w *Watcher) session(ctx context.Context) error {
	newMail := make(chan struct{}, 1)
	c, err := Dial(ctx, w.Server, w.Version, func() {
		select {
		case newMail <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return err
	}
	defer c.Close()
	var sel *imap.SelectData
	if err := timed(ctx, c, w.Server.Timeout, func() error {
		var err error
		sel, err = c.Select(w.Folder, &imap.SelectOptions{ReadOnly: true}).Wait()
		return err
	}); err != nil {
		return fmt.Errorf("opening %s: %w", w.Folder, err)
	}
	w.online.Store(true)
	defer w.online.Store(false)
	idle := c.Caps().Has(imap.CapIdle) || c.Caps().Has(imap.CapIMAP4rev2)
	w.Log.Info("watching mailbox", "folder", w.Folder, "messages", sel.NumMessages, "idle", idle)
	var pending []chan error
	for {
		err := w.sync(ctx, c, sel.UIDValidity)
		if err == nil {
			w.lastSync.Store(time.Now().UnixNano())
		}
		for _, p := range pending {
			p <- err
		}
		pending = nil
		if err != nil {
			return err
		}
		req, err := w.wait(ctx, c, idle, newMail)
		if req != nil {
			pending = append(pending, req)
		}
		if err != nil {
			if req != nil {
				req <- err
			}
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		// The watchdog: a timed NOOP proves the connection is alive and
		// collects EXISTS updates when polling.
		if err := timed(ctx, c, w.Server.Timeout, func() error { return c.Noop().Wait() }); err != nil {
			return fmt.Errorf("checking the connection: %w", err)
		}
	}
}

// wait blocks until new mail may be there: IDLE until the server reports it
// or the poll interval passes (then IDLE stops for the watchdog NOOP), or a
// plain sleep when the server cannot IDLE.
//
// A request from Fresh also ends the wait; it is returned so the caller
// answers it after the next sync.
func (w *Watcher) wait(ctx context.Context, c *imapclient.Client, idle bool, newMail <-chan struct{}) (chan error, error) {
	t := time.NewTimer(w.Poll)
	defer t.Stop()
	var req chan error
	if !idle {
		select {
		case <-ctx.Done():
		case <-t.C:
		case req = <-w.requests():
		case <-c.Closed():
			return nil, errors.New("the server closed the connection")
		}
		return req, nil
	}
	cmd, err := c.Idle()
	if err != nil {
		return nil, fmt.Errorf("starting IDLE: %w", err)
	}
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-newMail:
	case req = <-w.requests():
	case <-c.Closed():
		return nil, errors.New("the server closed the connection")
	}
	return req, timed(ctx, c, w.Server.Timeout, func() error {
		if err := cmd.Close(); err != nil {
			return err
		}
		return cmd.Wait()
	})
}

// sync processes every message after the checkpoint.
func (w *Watcher) sync(ctx context.Context, c *imapclient.Client, uidValidity uint32) error {
	cp, ok, err := w.Store.Checkpoint(ctx, w.Name)
	if err != nil {
		return err
	}
	criteria := &imap.SearchCriteria{}
	from := imap.UID(cp.LastUID + 1)
	if !ok || cp.UIDValidity != uidValidity {
		if ok {
			// RFC 9051 §2.3.1.1: UIDs from before mean nothing now. Rescan;
			// messages already recorded are recognised by Message-ID.
			w.Log.Warn("UIDVALIDITY changed; rescanning the folder", "old", cp.UIDValidity, "new", uidValidity)
		}
		from = 1
		since, any, err := w.Store.OldestEnrollment(ctx)
		if err != nil {
			return err
		}
		if !any { // no enrollment yet: nothing here can be a reply
			since = time.Now()
		}
		criteria.Since = since.Add(-24 * time.Hour)
		cp = Checkpoint{Mailbox: w.Name, UIDValidity: uidValidity}
	}
	criteria.UID = []imap.UIDSet{{imap.UIDRange{Start: from, Stop: 0}}}
	var uids []imap.UID
	if err := timed(ctx, c, w.Server.Timeout, func() error {
		data, err := c.UIDSearch(criteria, nil).Wait()
		if err == nil {
			uids = data.AllUIDs()
		}
		return err
	}); err != nil {
		return fmt.Errorf("searching new mail: %w", err)
	}
	var todo []imap.UID
	for _, u := range uids {
		if u >= from { // "n:*" also returns the last message when n is past it
			todo = append(todo, u)
		}
	}
	if len(todo) == 0 {
		if !ok || cp.UIDValidity != uidValidity {
			return w.Store.SaveCheckpoint(ctx, cp)
		}
		return nil
	}
	for len(todo) > 0 && ctx.Err() == nil {
		n := min(len(todo), 50)
		if err := w.fetchBatch(ctx, c, cp, todo[:n]); err != nil {
			return err
		}
		cp.LastUID = uint32(todo[n-1])
		todo = todo[n:]
	}
	return nil
}

func (w *Watcher) fetchBatch(ctx context.Context, c *imapclient.Client, cp Checkpoint, uids []imap.UID) error {
	section := &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: w.MaxBytes}}
	var msgs []*imapclient.FetchMessageBuffer
	if err := timed(ctx, c, 4*w.Server.Timeout, func() error {
		var err error
		msgs, err = c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{
			UID: true, InternalDate: true, RFC822Size: true, BodySection: []*imap.FetchItemBodySection{section},
		}).Collect()
		return err
	}); err != nil {
		return fmt.Errorf("fetching new mail: %w", err)
	}
	// The whole batch is recorded in one transaction, with the checkpoint
	// past its last message.
	var ins, skipped []Inbound
	for _, m := range msgs {
		raw := m.FindBodySection(section)
		cp.LastUID = max(cp.LastUID, uint32(m.UID))
		in, matched, err := w.handle(ctx, cp, m.UID, m.InternalDate, raw, m.RFC822Size > w.MaxBytes)
		if err != nil {
			return err
		}
		if matched {
			ins = append(ins, in)
		} else {
			skipped = append(skipped, in)
		}
	}
	done, err := w.Store.RecordBatch(ctx, ins, cp)
	if err != nil {
		return err
	}
	for i, in := range ins {
		recorded := done[i]
		if recorded {
			w.Log.Info("recorded", "kind", in.Kind, "from", in.From, "candidate", in.Target.Email, "sequence", in.Target.Sequence, "reason", in.Reason)
		}
		if recorded && w.Notify != nil && (in.Kind == string(KindReply) || in.Kind == string(KindNotInterested) || in.Kind == string(KindUnsubscribe)) {
			if err := w.Notify(ctx, in); err != nil {
				w.Log.Warn("could not notify the recruiter", "candidate", in.Target.Email, "err", err)
			}
		}
		if w.Processed != nil {
			w.Processed(in, recorded)
		}
	}
	if w.Processed != nil {
		for _, in := range skipped {
			w.Processed(in, false)
		}
	}
	return nil
}

// handle parses, classifies and matches one message. A message that cannot
// be parsed is logged and skipped: one bad message never blocks the rest.
func (w *Watcher) handle(ctx context.Context, cp Checkpoint, uid imap.UID, date time.Time, raw []byte, truncated bool) (Inbound, bool, error) {
	in := Inbound{Checkpoint: cp, UID: uint32(uid), ReceivedAt: date}
	p, err := Parse(bytes.NewReader(raw), w.MaxBytes)
	if err != nil {
		w.Log.Warn("skipping a message that cannot be read", "uid", uid, "err", err)
		return in, false, nil
	}
	cl := Classify(p, w.Rules)
	return Decide(ctx, w.Store, p, cl, in, w.Own, w.OnReply)
}
