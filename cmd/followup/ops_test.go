package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"followup/webhooks"
)

// TestServeOperations runs serve with /metrics, /readyz and a webhook to a
// local receiver that verifies every signature.
func TestServeOperations(t *testing.T) {
	tp := newTestProject(t)
	secret := strings.Repeat("w", 40)
	var mu sync.Mutex
	var got []webhooks.Payload
	arrived := make(chan struct{}, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhooks.Verify([]byte(secret), r.Header.Get(webhooks.SignatureHeader), body, time.Now(), 5*time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var p webhooks.Payload
		_ = json.Unmarshal(body, &p)
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
		arrived <- struct{}{}
	}))
	defer rcv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	tp.write("followup.yaml", tp.read("followup.yaml")+fmt.Sprintf(`
http:
  listen: %s
  public_url: http://%s
  secret_env: FOLLOWUP_SECRET
  metrics: true
  metrics_token_env: METRICS_TOKEN
webhooks:
  - url: %s/hook
    secret_env: HOOK_SECRET
    events: [message.sent]
`, addr, addr, rcv.URL))
	tp.getenv = func(k string) string {
		return map[string]string{"FOLLOWUP_SMTP_PASSWORD": "pw", "FOLLOWUP_SECRET": strings.Repeat("s", 40),
			"HOOK_SECRET": secret, "METRICS_TOKEN": "metrics-token-1234"}[k]
	}
	tp.now = time.Now().Add(-3 * time.Hour)
	tp.mustRun("enroll", "bob@example.com", "-s", "post-interview-thanks", "-n", "Bob", "-l", "en", "-f", "job_title=SRE")
	defer tp.serveInBackground()()
	select {
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatal("no webhook arrived")
	}
	mu.Lock()
	if len(got) != 1 || got[0].Type != webhooks.MessageSent || got[0].Data.Email != "bob@example.com" || got[0].Data.Sequence != "post-interview-thanks" {
		t.Errorf("webhooks received: %+v", got)
	}
	mu.Unlock()

	get := func(path, auth string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/readyz", ""); code != 200 || !strings.Contains(body, `"ready":true`) {
		t.Errorf("/readyz: %d %s", code, body)
	}
	if code, _ := get("/metrics", ""); code != 401 {
		t.Errorf("/metrics without the token: %d", code)
	}
	// The receiver has the delivery a moment before serve records it: wait
	// for the record.
	var code int
	var body string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if code, body = get("/metrics", "metrics-token-1234"); strings.Contains(body, `outcome="delivered"} 1`) {
			break
		}
	}
	for _, want := range []string{
		`followup_messages_sent_total{mailbox="recruiter"} 1`,
		`followup_http_request_duration_seconds_count{code="200",route="GET /readyz"} 1`,
		`followup_http_request_duration_seconds_count{code="401",route="GET /metrics"} 1`,
		`followup_webhook_deliveries_total{outcome="delivered"} 1`,
	} {
		if code != 200 || !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics (%d) lacks %q", code, want)
		}
	}
	if strings.Contains(body, "metrics-token") || strings.Contains(body, secret) {
		t.Error("/metrics shows a secret")
	}
	tp.now = time.Now()
	if out := tp.mustRun("webhooks", "log"); !strings.Contains(out, "message.sent") || !strings.Contains(out, "delivered") || !strings.Contains(out, "HTTP 200") {
		t.Errorf("webhooks log:\n%s", out)
	}
	if out := tp.mustRun("webhooks", "log", "--failed"); !strings.Contains(out, "No webhook deliveries match") {
		t.Errorf("webhooks log --failed:\n%s", out)
	}
	if out := tp.mustRun("webhooks", "retry", "1"); !strings.Contains(out, "delivery 1 (message.sent") {
		t.Errorf("webhooks retry:\n%s", out)
	}
	select {
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatal("the retried delivery did not arrive")
	}
	if _, err := tp.run("webhooks", "retry", "99"); exitCode(err) != 1 {
		t.Errorf("retrying an unknown id: %v", err)
	}
	// The sent message shows once in the timeline (its "sent" event, whose
	// detail is the Message-ID, is left out).
	show := tp.mustRun("show", "bob@example.com")
	_, id, _ := strings.Cut(show, "<")
	id, _, _ = strings.Cut(id, ">")
	if id == "" || strings.Count(show, id) != 1 {
		t.Errorf("the sent message (%q) should show once in the timeline:\n%s", id, show)
	}
}
