package inbox

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func mustParse(t *testing.T, raw string, maxBytes int64) *Parsed {
	t.Helper()
	p, err := Parse(strings.NewReader(raw), maxBytes)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	assertValidUTF8(t, p)
	return p
}

func TestParseHeaderDecoding(t *testing.T) {
	gbk := func(s string) []byte {
		b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// A GBK character split across two encoded words (against RFC 2047 §5,
	// seen from some Chinese mailers) must still decode.
	subj := gbk("面试反馈")
	split := "=?GBK?B?" + base64.StdEncoding.EncodeToString(subj[:3]) + "?=\r\n =?GBK?B?" + base64.StdEncoding.EncodeToString(subj[3:]) + "?="

	tests := []struct {
		name, header, want string
	}{
		{"split multibyte", split, "面试反馈"},
		{"gb2312 label with GBK-only char", "=?gb2312?B?" + base64.StdEncoding.EncodeToString(gbk("陈喆")) + "?=", "陈喆"},
		{"Q encoding", "=?utf-8?Q?Re:_=E9=9D=A2=E8=AF=95?=", "Re: 面试"},
		{"words and text", "Re: =?utf-8?B?5L2g5aW9?= world", "Re: 你好 world"},
		{"adjacent words drop space", "=?utf-8?Q?a?= =?utf-8?Q?b?=", "ab"},
		{"unknown charset", "=?x-no-such?Q?abc?=", "abc"},
		{"broken word kept", "=?utf-8?X?abc?= tail", "=?utf-8?X?abc?= tail"},
		{"unterminated", "=?utf-8?B?5L2g", "=?utf-8?B?5L2g"},
		{"language suffix RFC 2231 §5", "=?utf-8*zh?Q?=E5=A5=BD?=", "好"},
		{"raw utf-8 (RFC 6532)", "面试 ok", "面试 ok"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustParse(t, "Subject: "+tc.header+"\r\nFrom: a@example.com\r\n\r\nbody\r\n", 0)
			if p.Subject != tc.want {
				t.Errorf("Subject = %q, want %q", p.Subject, tc.want)
			}
		})
	}

	t.Run("raw 8-bit GBK subject with charset", func(t *testing.T) {
		raw := append([]byte("Subject: "), gbk("面试")...)
		raw = append(raw, "\r\nContent-Type: text/plain; charset=gbk\r\n\r\nx"...)
		p, err := Parse(bytes.NewReader(raw), 0)
		if err != nil || p.Subject != "面试" {
			t.Errorf("Subject = %q, %v", p.Subject, err)
		}
	})
}

func TestParseAddressesAndIDs(t *testing.T) {
	raw := "From: \"Li, Lei (HR)\" <Li.Lei@Example.com>\r\n" +
		"To: undisclosed-recipients:;, =?utf-8?B?546L5pWP?= <wangmin@acme.test>, bob@example.org (Bob B), \"=?utf-8?B?5p2O6Zu3?=\" <lilei@example.com>, broken <no-at-sign>\r\n" +
		"Message-ID: <  abc@example.com  >\r\n" +
		"In-Reply-To: 6ztx4p2lq3m5zq7a.0@acme.test\r\n" +
		"References: <a@x> <b@x>\r\n <c@x>\r\nReferences: <d@x>\r\n" +
		"Date: Mon, 23 Nov 2026 10:00:00 +0800 (CST)\r\n\r\nhi\r\n"
	p := mustParse(t, raw, 0)
	if p.From.Name != "Li, Lei (HR)" || p.From.Address != "Li.Lei@Example.com" {
		t.Errorf("From = %+v", p.From)
	}
	want := []string{"王敏 wangmin@acme.test", "Bob B bob@example.org", "李雷 lilei@example.com"}
	var got []string
	for _, a := range p.To {
		got = append(got, a.Name+" "+a.Address)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("To = %q, want %q", got, want)
	}
	if p.MessageID != "abc@example.com" {
		t.Errorf("MessageID = %q", p.MessageID)
	}
	if len(p.InReplyTo) != 1 || p.InReplyTo[0] != "6ztx4p2lq3m5zq7a.0@acme.test" {
		t.Errorf("InReplyTo without brackets = %q", p.InReplyTo)
	}
	if strings.Join(p.References, " ") != "a@x b@x c@x d@x" {
		t.Errorf("References = %q", p.References)
	}
	if p.Date.IsZero() || p.Date.Hour() != 10 {
		t.Errorf("Date = %v", p.Date)
	}
}

func TestParseMediaParams(t *testing.T) {
	tests := []struct {
		in, mt string
		params map[string]string
	}{
		{`text/plain; charset="UTF-8"; format=flowed`, "text/plain", map[string]string{"charset": "UTF-8", "format": "flowed"}},
		{`TEXT/HTML;CHARSET=gbk`, "text/html", map[string]string{"charset": "gbk"}},
		{`text/plain charset=utf-8`, "text/plain", map[string]string{"charset": "utf-8"}},
		{`application/pdf; name*=utf-8''%E7%AE%80%E5%8E%86.pdf`, "application/pdf", map[string]string{"name": "简历.pdf"}},
		{`application/pdf; name*0="long"; name*1="-name.pdf"`, "application/pdf", map[string]string{"name": "long-name.pdf"}},
		{`attachment; filename="=?gb18030?B?vPLA+i5wZGY=?="`, "attachment", map[string]string{"filename": "简历.pdf"}},
		{`multipart/mixed; boundary="a;b=c"`, "multipart/mixed", map[string]string{"boundary": "a;b=c"}},
		{`multipart/mixed; boundary="unterminated`, "multipart/mixed", map[string]string{"boundary": "unterminated"}},
		{`text/plain; ; =x; charset`, "text/plain", map[string]string{}},
		{``, "", map[string]string{}},
	}
	for _, tc := range tests {
		mt, params := parseMediaParams(tc.in)
		if mt != tc.mt {
			t.Errorf("%q: media type %q, want %q", tc.in, mt, tc.mt)
		}
		for k, v := range tc.params {
			if params[k] != v {
				t.Errorf("%q: %s = %q, want %q", tc.in, k, params[k], v)
			}
		}
		if len(params) != len(tc.params) {
			t.Errorf("%q: params %v, want %v", tc.in, params, tc.params)
		}
	}
}

func TestDecodeCharset(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		charset string
		want    string
	}{
		{"latin1 as cp1252", []byte("c\x92est caf\xe9"), "ISO-8859-1", "c’est café"},
		{"unknown charset, utf-8 bytes", []byte("面试"), "x-no-such-charset", "面试"},
		{"unknown charset, other bytes", []byte("a\xff\xfeb"), "x-no-such-charset", "a\uFFFDb"},
		{"utf-8 label, invalid bytes", []byte("ok\xc3"), "utf-8", "ok\uFFFD"},
		{"replacement encoding is refused", []byte("hello"), "iso-2022-kr", "hello"},
		{"gb2312 label", []byte{0xC0, 0xEE}, "GB2312", "李"},
		{"big5", []byte{0xA7, 0xF5}, "big5", "李"},
		{"iso-2022-jp", []byte("\x1b$B$3$s$K$A$O\x1b(B"), "ISO-2022-JP", "こんにちは"},
		{"windows-1251 via go-message/charset", []byte{0xcf, 0xf0, 0xe8}, "windows-1251", "При"},
		{"NUL dropped", []byte("a\x00b"), "", "ab"},
	}
	for _, tc := range tests {
		if got := decodeCharset(tc.in, tc.charset); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestTransferDecoding(t *testing.T) {
	if got := string(decodeBase64Lenient([]byte("5L2g5aW9\r\n!!5LiW*55WM"))); got != "你好世界" {
		t.Errorf("base64 with junk: %q", got)
	}
	if got := string(decodeBase64Lenient([]byte("aGk=aGk"))); got != "hihi" {
		t.Errorf("concatenated base64: %q", got)
	}
	if got := string(decodeBase64Lenient([]byte("aGVsbG8"))); got != "hello" {
		t.Errorf("unpadded base64: %q", got)
	}
	if got := string(decodeQuotedPrintable([]byte("a=3Db =ZZ c=\r\nd  \r\ne=E9=9D=A2"))); got != "a=b =ZZ cd\ne面" {
		t.Errorf("quoted-printable: %q", got)
	}
}

func TestHTMLToText(t *testing.T) {
	in := `<html><head><title>T</title><style>x{}</style></head><body>
<p>First&nbsp;paragraph with   spaces.</p><p>Second<br>line two</p>
<ul><li>one</li><li>two</li></ul>
<a href="https://example.com/a">link</a> <a href="https://example.com/b">https://example.com/b</a> <a href="mailto:x@example.com">x@example.com</a> <a href="#top">top</a>
<blockquote>quoted<blockquote>deeper</blockquote></blockquote>
<pre>  keep
   spacing</pre>
<script>evil()</script><table><tr><td>a</td><td>b</td></tr></table>
</body></html>`
	want := "First paragraph with spaces.\n\nSecond\nline two\n\n- one\n- two\n\nlink (https://example.com/a) https://example.com/b x@example.com top\n\n> quoted\n>\n> > deeper\n\n  keep\n   spacing\n\na b"
	if got := htmlToText(in); got != want {
		t.Errorf("htmlToText =\n%s\n--- want ---\n%s", got, want)
	}
	// An unclosed <head> must not swallow the body.
	if got := htmlToText("<html><head><meta charset=utf-8><body>Hello"); got != "Hello" {
		t.Errorf("unclosed head: %q", got)
	}
}

func TestParseOutlookHTMLQuote(t *testing.T) {
	// Outlook's HTML header block, turned into text, must be recognised by
	// StripQuoted.
	raw := "From: a@example.com\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
		`<div>Works for me.</div><hr style="display:inline-block;width:98%"><div id="divRplyFwdMsg"><b>From:</b> Wang Min &lt;wangmin@acme.test&gt;<br><b>Sent:</b> Monday, November 23, 2026 10:00 AM<br><b>To:</b> Li Lei<br><b>Subject:</b> Interview</div><div>Reply "unsubscribe" to stop.</div>`
	p := mustParse(t, raw, 0)
	if got := StripQuoted(p.Text); got != "Works for me." {
		t.Errorf("StripQuoted(Text) = %q\nText:\n%s", got, p.Text)
	}
	if c := Classify(p, DefaultRules()); c.Kind != KindReply {
		t.Errorf("Kind = %s (%s)", c.Kind, c.Reason)
	}
}

// largeMessage builds a reply with an attachment of about n bytes (before
// base64), generated as it is read so that the test itself holds no copy.
func largeMessage(n int) io.Reader {
	head := "From: Li Lei <li.lei@example.com>\r\nTo: wangmin@acme.test\r\nSubject: Re: portfolio\r\n" +
		"Message-ID: <big@example.com>\r\nIn-Reply-To: <6ztx4p2lq3m5zq7a.0@acme.test>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"BIG\"\r\n\r\n--BIG\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		"Portfolio attached.\r\n\r\n--BIG\r\nContent-Type: application/pdf; name=\"portfolio.pdf\"\r\n" +
		"Content-Disposition: attachment; filename=\"portfolio.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	tail := "\r\n--BIG\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee you Thursday.\r\n--BIG--\r\n"
	// 57 raw bytes make one 76-character base64 line.
	raw := bytes.Repeat([]byte("%PDF-1.4 portfolio page of a candidate, 57 bytes a line.."), 1000)
	var block bytes.Buffer
	for i := 0; i < len(raw); i += 57 {
		block.WriteString(base64.StdEncoding.EncodeToString(raw[i : i+57]))
		block.WriteString("\r\n")
	}
	return io.MultiReader(strings.NewReader(head), &repeatReader{block: block.Bytes(), left: (n + len(raw) - 1) / len(raw)}, strings.NewReader(tail))
}

// repeatReader serves block left times.
type repeatReader struct {
	block []byte
	left  int
	off   int
}

func (r *repeatReader) Read(b []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := copy(b, r.block[r.off:])
	if r.off += n; r.off == len(r.block) {
		r.off = 0
		r.left--
	}
	return n, nil
}

func TestParseLargeAttachment(t *testing.T) {
	p, err := Parse(largeMessage(2<<20), 0)
	if err != nil {
		t.Fatal(err)
	}
	if p.Text != "Portfolio attached.\n\nSee you Thursday." {
		t.Errorf("Text = %q", p.Text)
	}
	if p.Truncated {
		t.Error("Truncated on a message under the limit")
	}
	if len(p.Attachments) != 1 || p.Attachments[0].Filename != "portfolio.pdf" || p.Attachments[0].EncodedSize < 2<<20*4/3 {
		t.Errorf("Attachments = %+v", p.Attachments)
	}
	if c := Classify(p, DefaultRules()); c.Kind != KindReply || c.Reply != "Portfolio attached.\n\nSee you Thursday." {
		t.Errorf("Classify = %+v", c)
	}

	// The limit cuts the attachment: the text before it survives.
	p, err = Parse(largeMessage(2<<20), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Truncated || p.Text != "Portfolio attached." {
		t.Errorf("Truncated = %v, Text = %q", p.Truncated, p.Text)
	}
}

func TestParseAttachmentIsStreamed(t *testing.T) {
	const size = 24 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	p, err := Parse(largeMessage(size), 64<<20)
	runtime.ReadMemStats(&after)
	if err != nil || p.Truncated || len(p.Attachments) != 1 {
		t.Fatalf("Parse: %v, %+v", err, p)
	}
	// The encoded attachment is 32 MB; holding it once would allocate at
	// least that. Streaming needs a few buffers.
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d KB while parsing a %d MB attachment", alloc>>10, size>>20)
	if alloc > 8<<20 {
		t.Errorf("Parse allocated %d MB for a %d MB attachment: it must stream", alloc>>20, size>>20)
	}
}

type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(b []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(b, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestParseMalformed(t *testing.T) {
	outlook, err := os.ReadFile(filepath.Join("testdata", "reply_outlook_en.eml"))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	garbage := make([]byte, 64<<10)
	rng.Read(garbage)

	tests := []struct {
		name     string
		raw      []byte
		maxBytes int64
		check    func(t *testing.T, p *Parsed)
	}{
		{"truncated MIME", outlook[:len(outlook)/3], 0, func(t *testing.T, p *Parsed) {
			if !strings.Contains(p.Text, "Thursday at 10:00 works for me.") {
				t.Errorf("Text = %q", p.Text)
			}
			if c := Classify(p, DefaultRules()); c.Kind != KindReply {
				t.Errorf("Kind = %s", c.Kind)
			}
		}},
		{"garbage bytes", garbage, 0, func(t *testing.T, p *Parsed) {
			if p.Text == "" {
				t.Error("garbage should come back as replacement-character text")
			}
		}},
		{"no header at all", []byte("just some words\nand more"), 0, func(t *testing.T, p *Parsed) {
			if p.Text != "just some words\nand more" {
				t.Errorf("Text = %q", p.Text)
			}
		}},
		{"header only", []byte("From: a@example.com\r\nSubject: hi"), 0, func(t *testing.T, p *Parsed) {
			if p.Subject != "hi" || p.Text != "" {
				t.Errorf("Subject, Text = %q, %q", p.Subject, p.Text)
			}
		}},
		{"broken header line ends the header", []byte("Subject: hi\r\nthis is no header\r\nbody"), 0, func(t *testing.T, p *Parsed) {
			if p.Subject != "hi" || p.Text != "this is no header\nbody" {
				t.Errorf("Subject, Text = %q, %q", p.Subject, p.Text)
			}
		}},
		{"mbox From line", []byte("From li.lei@example.com Mon Nov 23 10:00:00 2026\nSubject: hi\n\nbody"), 0, func(t *testing.T, p *Parsed) {
			if p.Subject != "hi" || p.Text != "body" {
				t.Errorf("Subject, Text = %q, %q", p.Subject, p.Text)
			}
		}},
		{"invalid charset name", []byte("Content-Type: text/plain; charset=x-bogus-42\r\n\r\nnaïve 面试"), 0, func(t *testing.T, p *Parsed) {
			if p.Text != "naïve 面试" {
				t.Errorf("Text = %q", p.Text)
			}
		}},
		{"bad base64", []byte("Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29y!!!bGQ=\r\n@@@"), 0, func(t *testing.T, p *Parsed) {
			if p.Text != "hello world" {
				t.Errorf("Text = %q", p.Text)
			}
		}},
		{"unknown transfer encoding", []byte("Content-Transfer-Encoding: x-uuencode\r\n\r\nplain"), 0, func(t *testing.T, p *Parsed) {
			if p.Text != "plain" {
				t.Errorf("Text = %q", p.Text)
			}
		}},
		{"multipart without boundary", []byte("Content-Type: multipart/mixed\r\n\r\nsome text"), 0, func(t *testing.T, p *Parsed) {
			if p.Text != "some text" {
				t.Errorf("Text = %q", p.Text)
			}
		}},
		{"multipart with wrong boundary", []byte("Content-Type: multipart/mixed; boundary=XYZ\r\n\r\n--ABC\r\nContent-Type: text/plain\r\n\r\nhello\r\n--ABC--\r\n"), 0, func(t *testing.T, p *Parsed) {
			if !strings.Contains(p.Text, "hello") {
				t.Errorf("Text = %q", p.Text)
			}
		}},
		{"unterminated multipart", []byte("Content-Type: multipart/alternative; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nhello there"), 0, func(t *testing.T, p *Parsed) {
			if p.Text != "hello there" {
				t.Errorf("Text = %q", p.Text)
			}
		}},
		{"broken part header", []byte("Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nfirst\r\n--B\r\n bad\r\n\r\nsecond\r\n--B--\r\n"), 0, func(t *testing.T, p *Parsed) {
			if !strings.Contains(p.Text, "first") {
				t.Errorf("Text = %q", p.Text)
			}
		}},
		{"invalid UTF-8 everywhere", []byte("Subject: caf\xe9\r\nFrom: \xff\xfe <x@example.com>\r\nX-Weird: \xc3\r\n\r\n\xff ok"), 0, func(t *testing.T, p *Parsed) {
			if p.Text != "\uFFFD ok" || p.Subject != "caf\uFFFD" {
				t.Errorf("Subject, Text = %q, %q", p.Subject, p.Text)
			}
		}},
		{"10 MB body, 1 MB limit", append([]byte("Subject: big\r\n\r\n"), bytes.Repeat([]byte("0123456789abcdef\n"), 10<<20/17)...), 1 << 20, func(t *testing.T, p *Parsed) {
			if !p.Truncated || p.Subject != "big" || len(p.Text) > 1<<20 || len(p.Text) < 1<<19 {
				t.Errorf("Truncated = %v, Subject = %q, len(Text) = %d", p.Truncated, p.Subject, len(p.Text))
			}
		}},
		{"deep nesting", deepMultipart(2000), 0, func(t *testing.T, p *Parsed) {}},
		{"many parts", manyParts(5000), 0, func(t *testing.T, p *Parsed) {
			if !strings.HasPrefix(p.Text, "part") {
				t.Errorf("Text starts %q", p.Text[:min(20, len(p.Text))])
			}
		}},
		{"long header line", append([]byte("Subject: "), bytes.Repeat([]byte("x"), 3<<20)...), 0, func(t *testing.T, p *Parsed) {}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(bytes.NewReader(tc.raw), tc.maxBytes)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			assertValidUTF8(t, p)
			_ = Classify(p, DefaultRules())
			tc.check(t, p)
		})
	}

	t.Run("empty", func(t *testing.T) {
		if _, err := Parse(strings.NewReader(""), 0); !errors.Is(err, ErrEmptyMessage) {
			t.Errorf("err = %v, want ErrEmptyMessage", err)
		}
		if _, err := Parse(nil, 0); !errors.Is(err, ErrEmptyMessage) {
			t.Errorf("nil reader: err = %v", err)
		}
	})
	t.Run("read error before the first byte", func(t *testing.T) {
		boom := errors.New("connection reset")
		if _, err := Parse(&failingReader{err: boom}, 0); !errors.Is(err, boom) {
			t.Errorf("err = %v, want %v", err, boom)
		}
	})
	t.Run("read error midway", func(t *testing.T) {
		p, err := Parse(&failingReader{data: outlook[:len(outlook)/2], err: errors.New("reset")}, 0)
		if err != nil || p.Subject == "" || !strings.Contains(p.Text, "Thursday") {
			t.Errorf("p = %+v, err = %v", p, err)
		}
	})
}

func deepMultipart(depth int) []byte {
	var b bytes.Buffer
	b.WriteString("Content-Type: multipart/mixed; boundary=b0\r\n\r\n")
	for i := 1; i < depth; i++ {
		b.WriteString("--b" + decimal(i-1) + "\r\nContent-Type: multipart/mixed; boundary=b" + decimal(i) + "\r\n\r\n")
	}
	b.WriteString("--b" + decimal(depth-1) + "\r\nContent-Type: text/plain\r\n\r\ndeep\r\n")
	return b.Bytes()
}

func manyParts(n int) []byte {
	var b bytes.Buffer
	b.WriteString("Content-Type: multipart/mixed; boundary=P\r\n\r\n")
	for i := 0; i < n; i++ {
		b.WriteString("--P\r\nContent-Type: text/plain\r\n\r\npart " + decimal(i) + "\r\n")
	}
	b.WriteString("--P--\r\n")
	return b.Bytes()
}

func decimal(i int) string {
	if i == 0 {
		return "0"
	}
	var s []byte
	for ; i > 0; i /= 10 {
		s = append([]byte{byte('0' + i%10)}, s...)
	}
	return string(s)
}

func TestLimitRunes(t *testing.T) {
	s := strings.Repeat("面", 10)
	if got := limitRunes(s, 3); got != "面面面" || !utf8.ValidString(got) {
		t.Errorf("limitRunes = %q", got)
	}
}
