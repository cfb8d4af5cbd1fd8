package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"followup/surveys"
)

// SurveyResponse is one submitted survey.
type SurveyResponse struct {
	Survey       string
	EnrollmentID int64 // 0 for an anonymous survey
	CandidateID  int64 // for the timeline event; 0 for an anonymous survey
	Sequence     string
	Job          string
	Mailbox      string
	Score        *int
	Answers      any // JSON-encoded as given
	At           time.Time
}

// SaveSurveyResponse stores a response once per link (tokenHash): it
// returns false, storing nothing, when the link was used before.
func (db *DB) SaveSurveyResponse(ctx context.Context, tokenHash string, r SurveyResponse) (bool, error) {
	answers, err := json.Marshal(r.Answers)
	if err != nil {
		return false, fmt.Errorf("encoding answers: %w", err)
	}
	at := utc(r.At)
	saved := false
	err = db.tx(ctx, func(tx *sqlx.Tx) error {
		saved = false
		res, err := tx.StmtxContext(ctx, db.q.SurveyLinkUse).ExecContext(ctx, tokenHash, at)
		if err != nil {
			return fmt.Errorf("marking the survey link used: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // answered before
		}
		var eid any
		if r.EnrollmentID != 0 {
			eid = r.EnrollmentID
		}
		if _, err := tx.StmtxContext(ctx, db.q.SurveyResponseInsert).ExecContext(ctx, r.Survey, eid, r.Sequence, r.Job, r.Mailbox,
			at.Format("2006-01"), r.Score, string(answers), at); err != nil {
			return fmt.Errorf("saving the survey response: %w", err)
		}
		saved = true
		if r.CandidateID != 0 {
			return db.event(ctx, tx, r.CandidateID, &r.EnrollmentID, "survey", r.Survey+" answered", at)
		}
		return nil
	})
	return saved, err
}

// SurveyLink reports, for the enrollment a survey link names, the
// candidate's language and whether the link was already answered;
// ErrNotFound when there is no such enrollment.
func (db *DB) SurveyLink(ctx context.Context, uid, tokenHash string) (language string, used bool, err error) {
	var row struct {
		Language string `db:"language"`
		Used     bool   `db:"used"`
	}
	err = db.q.SurveyLink.GetContext(ctx, &row, tokenHash, uid)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, fmt.Errorf("enrollment %s: %w", uid, ErrNotFound)
	}
	if err != nil {
		return "", false, fmt.Errorf("checking the survey link: %w", err)
	}
	return row.Language, row.Used, nil
}

// SurveyRow is a stored response for reports.
type SurveyRow struct {
	Survey    string    `db:"survey"`
	Sequence  string    `db:"sequence"`
	Job       string    `db:"job"`
	Mailbox   string    `db:"mailbox"`
	Month     string    `db:"month"`
	Score     *int      `db:"score"`
	Answers   string    `db:"answers"`
	CreatedAt time.Time `db:"created_at"`
}

// SurveyResponses lists responses (of one survey, or all with "").
func (db *DB) SurveyResponses(ctx context.Context, survey string) ([]SurveyRow, error) {
	var out []SurveyRow
	if err := db.q.SurveyResponses.SelectContext(ctx, &out, survey, survey); err != nil {
		return nil, fmt.Errorf("listing survey responses: %w", err)
	}
	return out, nil
}

// SurveyRows reads a survey's responses for reports.
func (db *DB) SurveyRows(ctx context.Context, survey string) ([]surveys.Row, error) {
	stored, err := db.SurveyResponses(ctx, survey)
	if err != nil {
		return nil, err
	}
	rows := make([]surveys.Row, 0, len(stored))
	for _, r := range stored {
		a := surveys.Answers{}
		if err := json.Unmarshal([]byte(r.Answers), &a); err != nil {
			return nil, fmt.Errorf("reading a %s response: %w", survey, err)
		}
		rows = append(rows, surveys.Row{Sequence: r.Sequence, Job: r.Job, Mailbox: r.Mailbox, Month: r.Month, Score: r.Score, Answers: a})
	}
	return rows, nil
}

// RawDB exposes the read pool for tests that inspect stored rows directly.
func (db *DB) RawDB() *sqlx.DB { return db.r }
