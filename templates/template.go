package templates

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/yuin/goldmark"

	"followup/internal/yamlfile"
)

// Builtin fields are available to every template; every other field must be
// declared by the sequence that uses the template.
var Builtin = []string{"name", "email", "sender_name", "sender_email", "company", "survey_links"}

// Template is one language version of one email.
type Template struct {
	Name    string // e.g. "rejected-feedback"
	Lang    string // e.g. "zh-CN"
	File    string
	subject *template.Template // nil when the front matter has no subject
	body    *template.Template
	fields  []string
	// FieldLines maps each used field to the first line (in File) using it.
	FieldLines map[string]int
	surveys    []string
}

// Surveys lists the surveys the template links to ({{survey "nps"}}).
func (t *Template) Surveys() []string { return t.surveys }

// HasSubject reports whether the front matter sets a subject.
func (t *Template) HasSubject() bool { return t.subject != nil }

// Fields lists the merge fields the template uses, sorted.
func (t *Template) Fields() []string { return t.fields }

// Data holds the merge values for one rendering.
type Data map[string]string

// Rendered is a template rendered for one candidate.
type Rendered struct {
	Subject string
	Text    string // plain-text part
	HTML    string // complete HTML document
}

// ErrHeaderInjection is returned when a value that reaches a header holds a
// line break.
var ErrHeaderInjection = errors.New("line break in a value that goes into a mail header")

type frontMatter struct {
	Subject string `yaml:"subject"`
}

// Parse reads a template from its file content.
func Parse(file, name, lang string, content []byte) (*Template, yamlfile.Problems) {
	t := &Template{Name: name, Lang: lang, File: file, FieldLines: map[string]int{}}
	var ps yamlfile.Problems
	fm, body, bodyLine, ok := splitFrontMatter(content)
	if !ok {
		ps.Addf(file, 1, 0, "missing front matter: the file must start with a line \"---\", then \"subject: ...\", then \"---\"")
		return t, ps
	}
	if !isUTF8(content) {
		ps.Addf(file, 0, 0, "not valid UTF-8: save the file as UTF-8")
		return t, ps
	}
	var meta frontMatter
	doc, yps := yamlfile.Decode(file, fm, &meta)
	for _, p := range yps {
		p.Line++ // the front matter starts on line 2
		ps = append(ps, p)
	}
	if meta.Subject != "" {
		st, err := template.New("subject").Option("missingkey=error").Funcs(surveyFuncs).Parse(meta.Subject)
		if err != nil {
			line, _ := doc.Pos("$.subject")
			ps.Addf(file, line+1, 0, "subject: %s", templateErrMsg(err))
		} else {
			t.subject = st
			line, _ := doc.Pos("$.subject")
			collectFields(st.Tree, t.FieldLines, line+1)
		}
	}
	bt, err := template.New("body").Option("missingkey=error").Funcs(surveyFuncs).Parse(string(body))
	if err != nil {
		ps.Addf(file, bodyLine+templateErrLine(err)-1, 0, "%s", templateErrMsg(err))
	} else {
		t.body = bt
		collectFields(bt.Tree, t.FieldLines, bodyLine)
		names := map[string]bool{}
		collectSurveys(bt.Tree, names)
		for n := range names {
			t.surveys = append(t.surveys, n)
		}
		sort.Strings(t.surveys)
	}
	for f := range t.FieldLines {
		t.fields = append(t.fields, f)
	}
	sort.Strings(t.fields)
	return t, ps
}

// splitFrontMatter separates "---\nYAML\n---\nBODY".
func splitFrontMatter(content []byte) (fm, body []byte, bodyLine int, ok bool) {
	c := bytes.ReplaceAll(content, []byte("\r\n"), []byte("\n"))
	c = bytes.TrimPrefix(c, []byte("\xef\xbb\xbf")) // BOM from Windows editors
	if !bytes.HasPrefix(c, []byte("---\n")) {
		return nil, nil, 0, false
	}
	rest := c[3:] // keep the newline so an empty front matter matches too
	end := bytes.Index(rest, []byte("\n---"))
	if end < 0 {
		return nil, nil, 0, false
	}
	fm = rest[1 : end+1]
	if end == 0 {
		fm = nil
	}
	after := rest[end+4:]
	nl := bytes.IndexByte(after, '\n')
	if nl < 0 {
		after = nil
	} else {
		after = after[nl+1:]
	}
	bodyLine = 1 + 1 + bytes.Count(fm, []byte("\n")) + 1
	return fm, after, bodyLine, true
}

var tmplErrRe = regexp.MustCompile(`^template: [^:]+:(\d+):(?:\d+:)?\s*(.*)$`)

func templateErrLine(err error) int {
	if m := tmplErrRe.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 1
}

func templateErrMsg(err error) string {
	if m := tmplErrRe.FindStringSubmatch(err.Error()); m != nil {
		return m[2]
	}
	return err.Error()
}

// collectFields records every .field the tree uses, with the file line of
// its first use; lineBase is the file line of the tree's first line.
func collectFields(tree *parse.Tree, out map[string]int, lineBase int) {
	note := func(name string, n parse.Node) {
		if _, seen := out[name]; seen {
			return
		}
		loc, _ := tree.ErrorContext(n) // "name:line:col"
		parts := strings.Split(loc, ":")
		line := 1
		if len(parts) >= 3 {
			line, _ = strconv.Atoi(parts[len(parts)-2])
		}
		out[name] = lineBase + line - 1
	}
	walkTree(tree.Root, func(n parse.Node) {
		switch n := n.(type) {
		case *parse.FieldNode:
			note(n.Ident[0], n)
		case *parse.VariableNode:
			if len(n.Ident) > 1 && n.Ident[0] == "$" {
				note(n.Ident[1], n)
			}
		}
	})
}

// walkTree calls visit on n and every node below it.
func walkTree(n parse.Node, visit func(parse.Node)) {
	visit(n)
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				walkTree(c, visit)
			}
		}
	case *parse.ActionNode:
		walkTree(n.Pipe, visit)
	case *parse.PipeNode:
		if n != nil {
			for _, c := range n.Cmds {
				walkTree(c, visit)
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walkTree(a, visit)
		}
	case *parse.IfNode:
		walkBranch(&n.BranchNode, visit)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, visit)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, visit)
	case *parse.TemplateNode:
		walkTree(n.Pipe, visit)
	case *parse.ChainNode:
		walkTree(n.Node, visit)
	}
}

func walkBranch(b *parse.BranchNode, visit func(parse.Node)) {
	walkTree(b.Pipe, visit)
	walkTree(b.List, visit)
	walkTree(b.ElseList, visit)
}

// Render produces the message parts for data. The subject is rendered from
// raw values and rejected if it would carry a line break; the body is
// rendered with values escaped so they show literally.
func (t *Template) Render(md goldmark.Markdown, data Data, signature *Template, lang string) (Rendered, error) {
	return t.RenderWith(md, data, signature, lang, nil)
}

// RenderWith is Render with the candidate's survey links bound.
func (t *Template) RenderWith(md goldmark.Markdown, data Data, signature *Template, lang string, links SurveyLinks) (Rendered, error) {
	var r Rendered
	if t.subject != nil {
		var sb strings.Builder
		if err := t.subject.Execute(&sb, map[string]string(data)); err != nil {
			return r, fmt.Errorf("rendering subject of %s: %w", t.File, err)
		}
		r.Subject = strings.TrimSpace(sb.String())
		if strings.ContainsAny(r.Subject, "\r\n") {
			return r, fmt.Errorf("rendering subject of %s: %w", t.File, ErrHeaderInjection)
		}
	}
	escaped := make(map[string]string, len(data))
	for k, v := range data {
		escaped[k] = escapeMarkdown(v)
	}
	body, err := executeBodyWith(t, escaped, links)
	if err != nil {
		return r, err
	}
	bodyHTML, bodyText, err := toParts(md, body)
	if err != nil {
		return r, fmt.Errorf("rendering %s: %w", t.File, err)
	}
	var sigHTML, sigText string
	if signature != nil {
		sb, err := executeBody(signature, escaped)
		if err != nil {
			return r, err
		}
		if sigHTML, sigText, err = toParts(md, sb); err != nil {
			return r, fmt.Errorf("rendering signature: %w", err)
		}
	}
	r.Text = bodyText
	if sigText != "" {
		r.Text += "\n-- \n" + sigText // RFC 3676 §4.3 signature separator
	}
	r.HTML = layout(lang, r.Subject, bodyHTML, sigHTML)
	return r, nil
}

// RenderWritten renders a body the recruiter wrote for one candidate (an
// approved review step): their Markdown is used as written, with the
// sender's signature and the usual layout.
func (s *Set) RenderWritten(subject, body, lang string, data Data, signature *Template) (Rendered, error) {
	r := Rendered{Subject: strings.TrimSpace(subject)}
	if strings.ContainsAny(r.Subject, "\r\n") {
		return r, ErrHeaderInjection
	}
	bodyHTML, bodyText, err := toParts(s.md, []byte(body))
	if err != nil {
		return r, err
	}
	var sigHTML, sigText string
	if signature != nil {
		escaped := make(map[string]string, len(data))
		for k, v := range data {
			escaped[k] = escapeMarkdown(v)
		}
		sb, err := executeBody(signature, escaped)
		if err != nil {
			return r, err
		}
		if sigHTML, sigText, err = toParts(s.md, sb); err != nil {
			return r, err
		}
	}
	r.Text = bodyText
	if sigText != "" {
		r.Text += "\n-- \n" + sigText
	}
	r.HTML = layout(lang, r.Subject, bodyHTML, sigHTML)
	return r, nil
}

func executeBody(t *Template, data map[string]string) ([]byte, error) {
	return executeBodyWith(t, data, nil)
}

// executeBodyWith binds the survey functions for this rendering (on a
// clone: templates are shared by concurrent renderings).
func executeBodyWith(t *Template, data map[string]string, links SurveyLinks) ([]byte, error) {
	body := t.body
	if len(t.surveys) > 0 && links != nil {
		c, err := t.body.Clone()
		if err != nil {
			return nil, err
		}
		body = c.Funcs(boundFuncs(links))
	}
	var b bytes.Buffer
	if err := body.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", t.File, err)
	}
	return b.Bytes(), nil
}

const fontStack = `-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,'PingFang SC','Hiragino Sans GB','Microsoft YaHei','Noto Sans CJK SC',Arial,sans-serif`

func layout(lang, subject, body, signature string) string {
	var b strings.Builder
	b.Grow(len(body) + len(signature) + 800)
	b.WriteString(`<!DOCTYPE html><html lang="` + html.EscapeString(lang) + `"><head><meta charset="utf-8">`)
	b.WriteString(`<meta name="viewport" content="width=device-width, initial-scale=1"><title>` + html.EscapeString(subject) + `</title></head>`)
	b.WriteString(`<body style="margin:0;padding:0;background:#ffffff;">`)
	b.WriteString(`<div style="max-width:600px;margin:0 auto;padding:24px 16px;font-family:` + fontStack + `;font-size:16px;line-height:1.6;color:#1f2328;word-wrap:break-word;">`)
	b.WriteString(body)
	if signature != "" {
		b.WriteString(`<div style="margin-top:24px;padding-top:12px;border-top:1px solid #e5e7eb;color:#57606a;font-size:14px;">`)
		b.WriteString(signature)
		b.WriteString(`</div>`)
	}
	b.WriteString(`</div></body></html>`)
	return b.String()
}

// ParseSignature parses a sender's Markdown signature (it may use merge fields).
func ParseSignature(origin, text string) (*Template, yamlfile.Problems) {
	return Parse(origin, "signature", "", []byte("---\n---\n"+text))
}

// Load reads every NAME.LANG.md in dir.
func Load(dir string) (*Set, yamlfile.Problems) {
	s := &Set{md: newMarkdown(), byKey: map[string]*Template{}}
	var ps yamlfile.Problems
	entries, err := os.ReadDir(dir)
	if err != nil {
		ps.Addf(dir, 0, 0, "reading templates: %v", err)
		return s, ps
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".md") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		name, lang, ok := splitName(e.Name())
		if !ok {
			ps.Addf(path, 0, 0, "template files are named NAME.LANG.md, e.g. rejected-feedback.zh-CN.md or rejected-feedback.en.md")
			continue
		}
		content, err := os.ReadFile(path)
		if err != nil {
			ps.Addf(path, 0, 0, "reading template: %v", err)
			continue
		}
		t, tps := Parse(path, name, lang, content)
		ps = append(ps, tps...)
		s.byKey[name+"."+lang] = t
		s.langs(name)
	}
	return s, ps
}

func splitName(file string) (name, lang string, ok bool) {
	base := strings.TrimSuffix(file, ".md")
	i := strings.LastIndexByte(base, '.')
	if i <= 0 || i == len(base)-1 {
		return "", "", false
	}
	return base[:i], base[i+1:], true
}
