package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
)

// tagQueries are the statements of store/queries/tags.sql.
type tagQueries struct {
	Insert         *sqlx.Stmt `query:"tag-insert"`
	Delete         *sqlx.Stmt `query:"tag-delete"`
	Of             *sqlx.Stmt `query:"tags-of,read"`
	All            *sqlx.Stmt `query:"tags-all,read"`
	CandidatesWith *sqlx.Stmt `query:"candidates-with-tag,read"`
	Forget         *sqlx.Stmt `query:"forget-tags"`
}

// MaxTagLen is the longest tag, in characters.
const MaxTagLen = 64

// NormalizeTag trims a tag and folds runs of spaces into one; a tag keeps
// its case ("Go", "AI") and is matched exactly. Empty, over-long tags and
// tags with control characters are errors.
func NormalizeTag(s string) (string, error) {
	t := strings.Join(strings.Fields(s), " ")
	switch {
	case t == "":
		return "", errors.New("a tag cannot be empty")
	case !utf8.ValidString(t):
		return "", fmt.Errorf("tag %q is not valid UTF-8", t)
	case utf8.RuneCountInString(t) > MaxTagLen:
		return "", fmt.Errorf("tag %q is longer than %d characters", t, MaxTagLen)
	case strings.IndexFunc(t, unicode.IsControl) >= 0:
		return "", fmt.Errorf("tag %q has a control character", t)
	}
	return t, nil
}

// SplitTags splits a list of tags as people type it: separated by commas
// or semicolons, ASCII or full-width (",", ";", "，", "；", "、").
// Empty entries are dropped, duplicates kept once, order kept.
func SplitTags(s string) ([]string, error) {
	parts := strings.FieldsFunc(s, func(r rune) bool {
		switch r {
		case ',', ';', '，', '；', '、':
			return true
		}
		return false
	})
	var out []string
	seen := map[string]bool{}
	var errs []error
	for _, p := range parts {
		if strings.TrimSpace(p) == "" {
			continue
		}
		t, err := NormalizeTag(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out, errors.Join(errs...)
}

// TagCandidate adds tags to a candidate (normalized; a tag already there is
// left alone) and records a "tagged" event. It returns how many were new.
func (db *DB) TagCandidate(ctx context.Context, candidateID int64, tags []string, now time.Time) (int, error) {
	clean := make([]string, 0, len(tags))
	for _, t := range tags {
		n, err := NormalizeTag(t)
		if err != nil {
			return 0, err
		}
		clean = append(clean, n)
	}
	now = utc(now)
	added := 0
	err := db.tx(ctx, func(tx *sqlx.Tx) error {
		added = 0
		var newTags []string
		for _, t := range clean {
			res, err := tx.StmtxContext(ctx, db.tags.Insert).ExecContext(ctx, candidateID, t, now)
			if err != nil {
				return fmt.Errorf("tagging candidate %d: %w", candidateID, err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				added++
				newTags = append(newTags, t)
			}
		}
		if len(newTags) == 0 {
			return nil
		}
		return db.event(ctx, tx, candidateID, nil, "tagged", strings.Join(newTags, ", "), now)
	})
	return added, err
}

// UntagCandidate removes a tag from a candidate; it reports whether the
// candidate had it.
func (db *DB) UntagCandidate(ctx context.Context, candidateID int64, tag string, now time.Time) (bool, error) {
	t, err := NormalizeTag(tag)
	if err != nil {
		return false, err
	}
	removed := false
	err = db.tx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.StmtxContext(ctx, db.tags.Delete).ExecContext(ctx, candidateID, t)
		if err != nil {
			return fmt.Errorf("untagging candidate %d: %w", candidateID, err)
		}
		n, _ := res.RowsAffected()
		removed = n > 0
		if !removed {
			return nil
		}
		return db.event(ctx, tx, candidateID, nil, "untagged", t, now)
	})
	return removed, err
}

// TagsOf lists a candidate's tags in order.
func (db *DB) TagsOf(ctx context.Context, candidateID int64) ([]string, error) {
	var out []string
	if err := db.tags.Of.SelectContext(ctx, &out, candidateID); err != nil {
		return nil, fmt.Errorf("loading the tags of candidate %d: %w", candidateID, err)
	}
	return out, nil
}

// TagCount is a tag and how many candidates have it.
type TagCount struct {
	Tag string `db:"tag" json:"tag"`
	N   int    `db:"n" json:"count"`
}

// AllTags lists every tag in use with its number of candidates.
func (db *DB) AllTags(ctx context.Context) ([]TagCount, error) {
	var out []TagCount
	if err := db.tags.All.SelectContext(ctx, &out); err != nil {
		return nil, fmt.Errorf("listing tags: %w", err)
	}
	return out, nil
}

// CandidatesWithTag lists the candidates that have a tag, in id order.
func (db *DB) CandidatesWithTag(ctx context.Context, tag string) ([]CandidateRecord, error) {
	var out []CandidateRecord
	if err := db.tags.CandidatesWith.SelectContext(ctx, &out, tag); err != nil {
		return nil, fmt.Errorf("listing candidates tagged %q: %w", tag, err)
	}
	return out, nil
}
