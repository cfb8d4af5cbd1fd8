package templates

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func mustParse(t *testing.T, src string) *Template {
	t.Helper()
	tpl, ps := Parse("t.en.md", "t", "en", []byte(src))
	if len(ps) > 0 {
		t.Fatalf("parse: %v", ps)
	}
	return tpl
}

func TestCandidateDataIsLiteral(t *testing.T) {
	tpl := mustParse(t, "---\nsubject: \"Hello {{.name}}\"\n---\nHi {{.name}},\n\nYour strengths: {{.strengths}}\n")
	hostile := []string{
		"<script>alert(1)</script>",
		"[x](http://evil)",
		"{{.}}",
		"**bold** _it_ `code` &amp; \\ # not a heading",
		"- not a list\n1. not ordered\n    not code",
	}
	set := NewSet(tpl)
	for _, v := range hostile {
		r, err := set.Render(tpl, Data{"name": "Ann", "strengths": v}, nil)
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		for _, line := range strings.Split(v, "\n") {
			line = strings.TrimSpace(line)
			if !strings.Contains(r.Text, line) {
				t.Errorf("text part lost %q:\n%s", line, r.Text)
			}
		}
		for _, bad := range []string{"<script", `href="http://evil"`, "<strong>", "<em>", "<code", "<h1", "<ul", "<ol", "<pre"} {
			if strings.Contains(r.HTML, bad) {
				t.Errorf("value %q became markup %q in HTML:\n%s", v, bad, r.HTML)
			}
		}
	}
}

func TestHTMLEscapesValue(t *testing.T) {
	tpl := mustParse(t, "---\nsubject: s\n---\n{{.name}}\n")
	r, err := NewSet(tpl).Render(tpl, Data{"name": `<b>"Tom" & [x](y)</b>`}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.HTML, "&lt;b&gt;&quot;Tom&quot; &amp; [x](y)&lt;/b&gt;") {
		t.Errorf("HTML does not show the value literally:\n%s", r.HTML)
	}
	if got := strings.TrimSpace(r.Text); got != `<b>"Tom" & [x](y)</b>` {
		t.Errorf("text = %q", got)
	}
}

func TestHeaderInjectionRejected(t *testing.T) {
	tpl := mustParse(t, "---\nsubject: \"About {{.job_title}}\"\n---\nbody\n")
	for _, v := range []string{"Engineer\r\nBcc: victim@example.com", "Engineer\nX: y", "a\rb"} {
		_, err := NewSet(tpl).Render(tpl, Data{"job_title": v}, nil)
		if !errors.Is(err, ErrHeaderInjection) {
			t.Errorf("%q: err = %v, want ErrHeaderInjection", v, err)
		}
	}
}

func TestMarkdownToParts(t *testing.T) {
	src := "---\nsubject: s\n---\nHello **there**, see [the guide](https://example.com/g).\n\n- one\n- two\n\n> quoted\n"
	tpl := mustParse(t, src)
	sig, ps := ParseSignature("cfg", "Wang Min · {{.company}}")
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	r, err := NewSet(tpl).Render(tpl, Data{"company": "Acme"}, sig)
	if err != nil {
		t.Fatal(err)
	}
	wantText := "Hello there, see the guide (https://example.com/g).\n\n- one\n- two\n\n> quoted\n\n-- \nWang Min · Acme\n"
	if r.Text != wantText {
		t.Errorf("text:\n%q\nwant\n%q", r.Text, wantText)
	}
	for _, want := range []string{`<strong>there</strong>`, `<a href="https://example.com/g" style="color:#0b57d0;`, `<p style="margin:0 0 16px 0;">`, `name="viewport"`, `Wang Min · Acme`} {
		if !strings.Contains(r.HTML, want) {
			t.Errorf("HTML lacks %q:\n%s", want, r.HTML)
		}
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name, src string
		want      string
	}{
		{"no front matter", "Hello", "t.en.md:1: missing front matter"},
		{"unknown front matter key", "---\nsubjct: x\n---\nbody\n", `t.en.md:2:1: unknown key "subjct"`},
		{"bad body action", "---\nsubject: s\n---\nline one\n{{if .x}}unclosed\n", "unexpected EOF"},
		{"bad subject action", "---\nsubject: \"{{.x\"\n---\nbody\n", "t.en.md:2: subject:"},
		{"not utf-8", "---\nsubject: s\n---\n\xc4\xe3\xba\xc3\n", "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := Parse("t.en.md", "t", "en", []byte(tt.src))
			if len(ps) == 0 || !strings.Contains(ps[0].String(), tt.want) {
				t.Errorf("problems %v, want one containing %q", ps, tt.want)
			}
		})
	}
}

func TestFieldsAndLines(t *testing.T) {
	tpl := mustParse(t, "---\nsubject: \"{{.job_title}} at {{.company}}\"\n---\nHi {{.name}},\n\n{{if .interviewer}}You met {{.interviewer}}.{{end}}\n{{$.gaps}}\n")
	if want := []string{"company", "gaps", "interviewer", "job_title", "name"}; !reflect.DeepEqual(tpl.Fields(), want) {
		t.Errorf("fields = %v, want %v", tpl.Fields(), want)
	}
	if tpl.FieldLines["job_title"] != 2 || tpl.FieldLines["name"] != 4 || tpl.FieldLines["interviewer"] != 6 || tpl.FieldLines["gaps"] != 7 {
		t.Errorf("lines = %v", tpl.FieldLines)
	}
}

func TestLookupLanguageFallback(t *testing.T) {
	zh := mustParseNamed(t, "a", "zh-CN")
	en := mustParseNamed(t, "a", "en")
	s := NewSet(zh, en)
	tests := []struct{ lang, fallback, want string }{
		{"zh-CN", "en", "zh-CN"}, {"zh", "en", "zh-CN"}, {"zh-TW", "en", "zh-CN"}, {"en-GB", "zh-CN", "en"}, {"fr", "en", "en"}, {"", "zh-CN", "zh-CN"},
	}
	for _, tt := range tests {
		got, err := s.Lookup("a", tt.lang, tt.fallback)
		if err != nil || got.Lang != tt.want {
			t.Errorf("Lookup(%q,%q) = %v,%v want %s", tt.lang, tt.fallback, got, err, tt.want)
		}
	}
	if _, err := s.Lookup("missing", "en", "en"); err == nil {
		t.Error("missing template found")
	}
}

func mustParseNamed(t *testing.T, name, lang string) *Template {
	tpl, ps := Parse(name+"."+lang+".md", name, lang, []byte("---\nsubject: s\n---\nb\n"))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	return tpl
}
