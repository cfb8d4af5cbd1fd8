package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"followup/internal/csvimport"
	"followup/store"
)

type importCmd struct {
	File     string `arg:"" help:"CSV file with a header row: email, name, language, timezone, sequence, mailbox, tags, then any fields." type:"path"`
	Sequence string `short:"s" help:"Sequence for every row (otherwise each row needs a \"sequence\" column)."`
	Encoding string `help:"File encoding when not UTF-8: gb18030 (also reads GBK and GB2312), big5." enum:"utf-8,gb18030,gbk,big5" default:"utf-8"`
}

// exitRejectedRows is the exit status of an import that enrolled the valid
// rows but rejected others (1 is a failure of the whole command, 2 a
// command-line mistake).
const exitRejectedRows = 3

// importSummary counts what an import did.
type importSummary = csvimport.Summary

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

// importCSV enrolls the rows of r (see package csvimport), writing each
// rejected row to o.Rejects as name:line: email: reason.
func importCSV(ctx context.Context, p *project, db *store.DB, r io.Reader, o importOptions) (importSummary, error) {
	return csvimport.Import(ctx, r, csvimport.Options{
		Name: o.Name, Sequence: o.Sequence, Encoding: o.Encoding, Catalog: p.catalog, Defaults: p.cfg.Defaults(),
		Store: db, Now: o.Now, Progress: o.Progress,
		Reject: func(rj csvimport.Reject) { fmt.Fprintln(o.Rejects, rj.String(o.Name)) },
	})
}
