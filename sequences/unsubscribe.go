package sequences

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// Unsubscribe links are capabilities: the token names the enrollment (by its
// random UID, no personal data) and carries an HMAC so nobody can forge one
// for another address.

// UnsubscribeToken is the token for an enrollment UID.
func UnsubscribeToken(secret []byte, uid string) string {
	return uid + "." + sign(secret, uid)
}

// VerifyUnsubscribeToken returns the enrollment UID of a valid token.
func VerifyUnsubscribeToken(secret []byte, token string) (string, bool) {
	uid, sig, ok := strings.Cut(token, ".")
	if !ok || uid == "" || len(secret) == 0 {
		return "", false
	}
	return uid, hmac.Equal([]byte(sig), []byte(sign(secret, uid)))
}

func sign(secret []byte, uid string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("unsubscribe\x00" + uid))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}
