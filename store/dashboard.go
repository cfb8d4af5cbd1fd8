package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"followup/sequences"
)

// dashboardQueries are the statements of store/queries/dashboard.sql.
type dashboardQueries struct {
	CandidateByID *sqlx.Stmt `query:"candidate-by-id,read"`
	NoteInsert    *sqlx.Stmt `query:"note-insert"`
	NotesOf       *sqlx.Stmt `query:"notes-of,read"`
	ForgetNotes   *sqlx.Stmt `query:"forget-notes"`
	SurveyAnswers *sqlx.Stmt `query:"survey-answers-of,read"`
	MessageTexts  *sqlx.Stmt `query:"message-texts-of,read"`
}

// CandidateByID loads a candidate (ErrNotFound when there is none).
func (db *DB) CandidateByID(ctx context.Context, id int64) (CandidateRecord, error) {
	var c CandidateRecord
	err := db.dash.CandidateByID.GetContext(ctx, &c, id)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("candidate %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("loading candidate %d: %w", id, err)
	}
	return c, nil
}

// SearchEnrollments lists enrollments matching f, newest first.
func (db *DB) SearchEnrollments(ctx context.Context, f SearchFilter) ([]sequences.Enrollment, error) {
	return db.Search(ctx, f)
}

// Note is a recruiter's note on a candidate.
type Note struct {
	ID        int64     `db:"id"`
	Author    string    `db:"author"`
	Text      string    `db:"text"`
	CreatedAt time.Time `db:"created_at"`
}

// MaxNoteLen is the longest note, in bytes.
const MaxNoteLen = 10000

// AddNote stores a note on a candidate.
func (db *DB) AddNote(ctx context.Context, candidateID int64, author, text string, now time.Time) error {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return errors.New("the note is empty")
	case len(text) > MaxNoteLen:
		return fmt.Errorf("the note is longer than %d bytes", MaxNoteLen)
	}
	return db.tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.StmtxContext(ctx, db.dash.NoteInsert).ExecContext(ctx, candidateID, author, text, utc(now)); err != nil {
			return fmt.Errorf("saving a note on candidate %d: %w", candidateID, err)
		}
		return nil
	})
}

// NotesOf lists a candidate's notes, oldest first.
func (db *DB) NotesOf(ctx context.Context, candidateID int64) ([]Note, error) {
	var out []Note
	if err := db.dash.NotesOf.SelectContext(ctx, &out, candidateID); err != nil {
		return nil, fmt.Errorf("loading the notes of candidate %d: %w", candidateID, err)
	}
	return out, nil
}

// SurveyAnswer is one survey response linked to the candidate (anonymous
// surveys are never linked).
type SurveyAnswer struct {
	Survey    string    `db:"survey"`
	Sequence  string    `db:"sequence"`
	Score     *int      `db:"score"`
	Answers   string    `db:"answers"` // JSON
	CreatedAt time.Time `db:"created_at"`
	// EnrollmentUID is the enrollment the survey link came with.
	EnrollmentUID string `db:"enrollment_uid"`
}

// SurveyAnswersOf lists a candidate's own survey responses.
func (db *DB) SurveyAnswersOf(ctx context.Context, candidateID int64) ([]SurveyAnswer, error) {
	var out []SurveyAnswer
	if err := db.dash.SurveyAnswers.SelectContext(ctx, &out, candidateID); err != nil {
		return nil, fmt.Errorf("loading the survey answers of candidate %d: %w", candidateID, err)
	}
	return out, nil
}

// StepStats is what one step (and template, for A/B variants) of a
// sequence did.
type StepStats struct {
	Sequence     string `db:"sequence"`
	Step         int    `db:"step"` // from 0
	Template     string `db:"template"`
	Sent         int    `db:"sent"`
	Replied      int    `db:"replied"`
	Bounced      int    `db:"bounced"`
	Unsubscribed int    `db:"unsubscribed"`
}

// StepOverview counts, per sequence, step and template, the messages sent
// and the replies, bounces and unsubscribes that followed each (an answer
// counts for the last step sent before it).
func (db *DB) StepOverview(ctx context.Context) ([]StepStats, error) {
	var out []StepStats
	if err := db.qa.MetricsSteps.SelectContext(ctx, &out, time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		return nil, fmt.Errorf("counting steps: %w", err)
	}
	return out, nil
}

// MessageText is what is kept of a message's text besides its subject:
// the template it was rendered from, the rendered draft of a review step,
// and the recruiter's own subject and body when they rewrote it. The body
// of other messages is not stored.
type MessageText struct {
	ID              int64  `db:"id"`
	Template        string `db:"template"`
	Draft           string `db:"draft"`
	OverrideSubject string `db:"override_subject"`
	OverrideBody    string `db:"override_body"`
}

// MessageTextsOf returns the kept texts of a candidate's messages by
// message row id.
func (db *DB) MessageTextsOf(ctx context.Context, candidateID int64) (map[int64]MessageText, error) {
	var rows []MessageText
	if err := db.dash.MessageTexts.SelectContext(ctx, &rows, candidateID); err != nil {
		return nil, fmt.Errorf("loading the message texts of candidate %d: %w", candidateID, err)
	}
	out := make(map[int64]MessageText, len(rows))
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}
