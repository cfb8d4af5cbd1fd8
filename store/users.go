package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// userQueries are the statements of store/queries/users.sql.
type userQueries struct {
	Insert         *sqlx.Stmt `query:"user-insert"`
	ByLogin        *sqlx.Stmt `query:"user-by-login,read"`
	List           *sqlx.Stmt `query:"user-list,read"`
	Delete         *sqlx.Stmt `query:"user-delete"`
	SetPassword    *sqlx.Stmt `query:"user-set-password"`
	SetLanguage    *sqlx.Stmt `query:"user-set-language"`
	SessionsDelete *sqlx.Stmt `query:"user-sessions-delete"`
	SessionInsert  *sqlx.Stmt `query:"session-insert"`
	SessionGet     *sqlx.Stmt `query:"session-get,read"`
	SessionTouch   *sqlx.Stmt `query:"session-touch"`
	SessionDelete  *sqlx.Stmt `query:"session-delete"`
	SessionsPurge  *sqlx.Stmt `query:"sessions-expired-delete"`
}

// User is a person who signs in to the dashboard.
type User struct {
	ID           int64     `db:"id"`
	Login        string    `db:"login"`
	PasswordHash string    `db:"password_hash"`
	Language     string    `db:"language"` // "" follows the browser
	CreatedAt    time.Time `db:"created_at"`
}

// ErrExists is returned when a user with that login already exists.
var ErrExists = errors.New("already exists")

// AddUser stores a new user with an already hashed password.
func (db *DB) AddUser(ctx context.Context, login, passwordHash, language string, now time.Time) error {
	now = utc(now)
	return db.tx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.StmtxContext(ctx, db.users.Insert).ExecContext(ctx, login, passwordHash, language, now, now)
		if err != nil {
			return fmt.Errorf("adding user %s: %w", login, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("user %s: %w", login, ErrExists)
		}
		return nil
	})
}

// UserByLogin finds a user (ErrNotFound when there is none).
func (db *DB) UserByLogin(ctx context.Context, login string) (User, error) {
	var u User
	err := db.users.ByLogin.GetContext(ctx, &u, login)
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("user %s: %w", login, ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("loading user %s: %w", login, err)
	}
	return u, nil
}

// Users lists every user by login.
func (db *DB) Users(ctx context.Context) ([]User, error) {
	var out []User
	if err := db.users.List.SelectContext(ctx, &out); err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	return out, nil
}

// RemoveUser deletes a user and their sessions; it reports whether there
// was one.
func (db *DB) RemoveUser(ctx context.Context, login string) (bool, error) {
	removed := false
	err := db.tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.StmtxContext(ctx, db.users.SessionsDelete).ExecContext(ctx, login); err != nil {
			return fmt.Errorf("ending the sessions of %s: %w", login, err)
		}
		res, err := tx.StmtxContext(ctx, db.users.Delete).ExecContext(ctx, login)
		if err != nil {
			return fmt.Errorf("removing user %s: %w", login, err)
		}
		n, _ := res.RowsAffected()
		removed = n > 0
		return nil
	})
	return removed, err
}

// SetPassword replaces a user's password hash and ends all their sessions.
// It reports whether the user exists.
func (db *DB) SetPassword(ctx context.Context, login, passwordHash string, now time.Time) (bool, error) {
	found := false
	err := db.tx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.StmtxContext(ctx, db.users.SetPassword).ExecContext(ctx, passwordHash, utc(now), login)
		if err != nil {
			return fmt.Errorf("changing the password of %s: %w", login, err)
		}
		n, _ := res.RowsAffected()
		found = n > 0
		if _, err := tx.StmtxContext(ctx, db.users.SessionsDelete).ExecContext(ctx, login); err != nil {
			return fmt.Errorf("ending the sessions of %s: %w", login, err)
		}
		return nil
	})
	return found, err
}

// SetUserLanguage sets the dashboard language of a user ("" follows the browser).
func (db *DB) SetUserLanguage(ctx context.Context, userID int64, language string, now time.Time) error {
	return db.tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.StmtxContext(ctx, db.users.SetLanguage).ExecContext(ctx, language, utc(now), userID); err != nil {
			return fmt.Errorf("setting the language of user %d: %w", userID, err)
		}
		return nil
	})
}

// Session is a signed-in browser.
type Session struct {
	IDHash     string    `db:"id_hash"`
	UserID     int64     `db:"user_id"`
	CreatedAt  time.Time `db:"created_at"`
	ExpiresAt  time.Time `db:"expires_at"`
	LastSeenAt time.Time `db:"last_seen_at"`
	Login      string    `db:"login"`
	Language   string    `db:"language"`
}

// CreateSession stores a session by the hash of its id.
func (db *DB) CreateSession(ctx context.Context, idHash string, userID int64, now, expires time.Time) error {
	now = utc(now)
	return db.tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.StmtxContext(ctx, db.users.SessionInsert).ExecContext(ctx, idHash, userID, now, utc(expires), now); err != nil {
			return fmt.Errorf("starting a session: %w", err)
		}
		return nil
	})
}

// SessionByHash loads a session with its user (ErrNotFound when there is none).
func (db *DB) SessionByHash(ctx context.Context, idHash string) (Session, error) {
	var s Session
	err := db.users.SessionGet.GetContext(ctx, &s, idHash)
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("session: %w", ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("loading a session: %w", err)
	}
	return s, nil
}

// TouchSession records that a session was used.
func (db *DB) TouchSession(ctx context.Context, idHash string, now time.Time) error {
	return db.tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.StmtxContext(ctx, db.users.SessionTouch).ExecContext(ctx, utc(now), idHash); err != nil {
			return fmt.Errorf("touching a session: %w", err)
		}
		return nil
	})
}

// DeleteSession ends a session (sign-out).
func (db *DB) DeleteSession(ctx context.Context, idHash string) error {
	return db.tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.StmtxContext(ctx, db.users.SessionDelete).ExecContext(ctx, idHash); err != nil {
			return fmt.Errorf("ending a session: %w", err)
		}
		return nil
	})
}

// PurgeSessions deletes sessions past their expiry or idle since before
// idleSince; it returns how many.
func (db *DB) PurgeSessions(ctx context.Context, now, idleSince time.Time) (int64, error) {
	var n int64
	err := db.tx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.StmtxContext(ctx, db.users.SessionsPurge).ExecContext(ctx, utc(now), utc(idleSince))
		if err != nil {
			return fmt.Errorf("purging sessions: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}
