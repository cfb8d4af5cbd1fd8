// Package surveys owns Followup's candidate surveys: their definitions (one
// YAML file each, zh-CN and en text), personal links, the answers a person
// gives on the survey page, and the results.
//
// A link is a capability: its token names the enrollment (by its random
// UID, no personal data) and the survey, carries the day it was issued and
// an HMAC, so it cannot be forged or pointed at someone else, and expires.
// One response per link; answers are final once submitted (a second visit
// says so), which keeps NPS honest and the page simple.
package surveys

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"followup/internal/yamlfile"
)

// Text is one piece of text in several languages ("zh-CN", "en").
type Text map[string]string

// In picks the text for lang: exact, then same base language, then en,
// then anything.
func (t Text) In(lang string) string {
	if s, ok := t[lang]; ok {
		return s
	}
	base, _, _ := strings.Cut(lang, "-")
	for k, s := range t {
		if b, _, _ := strings.Cut(k, "-"); b == base {
			return s
		}
	}
	if s, ok := t["en"]; ok {
		return s
	}
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > 0 {
		return t[keys[0]]
	}
	return ""
}

// Question kinds.
const (
	Scale  = "scale"  // an integer from Min to Max (NPS: 0–10)
	Single = "single" // one option
	Multi  = "multi"  // any options
	Free   = "text"   // free text
)

// Option is a choice of a single or multi question.
type Option struct {
	ID    string `yaml:"id"`
	Label Text   `yaml:"label"`
	// Other asks for free text when chosen ("Other: …").
	Other bool `yaml:"other"`
}

// Question is one question of a survey.
type Question struct {
	ID       string   `yaml:"id"`
	Kind     string   `yaml:"type"`
	Prompt   Text     `yaml:"prompt"`
	Required bool     `yaml:"required"`
	Min      int      `yaml:"min"`
	Max      int      `yaml:"max"`
	MinLabel Text     `yaml:"min_label"`
	MaxLabel Text     `yaml:"max_label"`
	Options  []Option `yaml:"options"`
}

// Act says what an answer does besides being counted.
type Act struct {
	// NotifyBelow tells the recruiter by email when the score (the first
	// scale question) is below this value; 0: never.
	NotifyBelow int `yaml:"notify_below"`
	// NotifyAlways tells the recruiter about every response (a declined
	// offer's reasons).
	NotifyAlways bool `yaml:"notify_always"`
	// ContactAgain names a yes/no single question: "yes" enrolls the
	// candidate into Sequence, "no" stops every sequence of theirs.
	ContactAgain string `yaml:"contact_again"`
	Sequence     string `yaml:"sequence"`
}

// Survey is one survey definition.
type Survey struct {
	Name      string     `yaml:"-"`
	File      string     `yaml:"-"`
	Title     Text       `yaml:"title"`
	Intro     Text       `yaml:"intro"`
	Thanks    Text       `yaml:"thanks"`
	Anonymous bool       `yaml:"anonymous"`
	Expires   string     `yaml:"expires"` // e.g. 30d; default 30d
	Questions []Question `yaml:"questions"`
	Act       Act        `yaml:"act"`

	ExpiresD time.Duration `yaml:"-"`
}

// ScaleQuestion is the survey's first scale question (its score), if any.
func (s *Survey) ScaleQuestion() (Question, bool) {
	for _, q := range s.Questions {
		if q.Kind == Scale {
			return q, true
		}
	}
	return Question{}, false
}

// Set is a project's surveys by name.
type Set struct {
	byName map[string]*Survey
}

// Get returns a survey by name.
func (s *Set) Get(name string) (*Survey, bool) {
	if s == nil {
		return nil, false
	}
	v, ok := s.byName[name]
	return v, ok
}

// Names lists the surveys.
func (s *Set) Names() []string {
	if s == nil {
		return nil
	}
	out := make([]string, 0, len(s.byName))
	for n := range s.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

var idRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// Load reads every *.yaml in dir (a missing dir is an empty set) and
// reports every problem with its position.
func Load(dir string) (*Set, yamlfile.Problems) {
	set := &Set{byName: map[string]*Survey{}}
	var ps yamlfile.Problems
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return set, nil
	}
	if err != nil {
		ps.Addf(dir, 0, 0, "reading surveys: %v", err)
		return set, ps
	}
	for _, e := range entries {
		if e.IsDir() || !(strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
			continue
		}
		file := filepath.Join(dir, e.Name())
		content, err := os.ReadFile(file)
		if err != nil {
			ps.Addf(file, 0, 0, "reading survey: %v", err)
			continue
		}
		s, sps := Parse(file, content)
		ps = append(ps, sps...)
		set.byName[s.Name] = s
	}
	return set, ps
}

// Parse reads one survey file.
func Parse(file string, content []byte) (*Survey, yamlfile.Problems) {
	s := &Survey{}
	doc, ps := yamlfile.Decode(file, content, s)
	s.Name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	s.File = file
	if !idRe.MatchString(s.Name) {
		ps.Addf(file, 0, 0, "survey file name %q: use lowercase letters, digits, - and _ (it becomes the survey's name, as in {{survey \"%s\"}})", s.Name, s.Name)
	}
	if len(s.Title) == 0 {
		ps = append(ps, doc.Problemf("$", "a survey needs a title (title: {zh-CN: …, en: …})"))
	}
	if s.Expires == "" {
		s.Expires = "30d"
	}
	if d, err := parseDays(s.Expires); err != nil {
		ps = append(ps, doc.Problemf("$.expires", "expires %q: %v", s.Expires, err))
	} else {
		s.ExpiresD = d
	}
	if len(s.Questions) == 0 && len(ps) == 0 {
		ps = append(ps, doc.Problemf("$", "a survey needs at least one question under \"questions:\""))
	}
	seen := map[string]bool{}
	for i := range s.Questions {
		q := &s.Questions[i]
		path := fmt.Sprintf("$.questions[%d]", i)
		if !idRe.MatchString(q.ID) {
			ps = append(ps, doc.Problemf(path, "question %d: id %q must be lowercase letters, digits, - or _", i+1, q.ID))
		} else if seen[q.ID] {
			ps = append(ps, doc.Problemf(path+".id", "question id %q is used twice", q.ID))
		}
		seen[q.ID] = true
		if len(q.Prompt) == 0 {
			ps = append(ps, doc.Problemf(path, "question %q has no prompt", q.ID))
		}
		switch q.Kind {
		case Scale:
			if q.Max <= q.Min || q.Max-q.Min > 20 {
				ps = append(ps, doc.Problemf(path, "question %q: a scale needs min < max, at most 21 points (NPS is min: 0, max: 10)", q.ID))
			}
		case Single, Multi:
			if len(q.Options) < 2 {
				ps = append(ps, doc.Problemf(path, "question %q: a %s question needs at least two options", q.ID, q.Kind))
			}
			oseen := map[string]bool{}
			for j, o := range q.Options {
				if !idRe.MatchString(o.ID) || oseen[o.ID] {
					ps = append(ps, doc.Problemf(fmt.Sprintf("%s.options[%d]", path, j), "option id %q must be unique, lowercase letters, digits, - or _", o.ID))
				}
				oseen[o.ID] = true
				if len(o.Label) == 0 {
					ps = append(ps, doc.Problemf(fmt.Sprintf("%s.options[%d]", path, j), "option %q has no label", o.ID))
				}
			}
		case Free:
		default:
			ps = append(ps, doc.Problemf(path+".type", "question %q: type %q: use scale, single, multi or text", q.ID, q.Kind))
		}
	}
	if a := s.Act.ContactAgain; a != "" {
		q, ok := s.question(a)
		if !ok || q.Kind != Single || !q.hasOption("yes") || !q.hasOption("no") {
			ps = append(ps, doc.Problemf("$.act.contact_again", "contact_again names %q, which must be a single question with options yes and no", a))
		}
	}
	return s, ps
}

func (s *Survey) question(id string) (Question, bool) {
	for _, q := range s.Questions {
		if q.ID == id {
			return q, true
		}
	}
	return Question{}, false
}

func (q Question) hasOption(id string) bool {
	for _, o := range q.Options {
		if o.ID == id {
			return true
		}
	}
	return false
}

func parseDays(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var n int
	var unit string
	if _, err := fmt.Sscanf(s, "%d%s", &n, &unit); err != nil || n <= 0 {
		return 0, fmt.Errorf("write a number of days or weeks, e.g. 30d or 4w")
	}
	switch unit {
	case "d":
		return time.Duration(n) * 24 * time.Hour, nil
	case "w":
		return time.Duration(n) * 7 * 24 * time.Hour, nil
	}
	return 0, fmt.Errorf("write a number of days or weeks, e.g. 30d or 4w")
}
