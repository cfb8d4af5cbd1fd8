package dashboard

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"followup/sequences"
	"followup/store"
)

// Hostile text typed by anyone (a candidate's name from a CSV, a note, a
// tag) is shown as text, never run.
func TestHostileTextIsShownAsText(t *testing.T) {
	f := newFixture(t)
	const evil = `<script>alert(1)</script><img src=x onerror=alert(2)>"'`
	e := f.enroll(t, "x@example.com", evil, "post-interview-thanks", map[string]string{"job_title": evil})
	c := f.signedIn(t)
	token := c.csrf()
	id := e.CandidateID
	for path, form := range map[string]url.Values{
		fmt.Sprintf("/candidates/%d/notes", id): {"note": {evil}},
		fmt.Sprintf("/candidates/%d/tags", id):  {"tags": {`<b onmouseover=alert(3)>x</b>`}},
	} {
		form.Set("csrf", token)
		if r := c.post(path, form); r.Code != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", path, r.Code, r.Body)
		}
	}
	for _, path := range []string{fmt.Sprintf("/candidates/%d", id), "/candidates", "/candidates?q=" + url.QueryEscape(evil)} {
		body := c.get(path).Body
		for _, bad := range []string{"<script>alert", "<img src=x", "<b onmouseover"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s: %q appears unescaped", path, bad)
			}
		}
		if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") && !strings.Contains(body, "&lt;b onmouseover") {
			t.Errorf("%s: the hostile text is not shown escaped", path)
		}
	}
	if r := c.get(fmt.Sprintf("/candidates/%d", id)); !strings.Contains(r.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Errorf("CSP %q", r.Header.Get("Content-Security-Policy"))
	}
}

func TestPauseResumeStop(t *testing.T) {
	f := newFixture(t)
	e := f.enroll(t, "li.lei@example.com", "李雷", "post-interview-thanks", map[string]string{"job_title": "工程师"})
	f.enroll(t, "li.lei@example.com", "李雷", "next-round-prep", map[string]string{"job_title": "工程师", "next_round": "二面", "next_round_date": "周五", "prepare": "作品集"})
	c := f.signedIn(t)
	token := c.csrf()
	status := func() map[string]string {
		tl, err := f.db.Timeline(context.Background(), "li.lei@example.com")
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, e := range tl.Enrollments {
			out[e.Sequence] = string(e.Status)
		}
		return out
	}
	for _, tc := range []struct {
		verb, sequence string
		want           map[string]string
	}{
		{"pause", "post-interview-thanks", map[string]string{"post-interview-thanks": "paused", "next-round-prep": "active"}},
		{"resume", "", map[string]string{"post-interview-thanks": "active", "next-round-prep": "active"}},
		{"pause", "", map[string]string{"post-interview-thanks": "paused", "next-round-prep": "paused"}},
		{"stop", "next-round-prep", map[string]string{"post-interview-thanks": "paused", "next-round-prep": "stopped"}},
		{"resume", "", map[string]string{"post-interview-thanks": "active", "next-round-prep": "stopped"}},
	} {
		r := c.post(fmt.Sprintf("/candidates/%d/%s", e.CandidateID, tc.verb), url.Values{"csrf": {token}, "sequence": {tc.sequence}})
		if r.Code != http.StatusSeeOther || r.Location != fmt.Sprintf("/candidates/%d?done=%s", e.CandidateID, tc.verb) {
			t.Fatalf("%s %s: %d %s", tc.verb, tc.sequence, r.Code, r.Location)
		}
		if got := status(); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("after %s %s: %v", tc.verb, tc.sequence, got)
		}
	}
	page := c.get(fmt.Sprintf("/candidates/%d?done=resume", e.CandidateID)).Body
	for _, want := range []string{"Resumed.", "paused in the dashboard by wang", "stopped in the dashboard by wang"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not say %q", want)
		}
	}
	if r := c.post("/candidates/999/pause", url.Values{"csrf": {token}}); r.Code != http.StatusNotFound {
		t.Errorf("unknown candidate: %d", r.Code)
	}
}

func TestEnrollForm(t *testing.T) {
	f := newFixture(t)
	c := f.signedIn(t)
	c.lang = "zh-CN"
	token := c.csrf()
	form := url.Values{"csrf": {token}, "sequence": {"post-interview-thanks"}, "email": {"Han.Meimei@Example.com"}, "name": {"韩梅梅"},
		"language": {"zh-CN"}, "mailbox": {"li"}, "tags": {"产品，紧急"}}
	// Without the sequence's field: the problem is said, nothing stored.
	r := c.post("/enroll", form)
	if r.Code != http.StatusBadRequest || !strings.Contains(r.Body, "job_title") || !strings.Contains(r.Body, `value="韩梅梅"`) {
		t.Fatalf("missing field: %d %s", r.Code, r.Body)
	}
	form.Set("f.job_title", "产品经理")
	r = c.post("/enroll", form)
	if r.Code != http.StatusSeeOther || !strings.HasSuffix(r.Location, "?done=enrolled") {
		t.Fatalf("enroll: %d %s", r.Code, r.Body)
	}
	page := c.get(r.Location).Body
	for _, want := range []string{"已加入序列。", "han.meimei@example.com", "产品", "紧急", "进行中"} {
		if !strings.Contains(page, want) {
			t.Errorf("candidate page lacks %q", want)
		}
	}
	if r := c.post("/enroll", form); !strings.HasSuffix(r.Location, "?done=already") {
		t.Errorf("twice: %d %s", r.Code, r.Location)
	}
	// A suppressed address is refused with the reason.
	if _, err := f.db.Suppress(context.Background(), []string{"gone@example.com"}, "unsubscribe page", f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	form.Set("email", "gone@example.com")
	if r := c.post("/enroll", form); r.Code != http.StatusConflict || !strings.Contains(r.Body, "suppressed") {
		t.Errorf("suppressed: %d %s", r.Code, r.Body)
	}
}

func TestEnrollByTag(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Three candidates tagged 潜力: one already in the sequence, one
	// unsubscribed since, one free to enroll.
	var ids []int64
	for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		e := f.enroll(t, email, "", "post-interview-thanks", map[string]string{"job_title": "工程师"})
		ids = append(ids, e.CandidateID)
		if _, err := f.db.TagCandidate(ctx, e.CandidateID, []string{"潜力"}, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	f.enroll(t, "a@example.com", "", "talent-pool-warmup", nil)
	if _, err := f.db.Suppress(ctx, []string{"b@example.com"}, "unsubscribe page", f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	c := f.signedIn(t)
	r := c.post("/enroll/tag", url.Values{"csrf": {c.csrf()}, "tag": {"潜力"}, "sequence": {"talent-pool-warmup"}, "mailbox": {"wang"}})
	if r.Code != http.StatusOK || !strings.Contains(r.Body, "Tag “潜力” → talent-pool-warmup: 1 enrolled, 1 already enrolled, 1 skipped.") {
		t.Fatalf("%d %s", r.Code, r.Body)
	}
	if !strings.Contains(r.Body, "b@example.com: the address is suppressed") || !strings.Contains(r.Body, "a@example.com: already active") {
		t.Errorf("the lists: %s", r.Body)
	}
	got, _ := f.db.SearchEnrollments(ctx, store.SearchFilter{Sequence: "talent-pool-warmup"})
	if len(got) != 2 {
		t.Errorf("%d enrollments in talent-pool-warmup", len(got))
	}
}

func upload(t *testing.T, c *client, name string, content []byte, fields map[string]string) response {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", c.csrf())
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(content)
	mw.Close()
	return c.do("POST", "/enroll/upload", &buf, map[string]string{"Content-Type": mw.FormDataContentType()})
}

// waitJob waits until the import behind a progress page has finished.
func (f *fixture) waitJob(t *testing.T, location string) {
	t.Helper()
	id := strings.TrimPrefix(location, "/enroll/upload/")
	f.dash.jobs.mu.Lock()
	j := f.dash.jobs.jobs[id]
	f.dash.jobs.mu.Unlock()
	if j == nil {
		t.Fatalf("no job %s", id)
	}
	<-j.done
}

func TestUploadReportsRejectedRows(t *testing.T) {
	f := newFixture(t)
	c := f.signedIn(t)
	csv := "email,name,sequence,tags,job_title\n" +
		"li.lei@example.com,李雷,post-interview-thanks,\"Go；紧急\",工程师\n" +
		"oops,X,post-interview-thanks,,工程师\n" +
		"han@example.com,韩梅梅,no-such-sequence,,产品\n" +
		"bob@example.com,Bob,post-interview-thanks,,SRE\n"
	r := upload(t, c, "candidates.csv", []byte(csv), nil)
	if r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/enroll/upload/") {
		t.Fatalf("upload: %d %s", r.Code, r.Body)
	}
	f.waitJob(t, r.Location)
	page := c.get(r.Location).Body
	for _, want := range []string{"Import finished.", `<b data-k="enrolled">2</b>`, `<b data-k="rejected">2</b>`,
		"<td>3</td><td>oops</td>", "<td>4</td><td>han@example.com</td>", "no-such-sequence"} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %q:\n%s", want, page)
		}
	}
	status := c.get(r.Location + "/status")
	if !strings.Contains(status.Body, `"done":true`) || !strings.Contains(status.Body, `"enrolled":2`) {
		t.Errorf("status %s", status.Body)
	}
	tags, _ := f.db.AllTags(context.Background())
	if len(tags) != 2 {
		t.Errorf("tags from the file: %+v", tags)
	}
	// Another user cannot see the report.
	if r2 := f.client(t).get(r.Location); r2.Code != http.StatusSeeOther {
		t.Errorf("without a session: %d", r2.Code)
	}
}

func TestUploadLimits(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.UploadLimit = 1 << 20 })
	c := f.signedIn(t)
	big := bytes.Repeat([]byte("x"), 1<<20+1)
	if r := upload(t, c, "big.csv", big, nil); r.Code != http.StatusRequestEntityTooLarge || !strings.Contains(r.Body, "1 MiB") {
		t.Errorf("too big: %d %s", r.Code, r.Body)
	}
	if r := upload(t, c, "huge.csv", bytes.Repeat([]byte("x"), 3<<20), nil); r.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("far too big: %d", r.Code)
	}
	// A GBK file without the encoding: the report says what to do.
	gbk := []byte("email,name\n\xc0\xee\xc0\xd7@example.com,\xc0\xee\xc0\xd7\n")
	r := upload(t, c, "gbk.csv", gbk, map[string]string{"sequence": "post-interview-thanks"})
	f.waitJob(t, r.Location)
	if page := c.get(r.Location).Body; !strings.Contains(page, "GBK / GB18030") {
		t.Errorf("GBK: %s", page)
	}
}

func TestPagesRender(t *testing.T) {
	f := newFixture(t)
	f.enroll(t, "li.lei@example.com", "李雷", "checked-thanks", map[string]string{"job_title": "工程师"})
	c := f.signedIn(t)
	for _, tc := range []struct{ path, want string }{
		{"/candidates?sequence=checked-thanks&status=active", "li.lei@example.com"},
		{"/sequences", "checked-thanks"},
		{"/review", "Nothing is waiting for review."},
		{"/candidates/1", "李雷"},
		{"/surveys", "nps"},
		{"/surveys/nps", "No responses yet."},
		{"/enroll?sequence=next-round-prep", `name="f.next_round_date"`},
		{"/enroll/tag", "Enroll by tag"},
		{"/enroll/upload", `enctype="multipart/form-data"`},
	} {
		r := c.get(tc.path)
		if r.Code != http.StatusOK || !strings.Contains(r.Body, tc.want) {
			t.Errorf("GET %s: %d, lacks %q", tc.path, r.Code, tc.want)
		}
	}
	c.lang = "zh-CN,zh;q=0.9"
	if r := c.get("/candidates"); !strings.Contains(r.Body, `lang="zh-CN"`) || !strings.Contains(r.Body, "候选人") {
		t.Errorf("Chinese: %s", r.Body)
	}
	// The user's own setting wins over the browser.
	if r := c.post("/settings/language", url.Values{"csrf": {c.csrf()}, "language": {"en"}, "back": {"/sequences"}}); r.Location != "/sequences" {
		t.Fatalf("language: %d %s", r.Code, r.Location)
	}
	if r := c.get("/candidates"); !strings.Contains(r.Body, `lang="en"`) {
		t.Error("the setting is not used")
	}
}

// review makes the candidate's step wait for review, as the scheduler does.
func (f *fixture) review(t *testing.T, draft string) {
	t.Helper()
	ctx := context.Background()
	claims, err := f.db.ClaimDue(ctx, f.clock.Now().Add(72*time.Hour), 10, func(e sequences.Enrollment) string { return e.UID + ".0@x.test" })
	if err != nil || len(claims) != 1 {
		t.Fatalf("claim: %+v %v", claims, err)
	}
	err = f.db.Settle(ctx, []sequences.Outcome{{Claim: claims[0], Kind: sequences.OutReview, At: f.clock.Now(), Draft: draft,
		Sent: sequences.Sent{Subject: "面试之后", From: "wang@example.com", To: "li.lei@example.com", Template: "post-interview-thanks"}}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestReviewQueue(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		form    url.Values
		path    string
		status  sequences.MessageStatus
		subject string
		body    string
	}{
		{"as rendered", url.Values{"mode": {"as-is"}, "subject": {"ignored"}}, "/review/approve", sequences.MsgDeferred, "", ""},
		{"own words", url.Values{"mode": {"edit"}, "subject": {"我的主题"}, "body": {"李雷你好，我自己写的。"}}, "/review/approve", sequences.MsgDeferred, "我的主题", "李雷你好，我自己写的。"},
		{"edited nothing", url.Values{"mode": {"edit"}, "subject": {"面试之后"}, "body": {"草稿正文\r\n"}}, "/review/approve", sequences.MsgDeferred, "", ""},
		{"reject", url.Values{}, "/review/reject", sequences.MsgSkipped, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.enroll(t, "li.lei@example.com", "李雷", "checked-thanks", map[string]string{"job_title": "工程师"})
			f.review(t, "草稿正文\n")
			c := f.signedIn(t)
			if page := c.get("/review").Body; !strings.Contains(page, "草稿正文") || !strings.Contains(page, "面试之后") {
				t.Fatalf("review page: %s", page)
			}
			tc.form.Set("csrf", c.csrf())
			tc.form.Set("email", "li.lei@example.com")
			tc.form.Set("sequence", "checked-thanks")
			if r := c.post(tc.path, tc.form); r.Code != http.StatusSeeOther {
				t.Fatalf("%d %s", r.Code, r.Body)
			}
			texts, _ := f.db.MessageTextsOf(ctx, 1)
			tl, _ := f.db.Timeline(ctx, "li.lei@example.com")
			m := tl.Messages[0]
			if m.Status != tc.status || texts[m.ID].OverrideSubject != tc.subject || texts[m.ID].OverrideBody != tc.body {
				t.Errorf("message %s, texts %+v", m.Status, texts[m.ID])
			}
			if page := c.get("/review").Body; !strings.Contains(page, "Nothing is waiting") {
				t.Error("still waiting")
			}
			if r := c.post(tc.path, tc.form); r.Location != "/review?done=gone" {
				t.Errorf("twice: %s", r.Location)
			}
		})
	}
}
