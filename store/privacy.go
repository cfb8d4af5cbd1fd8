package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"followup/inbox"
	"followup/sequences"
)

// Suppression is an address that is never mailed again.
type Suppression struct {
	Email     string    `db:"email"` // or "sha256:…" for an erased candidate
	Reason    string    `db:"reason"`
	CreatedAt time.Time `db:"created_at"`
}

// HashedAddress is how an erased candidate's address stays on the
// suppression list: the SHA-256 of the lower-cased address.
func HashedAddress(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Suppressions lists the suppression list.
func (db *DB) Suppressions(ctx context.Context) ([]Suppression, error) {
	var out []Suppression
	if err := db.q.SuppressionList.SelectContext(ctx, &out); err != nil {
		return nil, fmt.Errorf("listing suppressions: %w", err)
	}
	return out, nil
}

// Suppress adds addresses to the suppression list and stops their live
// enrollments, in one transaction. It returns how many were new.
func (db *DB) Suppress(ctx context.Context, emails []string, reason string, now time.Time) (int, error) {
	now = utc(now)
	added := 0
	err := db.tx(ctx, func(tx *sqlx.Tx) error {
		added = 0
		for _, e := range emails {
			res, err := tx.StmtxContext(ctx, db.q.Suppress).ExecContext(ctx, e, reason, now)
			if err != nil {
				return fmt.Errorf("suppressing %s: %w", e, err)
			}
			n, _ := res.RowsAffected()
			if n > 0 {
				added++
			}
			var id int64
			err = tx.StmtxContext(ctx, db.q.CandidateID).GetContext(ctx, &id, e)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			if n > 0 { // the timeline (and the webhook outbox) records the unsubscribe
				if err := db.event(ctx, tx, id, nil, sequences.EvSuppressed, reason, now); err != nil {
					return err
				}
			}
			if err := db.stopLive(ctx, tx, id, "suppressed: "+reason, now); err != nil {
				return err
			}
		}
		return nil
	})
	return added, err
}

// Unsuppress removes an address from the suppression list (the person asked
// to hear from you again). It reports whether it was there.
func (db *DB) Unsuppress(ctx context.Context, email string) (bool, error) {
	var removed bool
	err := db.tx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.StmtxContext(ctx, db.q.SuppressionDelete).ExecContext(ctx, email)
		if err != nil {
			return fmt.Errorf("removing %s from the suppression list: %w", email, err)
		}
		n, _ := res.RowsAffected()
		removed = n > 0
		return nil
	})
	return removed, err
}

func (db *DB) stopLive(ctx context.Context, tx *sqlx.Tx, candidateID int64, why string, now time.Time) error {
	return db.apply(ctx, tx, inbox.Inbound{Target: inbox.Target{CandidateID: candidateID}, Action: inbox.Action{Stop: true, Why: why}}, now)
}

// Forget erases a candidate's personal data everywhere (PIPL, GDPR): the
// address, name and time zone, enrollment fields, message subjects and
// recipients, reply texts and event details. What stays is anonymous: the
// counts behind reports (messages sent, statuses, kinds of replies). A
// suppressed address stays suppressed as a hash, so they are never mailed
// again. It reports whether the candidate existed.
func (db *DB) Forget(ctx context.Context, email string, now time.Time) (bool, error) {
	now = utc(now)
	found := false
	err := db.tx(ctx, func(tx *sqlx.Tx) error {
		var id int64
		err := tx.StmtxContext(ctx, db.q.CandidateID).GetContext(ctx, &id, email)
		if errors.Is(err, sql.ErrNoRows) {
			found = false
			// Still keep a suppression of someone never enrolled as a hash.
			_, err := tx.StmtxContext(ctx, db.q.ForgetSuppression).ExecContext(ctx, HashedAddress(email), email)
			return err
		}
		if err != nil {
			return err
		}
		found = true
		steps := []struct {
			what string
			stmt *sqlx.Stmt
			args []any
		}{
			{"survey answers", db.q.ForgetSurveyResponses, []any{id}},
			{"enrollments", db.q.ForgetEnrollments, []any{now, id}},
			{"messages", db.q.ForgetMessages, []any{now, id}},
			{"events", db.q.ForgetEvents, []any{id}},
			{"replies", db.q.ForgetInbound, []any{id}},
			{"webhook deliveries", db.wq.Forget, []any{id}},
			{"API responses kept for retries", db.qa.IdempotencyForget, []any{"%" + likeEscape(email) + "%"}},
			{"notes", db.dash.ForgetNotes, []any{id}},
			{"tags", db.tags.Forget, []any{id}},
			{"suppression", db.q.ForgetSuppression, []any{HashedAddress(email), email}},
			{"candidate", db.q.ForgetCandidate, []any{fmt.Sprintf("erased-%d@erased.invalid", id), now, id}},
		}
		for _, s := range steps {
			if _, err := tx.StmtxContext(ctx, s.stmt).ExecContext(ctx, s.args...); err != nil {
				return fmt.Errorf("erasing %s: %w", s.what, err)
			}
		}
		return db.event(ctx, tx, id, nil, "erased", "", now)
	})
	if err != nil || !found {
		return found, err
	}
	// Old page images stay in the write-ahead log until a checkpoint: write
	// them back (secure_delete overwrites what was freed) and empty the log.
	if _, err := db.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return found, fmt.Errorf("flushing the erased data out of the log: %w", err)
	}
	return found, nil
}
