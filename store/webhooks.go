package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"followup/webhooks"
)

// webhookQueries are the statements of the webhook outbox (queries/webhooks.sql).
type webhookQueries struct {
	Cursor        *sqlx.Stmt `query:"webhook-cursor"`
	CursorSave    *sqlx.Stmt `query:"webhook-cursor-save"`
	LatestEventID *sqlx.Stmt `query:"latest-event-id,read"`
	Events        *sqlx.Stmt `query:"webhook-events,read"`
	Insert        *sqlx.Stmt `query:"webhook-delivery-insert"`
	Due           *sqlx.Stmt `query:"webhook-due,read"`
	Attempt       *sqlx.Stmt `query:"webhook-attempt"`
	List          *sqlx.Stmt `query:"webhook-list,read"`
	Get           *sqlx.Stmt `query:"webhook-get"`
	Retry         *sqlx.Stmt `query:"webhook-retry"`
	PendingCount  *sqlx.Stmt `query:"webhook-pending-count,read"`
	Disabled      *sqlx.Stmt `query:"webhook-disabled,read"`
	Disable       *sqlx.Stmt `query:"webhook-disable"`
	Enable        *sqlx.Stmt `query:"webhook-enable"`
	Forget        *sqlx.Stmt `query:"forget-webhook-deliveries"`
}

// WebhookCursor is the id of the last event fanned out to webhooks.
func (db *DB) WebhookCursor(ctx context.Context) (int64, bool, error) {
	var id int64
	err := db.wq.Cursor.GetContext(ctx, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("reading the webhook cursor: %w", err)
	}
	return id, true, nil
}

// LatestEventID is the newest event's id (0 when there is none).
func (db *DB) LatestEventID(ctx context.Context) (int64, error) {
	var id int64
	if err := db.wq.LatestEventID.GetContext(ctx, &id); err != nil {
		return 0, fmt.Errorf("finding the newest event: %w", err)
	}
	return id, nil
}

// WebhookEvents lists up to limit events after id `after`, oldest first,
// with what their payloads tell.
func (db *DB) WebhookEvents(ctx context.Context, after int64, limit int) ([]webhooks.Event, error) {
	var out []webhooks.Event
	if err := db.wq.Events.SelectContext(ctx, &out, after, limit); err != nil {
		return nil, fmt.Errorf("reading events after %d: %w", after, err)
	}
	return out, nil
}

// EnqueueDeliveries creates deliveries (at most one per endpoint and event)
// and moves the cursor, in one transaction.
func (db *DB) EnqueueDeliveries(ctx context.Context, ds []webhooks.NewDelivery, cursor int64, now time.Time) error {
	now = utc(now)
	return db.tx(ctx, func(tx *sqlx.Tx) error {
		ins := tx.StmtxContext(ctx, db.wq.Insert)
		for _, d := range ds {
			var cand any
			if d.CandidateID != 0 {
				cand = d.CandidateID
			}
			if _, err := ins.ExecContext(ctx, d.Endpoint, d.EventID, d.EventType, cand, string(d.Payload), now, now, now, now); err != nil {
				return fmt.Errorf("queueing webhook for event %d: %w", d.EventID, err)
			}
		}
		if _, err := tx.StmtxContext(ctx, db.wq.CursorSave).ExecContext(ctx, cursor, now); err != nil {
			return fmt.Errorf("saving the webhook cursor: %w", err)
		}
		return nil
	})
}

// DueDeliveries lists an endpoint's pending deliveries due at now.
func (db *DB) DueDeliveries(ctx context.Context, endpoint string, now time.Time, limit int) ([]webhooks.Delivery, error) {
	var out []webhooks.Delivery
	if err := db.wq.Due.SelectContext(ctx, &out, endpoint, utc(now), limit); err != nil {
		return nil, fmt.Errorf("listing due webhook deliveries: %w", err)
	}
	return out, nil
}

// RecordAttempt stores the result of one delivery attempt.
func (db *DB) RecordAttempt(ctx context.Context, id int64, a webhooks.Attempt) error {
	at := utc(a.At)
	return db.tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.StmtxContext(ctx, db.wq.Attempt).ExecContext(ctx, a.Status, utcPtr(a.NextAttemptAt), a.StatusCode, a.Error, at,
			a.Status, at, id); err != nil {
			return fmt.Errorf("recording webhook delivery %d: %w", id, err)
		}
		return nil
	})
}

// DisabledEndpoints lists the endpoints switched off by a 410 Gone.
func (db *DB) DisabledEndpoints(ctx context.Context) (map[string]string, error) {
	var rows []struct {
		Endpoint string `db:"endpoint"`
		Reason   string `db:"reason"`
	}
	if err := db.wq.Disabled.SelectContext(ctx, &rows); err != nil {
		return nil, fmt.Errorf("listing disabled webhook endpoints: %w", err)
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.Endpoint] = r.Reason
	}
	return out, nil
}

// DisableEndpoint switches an endpoint off until EnableEndpoint.
func (db *DB) DisableEndpoint(ctx context.Context, endpoint, reason string, now time.Time) error {
	return db.tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.StmtxContext(ctx, db.wq.Disable).ExecContext(ctx, endpoint, reason, utc(now)); err != nil {
			return fmt.Errorf("disabling webhook endpoint: %w", err)
		}
		return nil
	})
}

// EnableEndpoint switches a disabled endpoint on again; it reports whether
// it was disabled.
func (db *DB) EnableEndpoint(ctx context.Context, endpoint string) (bool, error) {
	var was bool
	err := db.tx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.StmtxContext(ctx, db.wq.Enable).ExecContext(ctx, endpoint)
		if err != nil {
			return fmt.Errorf("enabling webhook endpoint: %w", err)
		}
		n, _ := res.RowsAffected()
		was = n > 0
		return nil
	})
	return was, err
}

// ListDeliveries is the delivery log, newest first.
func (db *DB) ListDeliveries(ctx context.Context, f webhooks.Filter) ([]webhooks.Delivery, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	var out []webhooks.Delivery
	if err := db.wq.List.SelectContext(ctx, &out, f.Status, f.Status, f.Endpoint, f.Endpoint, f.BeforeID, f.BeforeID, f.Limit); err != nil {
		return nil, fmt.Errorf("listing webhook deliveries: %w", err)
	}
	return out, nil
}

// RetryDelivery queues a delivery again, due now, with a fresh day of
// retries (whatever its status: a delivered one is sent again). It returns
// ErrNotFound for an unknown id.
func (db *DB) RetryDelivery(ctx context.Context, id int64, now time.Time) (webhooks.Delivery, error) {
	now = utc(now)
	var d webhooks.Delivery
	err := db.tx(ctx, func(tx *sqlx.Tx) error {
		err := tx.StmtxContext(ctx, db.wq.Get).GetContext(ctx, &d, id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("webhook delivery %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("loading webhook delivery %d: %w", id, err)
		}
		if _, err := tx.StmtxContext(ctx, db.wq.Retry).ExecContext(ctx, now, now, now, id); err != nil {
			return fmt.Errorf("queueing webhook delivery %d again: %w", id, err)
		}
		return nil
	})
	return d, err
}

// PendingDeliveries counts deliveries waiting for an attempt.
func (db *DB) PendingDeliveries(ctx context.Context) (int, error) {
	var n int
	if err := db.wq.PendingCount.GetContext(ctx, &n); err != nil {
		return 0, fmt.Errorf("counting pending webhook deliveries: %w", err)
	}
	return n, nil
}

var _ webhooks.Store = (*DB)(nil)
