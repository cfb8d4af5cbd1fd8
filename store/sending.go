package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"followup/sequences"
)

// ClaimDue takes up to limit due enrollments off the due list and marks
// their current step "sending", in one transaction. Work grows with the
// number of due enrollments, never with the number of enrollments.
func (db *DB) ClaimDue(ctx context.Context, now time.Time, limit int, msgID func(sequences.Enrollment) string) ([]sequences.Claim, error) {
	now = utc(now)
	var claims []sequences.Claim
	err := db.tx(ctx, func(tx *sqlx.Tx) error {
		claims = claims[:0]
		var rows []struct {
			enrollmentRow
			Blocked bool `db:"blocked"`
		}
		if err := tx.StmtxContext(ctx, db.q.DueList).SelectContext(ctx, &rows, now, limit); err != nil {
			return fmt.Errorf("listing due steps: %w", err)
		}
		claim := tx.StmtxContext(ctx, db.q.MessageClaim)
		setDue := tx.StmtxContext(ctx, db.q.EnrollmentSetDue)
		for _, row := range rows {
			e, err := row.decode()
			if err != nil {
				return err
			}
			if _, err := setDue.ExecContext(ctx, nil, now, e.ID); err != nil {
				return fmt.Errorf("claiming enrollment %d: %w", e.ID, err)
			}
			if row.Blocked { // suppressed or undeliverable since it was due
				const why = "the address unsubscribed, complained or bounced"
				if _, err := tx.StmtxContext(ctx, db.q.EnrollmentSetStatus).ExecContext(ctx, sequences.Stopped, why, now, e.ID); err != nil {
					return err
				}
				if err := db.event(ctx, tx, e.CandidateID, &e.ID, sequences.EvStopped, e.Sequence+": "+why, now); err != nil {
					return err
				}
				continue
			}
			c := sequences.Claim{Enrollment: e, Step: e.NextStep, MessageID: msgID(e)}
			var got struct {
				ID              int64  `db:"id"`
				Attempts        int    `db:"attempts"`
				Approved        bool   `db:"approved"`
				OverrideSubject string `db:"override_subject"`
				OverrideBody    string `db:"override_body"`
			}
			err = claim.GetContext(ctx, &got, e.ID, e.NextStep, c.MessageID, now, now, now)
			if errors.Is(err, sql.ErrNoRows) {
				// The step already has a send record that is not retryable:
				// never send it again; hold the enrollment for a person.
				reason := fmt.Sprintf("step %d already has a send record; not sending it again", e.NextStep+1)
				if _, err := tx.StmtxContext(ctx, db.q.EnrollmentHold).ExecContext(ctx, reason, now, e.ID); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return fmt.Errorf("claiming step %d of enrollment %d: %w", e.NextStep+1, e.ID, err)
			}
			c.MessageRow, c.Attempts = got.ID, got.Attempts
			c.Approved, c.OverrideSubject, c.OverrideBody = got.Approved, got.OverrideSubject, got.OverrideBody
			claims = append(claims, c)
		}
		return nil
	})
	return claims, err
}

// Settle records outcomes in one transaction: the scheduler's group commit.
func (db *DB) Settle(ctx context.Context, outcomes []sequences.Outcome) error {
	return db.tx(ctx, func(tx *sqlx.Tx) error {
		for _, o := range outcomes {
			var err error
			switch o.Kind {
			case sequences.OutSent:
				err = db.recordSent(ctx, tx, o.Claim, o.Sent)
			case sequences.OutDeferred:
				err = db.deferClaim(ctx, tx, o.Claim, o.Until, o.CountAttempt, o.Reason, o.At)
			case sequences.OutFailed:
				err = db.fail(ctx, tx, o.Claim, o.Reason, o.At)
			case sequences.OutSkipped:
				err = db.skip(ctx, tx, o.Claim, o.Sent.NextDue, o.Reason, o.At)
			case sequences.OutHeld:
				err = db.hold(ctx, tx, o.Claim, o.Status, o.Event, o.Reason, o.At)
				if err == nil && o.Sent.Subject != "" { // what was (maybe) sent, for the timeline and threading
					_, err = tx.StmtxContext(ctx, db.q.MessageDetails).ExecContext(ctx, o.Sent.From, o.Sent.To, o.Sent.Subject, o.Sent.InReplyTo, o.Sent.Template, o.Claim.MessageRow)
				}
			case sequences.OutReview:
				_, err = tx.StmtxContext(ctx, db.q.MessageReview).ExecContext(ctx, o.Draft, o.Sent.Subject, o.Sent.From, o.Sent.To, o.Sent.Template, utc(o.At), o.Claim.MessageRow)
				if err == nil {
					err = db.event(ctx, tx, o.Claim.Enrollment.CandidateID, &o.Claim.Enrollment.ID, sequences.EvReview, fmt.Sprintf("step %d waits for review", o.Claim.Step+1), o.At)
				}
			default:
				err = fmt.Errorf("unknown outcome kind %d", o.Kind)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// recordSent commits the send record of an accepted message and advances
// the enrollment to its next step (or finishes it).
func (db *DB) recordSent(ctx context.Context, tx *sqlx.Tx, c sequences.Claim, s sequences.Sent) error {
	at := utc(s.At)
	finished := 0
	if s.NextDue == nil {
		finished = 1
	}
	if _, err := tx.StmtxContext(ctx, db.q.MessageSent).ExecContext(ctx, at, s.From, s.To, s.Subject, s.InReplyTo, s.Template, s.Body, s.Tracked, at, c.MessageRow); err != nil {
		return fmt.Errorf("recording sent message %s: %w", c.MessageID, err)
	}
	if _, err := tx.StmtxContext(ctx, db.q.EnrollmentAdvance).ExecContext(ctx, c.Step+1, utcPtr(s.NextDue), finished, finished, at, c.Enrollment.ID); err != nil {
		return fmt.Errorf("advancing enrollment %d: %w", c.Enrollment.ID, err)
	}
	// The webhook outbox's record of the send, in the same transaction.
	if err := db.event(ctx, tx, c.Enrollment.CandidateID, &c.Enrollment.ID, sequences.EvSent, c.MessageID, at); err != nil {
		return err
	}
	if finished == 1 {
		return db.event(ctx, tx, c.Enrollment.CandidateID, &c.Enrollment.ID, sequences.EvFinished, c.Enrollment.Sequence, at)
	}
	return nil
}

// skip records a step deliberately not sent and moves the enrollment on.
func (db *DB) skip(ctx context.Context, tx *sqlx.Tx, c sequences.Claim, next *time.Time, reason string, now time.Time) error {
	now = utc(now)
	finished := 0
	if next == nil {
		finished = 1
	}
	if _, err := tx.StmtxContext(ctx, db.q.MessageSetStatus).ExecContext(ctx, sequences.MsgSkipped, 0, reason, now, c.MessageRow); err != nil {
		return fmt.Errorf("recording skipped step %s: %w", c.MessageID, err)
	}
	if _, err := tx.StmtxContext(ctx, db.q.EnrollmentAdvance).ExecContext(ctx, c.Step+1, utcPtr(next), finished, finished, now, c.Enrollment.ID); err != nil {
		return fmt.Errorf("advancing enrollment %d: %w", c.Enrollment.ID, err)
	}
	return db.event(ctx, tx, c.Enrollment.CandidateID, &c.Enrollment.ID, sequences.EvSkipped, reason, now)
}

// deferClaim puts a claimed step back on the due list at until.
func (db *DB) deferClaim(ctx context.Context, tx *sqlx.Tx, c sequences.Claim, until time.Time, countAttempt bool, reason string, now time.Time) error {
	n := 0
	if countAttempt {
		n = 1
	}
	if _, err := tx.StmtxContext(ctx, db.q.MessageDefer).ExecContext(ctx, n, reason, utc(now), c.MessageRow); err != nil {
		return fmt.Errorf("deferring %s: %w", c.MessageID, err)
	}
	if _, err := tx.StmtxContext(ctx, db.q.EnrollmentSetDue).ExecContext(ctx, utc(until), utc(now), c.Enrollment.ID); err != nil {
		return fmt.Errorf("deferring enrollment %d: %w", c.Enrollment.ID, err)
	}
	return nil
}

// fail ends the enrollment after a permanent refusal and marks the address
// undeliverable, so no sequence mails it again.
func (db *DB) fail(ctx context.Context, tx *sqlx.Tx, c sequences.Claim, reason string, now time.Time) error {
	now = utc(now)
	if _, err := tx.StmtxContext(ctx, db.q.MessageSetStatus).ExecContext(ctx, sequences.MsgFailed, 1, reason, now, c.MessageRow); err != nil {
		return fmt.Errorf("recording failed message %s: %w", c.MessageID, err)
	}
	if _, err := tx.StmtxContext(ctx, db.q.EnrollmentSetStatus).ExecContext(ctx, sequences.Failed, reason, now, c.Enrollment.ID); err != nil {
		return fmt.Errorf("failing enrollment %d: %w", c.Enrollment.ID, err)
	}
	if _, err := tx.StmtxContext(ctx, db.q.CandidateUndeliverable).ExecContext(ctx, now, reason, now, c.Enrollment.CandidateID); err != nil {
		return fmt.Errorf("marking %s undeliverable: %w", c.Enrollment.Email, err)
	}
	return db.event(ctx, tx, c.Enrollment.CandidateID, &c.Enrollment.ID, sequences.EvSendFailed, reason, now)
}

// hold pauses the enrollment for a person to decide, recording the message
// with status.
func (db *DB) hold(ctx context.Context, tx *sqlx.Tx, c sequences.Claim, status sequences.MessageStatus, kind, reason string, now time.Time) error {
	now = utc(now)
	n := 0
	if status == sequences.MsgUnknown {
		n = 1
	}
	if _, err := tx.StmtxContext(ctx, db.q.MessageSetStatus).ExecContext(ctx, status, n, reason, now, c.MessageRow); err != nil {
		return fmt.Errorf("recording %s message %s: %w", status, c.MessageID, err)
	}
	if _, err := tx.StmtxContext(ctx, db.q.EnrollmentHold).ExecContext(ctx, reason, now, c.Enrollment.ID); err != nil {
		return fmt.Errorf("holding enrollment %d: %w", c.Enrollment.ID, err)
	}
	return db.event(ctx, tx, c.Enrollment.CandidateID, &c.Enrollment.ID, kind, reason, now)
}

// RecoverStale turns claims made before `before` that never got a result
// (the process died mid-send) into "unknown": the server may have accepted
// the message, so it is not resent without a person deciding.
func (db *DB) RecoverStale(ctx context.Context, before, now time.Time) (int, error) {
	var stale []sequences.Message
	if err := db.q.MessagesStale.SelectContext(ctx, &stale, utc(before)); err != nil {
		return 0, fmt.Errorf("listing interrupted sends: %w", err)
	}
	for _, m := range stale {
		var row enrollmentRow
		if err := db.q.EnrollmentByID.GetContext(ctx, &row, m.EnrollmentID); err != nil {
			return 0, fmt.Errorf("loading enrollment %d: %w", m.EnrollmentID, err)
		}
		e, err := row.decode()
		if err != nil {
			return 0, err
		}
		c := sequences.Claim{Enrollment: e, Step: m.Step, MessageRow: m.ID, MessageID: m.MessageID}
		reason := fmt.Sprintf("sending step %d was interrupted; it may have been delivered: check the Sent folder, then run `followup resume %s --assume-sent` or `--resend`", m.Step+1, e.Email)
		if err := db.Settle(ctx, []sequences.Outcome{{Claim: c, Kind: sequences.OutHeld, At: now,
			Status: sequences.MsgUnknown, Event: sequences.EvDeliveryUnknown, Reason: reason}}); err != nil {
			return 0, err
		}
	}
	return len(stale), nil
}

// Status reads an enrollment's status now (the scheduler's last look before
// handing a message to the SMTP server).
func (db *DB) Status(ctx context.Context, enrollmentID int64) (sequences.Status, error) {
	var st sequences.Status
	if err := db.q.EnrollmentStatus.GetContext(ctx, &st, enrollmentID); err != nil {
		return "", fmt.Errorf("reading status of enrollment %d: %w", enrollmentID, err)
	}
	return st, nil
}

// SentTo lists when messages went to a candidate after since, oldest first
// (for the frequency cap).
func (db *DB) SentTo(ctx context.Context, candidateID int64, since time.Time) ([]sequences.SentRecord, error) {
	var out []sequences.SentRecord
	if err := db.q.SentToCandidateSince.SelectContext(ctx, &out, candidateID, utc(since)); err != nil {
		return nil, fmt.Errorf("counting messages to candidate %d: %w", candidateID, err)
	}
	return out, nil
}

// SentFrom counts messages a sender address sent since `since` (for the
// daily cap).
func (db *DB) SentFrom(ctx context.Context, from string, since time.Time) (int, error) {
	var n int
	if err := db.q.SentFromSince.GetContext(ctx, &n, from, utc(since)); err != nil {
		return 0, fmt.Errorf("counting messages from %s: %w", from, err)
	}
	return n, nil
}

// Due lists up to limit enrollments due at now without claiming them (the
// same scan ClaimDue makes, on the read pool).
func (db *DB) Due(ctx context.Context, now time.Time, limit int) ([]sequences.Enrollment, error) {
	var rows []enrollmentRow
	if err := db.q.DuePeek.SelectContext(ctx, &rows, utc(now), limit); err != nil {
		return nil, fmt.Errorf("listing due steps: %w", err)
	}
	return decodeRows(rows)
}

// NextDue is the earliest due time of an active enrollment.
func (db *DB) NextDue(ctx context.Context) (time.Time, bool, error) {
	return optionalTime(ctx, db.q.NextDue, "finding the next due step")
}

// optionalTime runs a query for at most one timestamp.
func optionalTime(ctx context.Context, q *sqlx.Stmt, what string) (time.Time, bool, error) {
	var t time.Time
	err := q.GetContext(ctx, &t)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("%s: %w", what, err)
	}
	return t, true, nil
}

// Thread lists the sent messages of an enrollment before step.
func (db *DB) Thread(ctx context.Context, enrollmentID int64, step int) ([]sequences.ThreadMessage, error) {
	var out []sequences.ThreadMessage
	if err := db.q.Thread.SelectContext(ctx, &out, enrollmentID, step); err != nil {
		return nil, fmt.Errorf("loading thread of enrollment %d: %w", enrollmentID, err)
	}
	return out, nil
}

var _ sequences.Store = (*DB)(nil)
