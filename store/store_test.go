package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"followup/sequences"
)

var testSeq = &sequences.Sequence{Name: "s", Steps: []sequences.Step{{Template: "t", After: sequences.Delay{D: time.Hour}}}}

func req(email string) sequences.EnrollRequest {
	return sequences.EnrollRequest{Candidate: sequences.Candidate{Email: email, Name: "N", Language: "en"}, Sequence: "s", Mailbox: "m", Fields: map[string]string{}}
}

// Two processes (here: two independent handles on one file, each with its
// own writer connection) write at once: SQLite serializes them through
// BEGIN IMMEDIATE and the busy timeout, and nobody sees "database is locked".
func TestConcurrentWritersNeverSeeLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	ctx := context.Background()
	a, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, path) // migrations already applied: a no-op
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	seqs := map[string]*sequences.Sequence{"s": testSeq}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for w, db := range []*DB{a, b, a, b} {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				if _, err := db.Enroll(ctx, []sequences.EnrollRequest{req(fmt.Sprintf("w%d-%d@example.com", w, i))}, seqs, now); err != nil {
					errs <- err
				}
			}
		}()
		go func() { // a scheduler claiming at the same time
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if _, err := db.ClaimDue(ctx, now.Add(2*time.Hour), 10, func(e sequences.Enrollment) string {
					return sequences.MessageID(e.UID, e.NextStep, "x.test")
				}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	counts, err := a.StatusCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, c := range counts {
		total += c.N
	}
	if total != 400 {
		t.Errorf("%d enrollments, want 400", total)
	}
}

func TestEnrollIdempotencyAndLiveDuplicates(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "f.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seqs := map[string]*sequences.Sequence{"s": testSeq}
	now := time.Now()
	r := req("a@example.com")
	r.IdempotencyKey = "k1"
	// The same candidate twice in one batch, and a repeat of the key.
	out, err := db.Enroll(ctx, []sequences.EnrollRequest{r, req("a@example.com"), r}, seqs, now)
	if err != nil {
		t.Fatal(err)
	}
	if !out[0].Created || out[1].Created || out[2].Created {
		t.Fatalf("created: %v %v %v", out[0].Created, out[1].Created, out[2].Created)
	}
	if out[0].Enrollment.ID != out[1].Enrollment.ID || out[0].Enrollment.ID != out[2].Enrollment.ID {
		t.Error("duplicates did not return the existing enrollment")
	}
	// Once the enrollment has ended, the candidate can be enrolled again,
	// but not by replaying the same key.
	if _, err := db.Stop(ctx, Action{Email: "a@example.com"}, now); err != nil {
		t.Fatal(err)
	}
	out, err = db.Enroll(ctx, []sequences.EnrollRequest{r, req("a@example.com")}, seqs, now)
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Created || !out[1].Created {
		t.Errorf("after stop: replayed key created=%v, new request created=%v", out[0].Created, out[1].Created)
	}
}

func TestParseQueriesFindsEveryStatement(t *testing.T) {
	q, err := namedQueries()
	if err != nil {
		t.Fatal(err)
	}
	if len(q) < 30 {
		t.Errorf("only %d named queries parsed", len(q))
	}
	for name, sql := range q {
		if sql == "" {
			t.Errorf("query %s is empty", name)
		}
	}
}

// Forgetting a candidate deletes the survey answers linked to them (free
// text may name them) and keeps anonymous answers, which name no one.
func TestForgetErasesLinkedSurveyAnswers(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "f.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	out, err := db.Enroll(ctx, []sequences.EnrollRequest{req("li.lei@example.com"), req("han.mei@example.com")},
		map[string]*sequences.Sequence{"s": testSeq}, now)
	if err != nil {
		t.Fatal(err)
	}
	li, han := out[0].Enrollment, out[1].Enrollment
	save := func(hash string, r SurveyResponse) {
		r.At, r.Answers = now, map[string]any{"reason": "李雷的私人原因"}
		if ok, err := db.SaveSurveyResponse(ctx, hash, r); err != nil || !ok {
			t.Fatalf("saving %s: %v %v", hash, ok, err)
		}
	}
	save("h1", SurveyResponse{Survey: "declined-offer", EnrollmentID: li.ID, CandidateID: li.CandidateID})
	save("h2", SurveyResponse{Survey: "nps", Sequence: "s"}) // anonymous
	save("h3", SurveyResponse{Survey: "declined-offer", EnrollmentID: han.ID, CandidateID: han.CandidateID})
	if found, err := db.Forget(ctx, "li.lei@example.com", now); err != nil || !found {
		t.Fatalf("forget: %v %v", found, err)
	}
	rows, err := db.SurveyResponses(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var surveys []string
	for _, r := range rows {
		surveys = append(surveys, r.Survey)
	}
	if len(rows) != 2 || strings.Join(surveys, ",") != "nps,declined-offer" && strings.Join(surveys, ",") != "declined-offer,nps" {
		t.Fatalf("after forget: %v", surveys)
	}
}
