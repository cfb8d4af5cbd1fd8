package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"followup/sequences"
)

// enrollmentRow is an enrollment as stored: its fields as JSON.
type enrollmentRow struct {
	sequences.Enrollment
	FieldsJSON string `db:"fields"`
}

func (r *enrollmentRow) decode() (sequences.Enrollment, error) {
	e := r.Enrollment
	e.Fields = map[string]string{}
	if err := json.Unmarshal([]byte(r.FieldsJSON), &e.Fields); err != nil {
		return e, fmt.Errorf("reading fields of enrollment %d: %w", e.ID, err)
	}
	return e, nil
}

func decodeRows(rows []enrollmentRow) ([]sequences.Enrollment, error) {
	out := make([]sequences.Enrollment, 0, len(rows))
	for i := range rows {
		e, err := rows[i].decode()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// newUID returns 128 random bits, base32: it names a thread's Message-IDs
// and carries no personal data.
func newUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

func utc(t time.Time) time.Time { return t.UTC() }

func utcPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

// Enroll stores validated requests in one transaction. A request whose
// idempotency key was seen before, or whose candidate is already live in the
// sequence, creates nothing and says why.
func (db *DB) Enroll(ctx context.Context, reqs []sequences.EnrollRequest, seqs map[string]*sequences.Sequence, now time.Time) ([]sequences.EnrollOutcome, error) {
	now = utc(now)
	out := make([]sequences.EnrollOutcome, 0, len(reqs))
	err := db.tx(ctx, func(tx *sqlx.Tx) error {
		out = out[:0]
		versions := map[string]int64{}
		for _, req := range reqs {
			o, err := db.enrollOne(ctx, tx, req, seqs[req.Sequence], versions, now)
			if err != nil {
				return fmt.Errorf("enrolling %s in %s: %w", req.Email, req.Sequence, err)
			}
			out = append(out, o)
		}
		return nil
	})
	return out, err
}

func (db *DB) enrollOne(ctx context.Context, tx *sqlx.Tx, req sequences.EnrollRequest, seq *sequences.Sequence, versions map[string]int64, now time.Time) (sequences.EnrollOutcome, error) {
	if seq == nil {
		return sequences.EnrollOutcome{}, fmt.Errorf("unknown sequence %q", req.Sequence)
	}
	if req.IdempotencyKey != "" {
		var row enrollmentRow
		err := tx.StmtxContext(ctx, db.q.EnrollmentByKey).GetContext(ctx, &row, req.IdempotencyKey)
		if err == nil {
			e, err := row.decode()
			return sequences.EnrollOutcome{Enrollment: e, Reason: "already enrolled by an earlier identical request"}, err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return sequences.EnrollOutcome{}, err
		}
	}
	// A suppressed address is not even stored again (it may belong to an
	// erased candidate).
	var sup struct {
		Email     string    `db:"email"`
		Reason    string    `db:"reason"`
		CreatedAt time.Time `db:"created_at"`
	}
	err := tx.StmtxContext(ctx, db.q.SuppressionGet).GetContext(ctx, &sup, req.Email, HashedAddress(req.Email))
	if err == nil {
		return sequences.EnrollOutcome{
			Enrollment: sequences.Enrollment{Candidate: req.Candidate, Sequence: req.Sequence},
			Reason:     fmt.Sprintf("the address is suppressed since %s (%s): it is never mailed again", sup.CreatedAt.Format("2006-01-02"), sup.Reason),
			Blocked:    true,
		}, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return sequences.EnrollOutcome{}, err
	}
	var cand struct {
		ID                  int64  `db:"id"`
		UndeliverableReason string `db:"undeliverable_reason"`
		PoolConsent         string `db:"pool_consent"`
	}
	if err := tx.StmtxContext(ctx, db.q.CandidateUpsert).GetContext(ctx, &cand, req.Email, req.Name, req.Language, req.Timezone,
		req.PoolConsent, req.PoolConsent, now, now, now); err != nil {
		return sequences.EnrollOutcome{}, fmt.Errorf("saving candidate: %w", err)
	}
	if seq.RequiresConsent && cand.PoolConsent != sequences.ConsentGiven {
		return sequences.EnrollOutcome{
			Enrollment: sequences.Enrollment{CandidateID: cand.ID, Candidate: req.Candidate, Sequence: req.Sequence},
			Reason:     "the sequence keeps people in the talent pool and needs their consent: record it with `followup consent EMAIL --given` (or a pool_consent column) first",
			Blocked:    true,
		}, nil
	}
	if cand.UndeliverableReason != "" {
		return sequences.EnrollOutcome{
			Enrollment: sequences.Enrollment{CandidateID: cand.ID, Candidate: req.Candidate, Sequence: req.Sequence},
			Reason:     "the address is undeliverable: " + cand.UndeliverableReason,
			Blocked:    true,
		}, nil
	}
	var live enrollmentRow
	err = tx.StmtxContext(ctx, db.q.EnrollmentLive).GetContext(ctx, &live, cand.ID, req.Sequence)
	if err == nil {
		e, err := live.decode()
		return sequences.EnrollOutcome{Enrollment: e,
			Reason: fmt.Sprintf("already %s in %s since %s", e.Status, e.Sequence, e.CreatedAt.Format("2006-01-02"))}, err
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return sequences.EnrollOutcome{}, err
	}
	vid, err := db.versionID(ctx, tx, seq, versions, now)
	if err != nil {
		return sequences.EnrollOutcome{}, err
	}
	fields, _ := json.Marshal(req.Fields)
	uid := newUID()
	due := seq.Due(0, now, req.Timezone, uid+".0").UTC()
	var key any
	if req.IdempotencyKey != "" {
		key = req.IdempotencyKey
	}
	e := sequences.Enrollment{
		UID: uid, CandidateID: cand.ID, Candidate: req.Candidate, Sequence: seq.Name, VersionID: vid,
		Mailbox: req.Mailbox, Fields: req.Fields, Status: sequences.Active, NextDueAt: &due, CreatedAt: now, UpdatedAt: now,
	}
	if err := tx.StmtxContext(ctx, db.q.EnrollmentInsert).GetContext(ctx, &e.ID,
		e.UID, cand.ID, seq.Name, vid, req.Mailbox, string(fields), due, key, req.Source, now, now); err != nil {
		return sequences.EnrollOutcome{}, fmt.Errorf("saving enrollment: %w", err)
	}
	detail := seq.Name
	if req.Source != "" {
		detail += " (" + req.Source + ")"
	}
	if err := db.event(ctx, tx, cand.ID, &e.ID, sequences.EvEnrolled, detail, now); err != nil {
		return sequences.EnrollOutcome{}, err
	}
	return sequences.EnrollOutcome{Enrollment: e, Created: true}, nil
}

// versionID returns the id of the pinned version of seq, storing it the
// first time an enrollment starts on it.
func (db *DB) versionID(ctx context.Context, tx *sqlx.Tx, seq *sequences.Sequence, cache map[string]int64, now time.Time) (int64, error) {
	hash := seq.Version()
	if id, ok := cache[seq.Name+"@"+hash]; ok {
		return id, nil
	}
	var id int64
	err := tx.StmtxContext(ctx, db.q.VersionID).GetContext(ctx, &id, seq.Name, hash)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.StmtxContext(ctx, db.q.VersionInsert).GetContext(ctx, &id, seq.Name, hash, seq.Definition(), now)
	}
	if err != nil {
		return 0, fmt.Errorf("pinning version of sequence %s: %w", seq.Name, err)
	}
	cache[seq.Name+"@"+hash] = id
	return id, nil
}

func (db *DB) event(ctx context.Context, tx *sqlx.Tx, candidateID int64, enrollmentID *int64, kind, detail string, now time.Time) error {
	var eid any
	if enrollmentID != nil {
		eid = *enrollmentID
	}
	if _, err := tx.StmtxContext(ctx, db.q.EventInsert).ExecContext(ctx, candidateID, eid, kind, detail, utc(now)); err != nil {
		return fmt.Errorf("recording %s event: %w", kind, err)
	}
	return nil
}

// Version loads a pinned sequence version.
func (db *DB) Version(ctx context.Context, id int64) (*sequences.Sequence, error) {
	var def string
	if err := db.q.VersionDefinition.GetContext(ctx, &def, id); err != nil {
		return nil, fmt.Errorf("loading sequence version %d: %w", id, err)
	}
	return sequences.ParseDefinition(def)
}
