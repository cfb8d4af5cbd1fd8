// Package config reads followup.yaml: the database, the sender mailboxes
// with their SMTP settings, defaults for candidates, and sending options.
// Every problem is reported at once with file:line; secrets come from the
// environment or a file and are never printed.
package config

import (
	"crypto"
	"net"
	"net/url"

	"fmt"
	gomail "github.com/wneessen/go-mail"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"followup/internal/yamlfile"
	"followup/sequences"
	"followup/templates"
)

// Config is the whole configuration, with defaults applied and paths made
// absolute.
type Config struct {
	File      string     `yaml:"-"`
	Company   string     `yaml:"company"`
	Language  string     `yaml:"language"`
	Timezone  string     `yaml:"timezone"`
	Database  Database   `yaml:"database"`
	Sequences string     `yaml:"sequences"`
	Templates string     `yaml:"templates"`
	Calendars string     `yaml:"calendars"` // extra holiday calendars (optional folder)
	Surveys   string     `yaml:"surveys"`   // survey definitions (optional folder)
	Mailboxes []*Mailbox `yaml:"mailboxes"`
	Sending   Sending    `yaml:"sending"`
	HTTP      *HTTP      `yaml:"http"`
	Log       Log        `yaml:"log"`
	Webhooks  []*Webhook `yaml:"webhooks"` // signed event notifications (config/ops.go)
}

// HTTP is the web server candidates reach from their emails (one-click
// unsubscribe today) and operators probe (/healthz).
type HTTP struct {
	Listen     string `yaml:"listen"`     // e.g. 127.0.0.1:8080, behind a TLS reverse proxy
	PublicURL  string `yaml:"public_url"` // how candidates reach it: https://followup.example.com
	SecretEnv  string `yaml:"secret_env"` // signs links; at least 32 characters
	SecretFile string `yaml:"secret_file"`
	// Tracking of opens and clicks: off by default (docs/METRICS.md).
	Tracking Tracking `yaml:"tracking"`
	// Metrics serves Prometheus metrics at /metrics, for operators only;
	// MetricsTokenEnv, if set, names the variable holding the bearer token
	// a scrape must present.
	Metrics         bool   `yaml:"metrics"`
	MetricsTokenEnv string `yaml:"metrics_token_env"`

	Secret       Secret `yaml:"-"`
	MetricsToken Secret `yaml:"-"`
}

// Tracking turns on the open pixel and the click redirect.
type Tracking struct {
	Opens  bool `yaml:"opens"`
	Clicks bool `yaml:"clicks"`
}

// Database says where state is kept.
type Database struct {
	Path string `yaml:"path"`
}

// Mailbox is one sender: the recruiter's own address and SMTP account.
type Mailbox struct {
	Name      string `yaml:"name"`
	From      string `yaml:"from"`
	Signature string `yaml:"signature"`
	SMTP      SMTP   `yaml:"smtp"`
	IMAP      *IMAP  `yaml:"imap"`
	DKIM      *DKIM  `yaml:"dkim"`
	Limits    Limits `yaml:"limits"`

	Address mail.Address        `yaml:"-"`
	Sig     *templates.Template `yaml:"-"`
}

// DKIM signs a mailbox's mail (RFC 6376) with a key from a file or the
// environment; the public key is published at SELECTOR._domainkey.DOMAIN.
type DKIM struct {
	Domain         string `yaml:"domain"` // default: the from address's domain
	Selector       string `yaml:"selector"`
	PrivateKeyFile string `yaml:"private_key_file"`
	PrivateKeyEnv  string `yaml:"private_key_env"` // the PEM itself

	Key crypto.Signer `yaml:"-"`
}

// Limits protect a mailbox's reputation and stay under the provider's
// quotas (Gmail allows about 2,000 messages a day, Tencent Exmail and
// Aliyun publish similar caps).
type Limits struct {
	PerMinute int `yaml:"per_minute"` // sending rate; 0: no limit
	PerDay    int `yaml:"per_day"`    // daily cap, counted in the project's time zone; 0: no cap
}

// Server is how to reach and log in to a mail server.
type Server struct {
	Host         string `yaml:"host"`
	Port         int    `yaml:"port"`
	TLS          string `yaml:"tls"` // implicit, starttls or none
	Username     string `yaml:"username"`
	Password     Secret `yaml:"password"`
	PasswordEnv  string `yaml:"password_env"`
	PasswordFile string `yaml:"password_file"`
	Timeout      string `yaml:"timeout"`
	CAFile       string `yaml:"ca_file"`

	TimeoutD time.Duration `yaml:"-"`
}

// SMTP is a mailbox's outgoing server.
type SMTP struct {
	Server      `yaml:",inline"`
	Connections int `yaml:"connections"`
}

// IMAP is a mailbox's incoming server, watched for replies. The login
// defaults to the SMTP one.
type IMAP struct {
	Server `yaml:",inline"`
	Folder string `yaml:"folder"` // default INBOX
	Poll   string `yaml:"poll"`   // how often to look when the server has no IDLE
	// MaxAge bounds how old the last complete read of the mailbox may be
	// when a follow-up leaves; an older one is refreshed first (default 1m).
	MaxAge string `yaml:"max_age"`
	// SaveSent appends a copy of each sent message to the Sent folder (for
	// providers that do not file SMTP-sent mail there themselves).
	SaveSent   bool   `yaml:"save_sent"`
	SentFolder string `yaml:"sent_folder"` // default: the folder marked \Sent

	PollD   time.Duration `yaml:"-"`
	MaxAgeD time.Duration `yaml:"-"`
}

// Sending tunes the scheduler.
type Sending struct {
	Batch   int   `yaml:"batch"`
	Workers int   `yaml:"workers"`
	Retry   Retry `yaml:"retry"`
	// Window is when emails may arrive, in each candidate's time zone, for
	// sequences that do not set their own. Default: Monday to Friday,
	// 09:00–20:00.
	Window *sequences.WindowSpec `yaml:"window"`

	SendWindow sequences.Window `yaml:"-"`
	// Cap is how many emails one candidate may get across all sequences
	// in a number of days; a step that would exceed it waits.
	Cap Cap `yaml:"cap"`
}

// Cap is a per-candidate frequency cap.
type Cap struct {
	Emails int `yaml:"emails"` // 0: no cap
	Days   int `yaml:"days"`
}

// Retry is the backoff for temporary failures.
type Retry struct {
	Initial  string `yaml:"initial"`
	Max      string `yaml:"max"`
	Attempts int    `yaml:"attempts"`
}

// Log configures log/slog output.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Secret is a string that never prints.
type Secret string

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString keeps %#v from leaking it too.
func (s Secret) GoString() string { return s.String() }

// Reveal returns the secret itself, for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

var nameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// Options change how strictly a config is checked.
type Options struct {
	// SkipSecrets does not require passwords to be resolvable: commands
	// that never talk to a mail server (list, show, enroll…) work without
	// the SMTP password in their environment.
	SkipSecrets bool
}

// Load reads and validates the config file. Getenv resolves password_env
// (os.Getenv in production).
func Load(path string, getenv func(string) string) (*Config, yamlfile.Problems) {
	return LoadWith(path, getenv, Options{})
}

// LoadWith is Load with options.
func LoadWith(path string, getenv func(string) string, o Options) (*Config, yamlfile.Problems) {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	content, err := os.ReadFile(abs)
	if err != nil {
		var ps yamlfile.Problems
		if os.IsNotExist(err) {
			ps.Addf(path, 0, 0, "no config file here: create a project with `followup init DIR`, or point to one with --config")
		} else {
			ps.Addf(path, 0, 0, "reading config: %v", err)
		}
		return nil, ps
	}
	return ParseWith(abs, content, getenv, o)
}

// Parse validates config content as if read from file.
func Parse(file string, content []byte, getenv func(string) string) (*Config, yamlfile.Problems) {
	return ParseWith(file, content, getenv, Options{})
}

// ParseWith is Parse with options.
func ParseWith(file string, content []byte, getenv func(string) string, o Options) (*Config, yamlfile.Problems) {
	c := &Config{File: file}
	doc, ps := yamlfile.Decode(file, content, c)
	c.defaults()
	dir := filepath.Dir(file)
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	c.Database.Path = rel(c.Database.Path)
	c.Sequences = rel(c.Sequences)
	c.Templates = rel(c.Templates)
	c.Calendars = rel(c.Calendars)
	c.Surveys = rel(c.Surveys)
	if lang, err := sequences.NormalizeLanguage(c.Language); err != nil {
		ps = append(ps, doc.Problemf("$.language", "%v", err))
	} else {
		c.Language = lang
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil || strings.EqualFold(c.Timezone, "local") {
		ps = append(ps, doc.Problemf("$.timezone", "unknown time zone %q (use an IANA name such as Asia/Shanghai)", c.Timezone))
	}
	if len(c.Mailboxes) == 0 {
		ps = append(ps, doc.Problemf("$", "no mailboxes: add at least one under \"mailboxes:\" (the recruiter's own address and SMTP account)"))
	}
	seen := map[string]bool{}
	for i, m := range c.Mailboxes {
		ps = append(ps, m.validate(doc, fmt.Sprintf("$.mailboxes[%d]", i), seen, rel, getenv, o)...)
	}
	for _, d := range []struct{ path, v string }{{"$.sending.retry.initial", c.Sending.Retry.Initial}, {"$.sending.retry.max", c.Sending.Retry.Max}} {
		if dd, err := time.ParseDuration(d.v); err != nil || dd <= 0 {
			ps = append(ps, doc.Problemf(d.path, "bad duration %q (e.g. 1m, 30s, 6h)", d.v))
		}
	}
	if c.Sending.Window == nil {
		c.Sending.SendWindow = sequences.DefaultWindow
	} else if w, err := c.Sending.Window.Parse(); err != nil {
		ps = append(ps, doc.Problemf("$.sending.window", "window: %v", err))
	} else {
		c.Sending.SendWindow = w
	}
	if c.Sending.Cap.Emails < 0 || c.Sending.Cap.Days < 0 || (c.Sending.Cap.Emails > 0) != (c.Sending.Cap.Days > 0) {
		ps = append(ps, doc.Problemf("$.sending.cap", "cap: give both emails and days, at least 1 each (e.g. emails: 2, days: 7), or neither"))
	}
	if c.Sending.Batch < 1 || c.Sending.Workers < 1 || c.Sending.Retry.Attempts < 1 {
		ps = append(ps, doc.Problemf("$.sending", "batch, workers and retry.attempts must be at least 1"))
	}
	if c.HTTP != nil {
		ps = append(ps, c.HTTP.validate(doc, rel, getenv, o)...)
		ps = append(ps, c.HTTP.validateMetrics(doc, getenv, o)...)
	}
	ps = append(ps, validateWebhooks(doc, c.Webhooks, rel, getenv, o)...)
	if !oneOf(c.Log.Level, "debug", "info", "warn", "error") {
		ps = append(ps, doc.Problemf("$.log.level", "log level %q: use debug, info, warn or error", c.Log.Level))
	}
	if !oneOf(c.Log.Format, "text", "json") {
		ps = append(ps, doc.Problemf("$.log.format", "log format %q: use text or json", c.Log.Format))
	}
	return c, ps
}

func (c *Config) defaults() {
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	set(&c.Language, "zh-CN")
	set(&c.Timezone, "Asia/Shanghai")
	set(&c.Database.Path, "followup.db")
	set(&c.Sequences, "sequences")
	set(&c.Templates, "templates")
	set(&c.Calendars, "calendars")
	set(&c.Surveys, "surveys")
	set(&c.Sending.Retry.Initial, "1m")
	set(&c.Sending.Retry.Max, "6h")
	set(&c.Log.Level, "info")
	set(&c.Log.Format, "text")
	if c.Sending.Batch == 0 {
		c.Sending.Batch = 100
	}
	if c.Sending.Workers == 0 {
		c.Sending.Workers = 1
	}
	if c.Sending.Retry.Attempts == 0 {
		c.Sending.Retry.Attempts = 10
	}
}

func (m *Mailbox) validate(doc *yamlfile.Doc, path string, seen map[string]bool, rel func(string) string, getenv func(string) string, o Options) yamlfile.Problems {
	var ps yamlfile.Problems
	if !nameRe.MatchString(m.Name) {
		ps = append(ps, doc.Problemf(path+".name", "mailbox name %q: use lowercase letters, digits, - and _ (e.g. wangmin)", m.Name))
	} else if seen[m.Name] {
		ps = append(ps, doc.Problemf(path+".name", "mailbox %q is defined twice", m.Name))
	}
	seen[m.Name] = true
	if a, err := mail.ParseAddress(m.From); err != nil || strings.ContainsAny(m.From, "\r\n") {
		ps = append(ps, doc.Problemf(path+".from", "from %q: not an address (write \"王敏 <wangmin@example.com>\")", m.From))
	} else {
		m.Address = *a
	}
	if m.Signature != "" {
		sig, sps := templates.ParseSignature(doc.File, m.Signature)
		line, _ := doc.Pos(path + ".signature")
		for _, p := range sps {
			ps.Addf(doc.File, line, 0, "signature: %s", p.Msg)
		}
		for _, f := range sig.Fields() {
			if !oneOf(f, templates.Builtin...) {
				ps.Addf(doc.File, line, 0, "signature: field %q is not available (a signature can use %s)", f, strings.Join(templates.Builtin, ", "))
			}
		}
		m.Sig = sig
	}
	ps = append(ps, m.SMTP.validate(doc, path+".smtp", "smtp", rel, getenv, o, map[string]int{"implicit": 465, "starttls": 587, "none": 25})...)
	if m.SMTP.Connections == 0 {
		m.SMTP.Connections = 1
	}
	if m.Limits.PerMinute < 0 || m.Limits.PerDay < 0 {
		ps = append(ps, doc.Problemf(path+".limits", "limits must be 0 (none) or more"))
	}
	if m.DKIM != nil {
		ps = append(ps, m.DKIM.validate(doc, path+".dkim", m.Address.Address, rel, getenv, o)...)
	}
	if im := m.IMAP; im != nil {
		if im.Username == "" && im.Password == "" && im.PasswordEnv == "" && im.PasswordFile == "" {
			// The same account logs in to both servers.
			im.Username, im.PasswordEnv, im.PasswordFile = m.SMTP.Username, m.SMTP.PasswordEnv, m.SMTP.PasswordFile
			if im.PasswordEnv == "" && im.PasswordFile == "" {
				im.Password = m.SMTP.Password
			}
		}
		ps = append(ps, im.validate(doc, path+".imap", "imap", rel, getenv, o, map[string]int{"implicit": 993, "starttls": 143, "none": 143})...)
		if im.Folder == "" {
			im.Folder = "INBOX"
		}
		if im.Poll == "" {
			im.Poll = "1m"
		}
		if d, err := time.ParseDuration(im.Poll); err != nil || d < time.Second {
			ps = append(ps, doc.Problemf(path+".imap.poll", "bad duration %q (e.g. 1m; at least 1s)", im.Poll))
		} else {
			im.PollD = d
		}
		if im.MaxAge == "" {
			im.MaxAge = "1m"
		}
		if d, err := time.ParseDuration(im.MaxAge); err != nil || d < 0 {
			ps = append(ps, doc.Problemf(path+".imap.max_age", "bad duration %q (e.g. 1m)", im.MaxAge))
		} else {
			im.MaxAgeD = d
		}
	}
	return ps
}

func (h *HTTP) validate(doc *yamlfile.Doc, rel func(string) string, getenv func(string) string, o Options) yamlfile.Problems {
	var ps yamlfile.Problems
	if h.Listen == "" {
		h.Listen = "127.0.0.1:8080"
	}
	if _, _, err := net.SplitHostPort(h.Listen); err != nil {
		ps = append(ps, doc.Problemf("$.http.listen", "listen %q: write host:port, e.g. 127.0.0.1:8080", h.Listen))
	}
	u, err := url.Parse(h.PublicURL)
	switch {
	case h.PublicURL == "":
		ps = append(ps, doc.Problemf("$.http", "http.public_url is missing: the address candidates use to reach this server, e.g. https://followup.example.com"))
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		ps = append(ps, doc.Problemf("$.http.public_url", "public_url %q is not a URL such as https://followup.example.com", h.PublicURL))
	case u.Scheme != "https" && u.Hostname() != "localhost" && u.Hostname() != "127.0.0.1":
		ps = append(ps, doc.Problemf("$.http.public_url", "public_url must be https (RFC 8058 one-click unsubscribe requires it); put a TLS reverse proxy in front"))
	}
	var secret string
	switch {
	case (h.SecretEnv == "") == (h.SecretFile == ""):
		ps = append(ps, doc.Problemf("$.http", "give the link-signing secret one way: secret_env or secret_file (at least 32 random characters: openssl rand -hex 32)"))
	case h.SecretEnv != "":
		secret = getenv(h.SecretEnv)
		if secret == "" && !o.SkipSecrets {
			ps = append(ps, doc.Problemf("$.http.secret_env", "environment variable %s is not set", h.SecretEnv))
		}
	default:
		b, err := os.ReadFile(rel(h.SecretFile))
		if err != nil && !o.SkipSecrets {
			ps = append(ps, doc.Problemf("$.http.secret_file", "reading the secret: %v", err))
		}
		secret = strings.TrimSpace(string(b))
	}
	if secret != "" && len(secret) < 32 {
		ps = append(ps, doc.Problemf("$.http", "the link-signing secret is %d characters; use at least 32 (openssl rand -hex 32)", len(secret)))
	}
	h.Secret = Secret(secret)
	return ps
}

var selectorRe = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$`)

// validate checks the selector and loads the key (RSA or Ed25519 PEM).
func (d *DKIM) validate(doc *yamlfile.Doc, path, from string, rel func(string) string, getenv func(string) string, o Options) yamlfile.Problems {
	var ps yamlfile.Problems
	if d.Domain == "" {
		if i := strings.LastIndexByte(from, '@'); i >= 0 {
			d.Domain = from[i+1:]
		}
	}
	if !selectorRe.MatchString(d.Selector) {
		ps = append(ps, doc.Problemf(path+".selector", "selector %q: letters, digits, - and . only (it becomes SELECTOR._domainkey.%s in DNS)", d.Selector, d.Domain))
	}
	var pemBytes []byte
	switch {
	case (d.PrivateKeyFile == "") == (d.PrivateKeyEnv == ""):
		ps = append(ps, doc.Problemf(path, "give the private key one way: private_key_file or private_key_env"))
		return ps
	case d.PrivateKeyEnv != "":
		pemBytes = []byte(getenv(d.PrivateKeyEnv))
		if len(pemBytes) == 0 {
			if !o.SkipSecrets {
				ps = append(ps, doc.Problemf(path+".private_key_env", "environment variable %s is not set (it should hold the PEM private key)", d.PrivateKeyEnv))
			}
			return ps
		}
	default:
		b, err := os.ReadFile(rel(d.PrivateKeyFile))
		if err != nil {
			if !o.SkipSecrets {
				ps = append(ps, doc.Problemf(path+".private_key_file", "reading the DKIM key: %v", err))
			}
			return ps
		}
		pemBytes = b
	}
	key, err := gomail.PrivKeyFromPEM(pemBytes)
	if err != nil {
		ps = append(ps, doc.Problemf(path, "the DKIM private key does not parse: %v (expected an RSA or Ed25519 key in PEM)", err))
		return ps
	}
	d.Key = key
	return ps
}

// validate checks a server's settings, applies defaults and resolves the
// password from the environment or a file.
func (s *Server) validate(doc *yamlfile.Doc, sp, kind string, rel func(string) string, getenv func(string) string, o Options, ports map[string]int) yamlfile.Problems {
	var ps yamlfile.Problems
	if s.Host == "" {
		ps = append(ps, doc.Problemf(sp, "%s.host is missing (e.g. %s.exmail.qq.com)", kind, kind))
	}
	if s.TLS == "" {
		s.TLS = "starttls"
		if s.Port == ports["implicit"] {
			s.TLS = "implicit"
		}
	}
	if def, ok := ports[s.TLS]; !ok {
		ps = append(ps, doc.Problemf(sp+".tls", "tls %q: use implicit (port %d), starttls (port %d) or none (a server on this machine only)", s.TLS, ports["implicit"], ports["starttls"]))
	} else if s.Port == 0 {
		s.Port = def
	}
	if s.Port < 1 || s.Port > 65535 {
		ps = append(ps, doc.Problemf(sp+".port", "port %d is not a TCP port", s.Port))
	}
	if s.Timeout == "" {
		s.Timeout = "30s"
	}
	if d, err := time.ParseDuration(s.Timeout); err != nil || d <= 0 {
		ps = append(ps, doc.Problemf(sp+".timeout", "bad duration %q (e.g. 30s)", s.Timeout))
	} else {
		s.TimeoutD = d
	}
	s.CAFile = rel(s.CAFile)
	n := 0
	for _, v := range []string{string(s.Password), s.PasswordEnv, s.PasswordFile} {
		if v != "" {
			n++
		}
	}
	switch {
	case n > 1:
		ps = append(ps, doc.Problemf(sp, "give the password one way only: password_env, password_file or password"))
	case s.PasswordEnv != "":
		v := getenv(s.PasswordEnv)
		if v == "" && !o.SkipSecrets {
			ps = append(ps, doc.Problemf(sp+".password_env", "environment variable %s is not set (it should hold the %s password)", s.PasswordEnv, strings.ToUpper(kind)))
		}
		s.Password = Secret(v)
	case s.PasswordFile != "":
		b, err := os.ReadFile(rel(s.PasswordFile))
		if err != nil && !o.SkipSecrets {
			ps = append(ps, doc.Problemf(sp+".password_file", "reading the password file: %v", err))
		}
		s.Password = Secret(strings.TrimRight(string(b), "\r\n"))
	}
	if s.Username != "" && s.Password == "" && n == 0 {
		ps = append(ps, doc.Problemf(sp, "%s.username is set but no password: add password_env (recommended) or password_file", kind))
	}
	return ps
}

// Mailbox returns a mailbox by name.
func (c *Config) Mailbox(name string) *Mailbox {
	for _, m := range c.Mailboxes {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// MailboxNames lists the configured mailboxes; the first is the default.
func (c *Config) MailboxNames() []string {
	out := make([]string, len(c.Mailboxes))
	for i, m := range c.Mailboxes {
		out[i] = m.Name
	}
	return out
}

// Defaults for enrollments.
func (c *Config) Defaults() sequences.Defaults {
	d := sequences.Defaults{Language: c.Language, Timezone: c.Timezone, Mailboxes: c.MailboxNames()}
	if len(c.Mailboxes) > 0 {
		d.Mailbox = c.Mailboxes[0].Name
	}
	return d
}

// RetryPolicy converts the retry settings.
func (c *Config) RetryPolicy() sequences.Retry {
	initial, _ := time.ParseDuration(c.Sending.Retry.Initial)
	maxWait, _ := time.ParseDuration(c.Sending.Retry.Max)
	return sequences.Retry{Initial: initial, Max: maxWait, MaxAttempts: c.Sending.Retry.Attempts}
}

func oneOf(v string, list ...string) bool {
	for _, x := range list {
		if v == x {
			return true
		}
	}
	return false
}
