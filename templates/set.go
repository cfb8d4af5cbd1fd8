package templates

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark"
)

// Set is every template of a project, by name and language.
type Set struct {
	md    goldmark.Markdown
	byKey map[string]*Template
}

// NewSet builds a set from parsed templates (used by tests and embedders).
func NewSet(ts ...*Template) *Set {
	s := &Set{md: newMarkdown(), byKey: map[string]*Template{}}
	for _, t := range ts {
		s.byKey[t.Name+"."+t.Lang] = t
	}
	return s
}

func (s *Set) langs(name string) []string {
	var out []string
	for k := range s.byKey {
		if n, l, _ := strings.Cut(k, "."); n == name {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

// Has reports whether any language version of name exists.
func (s *Set) Has(name string) bool { return len(s.langs(name)) > 0 }

// Versions returns every language version of name.
func (s *Set) Versions(name string) []*Template {
	var out []*Template
	for _, l := range s.langs(name) {
		out = append(out, s.byKey[name+"."+l])
	}
	return out
}

// Lookup picks the version of name for lang: the exact language, then its
// base ("zh" for "zh-TW"), then any version sharing that base, then fallback.
func (s *Set) Lookup(name, lang, fallback string) (*Template, error) {
	for _, want := range []string{lang, fallback} {
		if want == "" {
			continue
		}
		if t, ok := s.byKey[name+"."+want]; ok {
			return t, nil
		}
		for _, l := range s.langs(name) {
			if baseLang(l) == baseLang(want) {
				return s.byKey[name+"."+l], nil
			}
		}
	}
	if vs := s.langs(name); len(vs) > 0 {
		return nil, fmt.Errorf("template %q has no %q or %q version (it has %s)", name, lang, fallback, strings.Join(vs, ", "))
	}
	return nil, fmt.Errorf("no template named %q", name)
}

// Render renders t with the set's Markdown engine.
func (s *Set) Render(t *Template, data Data, signature *Template) (Rendered, error) {
	return t.Render(s.md, data, signature, t.Lang)
}

// RenderWith renders t with the candidate's survey links.
func (s *Set) RenderWith(t *Template, data Data, signature *Template, links SurveyLinks) (Rendered, error) {
	return t.RenderWith(s.md, data, signature, t.Lang, links)
}

// All lists every template of the set.
func (s *Set) All() []*Template {
	out := make([]*Template, 0, len(s.byKey))
	for _, t := range s.byKey {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out
}

func baseLang(l string) string {
	b, _, _ := strings.Cut(l, "-")
	return b
}

func isUTF8(b []byte) bool { return utf8.Valid(b) }
