package main

import (
	"encoding/json"
	"fmt"

	"followup/web/api"
)

type reportMetricsCmd struct {
	From  string `help:"First day, YYYY-MM-DD (default: 90 days before --to)."`
	To    string `help:"Last day, YYYY-MM-DD, inclusive (default: today)."`
	Field string `help:"Enrollment field with the event date the feedback cycle starts from." default:"interview_date"`
	JSON  bool   `name:"json" help:"The report as JSON (the same as GET /api/v1/metrics)."`
}

// Run prints the recruiting metrics (docs/METRICS.md) in the terminal.
func (c reportMetricsCmd) Run(env *runEnv) error {
	return env.withDB(func(p *project, db dbT) error {
		from, to, err := api.Period(c.From, c.To, env.clock(), p.location())
		if err != nil {
			return &exitError{code: 1, msg: err.Error()}
		}
		rep, err := p.api(db, env.clock).Metrics(env.ctx, from, to, c.Field, p.cfg.Language)
		if err != nil {
			return err
		}
		if c.JSON {
			enc := json.NewEncoder(env.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(rep)
		}
		out := env.stdout
		fmt.Fprintf(out, "Recruiting metrics, %s to %s (definitions: docs/METRICS.md)\n\n", from.Format("2006-01-02"), to.AddDate(0, 0, -1).Format("2006-01-02"))
		var tb table
		tb.row("SEQUENCE", "ENROLLED", "CONTACTED", "REPLIED", "REPLY RATE", "FIRST REPLY (MEDIAN)", "P90")
		for _, s := range rep.Sequences {
			tb.row(s.Sequence, fmt.Sprint(s.Enrolled), fmt.Sprint(s.Contacted), fmt.Sprint(s.Replied), percent(&s.ReplyRate),
				hoursText(s.FirstReplyMedianHours), hoursText(s.FirstReplyP90Hours))
		}
		if len(rep.Sequences) == 0 {
			tb.row("(no enrollments in this period)")
		}
		if err := tb.write(out); err != nil {
			return err
		}
		fc := rep.FeedbackCycle
		fmt.Fprintf(out, "\nFeedback cycle (%s → first email): median %s, p90 %s, within 24 h %s (%d measured)\n",
			fc.Field, hoursText(fc.MedianHours), hoursText(fc.P90Hours), percent(fc.Within24h), fc.Measured)
		if rep.NPS != nil && rep.NPS.NPS != nil {
			n := rep.NPS.NPS
			fmt.Fprintf(out, "Candidate NPS: %+.0f (%d promoters, %d passives, %d detractors)\n", n.Score, n.Promoters, n.Passives, n.Detractors)
		} else {
			fmt.Fprintln(out, "Candidate NPS: no answers in this period")
		}
		tp := rep.TalentPool
		fmt.Fprintf(out, "Talent-pool activation: %s (%d of %d contacted)\n", percent(tp.ActivationRate), tp.Activated, tp.Contacted)
		if len(rep.DeclineReasons) > 0 {
			fmt.Fprintln(out, "Why offers were declined:")
			for _, r := range rep.DeclineReasons {
				fmt.Fprintf(out, "  %4d  %s\n", r.Count, r.Label)
			}
		}
		if len(rep.Sources) > 0 {
			fmt.Fprintln(out)
			var st table
			st.row("SOURCE", "ENROLLED", "CONTACTED", "REPLIED", "REPLY RATE")
			for _, s := range rep.Sources {
				st.row(s.Source, fmt.Sprint(s.Enrolled), fmt.Sprint(s.Contacted), fmt.Sprint(s.Replied), percent(&s.ReplyRate))
			}
			if err := st.write(out); err != nil {
				return err
			}
		}
		for _, t := range rep.Tracking {
			fmt.Fprintf(out, "Opens/clicks (estimates), %s: %s opened, %s clicked of %d tracked\n", t.Sequence, percent(&t.OpenRate), percent(&t.ClickRate), t.Tracked)
		}
		return nil
	})
}

func percent(p *float64) string {
	if p == nil {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", *p*100)
}

func hoursText(p *float64) string {
	switch {
	case p == nil:
		return "—"
	case *p < 48:
		return fmt.Sprintf("%.1f h", *p)
	}
	return fmt.Sprintf("%.1f d", *p/24)
}
