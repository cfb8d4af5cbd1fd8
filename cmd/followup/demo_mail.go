package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // GBK, GB18030, Big5… in parts and headers
	gmmail "github.com/emersion/go-message/mail"
	"golang.org/x/net/html"
)

// demoMessage is one message of the demo's sandbox mailbox, decoded for
// the browser: headers RFC 2047-decoded, parts transfer-decoded and turned
// into UTF-8. Every string may be hostile: it is only ever shown through
// html/template, and the HTML part only inside a sandboxed frame.
type demoMessage struct {
	ID       string // "o3": the 3rd message the SMTP sandbox captured; "i2": the 2nd delivered to the recruiter's inbox
	Incoming bool   // a reply delivered to the recruiter's IMAP inbox
	At       time.Time

	From, To         string // as "Name <address>"
	FromAddr, ToAddr string // lower-cased addresses
	FromName, ToName string
	Subject          string
	Date             time.Time
	MessageID        string   // without <>
	References       []string // without <>
	Text, HTML       string
	Links            []demoLink
	Problem          string // what could not be decoded, if anything
}

// demoLink is a link found in a message (http and https only).
type demoLink struct {
	URL, Text string
}

// Limits that keep one odd message from filling the page.
const (
	demoMaxPart  = 1 << 20
	demoMaxLinks = 60
)

// decodeDemoMessage reads a raw message leniently: what cannot be decoded
// is noted in Problem and the rest is still shown.
func decodeDemoMessage(raw []byte) demoMessage {
	var m demoMessage
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		m.Problem = err.Error()
		if e == nil {
			m.Text = string(raw)
			return m
		}
	}
	h := gmmail.Header{Header: e.Header}
	if s, err := h.Subject(); err == nil {
		m.Subject = s
	} else {
		m.Subject = h.Get("Subject")
	}
	m.FromAddr, m.FromName, m.From = firstAddress(h, "From")
	m.ToAddr, m.ToName, m.To = firstAddress(h, "To")
	if d, err := h.Date(); err == nil {
		m.Date = d
	}
	m.MessageID, _ = h.MessageID()
	m.References, _ = h.MsgIDList("References")
	var text, htm strings.Builder
	walkErr := e.Walk(func(_ []int, part *message.Entity, err error) error {
		if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
			return err
		}
		mt, _, _ := part.Header.ContentType()
		if mt == "" && part == e {
			mt = "text/plain"
		}
		if disp, _, _ := part.Header.ContentDisposition(); disp == "attachment" {
			return nil
		}
		var into *strings.Builder
		switch {
		case mt == "text/plain" && text.Len() == 0:
			into = &text
		case mt == "text/html" && htm.Len() == 0:
			into = &htm
		default:
			return nil
		}
		b, err := io.ReadAll(io.LimitReader(part.Body, demoMaxPart))
		if err != nil {
			return err
		}
		into.WriteString(strings.ToValidUTF8(string(b), "\uFFFD"))
		return nil
	})
	if walkErr != nil && m.Problem == "" {
		m.Problem = walkErr.Error()
	}
	m.Text = strings.ReplaceAll(text.String(), "\r\n", "\n")
	m.HTML = htm.String()
	m.Links = demoLinks(m.HTML, m.Text)
	return m
}

func firstAddress(h gmmail.Header, key string) (addr, name, display string) {
	list, err := h.AddressList(key)
	if err != nil || len(list) == 0 {
		v := h.Get(key)
		return strings.ToLower(strings.Trim(v, "<> ")), "", v
	}
	a := list[0]
	display = a.Address
	if a.Name != "" {
		display = a.Name + " <" + a.Address + ">"
	}
	return strings.ToLower(a.Address), a.Name, display
}

var demoTextLink = regexp.MustCompile(`https?://[^\s<>"()\x{3000}-\x{303f}\x{ff00}-\x{ffef}]+`)

// demoLinks lists the http(s) links of a message: those of the HTML part
// with their text, then those only in the text part; each once.
func demoLinks(htm, text string) []demoLink {
	var out []demoLink
	seen := map[string]bool{}
	add := func(u, label string) {
		u = strings.TrimRight(strings.TrimSpace(u), ".,;:!?'")
		l := strings.ToLower(u)
		if seen[u] || len(out) >= demoMaxLinks || !(strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")) {
			return
		}
		seen[u] = true
		out = append(out, demoLink{URL: u, Text: strings.Join(strings.Fields(label), " ")})
	}
	z := html.NewTokenizer(strings.NewReader(htm))
	var href string
	var label strings.Builder
	inA := false
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		switch tt {
		case html.StartTagToken:
			name, hasAttr := z.TagName()
			if string(name) != "a" {
				continue
			}
			inA, href = true, ""
			label.Reset()
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				if string(k) == "href" {
					href = string(v)
				}
			}
		case html.TextToken:
			if inA {
				label.Write(z.Text())
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); string(name) == "a" && inA {
				inA = false
				add(href, label.String())
			}
		}
	}
	for _, u := range demoTextLink.FindAllString(text, -1) {
		add(u, "")
	}
	return out
}

// mostlyHan reports whether s is written in Chinese (which may hold a
// few English words, names and links).
func mostlyHan(s string) bool {
	han, letters := 0, 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r):
			han++
			letters++
		case unicode.IsLetter(r):
			letters++
		}
	}
	return han > 0 && han*3 >= letters
}

// demoReplyKind is what the candidate sends back.
type demoReplyKind string

const (
	replyPerson      demoReplyKind = "reply"       // a person's words
	replyOutOfOffice demoReplyKind = "auto"        // an automatic out-of-office reply
	replyUnsubscribe demoReplyKind = "unsubscribe" // "please stop emailing me"
)

// demoReplyText is the friendly text a reply form starts with, in the
// message's language.
func demoReplyText(kind demoReplyKind, zh bool, name string, now time.Time) string {
	back := now.AddDate(0, 0, 7)
	switch {
	case kind == replyOutOfOffice && zh:
		return fmt.Sprintf("您好，我正在休假，%d月%d日回来，回来后会尽快回复您。\n这是一封自动回复邮件。", back.Month(), back.Day())
	case kind == replyOutOfOffice:
		return fmt.Sprintf("Hello, I am out of the office until %s and will reply when I am back.\nThis is an automatic reply.", back.Format("Monday 2 January 2006"))
	case kind == replyUnsubscribe && zh:
		return "请不要再给我发邮件了，谢谢。"
	case kind == replyUnsubscribe:
		return "Please stop emailing me. Thank you."
	case zh:
		return "王老师您好，\n\n谢谢您的来信，内容我都看到了，讲得很清楚！有问题我再联系您。\n\n祝好\n" + name
	default:
		first, _, _ := strings.Cut(name, " ")
		return "Hi,\n\nThank you for your email, that is very clear and helpful. I will get back to you if I have any questions.\n\nBest regards,\n" + first
	}
}

// buildDemoReply writes the reply the candidate's mail client would send
// to m: From the candidate, To the sender, threaded by In-Reply-To and
// References, the subject and name RFC 2047-encoded, UTF-8 text in base64,
// the original quoted below as clients do. An out-of-office reply carries
// the RFC 3834 marker and an automatic subject.
func buildDemoReply(m demoMessage, kind demoReplyKind, text string, zh bool, now time.Time) (string, error) {
	if m.ToAddr == "" || m.FromAddr == "" || m.MessageID == "" {
		return "", errors.New("the message has no sender, recipient or Message-ID to reply to")
	}
	subject := "Re: " + m.Subject
	switch {
	case kind == replyOutOfOffice && zh:
		subject = "自动回复：" + m.Subject
	case kind == replyOutOfOffice:
		subject = "Automatic reply: " + m.Subject
	}
	text = strings.ReplaceAll(strings.TrimSpace(text), "\r\n", "\n")
	if kind != replyOutOfOffice {
		text += "\n\n" + quoteOriginal(m, zh)
	}
	var id [12]byte
	_, _ = rand.Read(id[:])
	var b strings.Builder
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", (&mail.Address{Name: m.ToName, Address: m.ToAddr}).String())
	header("To", (&mail.Address{Name: m.FromName, Address: m.FromAddr}).String())
	header("Subject", mime.BEncoding.Encode("UTF-8", subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", "<demo-"+hex.EncodeToString(id[:])+"@followup.test>")
	header("In-Reply-To", "<"+m.MessageID+">")
	refs := make([]string, 0, len(m.References)+1)
	for _, r := range append(m.References, m.MessageID) {
		refs = append(refs, "<"+r+">")
	}
	header("References", strings.Join(refs, "\r\n "))
	if kind == replyOutOfOffice {
		header("Auto-Submitted", "auto-replied")
	}
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "base64")
	b.WriteString("\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(strings.ReplaceAll(text, "\n", "\r\n")))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.String(), nil
}

// quoteOriginal quotes the start of m as a mail client does, in the
// language of the message.
func quoteOriginal(m demoMessage, zh bool) string {
	lines := strings.Split(strings.TrimSpace(m.Text), "\n")
	if len(lines) > 30 {
		lines = lines[:30]
	}
	var b strings.Builder
	if zh {
		fmt.Fprintf(&b, "------------------ 原始邮件 ------------------\n发件人: %s\n主题: %s\n\n%s\n", m.From, m.Subject, strings.Join(lines, "\n"))
		return b.String()
	}
	fmt.Fprintf(&b, "On %s, %s wrote:\n", m.Date.Format("Mon, 2 Jan 2006 at 15:04"), m.From)
	for _, l := range lines {
		b.WriteString("> " + l + "\n")
	}
	return b.String()
}
