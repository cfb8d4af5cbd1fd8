package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"followup/sequences"
	"followup/store"
)

func setup(t testing.TB) (*store.DB, http.Handler, []byte, sequences.Enrollment) {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "f.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	seq := &sequences.Sequence{Name: "s", Steps: []sequences.Step{{Template: "a", After: sequences.Delay{D: time.Hour}}}}
	out, err := db.Enroll(context.Background(), []sequences.EnrollRequest{{
		Candidate: sequences.Candidate{Email: "li.lei@example.com", Name: "李雷", Language: "zh-CN"}, Sequence: "s", Mailbox: "m",
	}}, map[string]*sequences.Sequence{"s": seq}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("0123456789abcdef0123456789abcdef")
	srv, err := New(db, secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	return db, srv.Handler(), secret, out[0].Enrollment
}

func do(h http.Handler, method, target string, form url.Values, header map[string]string) *httptest.ResponseRecorder {
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	r := httptest.NewRequest(method, target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func suppressed(t *testing.T, db *store.DB) bool {
	list, err := db.Suppressions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(list) > 0
}

func TestUnsubscribePageNeverRecordsOnGET(t *testing.T) {
	db, h, secret, e := setup(t)
	path := "/u/" + sequences.UnsubscribeToken(secret, e.UID)
	for i := 0; i < 3; i++ { // a link scanner opens it, twice, then the person
		w := do(h, "GET", path, nil, nil)
		if w.Code != 200 || !strings.Contains(w.Body.String(), "确认退订") || !strings.Contains(w.Body.String(), "li.lei@example.com") {
			t.Fatalf("GET: %d %s", w.Code, w.Body.String())
		}
	}
	if suppressed(t, db) {
		t.Fatal("a GET unsubscribed")
	}
	w := do(h, "POST", path, url.Values{"confirm": {"yes"}}, nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "已退订") {
		t.Fatalf("POST: %d %s", w.Code, w.Body.String())
	}
	if !suppressed(t, db) {
		t.Fatal("the POST did not unsubscribe")
	}
	tl, _ := db.Timeline(context.Background(), "li.lei@example.com")
	if tl.Enrollments[0].Status != sequences.Stopped {
		t.Errorf("enrollment %s after unsubscribing", tl.Enrollments[0].Status)
	}
}

func TestOneClickUnsubscribe(t *testing.T) {
	db, h, secret, e := setup(t)
	w := do(h, "POST", "/u/"+sequences.UnsubscribeToken(secret, e.UID), url.Values{"List-Unsubscribe": {"One-Click"}}, nil)
	if w.Code != 200 || !suppressed(t, db) {
		t.Fatalf("one-click: %d, suppressed %v", w.Code, suppressed(t, db))
	}
}

func TestBadRequestsRecordNothing(t *testing.T) {
	db, h, secret, e := setup(t)
	good := sequences.UnsubscribeToken(secret, e.UID)
	tests := []struct {
		name, method, path string
		form               url.Values
		code               int
	}{
		{"forged signature", "POST", "/u/" + e.UID + ".AAAAAAAAAAAAAAAAAAAAAAAA", url.Values{"confirm": {"yes"}}, 404},
		{"another enrollment's uid", "POST", "/u/" + sequences.UnsubscribeToken(secret, "nosuchuid"), url.Values{"confirm": {"yes"}}, 404},
		{"signed with another secret", "POST", "/u/" + sequences.UnsubscribeToken([]byte("other"), e.UID), url.Values{"confirm": {"yes"}}, 404},
		{"no confirmation", "POST", "/u/" + good, url.Values{}, 400},
		{"oversized body", "POST", "/u/" + good, url.Values{"confirm": {"yes"}, "x": {strings.Repeat("a", 10000)}}, 400},
		{"garbage token", "GET", "/u/%3Cscript%3E", nil, 404},
	}
	for _, tt := range tests {
		w := do(h, tt.method, tt.path, tt.form, map[string]string{"Accept-Language": "en-GB,en;q=0.9"})
		if w.Code != tt.code {
			t.Errorf("%s: %d, want %d", tt.name, w.Code, tt.code)
		}
		if strings.Contains(w.Body.String(), "<script>") {
			t.Errorf("%s: reflected markup", tt.name)
		}
	}
	if suppressed(t, db) {
		t.Error("a bad request unsubscribed someone")
	}
	if w := do(h, "GET", "/u/x.y", nil, map[string]string{"Accept-Language": "en"}); !strings.Contains(w.Body.String(), "This link does not work") {
		t.Errorf("invalid page in English: %s", w.Body.String())
	}
	if w := do(h, "GET", "/healthz", nil, nil); w.Code != 200 {
		t.Errorf("healthz %d", w.Code)
	}
}
