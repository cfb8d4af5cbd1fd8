package webhooks_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"followup/webhooks"
)

func TestVerify(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	body := []byte(`{"id":"42","type":"message.sent","created_at":"2026-11-23T09:00:00Z","data":{"email":"a@example.com"}}`)
	signedAt := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	good := webhooks.Sign(secret, signedAt, body)
	other := webhooks.Sign([]byte("another secret of at least 32 chars!"), signedAt, body)
	_, v1, _ := strings.Cut(good, ",v1=")
	tests := []struct {
		name   string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", good, body, signedAt.Add(time.Minute), nil},
		{"valid, receiver clock a little behind", good, body, signedAt.Add(-time.Minute), nil},
		{"rotated secrets: one of two v1 matches", other + ",v1=" + v1, body, signedAt, nil},
		{"body changed", good, bytes.Replace(body, []byte("a@example"), []byte("b@example"), 1), signedAt, webhooks.ErrBadSignature},
		{"signed with another secret", other, body, signedAt, webhooks.ErrBadSignature},
		{"timestamp changed", strings.Replace(good, "t=", "t=1", 1), body, signedAt, webhooks.ErrBadSignature},
		{"replayed an hour later", good, body, signedAt.Add(time.Hour), webhooks.ErrTimestamp},
		{"from the future", good, body, signedAt.Add(-time.Hour), webhooks.ErrTimestamp},
		{"no header", "", body, signedAt, webhooks.ErrNoSignature},
		{"no v1", "t=1795424400", body, signedAt, webhooks.ErrNoSignature},
		{"garbage", "v1=zz,t=now", body, signedAt, webhooks.ErrNoSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := webhooks.Verify(secret, tt.header, tt.body, tt.now, 5*time.Minute)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSignMatchesDocumentedScheme(t *testing.T) {
	// HMAC-SHA256("secret", "1700000000.{}") computed independently
	// (printf '1700000000.{}' | openssl dgst -sha256 -hmac secret).
	got := webhooks.Sign([]byte("secret"), time.Unix(1700000000, 0), []byte("{}"))
	want := "t=1700000000,v1=" + "b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
	if got != want {
		t.Errorf("Sign = %s\nwant %s", got, want)
	}
}

func TestTypeOf(t *testing.T) {
	for kind, want := range map[string]string{
		"sent": webhooks.MessageSent, "send_failed": webhooks.MessageFailed,
		"reply": webhooks.ReplyReceived, "not_interested": webhooks.ReplyReceived, "bounce": webhooks.BounceReceived,
		"unsubscribe": webhooks.Unsubscribed, "complaint": webhooks.Unsubscribed, "suppressed": webhooks.Unsubscribed,
		"survey": webhooks.SurveyCompleted, "finished": webhooks.EnrollmentFinished, "stopped": webhooks.EnrollmentFinished,
		"enrolled": "", "paused": "", "auto_reply": "", "delivery_unknown": "", "review": "", "erased": "",
	} {
		if got := webhooks.TypeOf(kind); got != want {
			t.Errorf("TypeOf(%q) = %q, want %q", kind, got, want)
		}
	}
}
