package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"

	"followup/sequences"
	"followup/store"
)

type importCmd struct {
	File     string `arg:"" help:"CSV file with a header row: email, name, language, timezone, sequence, mailbox, then any fields." type:"path"`
	Sequence string `short:"s" help:"Sequence for every row (otherwise each row needs a \"sequence\" column)."`
	Encoding string `help:"File encoding when not UTF-8: gb18030 (also reads GBK and GB2312), big5." enum:"utf-8,gb18030,gbk,big5" default:"utf-8"`
}

// exitRejectedRows is the exit status of an import that enrolled the valid
// rows but rejected others (1 is a failure of the whole command, 2 a
// command-line mistake).
const exitRejectedRows = 3

// importSummary counts what an import did.
type importSummary struct {
	Rows, Enrolled, Already, Rejected int
}

func (c importCmd) Run(env *runEnv) error {
	p, err := env.loadProject(false)
	if err != nil {
		return err
	}
	f, err := os.Open(c.File)
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("cannot import: %v", err)}
	}
	defer f.Close()
	db, err := p.openDB(env.ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	var progress func(done int64, rows int)
	if tf, ok := env.stderr.(*os.File); ok && term.IsTerminal(int(tf.Fd())) && size > 0 {
		progress = func(done int64, rows int) {
			fmt.Fprintf(env.stderr, "\r%s %3d%%  %d rows", bar(done, size, 30), done*100/size, rows)
		}
	}
	sum, err := importCSV(env.ctx, p, db, f, importOptions{
		Name: filepath.Base(c.File), Sequence: c.Sequence, Encoding: c.Encoding, Now: env.clock,
		Rejects: env.stderr, Progress: progress,
	})
	if progress != nil {
		fmt.Fprintln(env.stderr)
	}
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("cannot import %s: %v", c.File, err)}
	}
	fmt.Fprintf(env.stdout, "%d rows: %d enrolled, %d already enrolled, %d rejected.\n", sum.Rows, sum.Enrolled, sum.Already, sum.Rejected)
	if sum.Rejected > 0 {
		return &exitError{code: exitRejectedRows, msg: "Rejected rows are listed above with their line numbers; fix them and import the file again (rows already enrolled are skipped)."}
	}
	return nil
}

func bar(done, total int64, width int) string {
	n := int(done * int64(width) / total)
	return "[" + strings.Repeat("=", n) + strings.Repeat(" ", width-n) + "]"
}

type importOptions struct {
	Name     string // shown in sources and messages
	Sequence string
	Encoding string
	Now      func() time.Time
	Rejects  io.Writer
	Progress func(done int64, rows int)
}

const importBatch = 500

// importCSV streams rows from r, validates each, and enrolls valid rows in
// batches. Memory stays bounded whatever the file size. A row's idempotency
// key is a hash of its content, so importing the same file again enrolls
// nobody twice.
func importCSV(ctx context.Context, p *project, db *store.DB, r io.Reader, o importOptions) (importSummary, error) {
	var sum importSummary
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
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		out, err := db.Enroll(ctx, batch, p.catalog.Sequences, o.Now())
		if err != nil {
			return err
		}
		for i, res := range out {
			switch {
			case res.Created:
				sum.Enrolled++
			case res.Blocked: // unsubscribed, complained or bounced: never mailed again
				sum.Rejected++
				fmt.Fprintf(o.Rejects, "%s:%d: %s: %s\n", o.Name, lines[i], batch[i].Email, res.Reason)
			default:
				sum.Already++
			}
		}
		batch, lines = batch[:0], lines[:0]
		return nil
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
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
			sum.Rejected++
			fmt.Fprintf(o.Rejects, "%s:%d: %v\n", o.Name, line, err)
			continue
		}
		line, _ := cr.FieldPos(0)
		req := cols.request(rec, o.Sequence)
		req.Source = fmt.Sprintf("import %s:%d", o.Name, line)
		valid, _, err := p.catalog.Validate(req, p.cfg.Defaults())
		if err != nil {
			sum.Rejected++
			fmt.Fprintf(o.Rejects, "%s:%d: %s: %s\n", o.Name, line, strings.TrimSpace(req.Email), strings.ReplaceAll(err.Error(), "\n", "; "))
			continue
		}
		valid.IdempotencyKey = rowKey(valid)
		batch = append(batch, valid)
		lines = append(lines, line)
		if len(batch) >= importBatch {
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
	email, name, lang, tz, seq, mailbox, consent int
	fields                                       map[int]string
}

var knownColumns = map[string]bool{"email": true, "name": true, "language": true, "timezone": true, "sequence": true, "mailbox": true, "pool_consent": true}

func parseHeader(h []string, needSequence bool) (columns, error) {
	c := columns{email: -1, name: -1, lang: -1, tz: -1, seq: -1, mailbox: -1, consent: -1, fields: map[int]string{}}
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

func (c columns) request(rec []string, seq string) sequences.EnrollRequest {
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
	return req
}

// decoderFor returns a UTF-8 reader over br. A file that is not UTF-8 and
// has no --encoding gets an error saying what it looks like and how to fix it.
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
		hint := "re-run with --encoding gb18030 (GBK/GB2312 files too) or --encoding big5"
		if _, err := simplifiedchinese.GB18030.NewDecoder().Bytes(head); err == nil {
			hint = "it looks like GBK/GB18030 (Excel on Chinese Windows saves CSV that way): re-run with --encoding gb18030, or save it from Excel as \"CSV UTF-8\", or convert it: iconv -f GB18030 -t UTF-8 in.csv > out.csv"
		}
		return nil, fmt.Errorf("the file is not UTF-8; %s", hint)
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
