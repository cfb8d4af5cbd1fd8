package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// metricsQueries serve readiness and the Prometheus metrics
// (queries/ops.sql).
type metricsQueries struct {
	Ping            *sqlx.Stmt `query:"ping,read"`
	SentByMailbox   *sqlx.Stmt `query:"sent-by-mailbox,read"`
	FailedByMailbox *sqlx.Stmt `query:"failed-by-mailbox,read"`
	DueCount        *sqlx.Stmt `query:"due-count,read"`
}

// Ping makes a trivial read: the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.mq.Ping.GetContext(ctx, &one); err != nil {
		return fmt.Errorf("reading the database: %w", err)
	}
	return nil
}

// MessageTotals counts, per mailbox, the messages ever sent and the
// message failures (send_failed events) recorded.
func (db *DB) MessageTotals(ctx context.Context) (sent, failed map[string]int, err error) {
	read := func(q *sqlx.Stmt, what string) (map[string]int, error) {
		var rows []struct {
			Mailbox string `db:"mailbox"`
			N       int    `db:"n"`
		}
		if err := q.SelectContext(ctx, &rows); err != nil {
			return nil, fmt.Errorf("counting %s messages: %w", what, err)
		}
		out := make(map[string]int, len(rows))
		for _, r := range rows {
			out[r.Mailbox] = r.N
		}
		return out, nil
	}
	if sent, err = read(db.mq.SentByMailbox, "sent"); err != nil {
		return nil, nil, err
	}
	if failed, err = read(db.mq.FailedByMailbox, "failed"); err != nil {
		return nil, nil, err
	}
	return sent, failed, nil
}

// DueCount counts active enrollments due at now: the sending queue.
func (db *DB) DueCount(ctx context.Context, now time.Time) (int, error) {
	var n int
	if err := db.mq.DueCount.GetContext(ctx, &n, utc(now)); err != nil {
		return 0, fmt.Errorf("counting due enrollments: %w", err)
	}
	return n, nil
}
