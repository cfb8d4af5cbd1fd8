package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"followup/store"
	"followup/web"
)

func TestReadyzFollowsTheDatabaseAndMailboxes(t *testing.T) {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "followup.db"))
	if err != nil {
		t.Fatal(err)
	}
	imapUp := true
	checks := []web.ReadyCheck{
		{Name: "database", Check: func(ctx context.Context) string {
			if db.Ping(ctx) != nil {
				return "not answering"
			}
			return ""
		}},
		{Name: "imap:wangmin", Check: func(context.Context) string {
			if !imapUp {
				return "not connected"
			}
			return ""
		}},
	}
	h := web.Readiness(checks, time.Second, nil)
	get := func() (int, map[string]any) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("body %q: %v", rec.Body.String(), err)
		}
		return rec.Code, body
	}
	if code, body := get(); code != http.StatusOK || body["ready"] != true || body["not_ready"] != nil {
		t.Errorf("all up: %d %v", code, body)
	}
	imapUp = false
	if code, body := get(); code != http.StatusServiceUnavailable || body["not_ready"].(map[string]any)["imap:wangmin"] != "not connected" {
		t.Errorf("imap down: %d %v", code, body)
	}
	imapUp = true
	db.Close()
	code, body := get()
	nr, _ := body["not_ready"].(map[string]any)
	if code != http.StatusServiceUnavailable || body["ready"] != false || nr["database"] != "not answering" || len(nr) != 1 {
		t.Errorf("database closed: %d %v", code, body)
	}
}
