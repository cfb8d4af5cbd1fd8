package inbox

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that no input panics Parse or Classify, that only empty
// input is an error, and that everything returned is valid UTF-8. It is
// seeded with the corpus.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.eml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"",
		"\r\n\r\n",
		"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n\r\n--B--",
		"Content-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; a@b\r\nAction: failed\r\n--B--",
		"Subject: =?gb18030?B?wO7A1w?= =?x?Q?=ZZ?=\r\nContent-Type: text/html; charset*=x''y\r\n\r\n<a href=x>y</a><blockquote>",
		"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nTWVzc2FnZS1JRDogPGFAYj4NCg0K",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(bytes.NewReader(data), 1<<20)
		if len(data) == 0 {
			if err == nil {
				t.Fatal("no error on empty input")
			}
			return
		}
		if err != nil || p == nil {
			t.Fatalf("Parse(%d bytes) = %v, %v", len(data), p, err)
		}
		checkUTF8 := func(what, s string) {
			if !utf8.ValidString(s) {
				t.Fatalf("%s is not valid UTF-8: %q", what, s)
			}
		}
		checkUTF8("Text", p.Text)
		checkUTF8("Subject", p.Subject)
		checkUTF8("From.Name", p.From.Name)
		checkUTF8("From.Address", p.From.Address)
		for _, a := range p.To {
			checkUTF8("To", a.Name+a.Address)
		}
		for k, vs := range p.Header {
			for _, v := range vs {
				checkUTF8("Header "+k, v)
			}
		}
		if p.Original != nil {
			checkUTF8("Original.Subject", p.Original.Subject)
		}
		for _, a := range p.Attachments {
			checkUTF8("Attachment", a.Filename)
		}
		c := Classify(p, DefaultRules())
		switch c.Kind {
		case KindReply, KindAutoReply, KindBounce, KindComplaint, KindUnsubscribe, KindNotInterested:
		default:
			t.Fatalf("unknown kind %q", c.Kind)
		}
		if c.Reason == "" {
			t.Fatal("empty Reason")
		}
		if (c.Kind == KindBounce) != (c.Bounce != nil) {
			t.Fatalf("Kind %s with Bounce %+v", c.Kind, c.Bounce)
		}
		checkUTF8("Reply", c.Reply)
		if c.Bounce != nil {
			checkUTF8("Bounce", c.Bounce.Recipient+c.Bounce.Diagnostic)
		}

		// The limit: a message that fits is not truncated and parses the
		// same with a limit of exactly its size; one byte less truncates.
		if len(data) <= 1<<20 {
			if p.Truncated {
				t.Fatal("Truncated although the message fits")
			}
			exact, err := Parse(bytes.NewReader(data), int64(len(data)))
			if err != nil || exact.Truncated || exact.Text != p.Text || exact.Subject != p.Subject {
				t.Fatalf("limit == size changed the result: %v, %+v", err, exact)
			}
			if len(data) > 1 {
				short, err := Parse(bytes.NewReader(data), int64(len(data)-1))
				if err != nil || !short.Truncated {
					t.Fatalf("limit == size-1: err %v, Truncated %v", err, short != nil && short.Truncated)
				}
			}
		}
	})
}
