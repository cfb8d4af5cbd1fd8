package inbox

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	gmcharset "github.com/emersion/go-message/charset"
	gmtextproto "github.com/emersion/go-message/textproto"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// DefaultMaxBytes is the read limit Parse applies when it is given
// maxBytes <= 0.
const DefaultMaxBytes int64 = 32 << 20

// Bounds that keep one hostile message from costing more than a few
// megabytes of memory, whatever maxBytes is.
const (
	maxNesting        = 12      // multipart levels followed; deeper parts are skipped
	maxParts          = 500     // MIME parts visited per message
	maxPartText       = 4 << 20 // raw bytes of one text part kept in memory
	maxTextBudget     = 8 << 20 // raw bytes of all text parts of a message kept in memory
	maxTextRunes      = 1 << 20 // characters kept in Parsed.Text
	maxHeaderBlock    = 1 << 20 // bytes of one header block
	maxEnclosedHeader = 1 << 20 // raw bytes read of an enclosed message to find its header
	maxSubjectRunes   = 2000    // characters kept of a Subject
)

// ErrEmptyMessage is returned by Parse when the input holds no byte at all.
var ErrEmptyMessage = errors.New("inbox: empty message")

// Parsed is what Parse extracts from one raw RFC 5322 message. Every string
// is valid UTF-8.
type Parsed struct {
	MessageID  string   // without <>
	InReplyTo  []string // without <>
	References []string // without <>
	From       mail.Address
	To         []mail.Address
	Subject    string    // RFC 2047 decoded, at most 2000 characters
	Date       time.Time // zero when absent or unreadable

	// Header is the top-level header with canonical keys and raw
	// (unfolded, not RFC 2047 decoded) values, for classification.
	Header textproto.MIMEHeader

	// Text is the human text: the text/plain body decoded to UTF-8 (inline
	// text/plain parts of a multipart/mixed are joined), or, when the
	// message only has HTML, the HTML turned into readable text. Line ends
	// are "\n". Parts of enclosed messages (message/rfc822) are not
	// included.
	Text string

	ContentType string // top-level media type, lowercased ("text/plain" when absent)
	ReportType  string // report-type parameter of a multipart/report (RFC 6522), lowercased

	DeliveryStatus *DeliveryStatus // from a message/delivery-status part (RFC 3464), if any
	Feedback       *FeedbackReport // from a message/feedback-report part (RFC 5965), if any

	// Original holds headers of the message this one returns or encloses:
	// the message/rfc822, text/rfc822-headers or message/rfc822-headers
	// part of a report (preferred), else of any enclosed message, else an
	// inline copy in a non-standard bounce text ("------ This is a copy of
	// the message, including all the headers. ------", "--- Below this line
	// is a copy of the message.", "Original-Message-ID:", …). An inline copy
	// is only taken when it names a Message-ID, so an ordinary quoted
	// "-----Original Message-----" block never fills it.
	Original *OriginalHeaders

	// Attachments lists the parts that were skipped as attachments (their
	// bodies are never held in memory).
	Attachments []Attachment

	// Truncated is set when the message was longer than maxBytes: what
	// came after the limit was not read.
	Truncated bool
}

// DeliveryStatus is the machine-readable part of a delivery status
// notification (RFC 3464 §2.2 per-message and §2.3 per-recipient fields).
type DeliveryStatus struct {
	ReportingMTA string // name only, without the "dns;" type
	Recipients   []RecipientStatus
}

// RecipientStatus is one per-recipient block of a DSN (RFC 3464 §2.3).
type RecipientStatus struct {
	FinalRecipient    string // address only, without the "rfc822;" type
	OriginalRecipient string // address only, without the "rfc822;" type
	Action            string // lowercased: failed, delayed, delivered, relayed, expanded
	Status            string // RFC 3463 code, e.g. "5.1.1"
	DiagnosticCode    string // without the "smtp;" type, unfolded
}

// FeedbackReport is the machine-readable part of an Abuse Reporting Format
// report (RFC 5965 §3.1, §3.2).
type FeedbackReport struct {
	FeedbackType     string // lowercased: abuse, fraud, virus, other, not-spam
	UserAgent        string
	Version          string
	OriginalMailFrom string   // without <>
	OriginalRcptTo   []string // without <>
	ReportingMTA     string
	SourceIP         string
	ArrivalDate      time.Time
}

// OriginalHeaders are the headers of a returned or enclosed message.
type OriginalHeaders struct {
	MessageID string // without <>
	From      mail.Address
	To        []mail.Address
	Subject   string
}

// Attachment describes a part that Parse skipped without keeping its body.
type Attachment struct {
	Filename    string // RFC 2231 / RFC 2047 decoded; may be empty
	ContentType string // lowercased media type
	EncodedSize int64  // bytes of the part as transferred (before base64 decoding)
}

// Parse reads one raw message from r, at most maxBytes of it (maxBytes <= 0
// means DefaultMaxBytes), and extracts what classification and matching
// need. It streams: attachment bodies are read and thrown away, never held
// whole.
//
// Parse is lenient: broken MIME, bad base64 or quoted-printable, unknown
// charsets and invalid UTF-8 degrade to raw bytes with U+FFFD replacement
// characters instead of failing. It returns an error only when nothing can
// be read at all: empty input, or a read error before the first byte.
func Parse(r io.Reader, maxBytes int64) (*Parsed, error) {
	if r == nil {
		return nil, ErrEmptyMessage
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	cr := &capReader{r: r, left: maxBytes}
	br := bufio.NewReaderSize(cr, 64<<10)
	if _, err := br.Peek(1); err != nil {
		if cr.err != nil {
			return nil, cr.err
		}
		return nil, ErrEmptyMessage
	}

	p := &Parsed{}
	hdr, bodyPrefix := readHeaderBlock(br, maxHeaderBlock)
	h := parseHeaderBytes(hdr)
	body := io.MultiReader(bytes.NewReader(bodyPrefix), br)

	mt, params := contentType(h)
	p.ContentType = mt
	if mt == "multipart/report" {
		p.ReportType = strings.ToLower(params["report-type"])
	}
	fillTopHeader(p, h, params["charset"])

	w := &walker{p: p, textBudget: maxTextBudget}
	txt := w.entity(h, body, 0, false)
	_, _ = io.Copy(io.Discard, body) // epilogue: read on so Truncated is exact

	p.Text = limitRunes(normalizeNewlines(txt.s), maxTextRunes)
	if p.Original == nil {
		p.Original = inlineOriginal(p.Text)
	}
	p.Truncated = cr.truncated
	return p, nil
}

// capReader reads at most left bytes and then reports, once, whether the
// source had more.
type capReader struct {
	r         io.Reader
	left      int64
	probed    bool
	truncated bool
	err       error // first read error other than EOF
}

func (c *capReader) Read(b []byte) (int, error) {
	if c.left <= 0 {
		if !c.probed {
			c.probed = true
			var one [1]byte
			if n, _ := io.ReadAtLeast(c.r, one[:], 1); n > 0 {
				c.truncated = true
			}
		}
		return 0, io.EOF
	}
	if int64(len(b)) > c.left {
		b = b[:c.left]
	}
	n, err := c.r.Read(b)
	c.left -= int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		// A read error is the end of what can be read; what came before
		// is still parsed.
		c.err = err
		return n, io.EOF
	}
	return n, err
}

// readHeaderBlock reads header lines up to the empty line that ends them
// (RFC 5322 §2.1). A line that is neither a field nor a continuation ends
// the header early and is handed back as the start of the body, so a
// message with a broken header still yields its text. A leading mbox
// "From " line is skipped.
func readHeaderBlock(br *bufio.Reader, limit int) (hdr, bodyPrefix []byte) {
	var buf bytes.Buffer
	first := true
	for {
		line, err := readLineBounded(br, limit)
		if len(line) == 0 {
			return buf.Bytes(), nil
		}
		if first && bytes.HasPrefix(line, []byte("From ")) {
			first = false
			continue
		}
		first = false
		content := bytes.TrimRight(line, "\r\n")
		switch {
		case len(content) == 0:
			return buf.Bytes(), nil
		case content[0] == ' ' || content[0] == '\t':
			if buf.Len() == 0 {
				return nil, line
			}
		case !isHeaderFieldLine(content):
			return buf.Bytes(), line
		}
		buf.Write(content)
		buf.WriteString("\r\n")
		if err != nil || buf.Len() >= limit {
			return buf.Bytes(), nil
		}
	}
}

// readLineBounded reads one line including its "\n"; a longer line than
// limit is cut.
func readLineBounded(br *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		line = append(line, frag...)
		if err == bufio.ErrBufferFull && len(line) < limit {
			continue
		}
		return line, err
	}
}

// isHeaderFieldLine reports whether b starts with a field name and a colon
// (RFC 5322 §2.2: printable US-ASCII except colon; trailing blanks before
// the colon are tolerated as in the wild).
func isHeaderFieldLine(b []byte) bool {
	i := bytes.IndexByte(b, ':')
	if i <= 0 {
		return false
	}
	name := bytes.TrimRight(b[:i], " \t")
	if len(name) == 0 {
		return false
	}
	for _, c := range name {
		if c < 33 || c > 126 {
			return false
		}
	}
	return true
}

// parseHeaderBytes turns a header block checked by readHeaderBlock into a
// header. Whatever go-message manages to read is kept.
func parseHeaderBytes(b []byte) gmtextproto.Header {
	if len(b) == 0 {
		return gmtextproto.Header{}
	}
	data := make([]byte, 0, len(b)+2)
	data = append(data, b...)
	data = append(data, '\r', '\n')
	h, _ := gmtextproto.ReadHeader(bufio.NewReader(bytes.NewReader(data)))
	return h
}

// fillTopHeader fills the envelope-like fields of p from the top-level
// header. rawCharset decodes raw 8-bit header bytes (not RFC 2047) that are
// not UTF-8.
func fillTopHeader(p *Parsed, h gmtextproto.Header, rawCharset string) {
	p.Header = make(textproto.MIMEHeader)
	fields := h.Fields()
	for fields.Next() {
		k := textproto.CanonicalMIMEHeaderKey(fields.Key())
		p.Header[k] = append(p.Header[k], strings.ToValidUTF8(fields.Value(), "\uFFFD"))
	}
	p.MessageID = firstOf(msgIDList(h.Get("Message-Id")))
	p.InReplyTo = msgIDList(h.Get("In-Reply-To"))
	p.References = msgIDList(strings.Join(h.Values("References"), " "))
	if from := addressList(h.Get("From"), rawCharset); len(from) > 0 {
		p.From = from[0]
	}
	p.To = addressList(h.Get("To"), rawCharset)
	p.Subject = limitRunes(decodeHeaderText(h.Get("Subject"), rawCharset), maxSubjectRunes)
	p.Date = parseMailDate(h.Get("Date"))
}

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// ---- MIME walk ------------------------------------------------------------

type walker struct {
	p              *Parsed
	parts          int
	origFromReport bool
	textBudget     int // raw bytes of text parts still to be read into memory
}

// bodyText is the readable text an entity contributes.
type bodyText struct {
	s        string
	fromHTML bool
}

// entity handles one MIME entity (RFC 2045, RFC 2046) whose header is h and
// whose still-encoded body is body.
func (w *walker) entity(h gmtextproto.Header, body io.Reader, depth int, inReport bool) bodyText {
	w.parts++
	mt, params := contentType(h)
	if strings.HasPrefix(mt, "multipart/") {
		if depth >= maxNesting || w.parts > maxParts {
			_, _ = io.Copy(io.Discard, body)
			return bodyText{}
		}
		return w.multipart(mt, params, body, depth)
	}
	return w.leaf(h, mt, params, body, inReport)
}

// multipart walks the parts of a multipart entity (RFC 2046 §5.1). When
// no part can be found (missing or wrong boundary), the raw body is used
// as text.
func (w *walker) multipart(mt string, params map[string]string, body io.Reader, depth int) bodyText {
	boundary := params["boundary"]
	if boundary == "" {
		return bodyText{s: readPartText(body, "", "")}
	}
	rec := &recorder{r: body, max: maxPartText, recording: true}
	mr := gmtextproto.NewMultipartReader(rec, boundary)
	var kids []bodyText
	found := false
	for w.parts <= maxParts {
		part, err := mr.NextPart()
		if err != nil {
			break
		}
		if !found {
			found = true
			rec.stop()
		}
		kids = append(kids, w.entity(part.Header, part, depth+1, mt == "multipart/report"))
	}
	if !found {
		// Not a single part found: fall back to the bytes as plain text.
		_, _ = io.Copy(io.Discard, rec)
		return bodyText{s: decodeCharset(rec.buf.Bytes(), "")}
	}
	_, _ = io.Copy(io.Discard, body)
	if mt == "multipart/alternative" {
		// RFC 2046 §5.1.4: the alternatives say the same thing; plain text
		// is what we want, HTML only when there is no plain text.
		for _, k := range kids {
			if !k.fromHTML && strings.TrimSpace(k.s) != "" {
				return k
			}
		}
		for _, k := range kids {
			if strings.TrimSpace(k.s) != "" {
				return k
			}
		}
		return bodyText{}
	}
	var sb strings.Builder
	allHTML := true
	for _, k := range kids {
		if strings.TrimSpace(k.s) == "" {
			continue
		}
		if sb.Len() > 0 {
			sb.WriteString("\n\n")
		}
		sb.WriteString(strings.TrimRight(k.s, "\r\n"))
		allHTML = allHTML && k.fromHTML
	}
	return bodyText{s: sb.String(), fromHTML: allHTML && sb.Len() > 0}
}

// recorder keeps a copy of the first max bytes read through it until stop
// is called.
type recorder struct {
	r         io.Reader
	buf       bytes.Buffer
	max       int
	recording bool
}

func (rc *recorder) Read(b []byte) (int, error) {
	n, err := rc.r.Read(b)
	if rc.recording && n > 0 {
		if room := rc.max - rc.buf.Len(); room > 0 {
			rc.buf.Write(b[:min(n, room)])
		}
	}
	return n, err
}

func (rc *recorder) stop() {
	if rc.recording {
		rc.recording = false
		rc.buf = bytes.Buffer{}
	}
}

// leaf handles a non-multipart entity.
func (w *walker) leaf(h gmtextproto.Header, mt string, params map[string]string, body io.Reader, inReport bool) bodyText {
	cte := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding")))
	disp, dparams := parseMediaParams(h.Get("Content-Disposition"))
	filename := dparams["filename"]
	if filename == "" {
		filename = params["name"]
	}
	switch mt {
	case "message/delivery-status", "message/global-delivery-status":
		// RFC 3464 §2; RFC 6533 §6 for the UTF-8 variant.
		s := readPartText(body, cte, "utf-8")
		if w.p.DeliveryStatus == nil {
			w.p.DeliveryStatus = parseDeliveryStatus(s)
		}
		return bodyText{}
	case "message/feedback-report":
		// RFC 5965 §3.
		s := readPartText(body, cte, "utf-8")
		if w.p.Feedback == nil {
			w.p.Feedback = parseFeedbackReport(s)
		}
		return bodyText{}
	case "text/rfc822-headers", "message/rfc822-headers", "message/global-headers",
		"message/rfc822", "message/global":
		// RFC 6522 §3 (text/rfc822-headers), RFC 3462's message/rfc822-headers
		// as seen in the wild, RFC 2046 §5.2.1 (message/rfc822), RFC 6532
		// (message/global). Only the header is wanted; the enclosed body is
		// never part of Text.
		raw, _ := io.ReadAll(io.LimitReader(body, maxEnclosedHeader))
		_, _ = io.Copy(io.Discard, body)
		w.setOriginal(decodeTransfer(cte, raw), inReport)
		return bodyText{}
	case "text/plain", "text/html":
		if disp == "attachment" || filename != "" {
			break
		}
		if w.textBudget <= 0 {
			break
		}
		raw, _ := io.ReadAll(io.LimitReader(body, int64(min(maxPartText, w.textBudget))))
		_, _ = io.Copy(io.Discard, body)
		w.textBudget -= len(raw)
		s := decodeCharset(decodeTransfer(cte, raw), params["charset"])
		if mt == "text/html" {
			return bodyText{s: htmlToText(s), fromHTML: true}
		}
		if strings.EqualFold(params["format"], "flowed") {
			s = unflow(s, strings.EqualFold(params["delsp"], "yes"))
		}
		return bodyText{s: s}
	}
	n, _ := io.Copy(io.Discard, body)
	if filename != "" || disp == "attachment" || !strings.HasPrefix(mt, "text/") && !strings.HasPrefix(mt, "message/") {
		w.p.Attachments = append(w.p.Attachments, Attachment{Filename: filename, ContentType: mt, EncodedSize: n})
	}
	return bodyText{}
}

// setOriginal records the header of an enclosed message. One found inside a
// multipart/report wins over one found elsewhere.
func (w *walker) setOriginal(raw []byte, inReport bool) {
	if w.p.Original != nil && (w.origFromReport || !inReport) {
		return
	}
	hb, _ := readHeaderBlock(bufio.NewReader(bytes.NewReader(raw)), maxHeaderBlock)
	h := parseHeaderBytes(hb)
	if h.Len() == 0 {
		return
	}
	o := originalFromHeader(h)
	if o == nil {
		return
	}
	w.p.Original = o
	w.origFromReport = inReport
}

func originalFromHeader(h gmtextproto.Header) *OriginalHeaders {
	_, params := contentType(h)
	o := &OriginalHeaders{
		MessageID: firstOf(msgIDList(h.Get("Message-Id"))),
		To:        addressList(h.Get("To"), params["charset"]),
		Subject:   decodeHeaderText(h.Get("Subject"), params["charset"]),
	}
	if from := addressList(h.Get("From"), params["charset"]); len(from) > 0 {
		o.From = from[0]
	}
	if o.MessageID == "" && len(o.To) == 0 && o.Subject == "" && o.From.Address == "" {
		return nil
	}
	return o
}

// readPartText reads a text part (bounded), undoes its transfer encoding
// and converts it to UTF-8.
func readPartText(body io.Reader, cte, charset string) string {
	raw, _ := io.ReadAll(io.LimitReader(body, maxPartText))
	_, _ = io.Copy(io.Discard, body)
	return decodeCharset(decodeTransfer(cte, raw), charset)
}

// ---- inline original (non-standard bounces) ---------------------------------

// inlineOriginalMarker matches the lines after which MTAs that do not use
// RFC 3464 paste the returned message: Exim ("------ This is a copy of the
// message, including all the headers. ------"), qmail and Yahoo ("--- Below
// this line is a copy of the message."), Sendmail ("----- Original message
// follows -----", "----- Unsent message follows -----"), Exchange ("Original
// message headers:"), and the common "----- Original message -----".
var inlineOriginalMarker = regexp.MustCompile(`(?im)^[ \t]*(?:-+[ \t]*(?:this is a copy of the message|below this line is a copy of the (?:message|mail header)|original message(?: follows)?|unsent message follows|message header follows|the header of the original message is following)[^\n]*|original message headers:|原始邮件信息[:：]?|原邮件头[:：]?)[ \t]*$`)

var originalMessageIDField = regexp.MustCompile(`(?im)^[ \t]*original-message-id:[ \t]*(\S+)`)

// inlineOriginal finds the headers of a returned message pasted into the
// text of a non-standard bounce. It only answers when a Message-ID is
// present.
func inlineOriginal(text string) *OriginalHeaders {
	if loc := inlineOriginalMarker.FindStringIndex(text); loc != nil {
		rest := strings.TrimLeft(text[loc[1]:], " \t\r\n")
		hb, _ := readHeaderBlock(bufio.NewReader(strings.NewReader(rest)), maxHeaderBlock)
		if h := parseHeaderBytes(hb); h.Len() > 0 {
			if o := originalFromHeader(h); o != nil && o.MessageID != "" {
				return o
			}
		}
	}
	// "Original-Message-ID: <…>" (used by some MTAs in plain-text reports).
	if m := originalMessageIDField.FindStringSubmatch(text); m != nil {
		if id := firstOf(msgIDList(m[1])); id != "" {
			return &OriginalHeaders{MessageID: id}
		}
	}
	return nil
}

// ---- DSN and ARF fields -----------------------------------------------------

// reportFields splits the body of a message/delivery-status or
// message/feedback-report into blocks of fields (RFC 3464 §2.1: blocks are
// separated by blank lines; lines starting with white space continue a
// field). Keys are lowercased.
func reportFields(s string) []map[string][]string {
	var blocks []map[string][]string
	cur := map[string][]string{}
	lastKey := ""
	flush := func() {
		if len(cur) > 0 {
			blocks = append(blocks, cur)
		}
		cur = map[string][]string{}
		lastKey = ""
	}
	for _, line := range strings.Split(normalizeNewlines(s), "\n") {
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && lastKey != "" {
			vs := cur[lastKey]
			vs[len(vs)-1] += " " + strings.TrimSpace(line)
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		lastKey = strings.ToLower(strings.TrimSpace(k))
		cur[lastKey] = append(cur[lastKey], strings.TrimSpace(v))
	}
	flush()
	return blocks
}

func reportField(b map[string][]string, k string) string {
	if v := b[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// stripType removes the type prefix of typed DSN fields: "rfc822;
// a@b" → "a@b", "dns; mx.example" → "mx.example", "smtp; 550 …" → "550 …"
// (RFC 3464 §2.1.2, §2.3.2, §2.3.6).
func stripType(v string) string {
	if i := strings.IndexByte(v, ';'); i >= 0 && i < 20 && !strings.ContainsAny(v[:i], " <@") {
		v = v[i+1:]
	}
	return strings.Trim(strings.TrimSpace(v), "<>")
}

var statusCode = regexp.MustCompile(`[245]\.\d{1,3}\.\d{1,3}`)

func parseDeliveryStatus(s string) *DeliveryStatus {
	ds := &DeliveryStatus{}
	for _, b := range reportFields(s) {
		if ds.ReportingMTA == "" {
			ds.ReportingMTA = stripType(reportField(b, "reporting-mta"))
		}
		if reportField(b, "final-recipient") == "" && reportField(b, "original-recipient") == "" {
			continue
		}
		ds.Recipients = append(ds.Recipients, RecipientStatus{
			FinalRecipient:    stripType(reportField(b, "final-recipient")),
			OriginalRecipient: stripType(reportField(b, "original-recipient")),
			Action:            strings.ToLower(strings.TrimSpace(reportField(b, "action"))),
			Status:            statusCode.FindString(reportField(b, "status")),
			DiagnosticCode:    stripType(reportField(b, "diagnostic-code")),
		})
	}
	if ds.ReportingMTA == "" && len(ds.Recipients) == 0 {
		return nil
	}
	return ds
}

func parseFeedbackReport(s string) *FeedbackReport {
	fr := &FeedbackReport{}
	for _, b := range reportFields(s) {
		if v := reportField(b, "feedback-type"); v != "" && fr.FeedbackType == "" {
			fr.FeedbackType = strings.ToLower(v)
		}
		if v := reportField(b, "user-agent"); v != "" && fr.UserAgent == "" {
			fr.UserAgent = v
		}
		if v := reportField(b, "version"); v != "" && fr.Version == "" {
			fr.Version = v
		}
		if v := reportField(b, "original-mail-from"); v != "" && fr.OriginalMailFrom == "" {
			fr.OriginalMailFrom = strings.Trim(v, "<> ")
		}
		for _, v := range b["original-rcpt-to"] {
			fr.OriginalRcptTo = append(fr.OriginalRcptTo, strings.Trim(v, "<> "))
		}
		if v := reportField(b, "reporting-mta"); v != "" && fr.ReportingMTA == "" {
			fr.ReportingMTA = stripType(v)
		}
		if v := reportField(b, "source-ip"); v != "" && fr.SourceIP == "" {
			fr.SourceIP = v
		}
		if v := reportField(b, "arrival-date"); v != "" && fr.ArrivalDate.IsZero() {
			fr.ArrivalDate = parseMailDate(v)
		}
	}
	if fr.FeedbackType == "" && fr.UserAgent == "" && len(fr.OriginalRcptTo) == 0 {
		return nil
	}
	return fr
}

// ---- header values ----------------------------------------------------------

// contentType returns the lowercased media type (RFC 2045 §5.2: text/plain
// when absent or unreadable) and its parameters.
func contentType(h gmtextproto.Header) (string, map[string]string) {
	mt, params := parseMediaParams(h.Get("Content-Type"))
	if mt == "" || !strings.Contains(mt, "/") {
		mt = "text/plain"
	}
	return mt, params
}

// parseMediaParams parses "type/subtype; a=b; c*=utf-8'zh'%E4%BD%A0" leniently.
// Parameter names are lowercased; values are unquoted, RFC 2231 decoded
// (continuations, charset and percent-encoding, §3–§4) and, when they
// carry RFC 2047 encoded words (not allowed, but common in filenames),
// decoded too. It never fails: unreadable parameters are skipped.
func parseMediaParams(v string) (string, map[string]string) {
	params := map[string]string{}
	segs := splitParams(v)
	if len(segs) == 0 {
		return "", params
	}
	// "text/plain charset=x" (a missing semicolon) is read as two segments.
	first := strings.Fields(segs[0])
	if len(first) == 0 {
		return "", params
	}
	mt := strings.ToLower(first[0])
	if len(first) > 1 {
		segs = append([]string{first[0], strings.Join(first[1:], " ")}, segs[1:]...)
	}
	type piece struct {
		val     string
		encoded bool
	}
	conts := map[string]map[int]piece{}
	for _, seg := range segs[1:] {
		k, val, ok := strings.Cut(seg, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = unquote(val[1 : len(val)-1])
		} else if strings.HasPrefix(val, `"`) {
			val = unquote(val[1:])
		}
		if k == "" {
			continue
		}
		name, idx, encoded := k, -1, false
		if strings.HasSuffix(name, "*") {
			name, encoded = strings.TrimSuffix(name, "*"), true
		}
		if i := strings.LastIndexByte(name, '*'); i >= 0 {
			n, ok := atoiSmall(name[i+1:])
			if !ok {
				continue
			}
			name, idx = name[:i], n
		}
		if idx < 0 {
			if encoded {
				params[name] = decode2231(val)
			} else if _, seen := params[name]; !seen {
				params[name] = val
			}
			continue
		}
		if conts[name] == nil {
			conts[name] = map[int]piece{}
		}
		conts[name][idx] = piece{val, encoded}
	}
	for name, ps := range conts {
		var raw []byte
		charset := ""
		for i := 0; i < len(ps); i++ {
			pc, ok := ps[i]
			if !ok {
				break
			}
			if !pc.encoded {
				raw = append(raw, pc.val...)
				continue
			}
			val := pc.val
			if i == 0 {
				cs, rest, ok := cut2231(val)
				if ok {
					charset, val = cs, rest
				}
			}
			raw = append(raw, percentDecode(val)...)
		}
		if len(raw) > 0 {
			params[name] = decodeCharset(raw, charset)
		}
	}
	for k, val := range params {
		if strings.Contains(val, "=?") {
			params[k] = decodeHeaderText(val, "")
		} else {
			params[k] = strings.ToValidUTF8(val, "\uFFFD")
		}
	}
	return mt, params
}

// splitParams splits on semicolons outside quoted strings.
func splitParams(v string) []string {
	var out []string
	var cur strings.Builder
	inQuote, esc := false, false
	for _, r := range v {
		switch {
		case esc:
			esc = false
		case inQuote && r == '\\':
			esc = true
		case r == '"':
			inQuote = !inQuote
		case r == ';' && !inQuote:
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	if strings.TrimSpace(cur.String()) != "" || len(out) == 0 {
		out = append(out, cur.String())
	}
	return out
}

func unquote(s string) string {
	if !strings.Contains(s, `\`) {
		return strings.TrimSuffix(s, `"`)
	}
	var b strings.Builder
	esc := false
	for _, r := range s {
		if !esc && r == '\\' {
			esc = true
			continue
		}
		esc = false
		b.WriteRune(r)
	}
	return b.String()
}

func atoiSmall(s string) (int, bool) {
	if s == "" || len(s) > 3 {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// cut2231 splits "charset'language'value" (RFC 2231 §4).
func cut2231(v string) (charset, rest string, ok bool) {
	i := strings.IndexByte(v, '\'')
	if i < 0 {
		return "", v, false
	}
	j := strings.IndexByte(v[i+1:], '\'')
	if j < 0 {
		return "", v, false
	}
	return v[:i], v[i+1+j+1:], true
}

func decode2231(v string) string {
	charset, rest, ok := cut2231(v)
	if !ok {
		return decodeCharset(percentDecode(v), "")
	}
	return decodeCharset(percentDecode(rest), charset)
}

func percentDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return out
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// decodeHeaderText decodes RFC 2047 encoded words in an unstructured header
// value. Adjacent encoded words in the same charset are joined before
// conversion, so a multi-byte character split across two words (against
// RFC 2047 §5, but common in GBK subjects) survives; white space between
// adjacent encoded words is dropped (§6.2). Raw 8-bit text that is not
// UTF-8 is decoded with rawCharset when given, else replaced by U+FFFD.
func decodeHeaderText(s, rawCharset string) string {
	if !utf8.ValidString(s) {
		s = decodeCharset([]byte(s), rawCharset)
	}
	if !strings.Contains(s, "=?") {
		return s
	}
	var out strings.Builder
	var pend []byte
	pendCharset := ""
	flush := func() {
		if pend != nil {
			out.WriteString(decodeCharset(pend, pendCharset))
			pend, pendCharset = nil, ""
		}
	}
	i := 0
	for i < len(s) {
		j := strings.Index(s[i:], "=?")
		if j < 0 {
			flush()
			out.WriteString(s[i:])
			break
		}
		start := i + j
		charset, data, end, ok := encodedWord(s, start)
		if !ok {
			flush()
			out.WriteString(s[i : start+2])
			i = start + 2
			continue
		}
		between := s[i:start]
		if pend == nil || strings.TrimSpace(between) != "" {
			flush()
			out.WriteString(between)
		}
		if pend != nil && !strings.EqualFold(charset, pendCharset) {
			flush()
		}
		if pend == nil {
			pend = []byte{}
		}
		pend = append(pend, data...)
		pendCharset = charset
		i = end
	}
	flush()
	return out.String()
}

// encodedWord decodes "=?charset?B|Q?text?=" at s[start:] (RFC 2047 §2,
// §4; RFC 2231 §5 language suffix "charset*lang").
func encodedWord(s string, start int) (charset string, data []byte, end int, ok bool) {
	rest := s[start+2:]
	q1 := strings.IndexByte(rest, '?')
	if q1 <= 0 || q1 > 64 || len(rest) < q1+3 || rest[q1+2] != '?' {
		return "", nil, 0, false
	}
	charset = rest[:q1]
	if k := strings.IndexByte(charset, '*'); k >= 0 {
		charset = charset[:k]
	}
	enc := rest[q1+1]
	text := rest[q1+3:]
	e := strings.Index(text, "?=")
	if e < 0 || e > 2000 {
		return "", nil, 0, false
	}
	text = text[:e]
	switch enc {
	case 'B', 'b':
		data = decodeBase64Lenient([]byte(text))
	case 'Q', 'q':
		data = decodeQWord(text)
	default:
		return "", nil, 0, false
	}
	return charset, data, start + 2 + q1 + 3 + e + 2, true
}

// decodeQWord decodes the "Q" encoding (RFC 2047 §4.2).
func decodeQWord(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '_':
			out = append(out, ' ')
		case c == '=' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out
}

var angleID = regexp.MustCompile(`<([^<>]*)>`)

// msgIDList extracts msg-ids (RFC 5322 §3.6.4) without their angle
// brackets. Values without brackets (seen from broken clients) are split
// on white space and commas, keeping tokens with an "@".
func msgIDList(v string) []string {
	var ids []string
	seen := map[string]bool{}
	add := func(id string) {
		id = strings.Join(strings.Fields(id), "")
		id = strings.ToValidUTF8(id, "")
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if ms := angleID.FindAllStringSubmatch(v, -1); len(ms) > 0 {
		for _, m := range ms {
			add(m[1])
		}
		return ids
	}
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if strings.Contains(f, "@") {
			add(f)
		}
	}
	return ids
}

// addressList parses an address-list (RFC 5322 §3.4) leniently: it
// accepts unquoted specials and raw UTF-8 in display names, comments as
// names ("a@b (Name)"), groups, and missing brackets; entries without an
// "@" are dropped. Display names are RFC 2047 decoded, also inside quoted
// strings.
func addressList(v, rawCharset string) []mail.Address {
	var out []mail.Address
	for _, item := range splitAddresses(v) {
		item = strings.TrimSpace(item)
		if i := groupColon(item); i >= 0 {
			item = strings.TrimSpace(item[i+1:])
		}
		item = strings.TrimSpace(strings.TrimSuffix(item, ";"))
		if item == "" {
			continue
		}
		var name, addr string
		if lt := strings.LastIndexByte(item, '<'); lt >= 0 {
			gt := strings.IndexByte(item[lt:], '>')
			if gt < 0 {
				addr = item[lt+1:]
			} else {
				addr = item[lt+1 : lt+gt]
			}
			name = item[:lt]
		} else {
			addr = item
			if lp := strings.IndexByte(item, '('); lp >= 0 {
				addr = item[:lp]
				name = strings.TrimSuffix(item[lp+1:], ")")
			}
		}
		addr = strings.TrimSpace(strings.Trim(strings.TrimSpace(addr), `"'`))
		if !strings.Contains(addr, "@") || strings.ContainsAny(addr, " \t") {
			continue
		}
		name = strings.TrimSpace(name)
		if len(name) >= 2 && name[0] == '"' && name[len(name)-1] == '"' {
			name = unquote(name[1 : len(name)-1])
		}
		name = strings.TrimSpace(decodeHeaderText(name, rawCharset))
		out = append(out, mail.Address{Name: name, Address: strings.ToValidUTF8(addr, "\uFFFD")})
	}
	return out
}

// splitAddresses splits on commas outside quotes, angle brackets and
// comments.
func splitAddresses(v string) []string {
	var out []string
	var cur strings.Builder
	inQuote, esc := false, false
	angle, paren := 0, 0
	for _, r := range v {
		switch {
		case esc:
			esc = false
		case inQuote && r == '\\':
			esc = true
		case r == '"' && paren == 0:
			inQuote = !inQuote
		case inQuote:
		case r == '(':
			paren++
		case r == ')' && paren > 0:
			paren--
		case r == '<' && paren == 0:
			angle++
		case r == '>' && angle > 0 && paren == 0:
			angle--
		case r == ',' && angle == 0 && paren == 0:
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	return append(out, cur.String())
}

// groupColon finds the colon of a group ("team: a@b, c@d;") outside quotes,
// before any "<" or "@".
func groupColon(s string) int {
	inQuote := false
	for i, r := range s {
		switch {
		case r == '"':
			inQuote = !inQuote
		case inQuote:
		case r == '<' || r == '@':
			return -1
		case r == ':':
			return i
		}
	}
	return -1
}

var dateComment = regexp.MustCompile(`\([^()]*\)`)

// parseMailDate parses an RFC 5322 §3.3 date, then a few forms seen in the
// wild; zero when nothing fits.
func parseMailDate(v string) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	if t, err := mail.ParseDate(v); err == nil {
		return t
	}
	v = strings.TrimSpace(dateComment.ReplaceAllString(v, ""))
	if t, err := mail.ParseDate(v); err == nil {
		return t
	}
	for _, layout := range []string{
		time.RFC1123Z, time.RFC1123, time.RFC3339, time.ANSIC, time.UnixDate,
		"Mon, 2 Jan 2006 15:04:05 -0700", "2 Jan 2006 15:04:05 -0700",
		"Mon, 2 Jan 2006 15:04 -0700", "2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05",
	} {
		if t, err := time.Parse(layout, v); err == nil {
			return t
		}
	}
	return time.Time{}
}

// ---- body decoding ----------------------------------------------------------

// decodeTransfer undoes a Content-Transfer-Encoding (RFC 2045 §6).
// Unknown encodings leave the bytes as they are.
func decodeTransfer(cte string, raw []byte) []byte {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return decodeBase64Lenient(raw)
	case "quoted-printable":
		return decodeQuotedPrintable(raw)
	}
	return raw
}

var b64Value = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	t['-'], t['_'] = 62, 63 // URL-safe alphabet, seen from broken encoders
	return t
}()

// decodeBase64Lenient decodes base64 (RFC 2045 §6.8) ignoring characters
// outside the alphabet ("Any characters outside of the base64 alphabet are
// to be ignored") and treating "=" as the end of a quantum, so that
// concatenated encodings and missing padding both decode.
func decodeBase64Lenient(b []byte) []byte {
	out := make([]byte, 0, len(b)*3/4+3)
	var q [4]byte
	n := 0
	emit := func() {
		switch n {
		case 2:
			out = append(out, q[0]<<2|q[1]>>4)
		case 3:
			out = append(out, q[0]<<2|q[1]>>4, q[1]<<4|q[2]>>2)
		}
		n = 0
	}
	for _, c := range b {
		if c == '=' {
			emit()
			continue
		}
		v := b64Value[c]
		if v == 0xFF {
			continue
		}
		q[n] = v
		n++
		if n == 4 {
			out = append(out, q[0]<<2|q[1]>>4, q[1]<<4|q[2]>>2, q[2]<<6|q[3])
			n = 0
		}
	}
	emit()
	return out
}

// decodeQuotedPrintable decodes quoted-printable (RFC 2045 §6.7)
// leniently: an "=" not followed by two hex digits is kept literally,
// trailing white space is dropped (rule 3) and "=" at the end of a line is
// a soft line break (rule 5). Line ends become "\n".
func decodeQuotedPrintable(b []byte) []byte {
	out := make([]byte, 0, len(b))
	lines := bytes.Split(b, []byte("\n"))
	for li, line := range lines {
		line = bytes.TrimRight(line, " \t\r")
		soft := len(line) > 0 && line[len(line)-1] == '='
		if soft {
			line = line[:len(line)-1]
		}
		for i := 0; i < len(line); i++ {
			c := line[i]
			if c == '=' && i+2 < len(line) && isHex(line[i+1]) && isHex(line[i+2]) {
				out = append(out, unhex(line[i+1])<<4|unhex(line[i+2]))
				i += 2
				continue
			}
			out = append(out, c)
		}
		if !soft && li < len(lines)-1 {
			out = append(out, '\n')
		}
	}
	return out
}

// decodeCharset converts b from the named charset to UTF-8 and never fails:
// an unknown charset, or bytes invalid in it, fall back to the bytes read as
// UTF-8 with U+FFFD for what is not.
//
//   - GB2312, GBK and their aliases are decoded as GB18030, their superset:
//     Chinese clients label GBK (and GB18030) text "gb2312".
//   - ISO-8859-1 is decoded as Windows-1252, as the WHATWG Encoding
//     standard does, since mail labelled Latin-1 uses 0x80–0x9F for
//     Windows-1252's quotes and dashes.
//   - Other names go through github.com/emersion/go-message/charset (IANA
//     and WHATWG names); WHATWG's "replacement" encoding, which would turn
//     the whole text into one U+FFFD, counts as unknown.
func decodeCharset(b []byte, charset string) string {
	cs := strings.ToLower(strings.Trim(strings.TrimSpace(charset), `"'`))
	var out []byte
	var err error
	switch cs {
	case "", "utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968", "x-unknown", "unknown", "default":
		out = b
	case "gb2312", "gbk", "gb18030", "cp936", "ms936", "windows-936", "x-gbk", "euc-cn", "x-euc-cn",
		"csgb2312", "gb_2312-80", "gb_2312", "chinese", "csgbk", "iso-ir-58", "csiso58gb231280", "x-mac-chinesesimp":
		out, err = simplifiedchinese.GB18030.NewDecoder().Bytes(b)
	case "big5", "big5-hkscs", "x-big5", "cn-big5", "csbig5", "cp950", "ms950", "x-x-big5":
		out, err = traditionalchinese.Big5.NewDecoder().Bytes(b)
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "cp819", "ibm819", "iso-ir-100", "csisolatin1", "windows-1252", "cp1252":
		out, err = charmap.Windows1252.NewDecoder().Bytes(b)
	default:
		if enc, e := htmlindex.Get(cs); e == nil && enc == encoding.Replacement {
			err = errors.New("replacement encoding")
			break
		}
		var r io.Reader
		r, err = gmcharset.Reader(cs, bytes.NewReader(b))
		if err == nil {
			out, err = io.ReadAll(io.LimitReader(r, int64(len(b))*4+16))
		}
	}
	if err != nil {
		out = b
	}
	s := strings.ToValidUTF8(string(out), "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "")
}

func normalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

func limitRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// unflow joins the soft line breaks of format=flowed text (RFC 3676 §4.1,
// §4.2 space-stuffing, §4.5 DelSp), keeping quote depth.
func unflow(s string, delsp bool) string {
	lines := strings.Split(normalizeNewlines(s), "\n")
	var out []string
	var cur strings.Builder
	curDepth, open := 0, false
	emit := func() {
		line := cur.String()
		if curDepth > 0 {
			line = strings.Repeat(">", curDepth) + " " + line
		}
		out = append(out, line)
		cur.Reset()
		open = false
	}
	for _, line := range lines {
		depth := 0
		for depth < len(line) && line[depth] == '>' {
			depth++
		}
		content := line[depth:]
		content = strings.TrimPrefix(content, " ")
		if open && depth != curDepth {
			emit()
		}
		soft := strings.HasSuffix(content, " ") && content != "-- "
		if soft && delsp {
			content = content[:len(content)-1]
		}
		cur.WriteString(content)
		curDepth, open = depth, true
		if !soft {
			emit()
		}
	}
	if open {
		emit()
	}
	return strings.Join(out, "\n")
}

// ---- HTML to text -----------------------------------------------------------

// htmlToText renders HTML as readable text: block elements start new lines
// (paragraphs, headings, lists and tables are set apart by a blank line),
// <br> breaks lines, links become "text (url)", blockquotes are prefixed
// with "> " so that quoted history can be recognised, and script, style,
// head and title contents are dropped.
func htmlToText(src string) string {
	z := html.NewTokenizer(strings.NewReader(src))
	tw := &textWriter{}
	skip := 0
	inHead := false
	pre := 0
	type link struct {
		href string
		text strings.Builder
	}
	var links []*link
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return tw.finish()
		case html.TextToken:
			if skip > 0 || inHead {
				continue
			}
			t := string(z.Text())
			tw.text(t, pre > 0)
			for _, l := range links {
				l.text.WriteString(t)
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			selfClosing := tt == html.SelfClosingTagToken
			switch a {
			case atom.Script, atom.Style, atom.Title, atom.Template, atom.Noscript, atom.Object:
				if !selfClosing {
					skip++
				}
			case atom.Head:
				inHead = !selfClosing
			case atom.Body:
				inHead = false
			case atom.Br:
				tw.newline()
			case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Ul, atom.Ol, atom.Table, atom.Dl:
				tw.paragraph()
			case atom.Pre:
				tw.paragraph()
				pre++
			case atom.Blockquote:
				tw.paragraph()
				tw.quote++
			case atom.Div, atom.Tr, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Address,
				atom.Center, atom.Dt, atom.Dd, atom.Tbody, atom.Thead, atom.Form, atom.Fieldset, atom.Main, atom.Nav, atom.Aside:
				tw.block()
			case atom.Hr:
				tw.block()
				tw.newline()
			case atom.Li:
				tw.block()
				tw.text("- ", true)
			case atom.Td, atom.Th:
				tw.space()
			case atom.A:
				l := &link{}
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					if string(k) == "href" {
						l.href = strings.TrimSpace(string(v))
					}
				}
				if !selfClosing {
					links = append(links, l)
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch a := atom.Lookup(name); a {
			case atom.Script, atom.Style, atom.Title, atom.Template, atom.Noscript, atom.Object:
				if skip > 0 {
					skip--
				}
			case atom.Head:
				inHead = false
			case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Ul, atom.Ol, atom.Table, atom.Dl:
				tw.paragraph()
			case atom.Pre:
				tw.paragraph()
				if pre > 0 {
					pre--
				}
			case atom.Blockquote:
				tw.block()
				if tw.quote > 0 {
					tw.quote--
				}
				tw.paragraph()
			case atom.Div, atom.Tr, atom.Li, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Address,
				atom.Center, atom.Dt, atom.Dd, atom.Form, atom.Fieldset, atom.Main, atom.Nav, atom.Aside:
				tw.block()
			case atom.A:
				if len(links) == 0 {
					continue
				}
				l := links[len(links)-1]
				links = links[:len(links)-1]
				if suffix := linkSuffix(l.href, l.text.String()); suffix != "" {
					tw.text(suffix, false)
				}
			}
		}
		if tw.size > maxPartText {
			return tw.finish()
		}
	}
}

// linkSuffix is what follows a link's text: " (url)", unless the text
// already says it or the link leads nowhere useful.
func linkSuffix(href, text string) string {
	lh := strings.ToLower(href)
	if href == "" || strings.HasPrefix(href, "#") || strings.HasPrefix(lh, "javascript:") || strings.HasPrefix(lh, "cid:") {
		return ""
	}
	t := strings.TrimSpace(strings.Join(strings.Fields(text), " "))
	bare := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(href, "mailto:"), "https://"), "http://")
	if t == href || strings.TrimSuffix(t, "/") == strings.TrimSuffix(bare, "/") || t == strings.TrimPrefix(href, "mailto:") {
		return ""
	}
	if t == "" {
		return href
	}
	return " (" + href + ")"
}

// textWriter accumulates lines for htmlToText.
type textWriter struct {
	lines     []string
	cur       strings.Builder
	curQuote  int
	quote     int
	spacePend bool
	size      int
}

func (tw *textWriter) text(t string, pre bool) {
	t = strings.ReplaceAll(t, "\u00a0", " ")
	if pre {
		parts := strings.Split(normalizeNewlines(t), "\n")
		for i, part := range parts {
			if i > 0 {
				tw.newline()
			}
			tw.write(part)
		}
		return
	}
	fields := strings.FieldsFunc(t, isHTMLSpace)
	if t != "" && isHTMLSpace(rune(t[0])) {
		tw.spacePend = true
	}
	for i, f := range fields {
		if (i > 0 || tw.spacePend) && tw.cur.Len() > 0 {
			tw.write(" ")
		}
		tw.spacePend = false
		tw.write(f)
	}
	if t != "" && isHTMLSpace(rune(t[len(t)-1])) {
		tw.spacePend = true
	}
}

func isHTMLSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f'
}

func (tw *textWriter) write(s string) {
	if tw.cur.Len() == 0 {
		tw.curQuote = tw.quote
	}
	tw.cur.WriteString(s)
	tw.size += len(s)
}

func (tw *textWriter) space() {
	if tw.cur.Len() > 0 {
		tw.spacePend = true
	}
}

// newline ends the current line, even an empty one (<br><br> is a blank
// line).
func (tw *textWriter) newline() {
	line := strings.TrimRight(tw.cur.String(), " ")
	q := tw.curQuote
	if tw.cur.Len() == 0 {
		q = tw.quote
	}
	if q > 0 {
		line = strings.TrimRight(strings.Repeat("> ", q)+line, " ")
	}
	tw.lines = append(tw.lines, line)
	tw.cur.Reset()
	tw.spacePend = false
	tw.size++
}

// block ends the current line if it has text.
func (tw *textWriter) block() {
	if tw.cur.Len() > 0 {
		tw.newline()
	}
	tw.spacePend = false
}

// paragraph ends the current line and leaves one blank line (at the
// current quote depth).
func (tw *textWriter) paragraph() {
	tw.block()
	blank := strings.TrimRight(strings.Repeat("> ", tw.quote), " ")
	if n := len(tw.lines); n > 0 && tw.lines[n-1] != blank {
		tw.newline()
	}
}

// finish returns the text with leading and trailing blank lines dropped
// and each run of blank lines reduced to its least quoted one.
func (tw *textWriter) finish() string {
	tw.block()
	var out []string
	pending, havePending := "", false
	for _, l := range tw.lines {
		if strings.Trim(l, "> ") == "" {
			l = strings.TrimRight(l, " ")
			if !havePending || len(l) < len(pending) {
				pending, havePending = l, true
			}
			continue
		}
		if havePending && len(out) > 0 {
			out = append(out, pending)
		}
		havePending = false
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
