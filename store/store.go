// Package store keeps Followup's state in SQL: candidates, enrollments, the
// pinned sequence versions, the send record of every message, and the
// timeline of events. SQLite is the embedded default; the queries are written
// so a PostgreSQL backend can share them through sqlx.Rebind.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"reflect"
	"strings"

	"github.com/jmoiron/sqlx"
	_ "github.com/mattn/go-sqlite3" // the "sqlite3" driver
	"github.com/pressly/goose/v3"
)

//go:embed queries/*.sql
var queryFiles embed.FS

//go:embed migrations
var migrations embed.FS

// DB is an open store: one writer connection (SQLite allows one writer at a
// time; a single connection with immediate transactions means writers queue
// instead of failing with "database is locked") and a pool of readers.
type DB struct {
	w, r  *sqlx.DB
	q     queries
	qa    apiQueries
	wq    webhookQueries
	mq    metricsQueries
	users userQueries
	tags  tagQueries
	dash  dashboardQueries

	closers []*sqlx.Stmt
}

// Open opens (creating if needed) the SQLite database at path and brings its
// schema up to date.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("opening database: no path given")
	}
	base := "file:" + (&url.URL{Path: path}).EscapedPath()
	// synchronous=FULL: a committed send record survives a power loss too
	// (with NORMAL the last commits can roll back, and a message recorded as
	// sent could go out again). The recorder's group commit keeps the cost
	// to one fsync per batch.
	// secure_delete: erased personal data is overwritten, not left in free
	// pages of the file (followup forget).
	common := "_journal_mode=WAL&_busy_timeout=10000&_foreign_keys=on&_synchronous=FULL&_secure_delete=true"
	w, err := sqlx.Open("sqlite3", base+"?"+common+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	if err := migrate(ctx, w.DB, goose.DialectSQLite3, "migrations/sqlite"); err != nil {
		w.Close()
		return nil, fmt.Errorf("migrating database %s: %w", path, err)
	}
	r, err := sqlx.Open("sqlite3", base+"?"+common+"&_query_only=true")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("opening database %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	db := &DB{w: w, r: r}
	if err := db.prepare(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func migrate(ctx context.Context, db *sql.DB, dialect goose.Dialect, dir string) error {
	sub, err := fs.Sub(migrations, dir)
	if err != nil {
		return err
	}
	// Out of order: a database migrated by a build that had a later
	// migration but not an earlier one (parallel branches) still upgrades.
	p, err := goose.NewProvider(dialect, db, sub, goose.WithAllowOutofOrder(true))
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// Close releases both pools.
func (db *DB) Close() error {
	var errs []error
	for _, s := range db.closers {
		errs = append(errs, s.Close())
	}
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	errs = append(errs, db.w.Close())
	return errors.Join(errs...)
}

// queries holds the core named statements; the tag names the query in
// queries/*.sql, and ",read" prepares it on the reader pool. Other concerns
// keep their own struct of statements (see querySets).
type queries struct {
	CandidateUpsert        *sqlx.Stmt `query:"candidate-upsert"`
	CandidateByEmail       *sqlx.Stmt `query:"candidate-by-email,read"`
	CandidateUndeliverable *sqlx.Stmt `query:"candidate-undeliverable"`
	VersionID              *sqlx.Stmt `query:"version-id"`
	VersionInsert          *sqlx.Stmt `query:"version-insert"`
	VersionDefinition      *sqlx.Stmt `query:"version-definition,read"`
	EnrollmentByKey        *sqlx.Stmt `query:"enrollment-by-key"`
	EnrollmentLive         *sqlx.Stmt `query:"enrollment-live"`
	EnrollmentInsert       *sqlx.Stmt `query:"enrollment-insert"`
	EnrollmentByID         *sqlx.Stmt `query:"enrollment-by-id"`
	EnrollmentByUID        *sqlx.Stmt `query:"enrollment-by-uid,read"`
	EnrollmentsOfCandidate *sqlx.Stmt `query:"enrollments-of-candidate,read"`
	EnrollmentsToChange    *sqlx.Stmt `query:"enrollments-of-candidate"` // in write transactions
	EnrollmentList         *sqlx.Stmt `query:"enrollment-list,read"`
	DueList                *sqlx.Stmt `query:"due-list"`
	DuePeek                *sqlx.Stmt `query:"due-peek,read"`
	NextDue                *sqlx.Stmt `query:"next-due,read"`
	EnrollmentSetDue       *sqlx.Stmt `query:"enrollment-set-due"`
	EnrollmentAdvance      *sqlx.Stmt `query:"enrollment-advance"`
	EnrollmentSetStatus    *sqlx.Stmt `query:"enrollment-set-status"`
	EnrollmentHold         *sqlx.Stmt `query:"enrollment-hold"`
	MessageClaim           *sqlx.Stmt `query:"message-claim"`
	MessageSent            *sqlx.Stmt `query:"message-sent"`
	MessageDefer           *sqlx.Stmt `query:"message-defer"`
	MessageSetStatus       *sqlx.Stmt `query:"message-set-status"`
	MessageDetails         *sqlx.Stmt `query:"message-details"`
	MessageReview          *sqlx.Stmt `query:"message-review"`
	ReviewsPending         *sqlx.Stmt `query:"reviews-pending,read"`
	ReviewApprove          *sqlx.Stmt `query:"review-approve"`
	PoolConsent            *sqlx.Stmt `query:"pool-consent"`
	PoolConsentGet         *sqlx.Stmt `query:"pool-consent-get"`
	VariantReport          *sqlx.Stmt `query:"variant-report,read"`
	SurveyLinkUse          *sqlx.Stmt `query:"survey-link-use"`
	SurveyLink             *sqlx.Stmt `query:"survey-link,read"`
	SurveyResponseInsert   *sqlx.Stmt `query:"survey-response-insert"`
	SurveyResponses        *sqlx.Stmt `query:"survey-responses,read"`
	MessageAssumeSent      *sqlx.Stmt `query:"message-assume-sent"`
	MessageResetAttempts   *sqlx.Stmt `query:"message-reset-attempts"`
	MessageGet             *sqlx.Stmt `query:"message-get"`
	MessagesStale          *sqlx.Stmt `query:"messages-stale"`
	Thread                 *sqlx.Stmt `query:"thread,read"`
	MessagesOfCandidate    *sqlx.Stmt `query:"messages-of-candidate,read"`
	EventInsert            *sqlx.Stmt `query:"event-insert"`
	EventsOfCandidate      *sqlx.Stmt `query:"events-of-candidate,read"`
	SentPerSequence        *sqlx.Stmt `query:"sent-per-sequence,read"`
	StatusCounts           *sqlx.Stmt `query:"status-counts,read"`
	CheckpointGet          *sqlx.Stmt `query:"checkpoint-get,read"`
	CheckpointSave         *sqlx.Stmt `query:"checkpoint-save"`
	MatchMessageID         *sqlx.Stmt `query:"match-message-id,read"`
	MatchAddress           *sqlx.Stmt `query:"match-address,read"`
	OldestLiveEnrollment   *sqlx.Stmt `query:"oldest-live-enrollment,read"`
	InboundInsert          *sqlx.Stmt `query:"inbound-insert"`
	InboundOfCandidate     *sqlx.Stmt `query:"inbound-of-candidate,read"`
	LiveOfCandidate        *sqlx.Stmt `query:"live-of-candidate"`
	Postpone               *sqlx.Stmt `query:"postpone"`
	Suppress               *sqlx.Stmt `query:"suppress"`
	SuppressionGet         *sqlx.Stmt `query:"suppression-get"`
	SuppressionList        *sqlx.Stmt `query:"suppression-list,read"`
	SuppressionDelete      *sqlx.Stmt `query:"suppression-delete"`
	CandidateID            *sqlx.Stmt `query:"candidate-id"`
	ForgetCandidate        *sqlx.Stmt `query:"forget-candidate"`
	ForgetEnrollments      *sqlx.Stmt `query:"forget-enrollments"`
	ForgetMessages         *sqlx.Stmt `query:"forget-messages"`
	ForgetEvents           *sqlx.Stmt `query:"forget-events"`
	ForgetSurveyResponses  *sqlx.Stmt `query:"forget-survey-responses"`
	ForgetInbound          *sqlx.Stmt `query:"forget-inbound"`
	ForgetSuppression      *sqlx.Stmt `query:"forget-suppression"`
	SoftBounce             *sqlx.Stmt `query:"soft-bounce"`
	EnrollmentStatus       *sqlx.Stmt `query:"enrollment-status,read"`
	SentToCandidateSince   *sqlx.Stmt `query:"sent-to-candidate-since,read"`
	SentFromSince          *sqlx.Stmt `query:"sent-from-since,read"`
}

// querySets lists every struct of named statements prepared at open.
func (db *DB) querySets() []any {
	return []any{&db.q, &db.qa, &db.wq, &db.mq, &db.users, &db.tags, &db.dash}
}

// namedQueries reads every queries/*.sql file; a name used twice is an error.
func namedQueries() (map[string]string, error) {
	files, err := fs.Glob(queryFiles, "queries/*.sql")
	if err != nil {
		return nil, err
	}
	all := map[string]string{}
	for _, f := range files {
		src, err := queryFiles.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for name, q := range parseQueries(string(src)) {
			if _, dup := all[name]; dup {
				return nil, fmt.Errorf("query %q is defined twice (again in %s)", name, f)
			}
			all[name] = q
		}
	}
	return all, nil
}

// parseQueries splits a queries file at "-- name: x" lines.
func parseQueries(src string) map[string]string {
	out := map[string]string{}
	var name string
	var body strings.Builder
	flush := func() {
		if name != "" {
			out[name] = strings.TrimSpace(body.String())
		}
		body.Reset()
	}
	for _, line := range strings.Split(src, "\n") {
		if n, ok := strings.CutPrefix(strings.TrimSpace(line), "-- name:"); ok {
			flush()
			name = strings.TrimSpace(n)
			continue
		}
		if name != "" && !strings.HasPrefix(strings.TrimSpace(line), "--") {
			body.WriteString(line)
			body.WriteByte('\n')
		}
	}
	flush()
	return out
}

func (db *DB) prepare(ctx context.Context) error {
	named, err := namedQueries()
	if err != nil {
		return fmt.Errorf("reading queries: %w", err)
	}
	for _, set := range db.querySets() {
		if err := db.prepareSet(ctx, named, set); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) prepareSet(ctx context.Context, named map[string]string, set any) error {
	v := reflect.ValueOf(set).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("query")
		if tag == "" {
			continue
		}
		name, opt, _ := strings.Cut(tag, ",")
		sqlText, ok := named[name]
		if !ok {
			return fmt.Errorf("preparing queries: %q is not in queries/*.sql", name)
		}
		pool := db.w
		if opt == "read" {
			pool = db.r
		}
		stmt, err := pool.PreparexContext(ctx, pool.Rebind(sqlText))
		if err != nil {
			return fmt.Errorf("preparing query %q: %w", name, err)
		}
		db.closers = append(db.closers, stmt)
		v.Field(i).Set(reflect.ValueOf(stmt))
	}
	return nil
}

// tx runs fn in one write transaction (BEGIN IMMEDIATE on SQLite).
func (db *DB) tx(ctx context.Context, fn func(*sqlx.Tx) error) error {
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}
