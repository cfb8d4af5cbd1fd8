package csvimport

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"followup/sequences"
	"followup/store"
)

func setup(t *testing.T) (*store.DB, Options, *[]Reject) {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "f.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	seq := &sequences.Sequence{Name: "pool", Fields: []string{"job_title"}, Steps: []sequences.Step{{Template: "a", After: sequences.Delay{D: time.Hour}}}}
	var rejects []Reject
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	return db, Options{
		Name: "c.csv", Catalog: &sequences.Catalog{Sequences: map[string]*sequences.Sequence{"pool": seq}},
		Defaults: sequences.Defaults{Language: "zh-CN", Timezone: "Asia/Shanghai", Mailbox: "m", Mailboxes: []string{"m"}},
		Store:    db, Now: func() time.Time { return now },
		Reject: func(r Reject) { rejects = append(rejects, r) },
	}, &rejects
}

func TestImportTagsAndRejects(t *testing.T) {
	ctx := context.Background()
	db, o, rejects := setup(t)
	csv := "email,name,sequence,tags,job_title\n" +
		"li.lei@example.com,李雷,pool,\"Go，紧急；潜力\",工程师\n" +
		"not-an-address,X,pool,,工程师\n" +
		"han@example.com,韩梅梅,pool,产品,\n" + // no job_title
		"a,b\n" + // wrong number of columns
		"bob@example.com,Bob,pool,Go;,SRE\n"
	sum, err := Import(ctx, strings.NewReader(csv), o)
	if err != nil {
		t.Fatal(err)
	}
	if sum != (Summary{Rows: 5, Enrolled: 2, Rejected: 3}) {
		t.Errorf("summary %+v", sum)
	}
	var lines []int
	for _, r := range *rejects {
		lines = append(lines, r.Line)
	}
	if !reflect.DeepEqual(lines, []int{3, 4, 5}) || !strings.Contains((*rejects)[1].Reason, "job_title") || (*rejects)[1].Email != "han@example.com" {
		t.Errorf("rejects %+v", *rejects)
	}
	if got := (*rejects)[2].String("c.csv"); got != "c.csv:5: 2 columns, the header has 5" {
		t.Errorf("reject line %q", got)
	}
	all, _ := db.AllTags(ctx)
	if !reflect.DeepEqual(all, []store.TagCount{{Tag: "Go", N: 2}, {Tag: "潜力", N: 1}, {Tag: "紧急", N: 1}}) {
		t.Errorf("tags %+v", all)
	}
	// The same file again: nobody enrolled twice, tags unchanged.
	*rejects = nil
	sum, err = Import(ctx, strings.NewReader(csv), o)
	if err != nil || sum.Enrolled != 0 || sum.Already != 2 {
		t.Errorf("again: %+v %v", sum, err)
	}
}

func TestImportEncoding(t *testing.T) {
	_, o, _ := setup(t)
	gbk, err := simplifiedchinese.GBK.NewEncoder().String("email,name,sequence,job_title\nli@example.com,李雷,pool,工程师\n")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Import(context.Background(), strings.NewReader(gbk), o)
	var ee *EncodingError
	if !errors.As(err, &ee) || !ee.LooksGB18030 {
		t.Fatalf("GBK without an encoding: %v", err)
	}
	o.Encoding = "gb18030"
	if sum, err := Import(context.Background(), strings.NewReader(gbk), o); err != nil || sum.Enrolled != 1 {
		t.Fatalf("GBK with gb18030: %+v %v", sum, err)
	}
}
