package sequences

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"followup/internal/yamlfile"
	"followup/templates"
)

// Sequence is an ordered list of steps a candidate goes through.
type Sequence struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Mailbox     string `json:"mailbox,omitempty"`
	// OnReply is what a candidate's reply does to their enrollments: "stop"
	// (the default) or "pause" (the recruiter resumes when it makes sense,
	// e.g. after a "yes, keep me in the talent pool").
	OnReply string `json:"on_reply,omitempty"`
	// RequiresConsent enrolls only candidates who agreed to stay in the
	// talent pool (seed 000: ask first).
	RequiresConsent bool `json:"requires_consent,omitempty"`
	// Timezone is the zone of candidates enrolled without one (before the
	// project's default).
	Timezone       string   `json:"timezone,omitempty"`
	Fields         []string `json:"fields,omitempty"`
	OptionalFields []string `json:"optional_fields,omitempty"`
	Steps          []Step   `json:"steps"`
	// Window is when this sequence's emails may arrive, in the candidate's
	// time zone (zero: always).
	Window Window `json:"window"`
	File   string `json:"-"`
	// explicitWindow is set when the file gives its own window.
	explicitWindow bool
	// cals are the regional calendars (working days, holidays); they are
	// data, not part of the pinned version: next year's holidays apply to
	// enrollments already running.
	cals *Calendars
}

// UseCalendars sets the calendars business days and working-day windows
// are counted on.
func (s *Sequence) UseCalendars(c *Calendars) { s.cals = c }

// DueAfter is when the step after `step`, sent (or skipped) at `at`, is
// due for e; nil when it was the last step.
func (s *Sequence) DueAfter(e Enrollment, step int, at time.Time) *time.Time {
	if step+1 >= len(s.Steps) {
		return nil
	}
	due := s.Due(step+1, at, e.Timezone, fmt.Sprintf("%s.%d", e.UID, step+1))
	return &due
}

// Calendar is the calendar of a candidate's time zone (nil: weekdays).
func (s *Sequence) Calendar(tz string) *Calendar { return s.cals.For(tz) }

// Due is when step is due counting from `from` (enrollment, or the previous
// step's sending), moved into the sending window in the time zone tz. key
// names the enrollment and step, for a stable jitter. A step with a date
// ("on") is due on that date, whatever `from` is.
func (s *Sequence) Due(step int, from time.Time, tz, key string) time.Time {
	loc, cal := Location(tz), s.Calendar(tz)
	st := s.Steps[step]
	t := st.After.From(from, loc, cal)
	if !st.On.IsZero() {
		t = st.On.In(loc)
	}
	return s.Window.Next(t, loc, cal, key)
}

var locations sync.Map // name → *time.Location

// Location loads an IANA time zone, cached; unknown or empty names are UTC
// (enrollments are validated, so that only happens to old data).
func Location(tz string) *time.Location {
	if v, ok := locations.Load(tz); ok {
		return v.(*time.Location)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "" {
		loc = time.UTC
	}
	locations.Store(tz, loc)
	return loc
}

// Step is one email of a sequence.
type Step struct {
	Template string `json:"template"`
	After    Delay  `json:"after"`
	// On fires the step on a date (and time of day) in the candidate's time
	// zone instead of after a delay: a greeting before the Spring Festival.
	// A date already more than a day past when the step comes up is
	// skipped, not sent late.
	On Date `json:"on,omitempty"`
	// Reply sends the step as a reply in the thread of the enrollment's
	// earlier messages: "Re: " + the first subject, In-Reply-To and References.
	Reply bool `json:"reply,omitempty"`
	// Review holds the rendered email for the recruiter to approve (and
	// perhaps rewrite for this candidate) before it goes out.
	Review bool `json:"review,omitempty"`
	// Variants are alternative templates (A/B): each enrollment gets one of
	// Template and Variants, chosen by its UID, the same every time.
	Variants []string `json:"variants,omitempty"`
}

// Version identifies the content of a sequence; enrollments pin the version
// they started on, so editing the file never changes a running enrollment.
func (s *Sequence) Version() string {
	b, _ := json.Marshal(s)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// Definition is the pinned JSON form stored with each version.
func (s *Sequence) Definition() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// ParseDefinition reads a pinned version back.
func ParseDefinition(def string) (*Sequence, error) {
	var s Sequence
	if err := json.Unmarshal([]byte(def), &s); err != nil {
		return nil, fmt.Errorf("reading pinned sequence version: %w", err)
	}
	return &s, nil
}

// AllFields is every field an enrollment in this sequence may carry.
func (s *Sequence) AllFields() []string {
	return append(append([]string{}, s.Fields...), s.OptionalFields...)
}

type sequenceFile struct {
	Description     string      `yaml:"description"`
	Mailbox         string      `yaml:"mailbox"`
	OnReply         string      `yaml:"on_reply"`
	RequiresConsent bool        `yaml:"requires_consent"`
	Timezone        string      `yaml:"timezone"`
	Fields          []string    `yaml:"fields"`
	OptionalFields  []string    `yaml:"optional_fields"`
	Window          *WindowSpec `yaml:"window"`
	Steps           []stepFile  `yaml:"steps"`
}

type stepFile struct {
	Template string   `yaml:"template"`
	Variants []string `yaml:"variants"`
	After    string   `yaml:"after"`
	On       string   `yaml:"on"`
	Reply    bool     `yaml:"reply"`
	Review   bool     `yaml:"review"`
}

var (
	nameRe  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	fieldRe = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// ParseSequence reads one sequence file. Template references are checked by
// Catalog, which sees the templates too.
func ParseSequence(file string, content []byte) (*Sequence, *yamlfile.Doc, yamlfile.Problems) {
	name := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	var f sequenceFile
	doc, ps := yamlfile.Decode(file, content, &f)
	s := &Sequence{Name: name, Description: f.Description, Mailbox: f.Mailbox, OnReply: f.OnReply, RequiresConsent: f.RequiresConsent, Timezone: f.Timezone, File: file}
	if f.Timezone != "" {
		if _, err := time.LoadLocation(f.Timezone); err != nil {
			ps = append(ps, doc.Problemf("$.timezone", "unknown time zone %q (use an IANA name such as Asia/Shanghai)", f.Timezone))
		}
	}
	switch f.OnReply {
	case "", "stop", "pause":
	default:
		ps = append(ps, doc.Problemf("$.on_reply", "on_reply %q: use stop (the default) or pause", f.OnReply))
	}
	if !nameRe.MatchString(name) {
		ps.Addf(file, 0, 0, "sequence file name %q: use lowercase letters, digits, - and _ (it becomes the sequence's name)", name)
	}
	seen := map[string]bool{}
	for _, b := range templates.Builtin {
		seen[b] = true
	}
	addFields := func(key string, list []string) []string {
		var out []string
		for i, fl := range list {
			path := fmt.Sprintf("$.%s[%d]", key, i)
			switch {
			case !fieldRe.MatchString(fl):
				ps = append(ps, doc.Problemf(path, "field %q: use lowercase letters, digits and _ (e.g. job_title)", fl))
			case seen[fl]:
				ps = append(ps, doc.Problemf(path, "field %q is declared twice or is built in (built in: %s)", fl, strings.Join(templates.Builtin, ", ")))
			default:
				seen[fl] = true
				out = append(out, fl)
			}
		}
		return out
	}
	s.Fields = addFields("fields", f.Fields)
	s.OptionalFields = addFields("optional_fields", f.OptionalFields)
	if f.Window != nil {
		w, err := f.Window.Parse()
		if err != nil {
			ps = append(ps, doc.Problemf("$.window", "window: %v", err))
		}
		s.Window, s.explicitWindow = w, true
	}
	if len(f.Steps) == 0 && len(ps) == 0 {
		ps = append(ps, doc.Problemf("$", "a sequence needs at least one step under \"steps:\""))
	}
	for i, st := range f.Steps {
		path := fmt.Sprintf("$.steps[%d]", i)
		step := Step{Template: st.Template, Reply: st.Reply, Review: st.Review, Variants: st.Variants}
		if st.Template == "" {
			ps = append(ps, doc.Problemf(path, "step %d has no template", i+1))
		}
		if st.On != "" {
			d, err := ParseDate(st.On)
			if err != nil {
				ps = append(ps, doc.Problemf(path+".on", "step %d: %v", i+1, err))
			}
			step.On = d
			if st.After != "" {
				ps = append(ps, doc.Problemf(path+".after", "step %d: give either \"after\" or \"on\", not both", i+1))
			}
		} else if st.After == "" {
			ps = append(ps, doc.Problemf(path, "step %d has no delay: add e.g. \"after: 2h\" (or a date: \"on: 2027-02-05 10:00\")", i+1))
		} else if d, err := ParseDelay(st.After); err != nil {
			ps = append(ps, doc.Problemf(path+".after", "step %d: %v", i+1, err))
		} else {
			step.After = d
		}
		if st.Reply && i == 0 {
			ps = append(ps, doc.Problemf(path+".reply", "step 1 cannot be a reply: there is no earlier message in the thread"))
		}
		s.Steps = append(s.Steps, step)
	}
	return s, doc, ps
}

// Catalog is a project's sequences and templates, checked against each other.
type Catalog struct {
	Sequences map[string]*Sequence
	Templates *templates.Set
	docs      map[string]*yamlfile.Doc
}

// LoadCatalog reads every *.yaml in seqDir and every template in tplDir, and
// reports all problems: file errors, steps naming missing templates,
// templates using fields the sequence does not declare, missing subjects.
func LoadCatalog(seqDir, tplDir string) (*Catalog, yamlfile.Problems) {
	set, ps := templates.Load(tplDir)
	c := &Catalog{Sequences: map[string]*Sequence{}, Templates: set, docs: map[string]*yamlfile.Doc{}}
	entries, err := os.ReadDir(seqDir)
	if err != nil {
		ps.Addf(seqDir, 0, 0, "reading sequences: %v", err)
		return c, ps
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() || !(strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
			continue
		}
		file := filepath.Join(seqDir, e.Name())
		content, err := os.ReadFile(file)
		if err != nil {
			ps.Addf(file, 0, 0, "reading sequence: %v", err)
			continue
		}
		s, doc, sps := ParseSequence(file, content)
		ps = append(ps, sps...)
		if prev, dup := c.Sequences[s.Name]; dup {
			ps.Addf(file, 0, 0, "sequence %q is also defined in %s", s.Name, prev.File)
			continue
		}
		c.Sequences[s.Name] = s
		c.docs[s.Name] = doc
		names = append(names, s.Name)
	}
	sort.Strings(names)
	for _, n := range names {
		ps = append(ps, c.checkSequence(c.Sequences[n])...)
	}
	return c, ps
}

// checkSequence verifies a sequence's steps against the templates.
func (c *Catalog) checkSequence(s *Sequence) yamlfile.Problems {
	var ps yamlfile.Problems
	doc := c.docs[s.Name]
	declared := map[string]bool{}
	for _, f := range append(s.AllFields(), templates.Builtin...) {
		declared[f] = true
	}
	for i, st := range s.Steps {
		if st.Template == "" {
			continue
		}
		for j, name := range st.Templates() {
			path := fmt.Sprintf("$.steps[%d].template", i)
			if j > 0 {
				path = fmt.Sprintf("$.steps[%d].variants[%d]", i, j-1)
			}
			ps = append(ps, c.checkTemplate(s, i, st, name, path, declared, doc)...)
		}
	}
	return ps
}

// Templates lists a step's template and its variants.
func (st Step) Templates() []string { return append([]string{st.Template}, st.Variants...) }

// ChooseTemplate picks the step's template for an enrollment: always the
// same one for the same enrollment, spread evenly across enrollments.
func ChooseTemplate(st Step, uid string, step int) string {
	all := st.Templates()
	if len(all) == 1 {
		return all[0]
	}
	h := fnv.New32a()
	fmt.Fprintf(h, "%s.%d", uid, step)
	return all[h.Sum32()%uint32(len(all))]
}

func (c *Catalog) checkTemplate(s *Sequence, i int, st Step, name, path string, declared map[string]bool, doc *yamlfile.Doc) yamlfile.Problems {
	var ps yamlfile.Problems
	versions := c.Templates.Versions(name)
	if len(versions) == 0 {
		ps = append(ps, doc.Problemf(path, "step %d: no template %q (expected a file %s.LANG.md in the templates folder)", i+1, name, name))
		return ps
	}
	for _, t := range versions {
		if !st.Reply && !t.HasSubject() {
			ps.Addf(t.File, 1, 0, "no subject in the front matter, but sequence %s step %d sends it as a new email (add \"subject: ...\" or mark the step \"reply: true\")", s.Name, i+1)
		}
		for _, f := range t.Fields() {
			if !declared[f] {
				ps.Addf(t.File, t.FieldLines[f], 0, "field %q is not provided by sequence %s (%s): add it to its \"fields\" or \"optional_fields\"", f, s.Name, s.File)
			}
		}
	}
	return ps
}

// UseCalendars sets the calendars of every sequence.
func (c *Catalog) UseCalendars(cs *Calendars) {
	for _, s := range c.Sequences {
		s.UseCalendars(cs)
	}
}

// SetDefaultWindow gives every sequence without a window of its own the
// project's (from the config). The effective window is part of the version
// an enrollment pins.
func (c *Catalog) SetDefaultWindow(w Window) {
	for _, s := range c.Sequences {
		if !s.explicitWindow {
			s.Window = w
		}
	}
}

// Problemf builds a problem located at path in a sequence's file.
func (c *Catalog) Problemf(sequence, path, format string, args ...any) yamlfile.Problem {
	if doc, ok := c.docs[sequence]; ok {
		return doc.Problemf(path, format, args...)
	}
	return yamlfile.Problem{Msg: fmt.Sprintf(format, args...)}
}

// Sequence returns a sequence by name.
func (c *Catalog) Sequence(name string) (*Sequence, error) {
	s, ok := c.Sequences[name]
	if !ok {
		var names []string
		for n := range c.Sequences {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("no sequence named %q (sequences: %s)", name, strings.Join(names, ", "))
	}
	return s, nil
}
