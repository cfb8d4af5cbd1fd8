package dashboard

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strings"

	"followup/web/api"
)

// The metrics page (/insights): the recruiting metrics the team watches,
// each with its definition, computed by the same code as GET
// /api/v1/metrics.

type insightsView struct {
	From, To, Field string // the form's values
	Problem         string
	Report          *api.MetricsReport
	Def             map[string]string
	ReplyBars       template.HTML
	SourceBars      template.HTML
	ReasonBars      template.HTML
	NPSTrend        template.HTML
	HasPool         bool
}

func (d *Dashboard) insightsPage(w http.ResponseWriter, r *http.Request) {
	lang := d.lang(r, nil)
	t := texts[lang]
	q := r.URL.Query()
	v := insightsView{From: q.Get("from"), To: q.Get("to"), Field: strings.TrimSpace(q.Get("field"))}
	today := d.cfg.Now
	if d.cfg.Today != nil {
		today = d.cfg.Today
	}
	from, to, err := api.Period(v.From, v.To, today(), d.cfg.Location)
	if err != nil {
		v.Problem = t["badPeriod"]
		from, to, _ = api.Period("", "", today(), d.cfg.Location)
	}
	if v.From == "" || v.Problem != "" {
		v.From = from.Format("2006-01-02")
	}
	if v.To == "" || v.Problem != "" {
		v.To = to.AddDate(0, 0, -1).Format("2006-01-02")
	}
	if d.cfg.Metrics == nil {
		d.fail(w, r, fmt.Errorf("no metrics source configured"))
		return
	}
	rep, err := d.cfg.Metrics(r.Context(), from, to, v.Field, lang)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	v.Report, v.Def = rep, rep.Definitions
	v.HasPool = len(rep.TalentPool.Sequences) > 0
	var labels []string
	var values []float64
	var notes []string
	for _, s := range rep.Sequences {
		if s.Contacted == 0 {
			continue
		}
		labels, values = append(labels, s.Sequence), append(values, s.ReplyRate)
		notes = append(notes, fmt.Sprintf("%d / %d", s.Replied, s.Contacted))
	}
	v.ReplyBars = rateBars(labels, values, notes)
	labels, values, notes = nil, nil, nil
	for _, s := range rep.Sources {
		if s.Contacted == 0 {
			continue
		}
		labels, values = append(labels, s.Source), append(values, s.ReplyRate)
		notes = append(notes, fmt.Sprintf("%d / %d", s.Replied, s.Contacted))
	}
	v.SourceBars = rateBars(labels, values, notes)
	total := 0
	for _, c := range rep.DeclineReasons {
		total += c.Count
	}
	labels, values, notes = nil, nil, nil
	for _, c := range rep.DeclineReasons {
		if c.Count == 0 {
			continue
		}
		labels, values = append(labels, c.Label), append(values, float64(c.Count)/float64(total))
		notes = append(notes, fmt.Sprint(c.Count))
	}
	v.ReasonBars = rateBars(labels, values, notes)
	if rep.NPS != nil {
		v.NPSTrend = npsTrend(rep.NPS.ByMonth)
	}
	d.render(w, r, http.StatusOK, "insights", t["navInsights"], v)
}

// rateBars draws one horizontal bar per label, 0–100 %, with a note
// (e.g. "12 / 40") after the percentage. SVG with classes only (the
// dashboard's CSP allows no inline style).
func rateBars(labels []string, values []float64, notes []string) template.HTML {
	if len(labels) == 0 {
		return ""
	}
	const rowH, labelW, barW = 26, 190, 320
	h := rowH*len(labels) + 4
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" viewBox="0 0 %d %d" width="100%%" preserveAspectRatio="xMinYMin meet">`, labelW+barW+140, h)
	for i, l := range labels {
		y := i*rowH + 2
		w := int(math.Round(math.Max(0, math.Min(1, values[i])) * barW))
		fmt.Fprintf(&b, `<text class="label" x="%d" y="%d" text-anchor="end">%s</text>`, labelW-8, y+17, template.HTMLEscapeString(shorten(l, 24)))
		fmt.Fprintf(&b, `<rect class="track" x="%d" y="%d" width="%d" height="18" rx="3"></rect>`, labelW, y+4, barW)
		fmt.Fprintf(&b, `<rect class="bar" x="%d" y="%d" width="%d" height="18" rx="3"><title>%s</title></rect>`, labelW, y+4, w, template.HTMLEscapeString(l))
		fmt.Fprintf(&b, `<text class="value" x="%d" y="%d">%.0f%% · %s</text>`, labelW+barW+8, y+17, values[i]*100, template.HTMLEscapeString(notes[i]))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// npsTrend draws the monthly NPS as columns above (positive) or below
// (negative) a zero line.
func npsTrend(months []api.Segment) template.HTML {
	var pts []api.Segment
	for _, m := range months {
		if m.NPS != nil {
			pts = append(pts, m)
		}
	}
	if len(pts) == 0 {
		return ""
	}
	const colW, half, top = 64, 70, 16
	width := colW*len(pts) + 20
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" viewBox="0 0 %d %d" width="%d">`, width, 2*half+2*top+18, width)
	zero := top + half
	fmt.Fprintf(&b, `<line class="axis" x1="0" x2="%d" y1="%d" y2="%d"></line>`, width, zero, zero)
	for i, p := range pts {
		x := 10 + i*colW
		score := p.NPS.Score
		hgt := int(math.Round(math.Abs(score) / 100 * half))
		y, class := zero-hgt, "bar"
		if score < 0 {
			y, class = zero, "bar neg"
		}
		fmt.Fprintf(&b, `<rect class="%s" x="%d" y="%d" width="%d" height="%d"><title>%s: %.0f (%d)</title></rect>`, class, x+8, y, colW-16, max(hgt, 1),
			template.HTMLEscapeString(p.Key), score, p.Responses)
		ty := y - 4
		if score < 0 {
			ty = y + hgt + 13
		}
		fmt.Fprintf(&b, `<text class="value" x="%d" y="%d" text-anchor="middle">%+.0f</text>`, x+colW/2, ty, score)
		fmt.Fprintf(&b, `<text class="label" x="%d" y="%d" text-anchor="middle">%s</text>`, x+colW/2, 2*half+2*top+14, template.HTMLEscapeString(p.Key))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// hours shows a number of hours readably: "36 min", "5.5 h", "3.2 d".
func hours(p *float64) string {
	if p == nil {
		return "—"
	}
	h := *p
	switch {
	case h < 1:
		return fmt.Sprintf("%.0f min", h*60)
	case h < 48:
		return fmt.Sprintf("%.1f h", h)
	}
	return fmt.Sprintf("%.1f d", h/24)
}

func ratePtr(p *float64) string {
	if p == nil {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", *p*100)
}
