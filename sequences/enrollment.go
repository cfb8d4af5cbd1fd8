package sequences

import (
	"errors"
	"fmt"
	"net/mail"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"
)

// Status is where an enrollment stands.
type Status string

// Enrollment statuses.
const (
	Active   Status = "active"   // steps go out when due
	Paused   Status = "paused"   // nothing goes out until resumed
	Stopped  Status = "stopped"  // ended by the recruiter, a reply or an unsubscribe
	Finished Status = "finished" // every step was sent
	Failed   Status = "failed"   // a permanent delivery failure ended it
)

// Live reports whether the enrollment can still send.
func (s Status) Live() bool { return s == Active || s == Paused }

// Candidate is the person a sequence writes to.
type Candidate struct {
	Email    string `db:"email" json:"email"`
	Name     string `db:"name" json:"name"`
	Language string `db:"language" json:"language"`
	Timezone string `db:"timezone" json:"timezone"`
}

// Enrollment is one candidate in one sequence.
type Enrollment struct {
	ID          int64  `db:"id" json:"id"`
	UID         string `db:"uid" json:"uid"` // random; names the thread's Message-IDs
	CandidateID int64  `db:"candidate_id" json:"-"`
	Candidate
	Sequence     string            `db:"sequence" json:"sequence"`
	VersionID    int64             `db:"version_id" json:"version_id"`
	Mailbox      string            `db:"mailbox" json:"mailbox"`
	Fields       map[string]string `db:"-" json:"fields"`
	Status       Status            `db:"status" json:"status"`
	StatusReason string            `db:"status_reason" json:"status_reason,omitempty"`
	NextStep     int               `db:"next_step" json:"next_step"`
	NextDueAt    *time.Time        `db:"next_due_at" json:"next_due_at,omitempty"`
	CreatedAt    time.Time         `db:"created_at" json:"created_at"`
	UpdatedAt    time.Time         `db:"updated_at" json:"updated_at"`
}

// EnrollRequest asks to put a candidate into a sequence.
type EnrollRequest struct {
	Candidate
	Sequence string
	Mailbox  string
	Fields   map[string]string
	// IdempotencyKey makes a repeated request (the same CSV row imported
	// twice, an API retry) return the first enrollment instead of a new one.
	IdempotencyKey string
	Source         string // "cli", "import:candidates.csv:12", "api"…
	// PoolConsent records the candidate's answer about the talent pool
	// with the enrollment: ConsentGiven, ConsentWithdrawn, or "" (unchanged).
	PoolConsent string
}

// Talent-pool consent answers.
const (
	ConsentGiven     = "given"
	ConsentWithdrawn = "withdrawn"
)

// EnrollOutcome says what an enroll request did.
type EnrollOutcome struct {
	Enrollment Enrollment
	Created    bool
	// Reason explains a request that created nothing ("already active in
	// rejected-after-interview since 2026-11-20").
	Reason string
	// Blocked is set when the address may not be mailed at all
	// (unsubscribed, complained, bounced).
	Blocked bool
}

// Defaults fill what a request leaves empty.
type Defaults struct {
	Language  string
	Timezone  string
	Mailbox   string
	Mailboxes []string // known mailbox names
}

const maxFieldLen = 10000

// Validate normalizes a request and checks it against the catalog: a valid
// address, a known sequence and mailbox, a loadable time zone, every required
// field present. All problems are returned at once, joined.
func (c *Catalog) Validate(req EnrollRequest, d Defaults) (EnrollRequest, *Sequence, error) {
	var errs []error
	addr, err := NormalizeEmail(req.Email)
	if err != nil {
		errs = append(errs, err)
	}
	req.Email = addr
	req.Name = strings.TrimSpace(req.Name)
	if strings.ContainsAny(req.Name, "\r\n") {
		errs = append(errs, errors.New("name: contains a line break"))
	}
	if !utf8.ValidString(req.Name) {
		errs = append(errs, errors.New("name: not valid UTF-8"))
	}
	if req.Language == "" {
		req.Language = d.Language
	}
	if lang, err := NormalizeLanguage(req.Language); err != nil {
		errs = append(errs, err)
	} else {
		req.Language = lang
	}
	seq, err := c.Sequence(req.Sequence)
	if err != nil {
		errs = append(errs, err)
	}
	// The candidate's zone, else the sequence's, else the project's.
	if req.Timezone == "" && seq != nil {
		req.Timezone = seq.Timezone
	}
	if req.Timezone == "" {
		req.Timezone = d.Timezone
	}
	if req.Timezone != "" {
		if _, err := time.LoadLocation(req.Timezone); err != nil || strings.EqualFold(req.Timezone, "local") {
			errs = append(errs, fmt.Errorf("timezone: unknown time zone %q (use an IANA name such as Asia/Shanghai or Europe/London)", req.Timezone))
		}
	}
	if req.Mailbox == "" && seq != nil {
		req.Mailbox = seq.Mailbox
	}
	if req.Mailbox == "" {
		req.Mailbox = d.Mailbox
	}
	if !contains(d.Mailboxes, req.Mailbox) {
		errs = append(errs, fmt.Errorf("mailbox: no mailbox named %q in the config (mailboxes: %s)", req.Mailbox, strings.Join(d.Mailboxes, ", ")))
	}
	fields := map[string]string{}
	for k, v := range req.Fields {
		k = strings.TrimSpace(k)
		v = strings.TrimSpace(v)
		switch {
		case !utf8.ValidString(v):
			errs = append(errs, fmt.Errorf("%s: not valid UTF-8", k))
		case strings.ContainsRune(v, 0):
			errs = append(errs, fmt.Errorf("%s: contains a NUL character", k))
		case len(v) > maxFieldLen:
			errs = append(errs, fmt.Errorf("%s: longer than %d bytes", k, maxFieldLen))
		case v != "":
			fields[k] = v
		}
	}
	if seq != nil {
		var missing []string
		for _, f := range seq.Fields {
			if fields[f] == "" {
				missing = append(missing, f)
			}
		}
		if len(missing) > 0 {
			errs = append(errs, fmt.Errorf("sequence %s needs %s", seq.Name, strings.Join(missing, ", ")))
		}
	}
	req.Fields = fields
	switch strings.ToLower(strings.TrimSpace(req.PoolConsent)) {
	case "":
	case "yes", "y", "given", "true", "1", "是", "同意":
		req.PoolConsent = ConsentGiven
	case "no", "n", "withdrawn", "false", "0", "否", "不同意":
		req.PoolConsent = ConsentWithdrawn
	default:
		errs = append(errs, fmt.Errorf("pool_consent %q: write yes or no", req.PoolConsent))
	}
	return req, seq, errors.Join(errs...)
}

// NormalizeEmail checks a bare address and lower-cases it, so the same
// person is one candidate however their address was typed.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("email: missing")
	}
	if strings.ContainsAny(s, "\r\n") {
		return "", fmt.Errorf("email %q: contains a line break", s)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", fmt.Errorf("email %q: not a valid address (expected name@example.com)", s)
	}
	at := strings.LastIndexByte(a.Address, '@')
	domain := a.Address[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", fmt.Errorf("email %q: the domain %q is not a mail domain", s, domain)
	}
	return strings.ToLower(a.Address), nil
}

// NormalizeLanguage accepts zh, zh-cn, zh_CN, zh-Hans, en-us… and returns the
// tag templates are named with: zh-CN, zh-TW, en, or a canonical BCP 47 tag.
func NormalizeLanguage(s string) (string, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), "_", "-")
	if s == "" {
		return "", errors.New("language: missing (e.g. zh-CN or en)")
	}
	tag, err := language.Parse(s)
	if err != nil {
		return "", fmt.Errorf("language %q: not a language tag (e.g. zh-CN or en)", s)
	}
	base, _ := tag.Base()
	switch base.String() {
	case "zh":
		script, _ := tag.Script()
		region, conf := tag.Region()
		if script.String() == "Hant" || (conf == language.Exact && (region.String() == "TW" || region.String() == "HK" || region.String() == "MO")) {
			return "zh-TW", nil
		}
		return "zh-CN", nil
	case "en":
		return "en", nil
	}
	return tag.String(), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// SortedKeys returns a map's keys in order (for stable output).
func SortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
