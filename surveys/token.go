package surveys

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Token errors, each with its own page.
var (
	ErrInvalidToken = errors.New("invalid survey link")
	ErrExpiredToken = errors.New("expired survey link")
)

// Link is what a valid token stands for.
type Link struct {
	UID    string // the enrollment's random UID
	Survey string
	Issued time.Time // day the link was put in an email
}

const day = 24 * time.Hour

// NewToken makes the token of a personal link.
func NewToken(secret []byte, uid, survey string, issued time.Time) string {
	payload := uid + "~" + survey + "~" + strconv.FormatInt(issued.Unix()/int64(day/time.Second), 36)
	p := base64.RawURLEncoding.EncodeToString([]byte(payload))
	return p + "." + tokenSig(secret, p)
}

func tokenSig(secret []byte, p string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("survey\x00" + p))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// ParseToken checks a token's signature and age (maxAge after issue).
func ParseToken(secret []byte, token string, maxAge time.Duration, now time.Time) (Link, error) {
	p, sig, ok := strings.Cut(token, ".")
	if !ok || len(secret) == 0 || !hmac.Equal([]byte(sig), []byte(tokenSig(secret, p))) {
		return Link{}, ErrInvalidToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return Link{}, ErrInvalidToken
	}
	parts := strings.Split(string(raw), "~")
	if len(parts) != 3 {
		return Link{}, ErrInvalidToken
	}
	days, err := strconv.ParseInt(parts[2], 36, 64)
	if err != nil {
		return Link{}, ErrInvalidToken
	}
	l := Link{UID: parts[0], Survey: parts[1], Issued: time.Unix(days*int64(day/time.Second), 0)}
	if l.Expired(maxAge, now) {
		return l, ErrExpiredToken
	}
	return l, nil
}

// Expired reports whether a link issued on its day is older than maxAge
// (0: never expires), counting the whole last day.
func (l Link) Expired(maxAge time.Duration, now time.Time) bool {
	return maxAge > 0 && now.After(l.Issued.Add(maxAge+day))
}

// TokenHash is how a used token is remembered (anonymous responses must not
// keep the token itself, which names the enrollment).
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
