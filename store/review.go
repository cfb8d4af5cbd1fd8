package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"followup/sequences"
)

// Review is a rendered step waiting for the recruiter.
type Review struct {
	MessageRow   int64     `db:"id"`
	EnrollmentID int64     `db:"enrollment_id"`
	Step         int       `db:"step"`
	Subject      string    `db:"subject"`
	Draft        string    `db:"draft"`
	Template     string    `db:"template"`
	CreatedAt    time.Time `db:"created_at"`
	Email        string    `db:"email"`
	Name         string    `db:"name"`
	Sequence     string    `db:"sequence"`
}

// ErrNoReview is returned when a candidate has no step waiting for review.
var ErrNoReview = errors.New("no step is waiting for review")

// Reviews lists every step waiting for approval, oldest first.
func (db *DB) Reviews(ctx context.Context) ([]Review, error) {
	var out []Review
	if err := db.q.ReviewsPending.SelectContext(ctx, &out); err != nil {
		return nil, fmt.Errorf("listing reviews: %w", err)
	}
	return out, nil
}

func (db *DB) reviewOf(ctx context.Context, email, sequence string) (Review, error) {
	list, err := db.Reviews(ctx)
	if err != nil {
		return Review{}, err
	}
	var found []Review
	for _, r := range list {
		if r.Email == email && (sequence == "" || r.Sequence == sequence) {
			found = append(found, r)
		}
	}
	switch len(found) {
	case 0:
		return Review{}, fmt.Errorf("%s: %w", email, ErrNoReview)
	case 1:
		return found[0], nil
	}
	return Review{}, fmt.Errorf("%s has steps waiting in several sequences: name one with --sequence", email)
}

// Approve lets a reviewed step go out now, with the recruiter's own subject
// and Markdown body when given.
func (db *DB) Approve(ctx context.Context, email, sequence, subject, body string, now time.Time) (Review, error) {
	r, err := db.reviewOf(ctx, email, sequence)
	if err != nil {
		return r, err
	}
	now = utc(now)
	return r, db.tx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.StmtxContext(ctx, db.q.ReviewApprove).ExecContext(ctx, subject, body, now, r.MessageRow)
		if err != nil {
			return fmt.Errorf("approving: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%s: %w", email, ErrNoReview)
		}
		if _, err := tx.StmtxContext(ctx, db.q.EnrollmentSetDue).ExecContext(ctx, now, now, r.EnrollmentID); err != nil {
			return err
		}
		var cand int64
		if err := tx.StmtxContext(ctx, db.q.CandidateID).GetContext(ctx, &cand, email); err != nil {
			return err
		}
		detail := fmt.Sprintf("step %d approved", r.Step+1)
		if body != "" || subject != "" {
			detail += " with the recruiter's own wording"
		}
		return db.event(ctx, tx, cand, &r.EnrollmentID, sequences.EvApproved, detail, now)
	})
}

// Reject skips a reviewed step: it is never sent and the enrollment moves
// on; the following step is due as if this one had gone out now (with the
// holiday calendars cals).
func (db *DB) Reject(ctx context.Context, email, sequence string, now time.Time, cals *sequences.Calendars) (Review, error) {
	r, err := db.reviewOf(ctx, email, sequence)
	if err != nil {
		return r, err
	}
	var row enrollmentRow
	if err := db.q.EnrollmentByID.GetContext(ctx, &row, r.EnrollmentID); err != nil {
		return r, err
	}
	e, err := row.decode()
	if err != nil {
		return r, err
	}
	nextDue, err := db.StepDue(ctx, cals, e, r.Step, now)
	if err != nil {
		return r, err
	}
	c := sequences.Claim{Enrollment: e, Step: r.Step, MessageRow: r.MessageRow}
	return r, db.Settle(ctx, []sequences.Outcome{{Claim: c, Kind: sequences.OutSkipped, At: now,
		Reason: fmt.Sprintf("step %d rejected in review", r.Step+1), Sent: sequences.Sent{NextDue: nextDue}}})
}

// Consent records a candidate's answer about staying in the talent pool:
// "given" or "withdrawn". It reports whether the candidate exists.
func (db *DB) Consent(ctx context.Context, email, answer string, now time.Time) (bool, error) {
	now = utc(now)
	found := false
	err := db.tx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.StmtxContext(ctx, db.q.PoolConsent).ExecContext(ctx, answer, now, now, email)
		if err != nil {
			return fmt.Errorf("recording consent: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		found = true
		var cand int64
		if err := tx.StmtxContext(ctx, db.q.CandidateID).GetContext(ctx, &cand, email); err != nil {
			return err
		}
		return db.event(ctx, tx, cand, nil, "consent", "talent pool: "+answer, now)
	})
	return found, err
}

// VariantRow is one line of the variant report.
type VariantRow struct {
	Sequence string `db:"sequence"`
	Step     int    `db:"step"`
	Template string `db:"template"`
	Sent     int    `db:"sent"`
	Replied  int    `db:"replied"`
}

// Variants compares reply rates per step and template.
func (db *DB) Variants(ctx context.Context) ([]VariantRow, error) {
	var out []VariantRow
	if err := db.q.VariantReport.SelectContext(ctx, &out); err != nil {
		return nil, fmt.Errorf("variant report: %w", err)
	}
	return out, nil
}
