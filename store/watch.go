package store

import (
	"context"
	"time"
)

// WatchChanges signals when another connection or process commits to the
// database, so a sleeping `followup serve` notices an enrollment made by
// `followup enroll` at once. It polls SQLite's PRAGMA data_version, an
// in-memory counter read in microseconds, on one dedicated connection.
func (db *DB) WatchChanges(ctx context.Context, every time.Duration) <-chan struct{} {
	ch := make(chan struct{}, 1)
	go func() {
		conn, err := db.r.Connx(ctx)
		if err != nil {
			return
		}
		defer conn.Close()
		var last int64
		if err := conn.GetContext(ctx, &last, "PRAGMA data_version"); err != nil {
			return
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			var v int64
			if err := conn.GetContext(ctx, &v, "PRAGMA data_version"); err != nil {
				continue
			}
			if v != last {
				last = v
				select {
				case ch <- struct{}{}:
				default:
				}
			}
		}
	}()
	return ch
}
