package web

import (
	"bytes"
	"html"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"followup/surveys"
)

func starterSurveys(t testing.TB) *surveys.Set {
	t.Helper()
	set, ps := surveys.Load(filepath.Join("..", "cmd", "followup", "starter", "surveys"))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	return set
}

func TestResultsPage(t *testing.T) {
	set := starterSurveys(t)
	nps, _ := set.Get("nps")
	declined, _ := set.Get("declined-offer")
	score := func(n int) *int { return &n }
	var rows []surveys.Row
	// 5 promoters, 2 passives, 3 detractors: NPS +20; October all detractors.
	for i, s := range []int{10, 9, 9, 10, 9, 8, 7, 3, 0, 6} {
		month := "2026-11"
		if s <= 6 {
			month = "2026-10"
		}
		rows = append(rows, surveys.Row{Sequence: "post-interview", Job: []string{"后端工程师", "<script>alert(1)</script>"}[i%2],
			Month: month, Score: score(s), Answers: surveys.Answers{"score": float64(s)}})
	}
	declinedRows := []surveys.Row{
		{Answers: surveys.Answers{"reasons": []any{"salary", "location"}, "contact_again": "yes"}},
		{Answers: surveys.Answers{"reasons": []any{"salary"}, "contact_again": "no"}},
	}
	tests := []struct {
		lang string
		want []string
	}{
		{"zh-CN", []string{`lang="zh-CN"`, "问卷结果", "+20", "推荐者 9–10: <b>5</b> (50%)", "中立者 7–8: <b>2</b>", "贬损者 0–6: <b>3</b>",
			"分数分布", "按月趋势", "2026-10: -100", "2026-11: +71", "薪资低于预期", "2 (100%)", "工作地点或通勤", "1 (50%)",
			"<svg"}},
		{"en", []string{`lang="en"`, "Survey results", "Promoters 9–10", "Score distribution", "Salary below expectations"}},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		sums := []surveys.Summary{surveys.Summarize(nps, rows, tt.lang), surveys.Summarize(declined, declinedRows, tt.lang)}
		if err := RenderResults(&buf, sums, tt.lang, time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		raw := buf.String()
		page := html.UnescapeString(raw) // html/template writes + as &#43;
		for _, w := range tt.want {
			if !strings.Contains(page, w) {
				t.Errorf("%s: the page lacks %q", tt.lang, w)
			}
		}
		if strings.Contains(raw, "<script>") || !strings.Contains(raw, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("%s: a job title was not shown as text", tt.lang)
		}
		if t.Failed() {
			t.Logf("page:\n%s", raw)
		}
	}
}

func TestResultsEmptySurvey(t *testing.T) {
	nps, _ := starterSurveys(t).Get("nps")
	var buf bytes.Buffer
	if err := RenderResults(&buf, []surveys.Summary{surveys.Summarize(nps, nil, "en")}, "en", time.Now()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "No responses yet.") || strings.Contains(buf.String(), "<svg") {
		t.Errorf("empty survey:\n%s", buf.String())
	}
}
