package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"followup/store"
)

// An ATS drives Followup through the API of a running `serve`: it enrolls
// a candidate with a token from `token create`, the step goes out, the
// timeline shows it, and a revoked token stops working.
func TestAPIThroughServe(t *testing.T) {
	tp := newTestProject(t)
	addr := tp.enableHTTP(t)
	out := tp.mustRun("token", "create", "ats", "--scope", "write")
	secret := regexp.MustCompile(`fu_[a-z2-7]+`).FindString(out)
	if secret == "" {
		t.Fatalf("no token in:\n%s", out)
	}
	if _, err := tp.run("token", "create", "x", "--scope", "admin"); exitCode(err) == 0 {
		t.Error("an unknown scope was accepted")
	}
	if list := tp.mustRun("token", "list"); !strings.Contains(list, "ats") || strings.Contains(list, secret) || !strings.Contains(list, "never") {
		t.Errorf("token list:\n%s", list)
	}
	tp.now = time.Now().Add(-3 * time.Hour) // the API enrolls at this time: step 1 (2 h) is due
	defer tp.serveInBackground()()

	call := func(method, path, token, body string) (int, map[string]any) {
		t.Helper()
		var resp *http.Response
		var err error
		for i := 0; i < 100; i++ { // serve may still be starting
			req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			if resp, err = http.DefaultClient.Do(req); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
		return resp.StatusCode, m
	}
	code, m := call("POST", "/api/v1/enrollments", secret,
		`{"email":"bob@example.com","name":"Bob","language":"en","sequence":"post-interview-thanks","fields":{"job_title":"SRE"}}`)
	if code != 201 {
		t.Fatalf("enroll: %d %v", code, m)
	}
	select {
	case <-tp.sandbox.Arrived():
	case <-time.After(20 * time.Second):
		t.Fatal("nothing sent")
	}
	var kinds []string
	for i := 0; i < 50; i++ { // the send is recorded just after it is accepted
		_, c := call("GET", "/api/v1/candidates/bob@example.com", secret, "")
		kinds = kinds[:0]
		for _, it := range c["timeline"].([]any) {
			item := it.(map[string]any)
			status, _ := item["status"].(string)
			kinds = append(kinds, item["kind"].(string)+":"+status)
		}
		if strings.Contains(strings.Join(kinds, " "), "message:sent") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := strings.Join(kinds, " "); !strings.Contains(got, "enrolled:") || !strings.Contains(got, "message:sent") {
		t.Errorf("timeline: %s", got)
	}
	tp.now = time.Now()
	if out := tp.mustRun("token", "revoke", "ats"); !strings.Contains(out, "Revoked") {
		t.Errorf("revoke: %s", out)
	}
	if code, _ := call("GET", "/api/v1/enrollments", secret, ""); code != 401 {
		t.Errorf("revoked token: %d", code)
	}
	if _, err := tp.run("token", "revoke", "ats"); exitCode(err) != 1 {
		t.Errorf("revoking twice: %v", err)
	}
}

func TestReportMetrics(t *testing.T) {
	tp := newTestProject(t)
	tp.mustRun("enroll", "li.lei@example.com", "-s", "post-interview-thanks", "-n", "李雷", "-f", "job_title=工程师", "-f", "source=Boss直聘")
	out := tp.mustRun("report", "metrics")
	for _, want := range []string{"Recruiting metrics", "post-interview-thanks", "Feedback cycle (interview_date", "Candidate NPS: no answers", "Boss直聘"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	js := tp.mustRun("report", "metrics", "--json", "--field", "start_date")
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil || m["feedback_cycle"].(map[string]any)["field"] != "start_date" {
		t.Errorf("--json: %v\n%s", err, js)
	}
	if out, err := tp.run("report", "metrics", "--from", "2026-13-01"); exitCode(err) != 1 || !strings.Contains(out, "YYYY-MM-DD") {
		t.Errorf("bad date: %v %s", err, out)
	}
}

// `followup show` tells what the dashboard's timeline tells: tags, notes
// and survey answers too.
func TestShowHasTagsNotesAndSurveyAnswers(t *testing.T) {
	tp := newTestProject(t)
	tp.mustRun("enroll", "li.lei@example.com", "-s", "post-interview-thanks", "-n", "李雷", "-f", "job_title=工程师")
	w := tp.wire(tp.now)
	tl, err := w.db.Timeline(t.Context(), "li.lei@example.com")
	if err != nil {
		t.Fatal(err)
	}
	id := tl.Candidate.ID
	if _, err := w.db.TagCandidate(t.Context(), id, []string{"Go", "紧急"}, tp.now); err != nil {
		t.Fatal(err)
	}
	if err := w.db.AddNote(t.Context(), id, "wang", "电话沟通过，\n对薪资有顾虑。", tp.now); err != nil {
		t.Fatal(err)
	}
	score := 4
	if _, err := w.db.SaveSurveyResponse(t.Context(), "h", store.SurveyResponse{Survey: "interview-experience", EnrollmentID: tl.Enrollments[0].ID,
		CandidateID: id, Sequence: "post-interview-thanks", Score: &score, Answers: map[string]any{"score": 4}, At: tp.now}); err != nil {
		t.Fatal(err)
	}
	out := tp.mustRun("show", "li.lei@example.com")
	for _, want := range []string{"tags: Go, 紧急", "note      by wang", "│ 对薪资有顾虑。", "survey    interview-experience (post-interview-thanks) score 4"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
}
