package templates

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// escapeMarkdown makes a candidate's value literal inside Markdown source:
// every ASCII punctuation character is backslash-escaped (CommonMark §2.4), so
// `[x](http://evil)` or `<script>` render as typed. Line breaks inside a value
// become hard line breaks and leading blanks are dropped, so a value can never
// start a list, a heading or a code block.
func escapeMarkdown(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	first := true
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimLeft(line, " \t")
		if line == "" {
			continue
		}
		if !first {
			b.WriteString("\\\n")
		}
		first = false
		for _, r := range line {
			if r < 0x80 && isASCIIPunct(byte(r)) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isASCIIPunct(c byte) bool {
	return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~')
}

// Inline styles: many mail clients (Gmail, Outlook, QQ Mail) drop <style>
// blocks, so every element carries its own.
var styles = map[ast.NodeKind]string{
	ast.KindParagraph:     "margin:0 0 16px 0;",
	ast.KindHeading:       "margin:24px 0 12px 0;font-size:18px;line-height:1.4;",
	ast.KindLink:          "color:#0b57d0;text-decoration:underline;",
	ast.KindList:          "margin:0 0 16px 0;padding-left:24px;",
	ast.KindListItem:      "margin:0 0 6px 0;",
	ast.KindBlockquote:    "margin:0 0 16px 0;padding:0 0 0 12px;border-left:3px solid #d0d7de;color:#57606a;",
	ast.KindThematicBreak: "border:0;border-top:1px solid #d0d7de;margin:24px 0;",
	ast.KindCodeSpan:      "font-family:Menlo,Consolas,monospace;font-size:14px;background:#f6f8fa;padding:1px 4px;",
}

type inlineStyler struct{}

func (inlineStyler) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			if st, ok := styles[n.Kind()]; ok {
				n.SetAttributeString("style", []byte(st))
			}
		}
		return ast.WalkContinue, nil
	})
}

// newMarkdown returns the goldmark instance shared by all templates. Raw HTML
// in templates is not rendered (goldmark's safe default).
func newMarkdown() goldmark.Markdown {
	return goldmark.New(goldmark.WithParserOptions(
		parser.WithASTTransformers(util.Prioritized(inlineStyler{}, 100)),
	))
}

// toParts renders Markdown source to an HTML fragment and a plain-text version
// from the same syntax tree, so both parts always say the same thing.
func toParts(md goldmark.Markdown, src []byte) (html, plain string, err error) {
	doc := md.Parser().Parse(text.NewReader(src))
	var hb bytes.Buffer
	if err := md.Renderer().Render(&hb, src, doc); err != nil {
		return "", "", err
	}
	var tb strings.Builder
	writeTextBlocks(&tb, doc, src, "")
	return hb.String(), strings.TrimRight(tb.String(), "\n") + "\n", nil
}

// writeTextBlocks renders block children of n as plain text, each line
// prefixed with indent.
func writeTextBlocks(b *strings.Builder, n ast.Node, src []byte, indent string) {
	first := true
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if _, skip := c.(*ast.HTMLBlock); skip {
			continue
		}
		if !first {
			b.WriteString(strings.TrimRight(indent, " "))
			b.WriteString("\n")
		}
		first = false
		writeTextBlock(b, c, src, indent)
	}
}

func writeTextBlock(b *strings.Builder, n ast.Node, src []byte, indent string) {
	switch n := n.(type) {
	case *ast.List:
		num := n.Start
		for item := n.FirstChild(); item != nil; item = item.NextSibling() {
			marker := "- "
			if n.IsOrdered() {
				marker = strconv.Itoa(num) + ". "
				num++
			}
			var ib strings.Builder
			writeTextBlocks(&ib, item, src, "")
			lines := strings.Split(strings.TrimRight(ib.String(), "\n"), "\n")
			for i, l := range lines {
				b.WriteString(indent)
				if i == 0 {
					b.WriteString(marker)
				} else if l != "" {
					b.WriteString(strings.Repeat(" ", len(marker)))
				}
				b.WriteString(l)
				b.WriteString("\n")
			}
			if !n.IsTight && item.NextSibling() != nil {
				b.WriteString("\n")
			}
		}
	case *ast.Blockquote:
		writeTextBlocks(b, n, src, indent+"> ")
	case *ast.ThematicBreak:
		b.WriteString(indent + "----------\n")
	case *ast.CodeBlock, *ast.FencedCodeBlock:
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			b.WriteString(indent + "    ")
			b.Write(seg.Value(src))
		}
	default: // paragraph, heading, text block
		var ib strings.Builder
		writeInline(&ib, n, src)
		for _, l := range strings.Split(ib.String(), "\n") {
			b.WriteString(indent)
			b.WriteString(l)
			b.WriteString("\n")
		}
	}
}

func writeInline(b *strings.Builder, n ast.Node, src []byte) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			b.Write(literal(c.Segment.Value(src)))
			if c.SoftLineBreak() || c.HardLineBreak() {
				b.WriteString("\n")
			}
		case *ast.String:
			b.Write(literal(c.Value))
		case *ast.CodeSpan:
			for t := c.FirstChild(); t != nil; t = t.NextSibling() {
				if s, ok := t.(*ast.Text); ok {
					b.Write(s.Segment.Value(src))
				}
			}
		case *ast.Link:
			var lb strings.Builder
			writeInline(&lb, c, src)
			label, dest := lb.String(), string(c.Destination)
			b.WriteString(label)
			if dest != "" && dest != label {
				b.WriteString(" (" + dest + ")")
			}
		case *ast.AutoLink:
			b.Write(c.URL(src))
		case *ast.Image:
			writeInline(b, c, src)
		case *ast.RawHTML:
			// not rendered in HTML either
		default:
			writeInline(b, c, src)
		}
	}
}

// literal resolves backslash escapes and character references, as the HTML
// renderer does, so the text part shows what the HTML part shows.
func literal(v []byte) []byte {
	return util.UnescapePunctuations(util.ResolveNumericReferences(util.ResolveEntityNames(v)))
}
