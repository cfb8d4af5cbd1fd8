package dashboard

import (
	"context"
	"strings"
	"testing"
	"time"

	"followup/store"
	"followup/web/api"
)

// metricsFixture is a dashboard whose metrics page computes with the API's
// code over the fixture's store.
func metricsFixture(t *testing.T) *fixture {
	var f *fixture
	f = newFixture(t, func(c *Config) {
		a := &api.API{Catalog: c.Catalog, Surveys: c.Surveys, Language: "en", Now: c.Now}
		c.Metrics = func(ctx context.Context, from, to time.Time, field, lang string) (*api.MetricsReport, error) {
			a.DB = f.db
			return a.Metrics(ctx, from, to, field, lang)
		}
	})
	return f
}

// The metrics page shows the API's numbers with their definitions, in
// both languages, and hostile text from enrollments as text.
func TestInsightsPage(t *testing.T) {
	f := metricsFixture(t)
	f.enroll(t, "li.lei@example.com", "李雷", "post-interview-thanks", map[string]string{"job_title": "x", "source": "<script>alert(1)</script>"})
	score := 9
	if _, err := f.db.SaveSurveyResponse(context.Background(), "h", store.SurveyResponse{Survey: "nps", Score: &score,
		Answers: map[string]any{"score": 9}, At: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	c := f.signedIn(t)
	r := c.get("/insights")
	if r.Code != 200 {
		t.Fatalf("%d %s", r.Code, r.Body)
	}
	for _, want := range []string{"Reply rate", "Feedback cycle", "Candidate NPS", "+100", "Talent-pool activation", "talent-pool-warmup",
		"Sources", "&lt;script&gt;alert(1)&lt;/script&gt;", "Open and click tracking is off", api.Definitions["nps"][:40], `href="/insights"`} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(r.Body, "<script>alert") {
		t.Error("hostile text rendered as HTML")
	}
	if r := c.get("/insights?from=2026-13-01"); r.Code != 200 || !strings.Contains(r.Body, "YYYY-MM-DD") {
		t.Errorf("bad period: %d", r.Code)
	}
	c.lang = "zh-CN"
	if r := c.get("/insights"); !strings.Contains(r.Body, "人才库激活率") || !strings.Contains(r.Body, "净推荐值") {
		t.Errorf("Chinese page:\n%s", r.Body)
	}
	// Without a session: to the sign-in page.
	if r := f.client(t).get("/insights"); r.Code != 303 && r.Code != 302 {
		t.Errorf("signed out: %d", r.Code)
	}
}

// Without any NPS answer in the period the page says there is no data
// rather than showing a score of +0.
func TestInsightsWithoutNPSAnswers(t *testing.T) {
	f := metricsFixture(t)
	f.enroll(t, "li.lei@example.com", "李雷", "post-interview-thanks", map[string]string{"job_title": "x"})
	r := f.signedIn(t).get("/insights")
	if r.Code != 200 {
		t.Fatalf("%d %s", r.Code, r.Body)
	}
	_, section, _ := strings.Cut(r.Body, `id="m-nps"`)
	section, _, _ = strings.Cut(section, "</section>")
	if strings.Contains(section, `class="num"`) || !strings.Contains(section, texts["en"]["noData"]) {
		t.Errorf("the NPS section without answers:\n%s", section)
	}
}
