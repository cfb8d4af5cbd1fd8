package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"followup/sequences"
)

// apiQueries are the JSON API's statements (queries/api.sql).
type apiQueries struct {
	TokenInsert        *sqlx.Stmt `query:"token-insert"`
	TokenByHash        *sqlx.Stmt `query:"token-by-hash,read"`
	TokenList          *sqlx.Stmt `query:"token-list,read"`
	TokenRevoke        *sqlx.Stmt `query:"token-revoke"`
	TokenUsed          *sqlx.Stmt `query:"token-used"`
	IdempotencyBegin   *sqlx.Stmt `query:"idempotency-begin"`
	IdempotencyGet     *sqlx.Stmt `query:"idempotency-get"`
	IdempotencyReclaim *sqlx.Stmt `query:"idempotency-reclaim"`
	IdempotencyFinish  *sqlx.Stmt `query:"idempotency-finish"`
	IdempotencyDrop    *sqlx.Stmt `query:"idempotency-drop"`
	ChangeMark         *sqlx.Stmt `query:"change-mark,read"`
	TrackingOf         *sqlx.Stmt `query:"tracking-of-candidate,read"`
	IdempotencyForget  *sqlx.Stmt `query:"idempotency-forget"`
	IdempotencyExpire  *sqlx.Stmt `query:"idempotency-expire"`
	EnrollmentSearch   *sqlx.Stmt `query:"enrollment-search,read"`
	TrackingMessage    *sqlx.Stmt `query:"tracking-message"`
	TrackingInsert     *sqlx.Stmt `query:"tracking-insert"`
	MetricsTracking    *sqlx.Stmt `query:"metrics-tracking,read"`
	MetricsSteps       *sqlx.Stmt `query:"metrics-steps,read"`
	MetricsEnrollments *sqlx.Stmt `query:"metrics-enrollments,read"`
}

// Token scopes: read lists and reads; write also enrolls and changes.
const (
	ScopeRead  = "read"
	ScopeWrite = "write"
)

// TokenPrefix starts every API token, so a leaked one is easy to grep for.
const TokenPrefix = "fu_"

// Token is an API token as stored (never the secret itself).
type Token struct {
	ID         int64      `db:"id" json:"id"`
	Name       string     `db:"name" json:"name"`
	Prefix     string     `db:"prefix" json:"prefix"`
	Scope      string     `db:"scope" json:"scope"`
	CreatedAt  time.Time  `db:"created_at" json:"created_at"`
	LastUsedAt *time.Time `db:"last_used_at" json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `db:"revoked_at" json:"revoked_at,omitempty"`
}

// Allows says whether the token may do what scope needs.
func (t Token) Allows(scope string) bool {
	return t.RevokedAt == nil && (t.Scope == scope || t.Scope == ScopeWrite)
}

func tokenHash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// CreateToken makes a token and returns its secret, shown once.
func (db *DB) CreateToken(ctx context.Context, name, scope string, now time.Time) (Token, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Token{}, "", errors.New("creating a token: give it a name (what uses it, e.g. \"ats\")")
	}
	if scope != ScopeRead && scope != ScopeWrite {
		return Token{}, "", fmt.Errorf("creating a token: scope %q: use read or write", scope)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return Token{}, "", fmt.Errorf("creating a token: %w", err)
	}
	secret := TokenPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw[:]))
	t := Token{Name: name, Prefix: secret[:len(TokenPrefix)+6], Scope: scope, CreatedAt: utc(now)}
	res, err := db.qa.TokenInsert.ExecContext(ctx, t.Name, t.Prefix, tokenHash(secret), t.Scope, t.CreatedAt)
	if err != nil {
		return Token{}, "", fmt.Errorf("creating token %s: %w", name, err)
	}
	t.ID, _ = res.LastInsertId()
	return t, secret, nil
}

// Tokens lists every token, revoked ones included.
func (db *DB) Tokens(ctx context.Context) ([]Token, error) {
	var out []Token
	if err := db.qa.TokenList.SelectContext(ctx, &out); err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	return out, nil
}

// RevokeToken revokes a token by id or name; false when none was live.
func (db *DB) RevokeToken(ctx context.Context, idOrName string, now time.Time) (bool, error) {
	var id int64
	fmt.Sscan(idOrName, &id)
	res, err := db.qa.TokenRevoke.ExecContext(ctx, utc(now), id, idOrName)
	if err != nil {
		return false, fmt.Errorf("revoking token %s: %w", idOrName, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// Authenticate finds the live token whose secret this is. It records the
// use at most once a minute (a write per request would queue behind sends).
func (db *DB) Authenticate(ctx context.Context, secret string, now time.Time) (Token, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return Token{}, ErrNotFound
	}
	var t Token
	err := db.qa.TokenByHash.GetContext(ctx, &t, tokenHash(secret))
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, ErrNotFound
	}
	if err != nil {
		return Token{}, fmt.Errorf("checking a token: %w", err)
	}
	if t.RevokedAt != nil {
		return t, ErrNotFound
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > time.Minute {
		if _, err := db.qa.TokenUsed.ExecContext(ctx, utc(now), t.ID); err != nil {
			return Token{}, fmt.Errorf("recording a token's use: %w", err)
		}
	}
	return t, nil
}

// Idempotent request states.
var (
	// ErrInProgress: the first request with this key has not finished.
	ErrInProgress = errors.New("a request with this Idempotency-Key is still in progress")
	// ErrKeyReused: the key came with a different request.
	ErrKeyReused = errors.New("this Idempotency-Key was used for a different request")
)

// Replay is a stored response to an idempotent request.
type Replay struct {
	Status int
	Body   []byte
}

// IdempotentTakeover is how long an unfinished request may hold its key:
// after that a retry runs again (its process died; what it did is itself
// idempotent, see the enrollment keys).
const IdempotentTakeover = time.Minute

// BeginIdempotent claims key for a request (hashed). It returns the stored
// response when the same request finished before (replay != nil),
// ErrInProgress or ErrKeyReused; otherwise the caller runs the request
// and calls FinishIdempotent (or DropIdempotent when it failed without
// effect).
func (db *DB) BeginIdempotent(ctx context.Context, tokenID int64, key, requestHash string, now time.Time) (*Replay, error) {
	var replay *Replay
	err := db.tx(ctx, func(tx *sqlx.Tx) error {
		replay = nil
		res, err := tx.StmtxContext(ctx, db.qa.IdempotencyBegin).ExecContext(ctx, tokenID, key, requestHash, utc(now))
		if err != nil {
			return fmt.Errorf("recording the idempotency key: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var got struct {
			Hash    string    `db:"request_hash"`
			Status  int       `db:"status"`
			Body    string    `db:"body"`
			Created time.Time `db:"created_at"`
		}
		if err := tx.StmtxContext(ctx, db.qa.IdempotencyGet).GetContext(ctx, &got, tokenID, key); err != nil {
			return fmt.Errorf("reading the idempotency key: %w", err)
		}
		switch {
		case got.Hash != requestHash:
			return ErrKeyReused
		case got.Status == 0:
			res, err := tx.StmtxContext(ctx, db.qa.IdempotencyReclaim).ExecContext(ctx, utc(now), tokenID, key, utc(now.Add(-IdempotentTakeover)))
			if err != nil {
				return fmt.Errorf("taking over the idempotency key: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				return nil
			}
			return ErrInProgress
		}
		replay = &Replay{Status: got.Status, Body: []byte(got.Body)}
		return nil
	})
	return replay, err
}

// FinishIdempotent stores the response to replay.
func (db *DB) FinishIdempotent(ctx context.Context, tokenID int64, key string, status int, body []byte) error {
	if _, err := db.qa.IdempotencyFinish.ExecContext(ctx, status, string(body), tokenID, key); err != nil {
		return fmt.Errorf("storing the idempotent response: %w", err)
	}
	return nil
}

// DropIdempotent forgets an unfinished key, so a retry runs again.
func (db *DB) DropIdempotent(ctx context.Context, tokenID int64, key string) error {
	if _, err := db.qa.IdempotencyDrop.ExecContext(ctx, tokenID, key); err != nil {
		return fmt.Errorf("releasing the idempotency key: %w", err)
	}
	return nil
}

// ExpireIdempotent forgets keys older than before (24 hours is usual).
func (db *DB) ExpireIdempotent(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.qa.IdempotencyExpire.ExecContext(ctx, utc(before))
	if err != nil {
		return 0, fmt.Errorf("expiring idempotency keys: %w", err)
	}
	return res.RowsAffected()
}

// ChangeMark is a value that changes whenever an event, a reply, a survey
// answer or a tracking request is recorded: cached reports compare it.
func (db *DB) ChangeMark(ctx context.Context) (string, error) {
	var m string
	if err := db.qa.ChangeMark.GetContext(ctx, &m); err != nil {
		return "", fmt.Errorf("reading the change mark: %w", err)
	}
	return m, nil
}

// likeEscape makes s match itself in a LIKE pattern with ESCAPE '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}

// SearchFilter selects enrollments for listings; empty fields do not filter.
type SearchFilter struct {
	Sequence, Status, Mailbox, Tag string
	Query                          string // part of the name or email, any case
	BeforeID                       int64  // keyset pagination: ids below this (0: from the newest)
	Offset                         int    // or pages by offset
	Limit                          int    // 0: 50; at most 500
}

// Search lists enrollments newest first.
func (db *DB) Search(ctx context.Context, f SearchFilter) ([]sequences.Enrollment, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	q, like := strings.ToLower(strings.TrimSpace(f.Query)), ""
	if q != "" {
		like = "%" + likeEscape(q) + "%"
	}
	var rows []enrollmentRow
	if err := db.qa.EnrollmentSearch.SelectContext(ctx, &rows, f.Sequence, f.Sequence, f.Status, f.Status, f.Mailbox, f.Mailbox,
		f.Tag, f.Tag, q, like, like, f.BeforeID, f.BeforeID, f.Limit, max(0, f.Offset)); err != nil {
		return nil, fmt.Errorf("searching enrollments: %w", err)
	}
	return decodeRows(rows)
}

// maxTrackingRows bounds what one message can add (a pixel URL fetched in
// a loop must not fill the disk).
const maxTrackingRows = 20

// RecordTracking records an open or a click of a tracked, sent message;
// class decides who probably made it. Unknown messages are ignored.
func (db *DB) RecordTracking(ctx context.Context, messageID, kind, url string, at time.Time, class func(sentAt time.Time, lastClick *time.Time) string) error {
	return db.tx(ctx, func(tx *sqlx.Tx) error {
		var m struct {
			ID        int64    `db:"id"`
			SentAt    sqlTime  `db:"sent_at"`
			N         int      `db:"n"`
			LastClick *sqlTime `db:"last_click"`
		}
		err := tx.StmtxContext(ctx, db.qa.TrackingMessage).GetContext(ctx, &m, kind, messageID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("finding the tracked message: %w", err)
		}
		if m.N >= maxTrackingRows {
			return nil
		}
		var last *time.Time
		if m.LastClick != nil {
			last = &m.LastClick.T
		}
		if _, err := tx.StmtxContext(ctx, db.qa.TrackingInsert).ExecContext(ctx, m.ID, kind, url, class(m.SentAt.T, last), utc(at)); err != nil {
			return fmt.Errorf("recording a %s: %w", kind, err)
		}
		return nil
	})
}
