package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// A 100,000-row file streams through in bounded memory: the heap after the
// import does not grow with the file (rows are validated and enrolled in
// batches, never collected).
func TestImportLargeFileStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 100,000 rows; skipped with -short")
	}
	tp := newTestProject(t)
	path := filepath.Join(tp.dir, "big.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(f, "email,name,language,sequence,job_title\n")
	const rows = 100000
	for i := 0; i < rows; i++ {
		email := fmt.Sprintf("c%06d@example.com", i)
		if i%10000 == 5 {
			email = "broken" // a few bad rows among the good ones
		}
		fmt.Fprintf(f, "%s,候选人%d,zh-CN,post-interview-thanks,工程师 %s\n", email, i, strings.Repeat("x", 40))
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	out, err := tp.run("import", path)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if exitCode(err) != exitRejectedRows || !strings.Contains(out, "100000 rows: 99990 enrolled, 0 already enrolled, 10 rejected.") {
		t.Fatalf("exit %d:\n%s", exitCode(err), tail(out, 600))
	}
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 32<<20 {
		t.Errorf("heap grew by %d MiB importing %d rows; the import should stream", grew>>20, rows)
	}
	if got := strings.Count(out, "not a valid address"); got != 10 {
		t.Errorf("%d rejected rows reported, want 10", got)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
