package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"followup/sequences"
	"followup/store"
	"followup/surveys"
)

func surveySetup(t testing.TB) (*store.DB, http.Handler, func(survey string) string) {
	t.Helper()
	db, _, secret, e := setup(t)
	set := starterSurveys(t)
	srv, err := New(db, secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	srv.Surveys = &Surveys{Set: set, Store: db, Secret: secret, Now: func() time.Time { return now }}
	link := func(survey string) string { return "/s/" + surveys.NewToken(secret, e.UID, survey, now) }
	return db, srv.Handler(), link
}

func responses(t *testing.T, db *store.DB) []store.SurveyRow {
	rows, err := db.SurveyResponses(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestSurveyGETsRecordNothing(t *testing.T) {
	db, h, link := surveySetup(t)
	for score := 0; score <= 10; score++ { // a link scanner follows all eleven score links
		w := do(h, "GET", link("nps")+"?score="+strconv.Itoa(score), nil, nil)
		if w.Code != 200 {
			t.Fatalf("GET score %d: %d", score, w.Code)
		}
		if score == 9 && !strings.Contains(w.Body.String(), `value="9" checked`) {
			t.Errorf("score 9 is not preselected:\n%s", w.Body.String())
		}
	}
	if n := len(responses(t, db)); n != 0 {
		t.Fatalf("%d responses recorded by GETs", n)
	}
}

func csrfOf(t *testing.T, body string) string {
	i := strings.Index(body, `name="csrf" value="`)
	if i < 0 {
		t.Fatalf("no csrf field in:\n%s", body)
	}
	rest := body[i+len(`name="csrf" value="`):]
	return rest[:strings.IndexByte(rest, '"')]
}

func TestSurveyAnswerFlow(t *testing.T) {
	db, h, link := surveySetup(t)
	page := do(h, "GET", link("declined-offer"), nil, nil)
	if !strings.Contains(page.Body.String(), "薪资低于预期") { // the enrollment's language is zh-CN
		t.Fatalf("page:\n%s", page.Body.String())
	}
	csrf := csrfOf(t, page.Body.String())

	// Missing required answer: inline error, answers kept, nothing stored.
	w := do(h, "POST", link("declined-offer"), url.Values{"csrf": {csrf}, "reasons": {"other"}, "reasons.other": {"<script>alert(1)</script>"}}, nil)
	body := w.Body.String()
	if w.Code != 400 || !strings.Contains(body, "请回答这个问题") || !strings.Contains(body, `value="other" checked`) ||
		!strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") || strings.Contains(body, "<script>alert") {
		t.Fatalf("invalid POST: %d\n%s", w.Code, body)
	}
	// Forged CSRF, a cross-site POST: refused.
	if w := do(h, "POST", link("declined-offer"), url.Values{"csrf": {"nope"}, "reasons": {"salary"}, "contact_again": {"yes"}}, nil); w.Code != 403 {
		t.Errorf("bad csrf: %d", w.Code)
	}
	if w := do(h, "POST", link("declined-offer"), url.Values{"csrf": {csrf}, "reasons": {"salary"}, "contact_again": {"yes"}}, map[string]string{"Sec-Fetch-Site": "cross-site"}); w.Code != 403 {
		t.Errorf("cross-site POST: %d", w.Code)
	}
	if n := len(responses(t, db)); n != 0 {
		t.Fatalf("%d responses after refused POSTs", n)
	}
	// A good answer, then a replay.
	w = do(h, "POST", link("declined-offer"), url.Values{"csrf": {csrf}, "reasons": {"salary", "other"}, "reasons.other": {"通勤太远"}, "contact_again": {"yes"}}, nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "非常感谢您的坦诚") {
		t.Fatalf("good POST: %d\n%s", w.Code, w.Body.String())
	}
	w = do(h, "POST", link("declined-offer"), url.Values{"csrf": {csrf}, "reasons": {"team"}, "contact_again": {"no"}}, nil)
	if !strings.Contains(w.Body.String(), "您已经提交过") {
		t.Errorf("replay: %d\n%s", w.Code, w.Body.String())
	}
	rows := responses(t, db)
	if len(rows) != 1 || !strings.Contains(rows[0].Answers, "通勤太远") || rows[0].Sequence != "s" {
		t.Errorf("stored: %+v", rows)
	}
}

func TestSurveyAnonymousKeepsNoLink(t *testing.T) {
	db, h, link := surveySetup(t)
	csrf := csrfOf(t, do(h, "GET", link("nps"), nil, nil).Body.String())
	if w := do(h, "POST", link("nps"), url.Values{"csrf": {csrf}, "score": {"3"}, "reason": {"太慢"}}, nil); w.Code != 200 {
		t.Fatalf("%d", w.Code)
	}
	var eid *int64
	if err := db.RawDB().QueryRow("SELECT enrollment_id FROM survey_responses").Scan(&eid); err != nil {
		t.Fatal(err)
	}
	if eid != nil {
		t.Errorf("an anonymous response is linked to enrollment %d", *eid)
	}
	if tl, _ := db.Timeline(context.Background(), "li.lei@example.com"); strings.Contains(fmtEvents(tl), "survey") {
		t.Error("an anonymous answer shows in the candidate's timeline")
	}
}

func fmtEvents(tl *store.Timeline) string {
	var b strings.Builder
	for _, e := range tl.Events {
		b.WriteString(e.Kind + " ")
	}
	return b.String()
}

func TestSurveyBadLinksAndFloods(t *testing.T) {
	db, h, link := surveySetup(t)
	good := link("nps")
	tests := []struct {
		name, path string
		code       int
		want       string
	}{
		{"forged", good[:len(good)-3] + "abc", 404, "链接无效"},
		{"unknown survey", link("nope"), 404, ""},
		{"garbage", "/s/%00%01", 404, ""},
	}
	for _, tt := range tests {
		w := do(h, "GET", tt.path, nil, map[string]string{"Accept-Language": "zh-CN"})
		if w.Code != tt.code || !strings.Contains(w.Body.String(), tt.want) {
			t.Errorf("%s: %d\n%s", tt.name, w.Code, w.Body.String())
		}
	}
	// An old link: expired page.
	secret := []byte("0123456789abcdef0123456789abcdef")
	e, _ := db.EnrollmentByUID(context.Background(), strings.Split(mustParse(t, secret, good).UID, "~")[0])
	old := "/s/" + surveys.NewToken(secret, e.UID, "nps", time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC))
	if w := do(h, "GET", old, nil, nil); w.Code != 410 || !strings.Contains(w.Body.String(), "问卷已经结束") {
		t.Errorf("expired: %d\n%s", w.Code, w.Body.String())
	}
	// Oversized body.
	csrf := csrfOf(t, do(h, "GET", good, nil, nil).Body.String())
	if w := do(h, "POST", good, url.Values{"csrf": {csrf}, "score": {"5"}, "reason": {strings.Repeat("x", 100<<10)}}, nil); w.Code != 413 {
		t.Errorf("oversized: %d", w.Code)
	}
	// A flood from one address is slowed down.
	limited := false
	for i := 0; i < 30; i++ {
		if do(h, "GET", good, nil, nil).Code == 429 {
			limited = true
			break
		}
	}
	if !limited {
		t.Error("30 quick requests were never rate-limited")
	}
	if n := len(responses(t, db)); n != 0 {
		t.Errorf("%d responses recorded", n)
	}
}

func mustParse(t *testing.T, secret []byte, path string) surveys.Link {
	l, err := surveys.ParseToken(secret, strings.TrimPrefix(strings.SplitN(path, "?", 2)[0], "/s/"), 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestClientAddr(t *testing.T) {
	tests := []struct {
		remote string
		xff    []string
		want   string
	}{
		{"203.0.113.7:5000", nil, "203.0.113.7"},
		{"203.0.113.7:5000", []string{"198.51.100.1"}, "203.0.113.7"}, // not from a proxy: the header is ignored
		{"127.0.0.1:5000", nil, "127.0.0.1"},
		{"127.0.0.1:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"10.0.0.2:5000", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1"}, // the first entry is the client's word
		{"[::1]:5000", []string{"1.1.1.1", "2001:db8::1"}, "2001:db8::1"},
		{"127.0.0.1:5000", []string{"not an address"}, "127.0.0.1"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/s/x", nil)
		r.RemoteAddr = tt.remote
		for _, v := range tt.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := clientAddr(r); got != tt.want {
			t.Errorf("%s %q: %s, want %s", tt.remote, tt.xff, got, tt.want)
		}
	}
}

// The page speaks the candidate's language: an English-speaking
// candidate's link shows English whatever the browser says; a link whose
// candidate has no stored language follows Accept-Language.
func TestSurveyPageLanguage(t *testing.T) {
	db, h, _ := surveySetup(t)
	seq := &sequences.Sequence{Name: "s", Steps: []sequences.Step{{Template: "a", After: sequences.Delay{D: time.Hour}}}}
	out, err := db.Enroll(context.Background(), []sequences.EnrollRequest{
		{Candidate: sequences.Candidate{Email: "bob@example.com", Name: "Bob", Language: "en"}, Sequence: "s", Mailbox: "m"},
	}, map[string]*sequences.Sequence{"s": seq}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("0123456789abcdef0123456789abcdef")
	bob := "/s/" + surveys.NewToken(secret, out[0].Enrollment.UID, "declined-offer", time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	w := do(h, "GET", bob, nil, map[string]string{"Accept-Language": "zh-CN,zh;q=0.9"})
	body := w.Body.String()
	if w.Code != 200 || !strings.Contains(body, `lang="en"`) || !strings.Contains(body, "Salary below expectations") || strings.Contains(body, "薪资低于预期") {
		t.Fatalf("English candidate: %d\n%s", w.Code, body)
	}
	csrf := csrfOf(t, body)
	w = do(h, "POST", bob, url.Values{"csrf": {csrf}, "contact_again": {"no"}}, nil)
	if w.Code != 400 || !strings.Contains(w.Body.String(), "Please answer this question") {
		t.Errorf("English error: %d\n%s", w.Code, w.Body.String())
	}
	w = do(h, "POST", bob, url.Values{"csrf": {csrf}, "reasons": {"location"}, "contact_again": {"no"}}, nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "Thank you for being candid") {
		t.Errorf("English thanks: %d\n%s", w.Code, w.Body.String())
	}
	// A broken link has no candidate: the browser's language decides.
	if w := do(h, "GET", "/s/broken", nil, map[string]string{"Accept-Language": "en-GB,en;q=0.8"}); !strings.Contains(w.Body.String(), `lang="en"`) {
		t.Errorf("broken link in English:\n%s", w.Body.String())
	}
}

// When many addresses have come and gone, the idle limiters are forgotten
// but one still flooding stays limited.
func TestRateLimitersForgetOnlyTheIdle(t *testing.T) {
	sv := &Surveys{}
	for sv.allow("ip:flood", 5) {
	}
	for i := 0; len(sv.limiters) < maxLimiters; i++ {
		sv.limiters[fmt.Sprintf("ip:10.0.%d.%d", i/256, i%256)] = rate.NewLimiter(1, 60) // seen, now idle: a full burst
	}
	if !sv.allow("ip:new", 60) {
		t.Fatal("a new address was refused")
	}
	if n := len(sv.limiters); n > 10 {
		t.Errorf("%d limiters kept, want only the busy ones", n)
	}
	if sv.allow("ip:flood", 5) {
		t.Error("the flooding address was forgotten and let through")
	}
}
