package store

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"followup/sequences"
)

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "f.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func enrollTest(t *testing.T, db *DB, emails ...string) []sequences.Enrollment {
	t.Helper()
	var reqs []sequences.EnrollRequest
	for _, e := range emails {
		reqs = append(reqs, req(e))
	}
	out, err := db.Enroll(context.Background(), reqs, map[string]*sequences.Sequence{"s": testSeq}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var es []sequences.Enrollment
	for _, o := range out {
		es = append(es, o.Enrollment)
	}
	return es
}

func TestSplitTags(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{"Go, 紧急；潜力，  golang  ;Go", []string{"Go", "紧急", "潜力", "golang"}, false},
		{"产品经理、B端", []string{"产品经理", "B端"}, false},
		{" , ;", nil, false},
		{"ok," + strings.Repeat("长", MaxTagLen+1), []string{"ok"}, true},
		{"a\x01b", nil, true},
	} {
		got, err := SplitTags(tc.in)
		if !reflect.DeepEqual(got, tc.want) || (err != nil) != tc.err {
			t.Errorf("SplitTags(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestTagsAndNotes(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	es := enrollTest(t, db, "a@example.com", "b@example.com")
	a, b := es[0].CandidateID, es[1].CandidateID
	now := time.Now()
	if n, err := db.TagCandidate(ctx, a, []string{"紧急", " Go ", "紧急"}, now); err != nil || n != 2 {
		t.Fatalf("tag a: %d %v", n, err)
	}
	if n, err := db.TagCandidate(ctx, b, []string{"Go"}, now); err != nil || n != 1 {
		t.Fatalf("tag b: %d %v", n, err)
	}
	if _, err := db.TagCandidate(ctx, b, []string{""}, now); err == nil {
		t.Error("an empty tag was accepted")
	}
	if tags, _ := db.TagsOf(ctx, a); !reflect.DeepEqual(tags, []string{"Go", "紧急"}) {
		t.Errorf("tags of a: %q", tags)
	}
	all, _ := db.AllTags(ctx)
	if !reflect.DeepEqual(all, []TagCount{{"Go", 2}, {"紧急", 1}}) {
		t.Errorf("all tags: %+v", all)
	}
	with, _ := db.CandidatesWithTag(ctx, "Go")
	if len(with) != 2 || with[0].Email != "a@example.com" {
		t.Errorf("with Go: %+v", with)
	}
	if ok, err := db.UntagCandidate(ctx, a, "Go", now); !ok || err != nil {
		t.Errorf("untag: %v %v", ok, err)
	}
	if ok, _ := db.UntagCandidate(ctx, a, "Go", now); ok {
		t.Error("untagged twice")
	}
	found, _ := db.SearchEnrollments(ctx, SearchFilter{Tag: "Go"})
	if len(found) != 1 || found[0].Email != "b@example.com" {
		t.Errorf("search by tag: %+v", found)
	}
	if err := db.AddNote(ctx, a, "wang", "  聊过薪资  ", now); err != nil {
		t.Fatal(err)
	}
	if err := db.AddNote(ctx, a, "wang", "   ", now); err == nil {
		t.Error("an empty note was accepted")
	}
	notes, _ := db.NotesOf(ctx, a)
	if len(notes) != 1 || notes[0].Text != "聊过薪资" || notes[0].Author != "wang" {
		t.Errorf("notes: %+v", notes)
	}
	// Erasure takes the notes and tags too.
	if _, err := db.Forget(ctx, "a@example.com", now); err != nil {
		t.Fatal(err)
	}
	notes, _ = db.NotesOf(ctx, a)
	tags, _ := db.TagsOf(ctx, a)
	if len(notes) != 0 || len(tags) != 0 {
		t.Errorf("after forget: notes %+v, tags %q", notes, tags)
	}
}

func TestSearchEnrollments(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	enrollTest(t, db, "li.lei@example.com", "han_mei@example.com", "bob@example.org")
	for _, tc := range []struct {
		f    SearchFilter
		want []string
	}{
		{SearchFilter{}, []string{"bob@example.org", "han_mei@example.com", "li.lei@example.com"}},
		{SearchFilter{Query: "EXAMPLE.COM"}, []string{"han_mei@example.com", "li.lei@example.com"}},
		{SearchFilter{Query: "_"}, []string{"han_mei@example.com"}}, // not a wildcard
		{SearchFilter{Query: "%"}, nil},
		{SearchFilter{Status: "paused"}, nil},
		{SearchFilter{Mailbox: "m", Sequence: "s"}, []string{"bob@example.org", "han_mei@example.com", "li.lei@example.com"}},
		{SearchFilter{Limit: 1, Offset: 1}, []string{"han_mei@example.com"}},
	} {
		got, err := db.SearchEnrollments(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		var emails []string
		for _, e := range got {
			emails = append(emails, e.Email)
		}
		if !reflect.DeepEqual(emails, tc.want) {
			t.Errorf("%+v: %q, want %q", tc.f, emails, tc.want)
		}
	}
}

func TestUsersAndSessions(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	if err := db.AddUser(ctx, "wang", "h1", "zh-CN", now); err != nil {
		t.Fatal(err)
	}
	if err := db.AddUser(ctx, "wang", "h2", "", now); !errors.Is(err, ErrExists) {
		t.Fatalf("second add: %v", err)
	}
	u, err := db.UserByLogin(ctx, "wang")
	if err != nil || u.PasswordHash != "h1" || u.Language != "zh-CN" {
		t.Fatalf("user: %+v %v", u, err)
	}
	if err := db.CreateSession(ctx, "s1", u.ID, now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	s, err := db.SessionByHash(ctx, "s1")
	if err != nil || s.Login != "wang" || !s.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("session: %+v %v", s, err)
	}
	// A new password ends every session.
	if ok, err := db.SetPassword(ctx, "wang", "h3", now); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if _, err := db.SessionByHash(ctx, "s1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("session after passwd: %v", err)
	}
	_ = db.CreateSession(ctx, "s2", u.ID, now, now.Add(time.Hour))
	if n, err := db.PurgeSessions(ctx, now.Add(2*time.Hour), now.Add(-time.Hour)); n != 1 || err != nil {
		t.Fatalf("purge: %d %v", n, err)
	}
	_ = db.CreateSession(ctx, "s3", u.ID, now, now.Add(time.Hour))
	if ok, err := db.RemoveUser(ctx, "wang"); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if _, err := db.SessionByHash(ctx, "s3"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("session after remove: %v", err)
	}
	if ok, _ := db.RemoveUser(ctx, "wang"); ok {
		t.Error("removed twice")
	}
}
