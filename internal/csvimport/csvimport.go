// Package csvimport enrolls candidates from a CSV file exported from an ATS
// or a spreadsheet: a header row (email, name, language, timezone,
// sequence, mailbox, pool_consent, tags, then any template fields), one
// candidate per row. `followup import` and the dashboard's upload share it.
package csvimport

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"

	"followup/sequences"
	"followup/store"
)

// Store is what an import writes to.
type Store interface {
	Enroll(ctx context.Context, reqs []sequences.EnrollRequest, seqs map[string]*sequences.Sequence, now time.Time) ([]sequences.EnrollOutcome, error)
	TagCandidate(ctx context.Context, candidateID int64, tags []string, now time.Time) (int, error)
}

// Options say what to import and where.
type Options struct {
	Name     string // the file's name, shown in sources and rejects
	Sequence string // for every row; otherwise each row needs a "sequence" column
	Encoding string // "" or "utf-8", "gb18030" (also GBK, GB2312), "big5"
	Catalog  *sequences.Catalog
	Defaults sequences.Defaults
	Store    Store
	Now      func() time.Time
	// Reject is told about every row not enrolled, with its line number.
	Reject func(Reject)
	// Progress, if set, is told the bytes read and rows seen after each batch.
	Progress func(done int64, rows int)
}

// Reject is a row that was not enrolled, and why.
type Reject struct {
	Line   int    // in the file, from 1 (0: unknown)
	Email  string // as given; "" when the row could not be read
	Reason string
}

// String is the reject as a compiler would say it: name:line: email: reason.
func (r Reject) String(name string) string {
	if r.Email == "" {
		return fmt.Sprintf("%s:%d: %s", name, r.Line, r.Reason)
	}
	return fmt.Sprintf("%s:%d: %s: %s", name, r.Line, r.Email, r.Reason)
}

// Summary counts what an import did.
type Summary struct {
	Rows, Enrolled, Already, Rejected int
}

// EncodingError says the file is not UTF-8 and no encoding was given.
type EncodingError struct {
	LooksGB18030 bool // it decodes as GBK/GB18030 (Excel on Chinese Windows)
}

func (e *EncodingError) Error() string {
	if e.LooksGB18030 {
		return "the file is not UTF-8; it looks like GBK/GB18030 (Excel on Chinese Windows saves CSV that way): re-run with --encoding gb18030, or save it from Excel as \"CSV UTF-8\", or convert it: iconv -f GB18030 -t UTF-8 in.csv > out.csv"
	}
	return "the file is not UTF-8; re-run with --encoding gb18030 (GBK/GB2312 files too) or --encoding big5"
}

const batchSize = 500

// Import streams rows from r, validates each, and enrolls valid rows in
// batches. Memory stays bounded whatever the file size. A row's idempotency
// key is a hash of its content, so importing the same file again enrolls
// nobody twice. Tags in a "tags" column are added to the candidate of every
// row enrolled or already enrolled.
func Import(ctx context.Context, r io.Reader, o Options) (Summary, error) {
	var sum Summary
	reject := func(rj Reject) {
		sum.Rejected++
		if o.Reject != nil {
			o.Reject(rj)
		}
	}
	counted := &countingReader{r: r}
	br := bufio.NewReaderSize(counted, 64<<10)
	dec, err := decoderFor(br, o.Encoding)
	if err != nil {
		return sum, err
	}
	cr := csv.NewReader(dec)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return sum, errors.New("the file is empty (expected a header row: email,name,language,timezone,sequence,…)")
		}
		return sum, fmt.Errorf("reading the header row: %w", err)
	}
	cols, err := parseHeader(header, o.Sequence == "")
	if err != nil {
		return sum, err
	}
	cr.FieldsPerRecord = len(header)
	var batch []sequences.EnrollRequest
	var lines []int
	var tags [][]string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		out, err := o.Store.Enroll(ctx, batch, o.Catalog.Sequences, o.Now())
		if err != nil {
			return err
		}
		for i, res := range out {
			switch {
			case res.Blocked: // unsubscribed, complained or bounced: never mailed again
				reject(Reject{Line: lines[i], Email: batch[i].Email, Reason: res.Reason})
				continue
			case res.Created:
				sum.Enrolled++
			default:
				sum.Already++
			}
			if len(tags[i]) > 0 && res.Enrollment.CandidateID != 0 {
				if _, err := o.Store.TagCandidate(ctx, res.Enrollment.CandidateID, tags[i], o.Now()); err != nil {
					return err
				}
			}
		}
		batch, lines, tags = batch[:0], lines[:0], tags[:0]
		return nil
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		sum.Rows++
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
				if errors.Is(pe.Err, csv.ErrFieldCount) {
					err = fmt.Errorf("%d columns, the header has %d", len(rec), len(header))
				} else {
					err = pe.Err
				}
			}
			reject(Reject{Line: line, Reason: err.Error()})
			continue
		}
		line, _ := cr.FieldPos(0)
		req, rowTags, tagErr := cols.request(rec, o.Sequence)
		req.Source = fmt.Sprintf("import %s:%d", o.Name, line)
		valid, _, err := o.Catalog.Validate(req, o.Defaults)
		if err = errors.Join(err, tagErr); err != nil {
			reject(Reject{Line: line, Email: strings.TrimSpace(req.Email), Reason: strings.ReplaceAll(err.Error(), "\n", "; ")})
			continue
		}
		valid.IdempotencyKey = rowKey(valid)
		batch = append(batch, valid)
		lines = append(lines, line)
		tags = append(tags, rowTags)
		if len(batch) >= batchSize {
			if err := flush(); err != nil {
				return sum, err
			}
			if o.Progress != nil {
				o.Progress(counted.n, sum.Rows)
			}
		}
	}
	if err := flush(); err != nil {
		return sum, err
	}
	if o.Progress != nil {
		o.Progress(counted.n, sum.Rows)
	}
	return sum, nil
}

// rowKey identifies a row's content: the same row imported again is the
// same request.
func rowKey(r sequences.EnrollRequest) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%s", r.Sequence, r.Email, r.Name, r.Language, r.Timezone, r.Mailbox)
	for _, k := range sequences.SortedKeys(r.Fields) {
		fmt.Fprintf(h, "\x00%s=%s", k, r.Fields[k])
	}
	return "csv:" + hex.EncodeToString(h.Sum(nil)[:16])
}

// columns maps header positions.
type columns struct {
	email, name, lang, tz, seq, mailbox, consent, tags int
	fields                                             map[int]string
}

func parseHeader(h []string, needSequence bool) (columns, error) {
	c := columns{email: -1, name: -1, lang: -1, tz: -1, seq: -1, mailbox: -1, consent: -1, tags: -1, fields: map[int]string{}}
	seen := map[string]bool{}
	for i, raw := range h {
		name := strings.ToLower(strings.TrimSpace(raw))
		if i == 0 {
			name = strings.TrimPrefix(name, "\ufeff") // Excel's "CSV UTF-8" BOM
		}
		switch {
		case name == "":
			return c, fmt.Errorf("wrong header: column %d has no name", i+1)
		case seen[name]:
			return c, fmt.Errorf("wrong header: column %q appears twice", name)
		}
		seen[name] = true
		switch name {
		case "email":
			c.email = i
		case "name":
			c.name = i
		case "language":
			c.lang = i
		case "timezone":
			c.tz = i
		case "sequence":
			c.seq = i
		case "mailbox":
			c.mailbox = i
		case "pool_consent":
			c.consent = i
		case "tags":
			c.tags = i
		default:
			c.fields[i] = name
		}
	}
	if c.email < 0 {
		return c, fmt.Errorf("wrong header: no \"email\" column (the header is %q; expected email,name,language,timezone,sequence,…)", strings.Join(h, ","))
	}
	if needSequence && c.seq < 0 {
		return c, errors.New("wrong header: no \"sequence\" column; add one or give --sequence")
	}
	return c, nil
}

func (c columns) request(rec []string, seq string) (sequences.EnrollRequest, []string, error) {
	get := func(i int) string {
		if i < 0 || i >= len(rec) {
			return ""
		}
		return rec[i]
	}
	req := sequences.EnrollRequest{
		Candidate: sequences.Candidate{Email: get(c.email), Name: get(c.name), Language: get(c.lang), Timezone: get(c.tz)},
		Sequence:  seq, Mailbox: get(c.mailbox), Fields: map[string]string{}, PoolConsent: get(c.consent),
	}
	if s := strings.TrimSpace(get(c.seq)); s != "" {
		req.Sequence = s
	}
	for i, name := range c.fields {
		if v := get(i); v != "" {
			req.Fields[name] = v
		}
	}
	tags, err := store.SplitTags(get(c.tags))
	return req, tags, err
}

// decoderFor returns a UTF-8 reader over br. A file that is not UTF-8 and
// has no encoding given gets an *EncodingError saying what it looks like.
func decoderFor(br *bufio.Reader, enc string) (io.Reader, error) {
	var e encoding.Encoding
	switch enc {
	case "gb18030", "gbk":
		e = simplifiedchinese.GB18030
	case "big5":
		e = traditionalchinese.Big5
	}
	if e != nil {
		return e.NewDecoder().Reader(br), nil
	}
	head, _ := br.Peek(64 << 10)
	if !utf8.Valid(trimPartialRune(head)) {
		_, err := simplifiedchinese.GB18030.NewDecoder().Bytes(head)
		return nil, &EncodingError{LooksGB18030: err == nil}
	}
	return br, nil
}

// trimPartialRune drops an incomplete UTF-8 sequence cut at the end of a peek.
func trimPartialRune(b []byte) []byte {
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			return b
		}
	}
	return b
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
