package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"followup/inbox"
	"followup/sequences"
)

// Checkpoint returns how far a mailbox has been read.
func (db *DB) Checkpoint(ctx context.Context, mailbox string) (inbox.Checkpoint, bool, error) {
	var row struct {
		Mailbox     string `db:"mailbox"`
		UIDValidity uint32 `db:"uidvalidity"`
		LastUID     uint32 `db:"last_uid"`
	}
	err := db.q.CheckpointGet.GetContext(ctx, &row, mailbox)
	if errors.Is(err, sql.ErrNoRows) {
		return inbox.Checkpoint{Mailbox: mailbox}, false, nil
	}
	if err != nil {
		return inbox.Checkpoint{}, false, fmt.Errorf("loading checkpoint of %s: %w", mailbox, err)
	}
	return inbox.Checkpoint{Mailbox: row.Mailbox, UIDValidity: row.UIDValidity, LastUID: row.LastUID}, true, nil
}

// SaveCheckpoint advances a mailbox's checkpoint.
func (db *DB) SaveCheckpoint(ctx context.Context, cp inbox.Checkpoint) error {
	return db.tx(ctx, func(tx *sqlx.Tx) error { return db.saveCheckpoint(ctx, tx, cp) })
}

func (db *DB) saveCheckpoint(ctx context.Context, tx *sqlx.Tx, cp inbox.Checkpoint) error {
	if _, err := tx.StmtxContext(ctx, db.q.CheckpointSave).ExecContext(ctx, cp.Mailbox, cp.UIDValidity, cp.LastUID, utc(time.Now())); err != nil {
		return fmt.Errorf("saving checkpoint of %s: %w", cp.Mailbox, err)
	}
	return nil
}

type targetRow struct {
	CandidateID  int64  `db:"candidate_id"`
	Email        string `db:"email"`
	EnrollmentID int64  `db:"enrollment_id"`
	VersionID    int64  `db:"version_id"`
	Sequence     string `db:"sequence"`
}

func (r targetRow) target(by string) inbox.Target {
	return inbox.Target{CandidateID: r.CandidateID, Email: r.Email, EnrollmentID: r.EnrollmentID, VersionID: r.VersionID, Sequence: r.Sequence, MatchedBy: by}
}

// MatchMessageIDs finds the enrollment that sent one of ids (the last one
// that matches: References lists the thread oldest first).
func (db *DB) MatchMessageIDs(ctx context.Context, ids []string) (inbox.Target, bool, error) {
	seen := map[string]bool{} // References usually repeats In-Reply-To
	for i := len(ids) - 1; i >= 0; i-- {
		if seen[ids[i]] {
			continue
		}
		seen[ids[i]] = true
		var row targetRow
		err := db.q.MatchMessageID.GetContext(ctx, &row, ids[i])
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return inbox.Target{}, false, fmt.Errorf("matching Message-ID: %w", err)
		}
		return row.target("thread"), true, nil
	}
	return inbox.Target{}, false, nil
}

// MatchAddress finds a candidate by address and the enrollment that last
// changed for them.
func (db *DB) MatchAddress(ctx context.Context, email string) (inbox.Target, bool, error) {
	var row targetRow
	err := db.q.MatchAddress.GetContext(ctx, &row, email)
	if errors.Is(err, sql.ErrNoRows) {
		return inbox.Target{}, false, nil
	}
	if err != nil {
		return inbox.Target{}, false, fmt.Errorf("matching address: %w", err)
	}
	return row.target("address"), true, nil
}

// OldestEnrollment is when the oldest live enrollment started.
func (db *DB) OldestEnrollment(ctx context.Context) (time.Time, bool, error) {
	return optionalTime(ctx, db.q.OldestLiveEnrollment, "finding the oldest enrollment")
}

// RecordBatch records a fetched batch of messages about candidates and
// advances the checkpoint to cp, all in one transaction. done[i] is false
// for a message recorded before.
func (db *DB) RecordBatch(ctx context.Context, ins []inbox.Inbound, cp inbox.Checkpoint) ([]bool, error) {
	now := utc(time.Now())
	done := make([]bool, len(ins))
	err := db.tx(ctx, func(tx *sqlx.Tx) error {
		for i, in := range ins {
			ok, err := db.recordOne(ctx, tx, in, now)
			if err != nil {
				return err
			}
			done[i] = ok
		}
		return db.saveCheckpoint(ctx, tx, cp)
	})
	return done, err
}

func (db *DB) recordOne(ctx context.Context, tx *sqlx.Tx, in inbox.Inbound, now time.Time) (bool, error) {
	recorded := false
	err := func() error {
		var eid any
		if in.Target.EnrollmentID != 0 {
			eid = in.Target.EnrollmentID
		}
		var id int64
		err := tx.StmtxContext(ctx, db.q.InboundInsert).GetContext(ctx, &id, in.Mailbox, in.MessageID, in.UIDValidity, in.UID,
			in.From, in.Subject, in.Kind, in.Reason, in.Text, in.Target.MatchedBy, in.Target.CandidateID, eid, utc(in.ReceivedAt), now)
		if errors.Is(err, sql.ErrNoRows) { // seen before (a rescan): nothing to do twice
			return nil
		}
		if err != nil {
			return fmt.Errorf("recording message %s: %w", in.MessageID, err)
		}
		recorded = true
		var enrollment *int64
		if in.Target.EnrollmentID != 0 {
			enrollment = &in.Target.EnrollmentID
		}
		if err := db.event(ctx, tx, in.Target.CandidateID, enrollment, in.Kind, in.Reason, now); err != nil {
			return err
		}
		return db.apply(ctx, tx, in, now)
	}()
	return recorded, err
}

func (db *DB) apply(ctx context.Context, tx *sqlx.Tx, in inbox.Inbound, now time.Time) error {
	a, cand := in.Action, in.Target.CandidateID
	if a.SoftBounce {
		var n int
		if err := tx.StmtxContext(ctx, db.q.SoftBounce).GetContext(ctx, &n, now, cand); err != nil {
			return fmt.Errorf("counting soft bounces: %w", err)
		}
		if n >= inbox.SoftBounceLimit {
			a.Undeliverable, a.Stop = true, true
			a.Why = fmt.Sprintf("%d soft bounces: %s", n, a.Why)
		}
	}
	if a.Suppress {
		if _, err := tx.StmtxContext(ctx, db.q.Suppress).ExecContext(ctx, in.Target.Email, a.Why, now); err != nil {
			return fmt.Errorf("suppressing %s: %w", in.Target.Email, err)
		}
	}
	if a.Undeliverable {
		if _, err := tx.StmtxContext(ctx, db.q.CandidateUndeliverable).ExecContext(ctx, now, a.Why, now, cand); err != nil {
			return fmt.Errorf("marking %s undeliverable: %w", in.Target.Email, err)
		}
	}
	if a.PostponeUntil != nil {
		until := utc(*a.PostponeUntil)
		if _, err := tx.StmtxContext(ctx, db.q.Postpone).ExecContext(ctx, until, now, cand, until); err != nil {
			return fmt.Errorf("postponing: %w", err)
		}
	}
	if !a.Stop && !a.Pause {
		return nil
	}
	var live []struct {
		ID       int64            `db:"id"`
		Sequence string           `db:"sequence"`
		Status   sequences.Status `db:"status"`
	}
	if err := tx.StmtxContext(ctx, db.q.LiveOfCandidate).SelectContext(ctx, &live, cand); err != nil {
		return fmt.Errorf("loading live enrollments: %w", err)
	}
	to, kind := sequences.Stopped, sequences.EvStopped
	if !a.Stop {
		to, kind = sequences.Paused, sequences.EvPaused
	}
	for _, e := range live {
		if to == sequences.Paused && e.Status == sequences.Paused {
			continue
		}
		if _, err := tx.StmtxContext(ctx, db.q.EnrollmentSetStatus).ExecContext(ctx, to, a.Why, now, e.ID); err != nil {
			return fmt.Errorf("setting enrollment %d %s: %w", e.ID, to, err)
		}
		if err := db.event(ctx, tx, cand, &e.ID, kind, e.Sequence+": "+a.Why, now); err != nil {
			return err
		}
	}
	return nil
}

// InboundMessage is a recorded message from a candidate (or about them).
type InboundMessage struct {
	ID           int64     `db:"id"`
	Mailbox      string    `db:"mailbox"`
	MessageID    string    `db:"message_id"`
	From         string    `db:"from_addr"`
	Subject      string    `db:"subject"`
	Kind         string    `db:"kind"`
	Reason       string    `db:"reason"`
	Text         string    `db:"text"`
	MatchedBy    string    `db:"matched_by"`
	EnrollmentID *int64    `db:"enrollment_id"`
	ReceivedAt   time.Time `db:"received_at"`
}

func (db *DB) inboundOf(ctx context.Context, email string) ([]InboundMessage, error) {
	var out []InboundMessage
	if err := db.q.InboundOfCandidate.SelectContext(ctx, &out, email); err != nil {
		return nil, fmt.Errorf("loading messages from %s: %w", email, err)
	}
	return out, nil
}

var _ inbox.Store = (*DB)(nil)
