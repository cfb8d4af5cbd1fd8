package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"
)

// seedHistory writes n enrollments created over 90 days: each sent one to
// three messages; 10 % replied, 2 % bounced; most carry an interview date
// and a source. Rows go in directly (one transaction): the benchmark
// measures reading them.
func seedHistory(tb testing.TB, db *DB, n int, end time.Time) {
	tb.Helper()
	ctx := context.Background()
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	must := func(_ any, err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(tx.ExecContext(ctx, `INSERT INTO sequence_versions (id, sequence, hash, definition, created_at) VALUES (1, 'x', 'h', '{}', ?)`, end))
	cand, _ := tx.PreparexContext(ctx, `INSERT INTO candidates (id, email, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`)
	enr, _ := tx.PreparexContext(ctx, `INSERT INTO enrollments (id, uid, candidate_id, sequence, version_id, mailbox, fields, status, source, created_at, updated_at)
		VALUES (?, ?, ?, ?, 1, ?, ?, 'active', 'api:ats', ?, ?)`)
	msg, _ := tx.PreparexContext(ctx, `INSERT INTO messages (enrollment_id, step, message_id, status, sent_at, created_at, updated_at) VALUES (?, ?, ?, 'sent', ?, ?, ?)`)
	in, _ := tx.PreparexContext(ctx, `INSERT INTO inbound_messages (mailbox, message_id, uidvalidity, uid, kind, candidate_id, enrollment_id, received_at, created_at)
		VALUES ('m', ?, 1, ?, ?, ?, ?, ?, ?)`)
	rng := rand.New(rand.NewPCG(7, uint64(n)))
	seqs := []string{"post-interview-thanks", "rejected-after-interview", "offer-declined", "talent-pool-warmup", "next-round-prep"}
	sources := []string{"Boss直聘", "猎聘", "LinkedIn", "referral", "campus"}
	for i := 1; i <= n; i++ {
		created := end.Add(-time.Duration(rng.Int64N(int64(90 * 24 * time.Hour))))
		fields := fmt.Sprintf(`{"job_title":"engineer","interview_date":%q,"source":%q}`, created.Add(-20*time.Hour).Format("2006-01-02 15:04"), sources[i%len(sources)])
		must(cand.ExecContext(ctx, i, fmt.Sprintf("c%07d@example.com", i), fmt.Sprintf("候选人%d", i), created, created))
		must(enr.ExecContext(ctx, i, fmt.Sprintf("u%010d", i), i, seqs[i%len(seqs)], fmt.Sprintf("r%d", i%20), fields, created, created))
		at := created.Add(2 * time.Hour)
		steps := 1 + rng.IntN(3)
		for s := 0; s < steps; s++ {
			must(msg.ExecContext(ctx, i, s, fmt.Sprintf("u%010d.%d@example.com", i, s), at, at, at))
			at = at.Add(7 * 24 * time.Hour)
		}
		switch r := rng.IntN(100); {
		case r < 10:
			must(in.ExecContext(ctx, fmt.Sprintf("r%d", i), i, "reply", i, i, created.Add(30*time.Hour), created))
		case r < 12:
			must(in.ExecContext(ctx, fmt.Sprintf("b%d", i), i, "bounce", i, i, created.Add(3*time.Hour), created))
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkMetrics computes every metric of a 90-day period of n
// enrollments (what the metrics page and GET /api/v1/metrics do).
// BenchmarkMetrics/scan is the floor: reading the same rows' ids once.
func BenchmarkMetrics(b *testing.B) {
	if testing.Short() {
		b.Skip("-short")
	}
	ctx := context.Background()
	end := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	for _, n := range []int{10_000, 100_000} {
		db, err := Open(ctx, filepath.Join(b.TempDir(), "m.db"))
		if err != nil {
			b.Fatal(err)
		}
		seedHistory(b, db, n, end)
		q := MetricsQuery{From: end.AddDate(0, 0, -90), To: end, PoolSequences: []string{"talent-pool-warmup"}}
		b.Run(fmt.Sprintf("enrollments=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				m, err := db.Metrics(ctx, q)
				if err != nil || len(m.Sequences) != 5 {
					b.Fatal(m, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
		})
		b.Run(fmt.Sprintf("scan/enrollments=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				var ids []int64
				if err := db.r.SelectContext(ctx, &ids, `SELECT e.id FROM enrollments e WHERE e.created_at >= ? AND e.created_at < ?`, q.From, q.To); err != nil || len(ids) != n {
					b.Fatal(len(ids), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
		})
		b.Run(fmt.Sprintf("search/enrollments=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := db.Search(ctx, SearchFilter{Query: "候选人4242", Limit: 50}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/op")
		})
		db.Close()
	}
}
