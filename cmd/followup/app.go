package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"followup/surveys"
	"followup/web"
	gomail "github.com/wneessen/go-mail"
	"io"
	"log/slog"
	"net/mail"
	"os"
	"strings"
	"time"

	"followup/config"
	"followup/internal/yamlfile"
	"followup/mailer"
	"followup/sequences"
	"followup/store"
)

// runEnv is what every command gets: no globals, so tests run commands
// in-process with their own output and environment.
type runEnv struct {
	ctx        context.Context
	stdout     io.Writer
	stderr     io.Writer
	configPath string
	getenv     func(string) string
	now        func() time.Time // nil: wall clock
}

func (env *runEnv) clock() time.Time {
	if env.now != nil {
		return env.now()
	}
	return time.Now()
}

// project is a loaded config with its sequences and templates.
type project struct {
	cfg       *config.Config
	catalog   *sequences.Catalog
	calendars *sequences.Calendars
	surveys   *surveys.Set
	log       *slog.Logger
	// today, when set, is the clock of the metrics page's default period
	// (the demo's sending clock runs ahead of the wall clock).
	today func() time.Time
}

// loadProject reads the config and the catalog; any problem stops here with
// the full list. Commands that talk to mail servers need the passwords;
// the others run without them (needSecrets false).
func (env *runEnv) loadProject(needSecrets bool) (*project, error) {
	cfg, ps := config.LoadWith(env.configPath, env.getenv, config.Options{SkipSecrets: !needSecrets})
	if cfg == nil {
		return nil, problemsError(ps)
	}
	cat, cps := sequences.LoadCatalog(cfg.Sequences, cfg.Templates)
	ps = append(ps, cps...)
	cals, calps := sequences.LoadCalendars(cfg.Calendars)
	ps = append(ps, calps...)
	set, sps := surveys.Load(cfg.Surveys)
	ps = append(ps, sps...)
	ps = append(ps, checkMailboxes(cfg, cat)...)
	ps = append(ps, checkSurveyLinks(cfg, cat, set)...)
	if len(ps) > 0 {
		return nil, problemsError(ps)
	}
	cat.SetDefaultWindow(cfg.Sending.SendWindow)
	cat.UseCalendars(cals)
	return &project{cfg: cfg, catalog: cat, calendars: cals, surveys: set, log: newLogger(env.stderr, cfg.Log)}, nil
}

func problemsError(ps yamlfile.Problems) error {
	ps.Sort()
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%d problem(s); fix them and run `followup check`", len(ps))
	return &exitError{code: 1, msg: b.String()}
}

func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func (p *project) openDB(ctx context.Context) (*store.DB, error) {
	return store.Open(ctx, p.cfg.Database.Path)
}

// tracker is the open/click tracking, nil when it is off.
func (p *project) tracker() *web.Tracker {
	h := p.cfg.HTTP
	if h == nil || h.Secret == "" || (!h.Tracking.Opens && !h.Tracking.Clicks) {
		return nil
	}
	return &web.Tracker{Base: h.PublicURL, Secret: []byte(h.Secret.Reveal()), Opens: h.Tracking.Opens, Clicks: h.Tracking.Clicks}
}

// mailboxes builds the sending identities and their SMTP mailers.
func (p *project) mailboxes(workers int) (map[string]*sequences.Mailbox, func(), error) {
	out := map[string]*sequences.Mailbox{}
	var mailers []*mailer.Mailer
	for _, m := range p.cfg.Mailboxes {
		roots, err := caPool(m.SMTP.CAFile)
		if err != nil {
			return nil, nil, fmt.Errorf("mailbox %s: %w", m.Name, err)
		}
		var dkim *gomail.DKIMSigner
		if m.DKIM != nil && m.DKIM.Key != nil {
			dkim = gomail.NewDKIMSigner(m.DKIM.Domain, m.DKIM.Selector, m.DKIM.Key)
		}
		ml := mailer.New(mailer.Config{
			Host: m.SMTP.Host, Port: m.SMTP.Port, TLS: mailer.TLSMode(m.SMTP.TLS),
			Username: m.SMTP.Username, Password: m.SMTP.Password.Reveal(),
			Timeout: m.SMTP.TimeoutD, RootCAs: roots, Connections: m.SMTP.Connections, DKIM: dkim,
		}, p.log.With("mailbox", m.Name))
		mailers = append(mailers, ml)
		mb := &sequences.Mailbox{Name: m.Name, From: m.Address, Company: p.cfg.Company, Signature: m.Sig, Sender: ml,
			Limits: sequences.Limits{PerMinute: m.Limits.PerMinute, PerDay: m.Limits.PerDay}}
		mb.SurveyLinks = p.surveyLinker()
		if h := p.cfg.HTTP; h != nil && h.Secret != "" {
			public, secret := h.PublicURL, []byte(h.Secret.Reveal())
			mb.UnsubscribeURL = func(uid string) string { return web.URL(public, secret, uid) }
			if t := p.tracker(); t != nil {
				mb.Track = t.Rewrite
			}
		}
		out[m.Name] = mb
	}
	closeAll := func() {
		for _, ml := range mailers {
			_ = ml.Close()
		}
	}
	return out, closeAll, nil
}

// scheduler wires the sending loop for this project.
func (p *project) scheduler(db *store.DB, mbs map[string]*sequences.Mailbox, clock sequences.Clock) *sequences.Scheduler {
	return &sequences.Scheduler{
		Store: db, Templates: p.catalog.Templates, Mailboxes: mbs, Clock: clock, Log: p.log,
		DefaultLanguage: p.cfg.Language, Batch: p.cfg.Sending.Batch, Workers: p.cfg.Sending.Workers,
		Retry:     p.cfg.RetryPolicy(),
		Cap:       sequences.Cap{Emails: p.cfg.Sending.Cap.Emails, Window: time.Duration(p.cfg.Sending.Cap.Days) * 24 * time.Hour},
		Location:  sequences.Location(p.cfg.Timezone),
		Calendars: p.calendars,
	}
}

// displayAddr shows an address as a person reads it: 王敏 <wangmin@…>, not
// the RFC 2047 form that goes into headers.
func displayAddr(a mail.Address) string {
	if a.Name == "" {
		return a.Address
	}
	return a.Name + " <" + a.Address + ">"
}

// localTime formats t in the project's time zone.
func (p *project) localTime(t time.Time) string {
	return t.In(p.location()).Format("2006-01-02 15:04")
}

// location is the project's time zone (checked when the config is loaded).
func (p *project) location() *time.Location {
	loc, err := time.LoadLocation(p.cfg.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

func caPool(file string) (*x509.CertPool, error) {
	if file == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading ca_file: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return roots, nil
}

// dbT is the store as commands use it.
type dbT = *store.DB

// withDB runs fn with the project and its database (no passwords needed).
func (env *runEnv) withDB(fn func(*project, dbT) error) error {
	p, err := env.loadProject(false)
	if err != nil {
		return err
	}
	db, err := p.openDB(env.ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(p, db)
}
