package mailer

import (
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"
)

// Message is one rendered email ready to go.
type Message struct {
	From       mail.Address
	To         mail.Address
	Subject    string
	Text, HTML string
	MessageID  string   // without angle brackets
	InReplyTo  string   // without angle brackets
	References []string // without angle brackets, oldest first
	Date       time.Time
	// Headers are extra header fields (List-Unsubscribe…); values must be
	// ASCII and single-line.
	Headers map[string]string
}

// headerSafe rejects a value that could end a header and start another.
func headerSafe(what, v string) error {
	if strings.ContainsAny(v, "\r\n\x00") {
		return fmt.Errorf("%s contains a line break: refusing to build the message (header injection)", what)
	}
	return nil
}

// Build turns m into a go-mail message: multipart/alternative with a plain
// text and an HTML part, UTF-8, headers RFC 2047-encoded where needed.
func (m *Message) Build() (*gomail.Msg, error) {
	for what, v := range map[string]string{
		"subject": m.Subject, "sender name": m.From.Name, "recipient name": m.To.Name,
		"sender address": m.From.Address, "recipient address": m.To.Address,
		"Message-ID": m.MessageID, "In-Reply-To": m.InReplyTo,
	} {
		if err := headerSafe(what, v); err != nil {
			return nil, err
		}
	}
	for k, v := range m.Headers {
		if err := headerSafe("header "+k, k+v); err != nil {
			return nil, err
		}
	}
	// CJK text is three bytes a character in UTF-8: base64 keeps it ~33%
	// larger, quoted-printable ~200%; headers follow (B vs Q encoding).
	enc := gomail.EncodingQP
	if mostlyNonASCII(m.Text) {
		enc = gomail.EncodingB64
	}
	msg := gomail.NewMsg(gomail.WithEncoding(enc), gomail.WithCharset(gomail.CharsetUTF8), gomail.WithNoDefaultUserAgent())
	if err := msg.FromFormat(m.From.Name, m.From.Address); err != nil {
		return nil, fmt.Errorf("sender %q: %w", m.From.Address, err)
	}
	if err := msg.AddToFormat(m.To.Name, m.To.Address); err != nil {
		return nil, fmt.Errorf("recipient %q: %w", m.To.Address, err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.MessageID)
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	msg.SetDateWithValue(date)
	if m.InReplyTo != "" {
		msg.SetGenHeaderPreformatted(gomail.HeaderInReplyTo, "<"+m.InReplyTo+">")
	}
	if len(m.References) > 0 {
		refs := make([]string, len(m.References))
		for i, r := range m.References {
			if err := headerSafe("References", r); err != nil {
				return nil, err
			}
			refs[i] = "<" + r + ">"
		}
		// RFC 5322 §3.6.4: space-separated; folded so no line passes 78.
		msg.SetGenHeaderPreformatted(gomail.HeaderReferences, strings.Join(refs, "\r\n "))
	}
	msg.SetGenHeader(gomail.HeaderXMailer, "Followup")
	for k, v := range m.Headers {
		msg.SetGenHeaderPreformatted(gomail.Header(k), v)
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

func mostlyNonASCII(s string) bool {
	if s == "" {
		return false
	}
	non := 0
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r >= 0x80 {
			non += n
		}
		i += n
	}
	return non*3 > len(s)
}
