package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries the timestamp and the signature(s) of a delivery:
//
//	Followup-Signature: t=1732435200,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
//
// v1 is the hex HMAC-SHA256, keyed with the endpoint's secret, of the
// timestamp, a period and the raw request body ("1732435200.{...}"). Several
// v1 values may appear (a receiver may accept any of them).
const SignatureHeader = "Followup-Signature"

// EventHeader names the event type; DeliveryHeader the delivery's id (the
// same on every attempt of that delivery).
const (
	EventHeader    = "Followup-Event"
	DeliveryHeader = "Followup-Delivery"
)

// Errors returned by Verify; check them with errors.Is.
var (
	ErrNoSignature  = errors.New("no usable Followup-Signature header")
	ErrBadSignature = errors.New("the signature does not match the body")
	ErrTimestamp    = errors.New("the signature's timestamp is outside the tolerance (a replay, or a clock far off)")
)

// Sign returns the Followup-Signature header value for body sent at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a delivery as a receiver should: header is the
// Followup-Signature value, body the raw request body (before any JSON
// decoding), now the receiver's clock. The timestamp must be within
// tolerance of now (5 minutes is usual), which stops an attacker replaying
// a captured request later; the signature is compared in constant time. A
// receiver should still drop duplicates by the payload's "id": a delivery
// can arrive more than once.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrNoSignature
	}
	want := mac(secret, ts, body)
	match := false
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			match = true
		}
	}
	if !match {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: signed at %s, now %s", ErrTimestamp, time.Unix(sec, 0).UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}
