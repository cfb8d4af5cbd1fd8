package web

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"

	"followup/surveys"
)

// Survey results as one HTML page with charts drawn in inline SVG: no
// JavaScript, no files beside it, printable. `followup report surveys
// --html` writes it; a dashboard can serve the same page behind sign-in.

// RenderResults writes the results page for the given summaries, with its
// texts in lang (zh-CN or en).
func RenderResults(w io.Writer, sums []surveys.Summary, lang string, generated time.Time) error {
	t, err := template.ParseFS(pagesFS, "pages/results.html")
	if err != nil {
		return fmt.Errorf("parsing the results page: %w", err)
	}
	short := pickLang(lang, "")
	v := resultsView{Lang: map[string]string{"zh": "zh-CN", "en": "en"}[short], T: resultsTexts[short],
		Generated: generated.Format("2006-01-02 15:04 MST")}
	for _, s := range sums {
		v.Surveys = append(v.Surveys, surveyResults(s, v.Lang, v.T))
	}
	if err := t.ExecuteTemplate(w, "results", v); err != nil {
		return fmt.Errorf("writing the results page: %w", err)
	}
	return nil
}

var resultsTexts = map[string]map[string]string{
	"zh": {"title": "问卷结果", "generated": "生成于", "responses": "份回答", "nps": "NPS（净推荐值）",
		"promoters": "推荐者 9–10", "passives": "中立者 7–8", "detractors": "贬损者 0–6", "of": "共",
		"distribution": "分数分布", "trend": "按月趋势", "bySequence": "按序列", "byJob": "按职位", "byMailbox": "按招聘专员（邮箱）",
		"segment": "分组", "score": "得分", "count": "回答数", "mean": "平均分", "none": "还没有回答。",
		"npsHelp": "NPS = 推荐者占比 − 贬损者占比，范围 −100 到 +100。"},
	"en": {"title": "Survey results", "generated": "Generated", "responses": "responses", "nps": "NPS (Net Promoter Score)",
		"promoters": "Promoters 9–10", "passives": "Passives 7–8", "detractors": "Detractors 0–6", "of": "of",
		"distribution": "Score distribution", "trend": "Trend by month", "bySequence": "By sequence", "byJob": "By job", "byMailbox": "By recruiter (mailbox)",
		"segment": "Segment", "score": "Score", "count": "Responses", "mean": "Mean", "none": "No responses yet.",
		"npsHelp": "NPS = % promoters − % detractors, from −100 to +100."},
}

type resultsView struct {
	Lang, Generated string
	T               map[string]string
	Surveys         []surveyResultsView
}

type surveyResultsView struct {
	Name, Title  string
	Responses    int
	IsNPS        bool
	NPS          surveys.NPS
	NPSText      string
	Split        []splitPart // the promoters/passives/detractors bar
	ScaleLabel   string      // the scale question's prompt
	Mean         string
	Distribution *barChart
	Trend        *barChart
	Choices      []choiceView
	Groups       []groupTable
}

type splitPart struct {
	Label, Class string
	N            int
	Pct          float64
}

// barChart is a vertical bar chart laid out for SVG (viewBox 0 0 W H).
type barChart struct {
	W, H, Base float64 // Base: the y of the zero line
	Bars       []bar
	Desc       string // the numbers in words, for screen readers
}

type bar struct {
	X, Y, BW, BH float64
	Class        string
	Label, Value string
	LX, VY       float64 // label x (centre), value text y
}

type choiceView struct {
	Prompt string
	Rows   []choiceRow
}

type choiceRow struct {
	Label string
	N     int
	Pct   float64
}

type groupTable struct {
	Title string
	Rows  []groupRow
}

type groupRow struct {
	Key, Score string
	N          int
}

func surveyResults(s surveys.Summary, lang string, t map[string]string) surveyResultsView {
	v := surveyResultsView{Name: s.Survey.Name, Title: s.Survey.Title.In(lang), Responses: s.Responses, IsNPS: s.IsNPS, NPS: s.NPS}
	if s.Responses == 0 {
		return v
	}
	q, hasScale := s.Survey.ScaleQuestion()
	if hasScale && len(s.Distribution) > 0 {
		v.ScaleLabel = q.Prompt.In(lang)
		v.Mean = fmt.Sprintf("%.1f", s.Mean)
		if s.IsNPS {
			n := s.NPS
			v.NPSText = fmt.Sprintf("%+.0f", n.Score)
			for _, p := range []splitPart{{t["promoters"], "pro", n.Promoters, 0}, {t["passives"], "pas", n.Passives, 0}, {t["detractors"], "det", n.Detractors, 0}} {
				if n.Total > 0 {
					p.Pct = 100 * float64(p.N) / float64(n.Total)
				}
				v.Split = append(v.Split, p)
			}
		}
		labels := make([]string, len(s.Distribution))
		values := make([]float64, len(s.Distribution))
		classes := make([]string, len(s.Distribution))
		for i, c := range s.Distribution {
			score := q.Min + i
			labels[i], values[i], classes[i] = fmt.Sprint(score), float64(c), "neutral"
			if s.IsNPS {
				classes[i] = npsClass(score)
			}
		}
		v.Distribution = layoutBars(40, labels, values, classes, func(x float64) string { return fmt.Sprintf("%.0f", x) }, t["distribution"])
		if len(s.ByMonth) > 0 {
			labels, values, classes = nil, nil, nil
			for _, g := range s.ByMonth {
				labels = append(labels, g.Key)
				if s.IsNPS {
					values = append(values, g.NPS.Score)
					classes = append(classes, map[bool]string{true: "pro", false: "det"}[g.NPS.Score >= 0])
				} else {
					values = append(values, g.Mean)
					classes = append(classes, "neutral")
				}
			}
			format := func(x float64) string { return fmt.Sprintf("%.1f", x) }
			if s.IsNPS {
				format = func(x float64) string { return fmt.Sprintf("%+.0f", x) }
			}
			v.Trend = layoutBars(72, labels, values, classes, format, t["trend"])
		}
		for _, g := range []struct {
			title  string
			groups []surveys.Group
		}{{t["bySequence"], s.BySequence}, {t["byJob"], s.ByJob}, {t["byMailbox"], s.ByMailbox}} {
			tb := groupTable{Title: g.title}
			for _, grp := range g.groups {
				row := groupRow{Key: grp.Key, N: grp.N, Score: fmt.Sprintf("%.1f", grp.Mean)}
				if row.Key == "" {
					row.Key = "—"
				}
				if s.IsNPS {
					row.Score = fmt.Sprintf("%+.0f", grp.NPS.Score)
				}
				tb.Rows = append(tb.Rows, row)
			}
			if len(tb.Rows) > 0 {
				v.Groups = append(v.Groups, tb)
			}
		}
	}
	for _, qq := range s.Survey.Questions {
		counts, ok := s.Choices[qq.ID]
		if !ok {
			continue
		}
		cv := choiceView{Prompt: qq.Prompt.In(lang)}
		for _, c := range counts {
			cv.Rows = append(cv.Rows, choiceRow{Label: c.Label, N: c.N, Pct: 100 * float64(c.N) / float64(s.Responses)})
		}
		v.Choices = append(v.Choices, cv)
	}
	return v
}

func npsClass(score int) string {
	switch {
	case score >= 9:
		return "pro"
	case score >= 7:
		return "pas"
	}
	return "det"
}

// layoutBars places one bar per value in slots slot wide, negative values below the zero
// line (an NPS trend goes from −100 to +100).
func layoutBars(slot float64, labels []string, values []float64, classes []string, format func(float64) string, title string) *barChart {
	const h, top, bottom = 210.0, 18.0, 36.0
	hi, lo := 0.0, 0.0
	for _, x := range values {
		hi, lo = max(hi, x), min(lo, x)
	}
	span := hi - lo
	if span == 0 {
		span = 1
	}
	plot := h - top - bottom
	c := &barChart{W: slot * float64(len(values)), H: h, Base: top + plot*hi/span}
	var words []string
	for i, x := range values {
		bh := plot * math.Abs(x) / span
		y := c.Base - bh
		vy := y - 4
		if x < 0 {
			y, vy = c.Base, c.Base+bh+12
		}
		c.Bars = append(c.Bars, bar{X: slot*float64(i) + 6, Y: y, BW: slot - 12, BH: bh, Class: classes[i],
			Label: labels[i], Value: format(x), LX: slot*float64(i) + slot/2, VY: vy})
		words = append(words, labels[i]+": "+format(x))
	}
	c.Desc = title + " — " + strings.Join(words, ", ")
	return c
}
