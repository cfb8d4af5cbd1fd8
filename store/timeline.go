package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"followup/sequences"
)

// ErrNotFound is returned when no candidate has the address.
var ErrNotFound = errors.New("not found")

// CandidateRecord is a candidate as stored.
type CandidateRecord struct {
	ID int64 `db:"id"`
	sequences.Candidate
	UndeliverableReason string     `db:"undeliverable_reason"`
	UndeliverableAt     *time.Time `db:"undeliverable_at"`
	CreatedAt           time.Time  `db:"created_at"`
}

// Timeline is everything about one candidate.
type Timeline struct {
	Candidate   CandidateRecord
	Enrollments []sequences.Enrollment
	Messages    []sequences.Message
	Events      []sequences.Event
	Inbound     []InboundMessage // replies, auto-replies, bounces…
	// Tracking: opens and clicks by a person, when tracking is on
	// (estimates; see docs/METRICS.md).
	Tracking []Tracked
}

// Tracked is an open or a click of one of the candidate's messages.
type Tracked struct {
	MessageRow int64   `db:"message_row"` // sequences.Message.ID
	Kind       string  `db:"kind"`        // open, click
	URL        string  `db:"url"`         // the link clicked
	At         sqlTime `db:"at"`
}

// CandidateByEmail loads a candidate (ErrNotFound when there is none).
func (db *DB) CandidateByEmail(ctx context.Context, email string) (CandidateRecord, error) {
	var c CandidateRecord
	err := db.q.CandidateByEmail.GetContext(ctx, &c, email)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("candidate %s: %w", email, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("loading candidate %s: %w", email, err)
	}
	return c, nil
}

// Timeline loads a candidate's enrollments, messages and events.
func (db *DB) Timeline(ctx context.Context, email string) (*Timeline, error) {
	var tl Timeline
	var err error
	if tl.Candidate, err = db.CandidateByEmail(ctx, email); err != nil {
		return nil, err
	}
	var rows []enrollmentRow
	if err := db.q.EnrollmentsOfCandidate.SelectContext(ctx, &rows, email); err != nil {
		return nil, fmt.Errorf("loading enrollments of %s: %w", email, err)
	}
	if tl.Enrollments, err = decodeRows(rows); err != nil {
		return nil, err
	}
	if err := db.q.MessagesOfCandidate.SelectContext(ctx, &tl.Messages, email); err != nil {
		return nil, fmt.Errorf("loading messages of %s: %w", email, err)
	}
	if err := db.q.EventsOfCandidate.SelectContext(ctx, &tl.Events, email); err != nil {
		return nil, fmt.Errorf("loading events of %s: %w", email, err)
	}
	// A "sent" event duplicates the message, which the timeline shows.
	tl.Events = slices.DeleteFunc(tl.Events, func(ev sequences.Event) bool { return ev.Kind == sequences.EvSent })
	if tl.Inbound, err = db.inboundOf(ctx, email); err != nil {
		return nil, err
	}
	if err := db.qa.TrackingOf.SelectContext(ctx, &tl.Tracking, email); err != nil {
		return nil, fmt.Errorf("loading the opens and clicks of %s: %w", email, err)
	}
	return &tl, nil
}

// EnrollmentByUID finds an enrollment by its public UID.
func (db *DB) EnrollmentByUID(ctx context.Context, uid string) (sequences.Enrollment, error) {
	var row enrollmentRow
	err := db.q.EnrollmentByUID.GetContext(ctx, &row, uid)
	if errors.Is(err, sql.ErrNoRows) {
		return sequences.Enrollment{}, fmt.Errorf("enrollment %s: %w", uid, ErrNotFound)
	}
	if err != nil {
		return sequences.Enrollment{}, fmt.Errorf("loading enrollment %s: %w", uid, err)
	}
	return row.decode()
}

// ListFilter selects enrollments for `followup list`.
type ListFilter struct {
	Sequence string
	Status   string
	AfterID  int64 // keyset pagination
	Limit    int
}

// List returns enrollments in id order.
func (db *DB) List(ctx context.Context, f ListFilter) ([]sequences.Enrollment, error) {
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	var rows []enrollmentRow
	if err := db.q.EnrollmentList.SelectContext(ctx, &rows, f.Sequence, f.Sequence, f.Status, f.Status, f.AfterID, f.Limit); err != nil {
		return nil, fmt.Errorf("listing enrollments: %w", err)
	}
	return decodeRows(rows)
}

// SequenceCount is a per-sequence total.
type SequenceCount struct {
	Sequence string `db:"sequence"`
	Status   string `db:"status"`
	N        int    `db:"n"`
}

// SentPerSequence counts sent messages by sequence.
func (db *DB) SentPerSequence(ctx context.Context) ([]SequenceCount, error) {
	var out []struct {
		Sequence string `db:"sequence"`
		Sent     int    `db:"sent"`
	}
	if err := db.q.SentPerSequence.SelectContext(ctx, &out); err != nil {
		return nil, fmt.Errorf("counting sent messages: %w", err)
	}
	res := make([]SequenceCount, len(out))
	for i, o := range out {
		res[i] = SequenceCount{Sequence: o.Sequence, Status: "sent", N: o.Sent}
	}
	return res, nil
}

// StatusCounts counts enrollments by sequence and status.
func (db *DB) StatusCounts(ctx context.Context) ([]SequenceCount, error) {
	var out []SequenceCount
	if err := db.q.StatusCounts.SelectContext(ctx, &out); err != nil {
		return nil, fmt.Errorf("counting enrollments: %w", err)
	}
	return out, nil
}

// Action is a recruiter's change to enrollments.
type Action struct {
	Email    string
	Sequence string // empty: every live enrollment of the candidate
	Reason   string
	// For resuming an enrollment whose last send is "unknown":
	AssumeSent bool // the recruiter found it in the Sent folder
	Resend     bool // the recruiter checked: it did not go out
}

// ErrUndecided is returned when resuming needs the recruiter to say whether
// a message of unknown fate went out.
var ErrUndecided = errors.New("undecided")

// Changed is an enrollment an action changed.
type Changed struct {
	Enrollment sequences.Enrollment
	To         sequences.Status
}

func (db *DB) liveEnrollments(ctx context.Context, tx *sqlx.Tx, a Action) ([]sequences.Enrollment, error) {
	var rows []enrollmentRow
	if err := tx.StmtxContext(ctx, db.q.EnrollmentsToChange).SelectContext(ctx, &rows, a.Email); err != nil {
		return nil, fmt.Errorf("loading enrollments of %s: %w", a.Email, err)
	}
	all, err := decodeRows(rows)
	if err != nil {
		return nil, err
	}
	var out []sequences.Enrollment
	for _, e := range all {
		if e.Status.Live() && (a.Sequence == "" || e.Sequence == a.Sequence) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Pause pauses the candidate's active enrollments.
func (db *DB) Pause(ctx context.Context, a Action, now time.Time) ([]Changed, error) {
	return db.setStatus(ctx, a, sequences.Active, sequences.Paused, sequences.EvPaused, now)
}

// Stop ends the candidate's live enrollments for good.
func (db *DB) Stop(ctx context.Context, a Action, now time.Time) ([]Changed, error) {
	return db.setStatus(ctx, a, "", sequences.Stopped, sequences.EvStopped, now)
}

func (db *DB) setStatus(ctx context.Context, a Action, from, to sequences.Status, kind string, now time.Time) ([]Changed, error) {
	now = utc(now)
	var changed []Changed
	err := db.tx(ctx, func(tx *sqlx.Tx) error {
		live, err := db.liveEnrollments(ctx, tx, a)
		if err != nil {
			return err
		}
		for _, e := range live {
			if from != "" && e.Status != from {
				continue
			}
			if _, err := tx.StmtxContext(ctx, db.q.EnrollmentSetStatus).ExecContext(ctx, to, a.Reason, now, e.ID); err != nil {
				return fmt.Errorf("setting enrollment %d %s: %w", e.ID, to, err)
			}
			if err := db.event(ctx, tx, e.CandidateID, &e.ID, kind, joinNonEmpty(e.Sequence, a.Reason), now); err != nil {
				return err
			}
			changed = append(changed, Changed{Enrollment: e, To: to})
		}
		return nil
	})
	return changed, err
}

// Resume reactivates paused enrollments. A step due while paused goes out
// now. When the paused step's delivery is unknown, the recruiter must say
// whether it went out (AssumeSent) or not (Resend); otherwise ErrUndecided.
// nextDue computes when the step after a message assumed sent at `at` is
// due, from the pinned sequence (nil when it was the last step).
func (db *DB) Resume(ctx context.Context, a Action, now time.Time, nextDue func(e sequences.Enrollment, at time.Time) (*time.Time, error)) ([]Changed, error) {
	now = utc(now)
	var changed []Changed
	err := db.tx(ctx, func(tx *sqlx.Tx) error {
		live, err := db.liveEnrollments(ctx, tx, a)
		if err != nil {
			return err
		}
		for _, e := range live {
			if e.Status != sequences.Paused {
				continue
			}
			var m sequences.Message
			err := tx.StmtxContext(ctx, db.q.MessageGet).GetContext(ctx, &m, e.ID, e.NextStep)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("loading step %d of enrollment %d: %w", e.NextStep+1, e.ID, err)
			}
			due := now
			if e.NextDueAt != nil && e.NextDueAt.After(now) {
				due = *e.NextDueAt
			}
			detail := e.Sequence
			switch {
			case err == nil && m.Status == sequences.MsgUnknown && a.AssumeSent:
				at := now
				if m.ClaimedAt != nil {
					at = *m.ClaimedAt
				}
				next, err := nextDue(e, at)
				if err != nil {
					return err
				}
				if _, err := tx.StmtxContext(ctx, db.q.MessageAssumeSent).ExecContext(ctx, at, now, m.ID); err != nil {
					return err
				}
				finished := 0
				if next == nil {
					finished = 1
				}
				if _, err := tx.StmtxContext(ctx, db.q.EnrollmentAdvance).ExecContext(ctx, e.NextStep+1, utcPtr(next), finished, finished, now, e.ID); err != nil {
					return err
				}
				detail += ": step assumed delivered"
				if next == nil {
					changed = append(changed, Changed{Enrollment: e, To: sequences.Finished})
					continue
				}
				if next.After(now) {
					due = *next
				}
			case err == nil && m.Status == sequences.MsgUnknown && a.Resend:
				if _, err := tx.StmtxContext(ctx, db.q.MessageDefer).ExecContext(ctx, 0, "resent by the recruiter", now, m.ID); err != nil {
					return err
				}
				detail += ": step resent"
			case err == nil && m.Status == sequences.MsgDeferred:
				// A fresh start after "gave up after N attempts".
				if _, err := tx.StmtxContext(ctx, db.q.MessageResetAttempts).ExecContext(ctx, now, m.ID); err != nil {
					return err
				}
			case err == nil && m.Status == sequences.MsgUnknown:
				return fmt.Errorf("%s in %s: step %d may have been delivered (%s): check the Sent folder, then resume with --assume-sent or --resend: %w",
					e.Email, e.Sequence, e.NextStep+1, m.Error, ErrUndecided)
			}
			if _, err := tx.StmtxContext(ctx, db.q.EnrollmentSetStatus).ExecContext(ctx, sequences.Active, "", now, e.ID); err != nil {
				return err
			}
			if _, err := tx.StmtxContext(ctx, db.q.EnrollmentSetDue).ExecContext(ctx, due, now, e.ID); err != nil {
				return err
			}
			if err := db.event(ctx, tx, e.CandidateID, &e.ID, sequences.EvResumed, detail, now); err != nil {
				return err
			}
			changed = append(changed, Changed{Enrollment: e, To: sequences.Active})
		}
		return nil
	})
	return changed, err
}

func joinNonEmpty(a, b string) string {
	if b == "" {
		return a
	}
	return a + ": " + b
}

// StepDue says when the step after `step`, sent (or skipped) at `at`, is
// due for e, from its pinned version and the holiday calendars cals (nil:
// weekdays only); nil when it was the last step.
func (db *DB) StepDue(ctx context.Context, cals *sequences.Calendars, e sequences.Enrollment, step int, at time.Time) (*time.Time, error) {
	v, err := db.Version(ctx, e.VersionID)
	if err != nil {
		return nil, err
	}
	v.UseCalendars(cals)
	return v.DueAfter(e, step, at), nil
}

// NextStepDue is Resume's nextDue: the step after the enrollment's
// current one.
func (db *DB) NextStepDue(ctx context.Context, cals *sequences.Calendars) func(e sequences.Enrollment, at time.Time) (*time.Time, error) {
	return func(e sequences.Enrollment, at time.Time) (*time.Time, error) {
		return db.StepDue(ctx, cals, e, e.NextStep, at)
	}
}
