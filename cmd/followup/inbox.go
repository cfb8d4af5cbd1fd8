package main

import (
	"context"
	"encoding/json"
	"fmt"
	"followup/mailer"
	"followup/sequences"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"

	"followup/config"
	"followup/inbox"
	"followup/store"
)

type inboxCmd struct {
	Test     inboxTestCmd     `cmd:"" help:"Log in to each mailbox's IMAP server and list its capabilities and folders."`
	Classify inboxClassifyCmd `cmd:"" help:"Show how Followup reads saved emails (.eml): reply, auto-reply, bounce, unsubscribe…"`
}

type inboxTestCmd struct {
	Mailbox string `short:"m" help:"Only this mailbox."`
}

func (c inboxTestCmd) Run(env *runEnv) error {
	p, err := env.loadProject(true)
	if err != nil {
		return err
	}
	failed := 0
	tested := 0
	for _, m := range p.cfg.Mailboxes {
		if c.Mailbox != "" && m.Name != c.Mailbox {
			continue
		}
		tested++
		if m.IMAP == nil {
			fmt.Fprintf(env.stdout, "%s: no imap settings: replies to this mailbox are not read (add an \"imap:\" section)\n", m.Name)
			continue
		}
		srv, err := imapServer(m.IMAP)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "%s: %s:%d (%s) as %s\n", m.Name, srv.Host, srv.Port, srv.TLS, srv.Username)
		if err := testIMAP(env, srv, m.IMAP.Folder); err != nil {
			failed++
			fmt.Fprintf(env.stdout, "  FAILED: %v\n", err)
		}
	}
	if tested == 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("no mailbox named %q", c.Mailbox)}
	}
	if failed > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%d mailbox(es) could not be read", failed)}
	}
	return nil
}

func testIMAP(env *runEnv, srv inbox.Server, folder string) error {
	ctx, cancel := context.WithTimeout(env.ctx, 2*srv.Timeout)
	defer cancel()
	c, err := inbox.Dial(ctx, srv, version, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	var caps []string
	for cp := range c.Caps() {
		caps = append(caps, string(cp))
	}
	sort.Strings(caps)
	fmt.Fprintf(env.stdout, "  logged in; capabilities: %s\n", strings.Join(caps, " "))
	list, err := c.List("", "*", nil).Collect()
	if err != nil {
		return fmt.Errorf("listing folders: %w", err)
	}
	var names []string
	found := false
	for _, l := range list {
		names = append(names, l.Mailbox)
		found = found || l.Mailbox == folder
	}
	fmt.Fprintf(env.stdout, "  folders: %s\n", strings.Join(names, ", "))
	if !found {
		return fmt.Errorf("the configured folder %q does not exist", folder)
	}
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return fmt.Errorf("opening %s: %w", folder, err)
	}
	fmt.Fprintf(env.stdout, "  %s: %d messages, UIDVALIDITY %d; OK\n", folder, sel.NumMessages, sel.UIDValidity)
	return nil
}

func imapServer(im *config.IMAP) (inbox.Server, error) {
	roots, err := caPool(im.CAFile)
	if err != nil {
		return inbox.Server{}, err
	}
	return inbox.Server{Host: im.Host, Port: im.Port, TLS: im.TLS, Username: im.Username, Password: im.Password.Reveal(),
		Timeout: im.TimeoutD, RootCAs: roots}, nil
}

type inboxClassifyCmd struct {
	Files []string `arg:"" help:"Saved emails (.eml)." type:"existingfile"`
	Text  bool     `help:"Readable text instead of one JSON object per file."`
}

// classified is one line of `followup inbox classify`: a stable JSON shape
// for people debugging a misfiled message, and for tests.
type classified struct {
	File          string   `json:"file"`
	Kind          string   `json:"kind"` // reply, autoreply, bounce, complaint, unsubscribe, other
	NotInterested bool     `json:"not_interested"`
	Permanent     bool     `json:"permanent"` // a hard bounce
	Recipient     string   `json:"recipient,omitempty"`
	Status        string   `json:"status,omitempty"`
	ReturnDate    string   `json:"return_date,omitempty"`
	InReplyTo     []string `json:"in_reply_to,omitempty"`
	Text          string   `json:"text,omitempty"`
	Reason        string   `json:"reason"`
	Error         string   `json:"error,omitempty"`
}

func classifyFile(path string, rules inbox.Rules) classified {
	out := classified{File: path, Kind: "other"}
	fh, err := os.Open(path)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	defer fh.Close()
	p, err := inbox.Parse(fh, 0)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	cl := inbox.Classify(p, rules)
	out.Reason, out.InReplyTo, out.Text = cl.Reason, p.InReplyTo, cl.Reply
	switch cl.Kind {
	case inbox.KindAutoReply:
		out.Kind = "autoreply"
	case inbox.KindNotInterested:
		out.Kind, out.NotInterested = "reply", true
	default:
		out.Kind = string(cl.Kind)
	}
	if cl.Bounce != nil {
		out.Permanent, out.Recipient, out.Status = cl.Bounce.Hard, cl.Bounce.Recipient, cl.Bounce.Status
	}
	if cl.ReturnDate != nil {
		out.ReturnDate = cl.ReturnDate.Format("2006-01-02")
	}
	return out
}

func (c inboxClassifyCmd) Run(env *runEnv) error {
	rules := inbox.DefaultRules()
	bad := 0
	enc := json.NewEncoder(env.stdout)
	enc.SetEscapeHTML(false)
	for _, f := range c.Files {
		r := classifyFile(f, rules)
		if r.Error != "" {
			bad++
		}
		if !c.Text {
			if err := enc.Encode(r); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(env.stdout, "%s: %s (%s)\n", f, r.Kind, r.Reason)
		if r.Error != "" {
			fmt.Fprintf(env.stdout, "  cannot read: %s\n", r.Error)
		}
		if r.Recipient != "" {
			fmt.Fprintf(env.stdout, "  bounce for %s: %s (permanent: %v)\n", r.Recipient, r.Status, r.Permanent)
		}
		if r.ReturnDate != "" {
			fmt.Fprintf(env.stdout, "  back on %s\n", r.ReturnDate)
		}
		if r.Text != "" {
			fmt.Fprintf(env.stdout, "  says: %s\n", strings.ReplaceAll(strings.TrimSpace(r.Text), "\n", "\n        "))
		}
	}
	if bad > 0 {
		return &exitError{code: 1}
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// watchers builds one inbox watcher per mailbox with IMAP settings.
// The recruiter is told by email when a candidate answers; the mail comes
// from and goes to the mailbox itself, so the watcher ignores it.
func (p *project) watchers(db *store.DB, mbs map[string]*sequences.Mailbox) ([]*inbox.Watcher, error) {
	var own []string
	for _, m := range p.cfg.Mailboxes {
		own = append(own, m.Address.Address)
	}
	var out []*inbox.Watcher
	for _, m := range p.cfg.Mailboxes {
		if m.IMAP == nil {
			continue
		}
		srv, err := imapServer(m.IMAP)
		if err != nil {
			return nil, fmt.Errorf("mailbox %s: %w", m.Name, err)
		}
		out = append(out, &inbox.Watcher{
			Name: m.Name, Server: srv, Folder: m.IMAP.Folder, Poll: m.IMAP.PollD, Own: own, Store: db,
			OnReply: func(ctx context.Context, versionID int64) string {
				v, err := db.Version(ctx, versionID)
				if err != nil {
					return "stop"
				}
				return v.OnReply
			},
			Rules: inbox.DefaultRules(), Log: p.log, Version: version,
			Notify: p.notifier(mbs[m.Name]),
		})
	}
	return out, nil
}

// notifier sends the recruiter a short note when a candidate answers.
func (p *project) notifier(mb *sequences.Mailbox) func(context.Context, inbox.Inbound) error {
	if mb == nil {
		return nil
	}
	zh := strings.HasPrefix(p.cfg.Language, "zh")
	return func(ctx context.Context, in inbox.Inbound) error {
		what := map[string][2]string{
			"reply":          {"回复了", "replied"},
			"not_interested": {"表示暂不考虑", "is not interested"},
			"unsubscribe":    {"要求退订", "asked to unsubscribe"},
		}[in.Kind]
		var subject, body string
		if zh {
			subject = fmt.Sprintf("[Followup] %s %s", in.From, what[0])
			body = fmt.Sprintf("%s %s（%s），Followup 已按规则处理：%s。\n\n%s\n\n时间线：followup show %s\n", in.From, what[0], in.Target.Sequence, in.Action.Why, quoteText(in.Text), in.Target.Email)
		} else {
			subject = fmt.Sprintf("[Followup] %s %s", in.From, what[1])
			body = fmt.Sprintf("%s %s (%s). Followup acted: %s.\n\n%s\n\nTimeline: followup show %s\n", in.From, what[1], in.Target.Sequence, in.Action.Why, quoteText(in.Text), in.Target.Email)
		}
		return mb.Sender.Send(ctx, &mailer.Message{
			From: mb.From, To: mb.From, Subject: subject, Text: body,
			MessageID: fmt.Sprintf("notify.%d.%d@%s", in.UIDValidity, in.UID, mb.Domain()),
			// RFC 3834 §5: machine-generated; autoresponders must not answer.
			Headers: map[string]string{"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
		})
	}
}

func quoteText(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	return "> " + strings.ReplaceAll(s, "\n", "\n> ")
}

// inboxGuard makes the scheduler confirm, before each send, that the
// sending mailbox was read recently (imap.max_age), reading it now if not.
// Mailboxes without IMAP settings have nothing to check.
func (p *project) inboxGuard(ws []*inbox.Watcher) func(context.Context, string) error {
	byName := map[string]*inbox.Watcher{}
	for _, w := range ws {
		byName[w.Name] = w
	}
	return func(ctx context.Context, mailbox string) error {
		w, ok := byName[mailbox]
		if !ok {
			return nil
		}
		maxAge := time.Minute
		if m := p.cfg.Mailbox(mailbox); m != nil && m.IMAP != nil {
			maxAge = m.IMAP.MaxAgeD
		}
		return w.Fresh(ctx, maxAge)
	}
}

// sentArchives sets up the Sent-folder copies of mailboxes with
// imap.save_sent, and hooks them to their mailboxes.
func (p *project) sentArchives(mbs map[string]*sequences.Mailbox) ([]*inbox.SentArchive, error) {
	var out []*inbox.SentArchive
	for _, m := range p.cfg.Mailboxes {
		if m.IMAP == nil || !m.IMAP.SaveSent || mbs[m.Name] == nil {
			continue
		}
		srv, err := imapServer(m.IMAP)
		if err != nil {
			return nil, fmt.Errorf("mailbox %s: %w", m.Name, err)
		}
		a := inbox.NewSentArchive(srv, m.IMAP.SentFolder, version, p.log.With("mailbox", m.Name), 1000)
		mbs[m.Name].Archive = a.Save
		out = append(out, a)
	}
	return out, nil
}
