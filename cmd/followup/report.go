package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strings"

	"followup/surveys"
	"followup/web"
)

type reportCmd struct {
	Variants reportVariantsCmd `cmd:"" default:"withargs" help:"Reply rates per step and template variant (A/B)."`
	Surveys  reportSurveysCmd  `cmd:"" help:"Survey results: NPS, score distribution, reasons ranked, trend by month, by sequence, job and mailbox."`
	Metrics  reportMetricsCmd  `cmd:"" help:"Recruiting metrics: reply rates, time to first reply, feedback cycle, NPS, decline reasons, talent-pool activation, sources."`
}

type reportVariantsCmd struct{}

func (reportVariantsCmd) Run(env *runEnv) error {
	return env.withDB(func(p *project, db dbT) error {
		rows, err := db.Variants(env.ctx)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			fmt.Fprintln(env.stdout, "Nothing sent yet.")
			return nil
		}
		var tb table
		tb.row("SEQUENCE", "STEP", "TEMPLATE", "SENT", "REPLIED", "REPLY RATE")
		for _, r := range rows {
			tb.row(r.Sequence, fmt.Sprint(r.Step+1), r.Template, fmt.Sprint(r.Sent), fmt.Sprint(r.Replied), fmt.Sprintf("%.1f%%", 100*float64(r.Replied)/float64(r.Sent)))
		}
		tb.write(env.stdout)
		fmt.Fprintln(env.stdout, "\nA reply counts for every step sent before it; small numbers say little (compare variants once each has a few dozen sends).")
		return nil
	})
}

type reportSurveysCmd struct {
	Survey string `short:"s" help:"Only this survey."`
	CSV    bool   `help:"Every response as CSV (one column per question) instead of the summary."`
	HTML   string `name:"html" placeholder:"FILE" help:"Write the results as a web page with charts to FILE ('-': standard output), to open in a browser."`
}

func (c reportSurveysCmd) Run(env *runEnv) error {
	return env.withDB(func(p *project, db dbT) error {
		names := p.surveys.Names()
		if c.Survey != "" {
			if _, ok := p.surveys.Get(c.Survey); !ok {
				return &exitError{code: 1, msg: fmt.Sprintf("no survey named %q (surveys: %s)", c.Survey, strings.Join(names, ", "))}
			}
			names = []string{c.Survey}
		}
		if c.CSV {
			return surveysCSV(env, p, db, names)
		}
		if c.HTML != "" {
			return surveysHTML(env, p, db, names, c.HTML)
		}
		for _, name := range names {
			s, _ := p.surveys.Get(name)
			rows, err := db.SurveyRows(env.ctx, name)
			if err != nil {
				return err
			}
			printSummary(env, surveys.Summarize(s, rows, p.cfg.Language), p.cfg.Language)
		}
		return nil
	})
}

func printSummary(env *runEnv, s surveys.Summary, lang string) {
	out := env.stdout
	fmt.Fprintf(out, "%s — %s: %d responses\n", s.Survey.Name, s.Survey.Title.In(lang), s.Responses)
	if s.Responses == 0 {
		fmt.Fprintln(out)
		return
	}
	if q, ok := s.Survey.ScaleQuestion(); ok {
		if s.IsNPS {
			n := s.NPS
			fmt.Fprintf(out, "  NPS %+.0f  (promoters %d, passives %d, detractors %d, of %d)\n", n.Score, n.Promoters, n.Passives, n.Detractors, n.Total)
		} else {
			fmt.Fprintf(out, "  mean %s: %.1f of %d\n", q.ID, s.Mean, q.Max)
		}
		most := 1
		for _, c := range s.Distribution {
			most = max(most, c)
		}
		for i, c := range s.Distribution {
			fmt.Fprintf(out, "  %3d │%s %d\n", q.Min+i, strings.Repeat("█", c*30/most), c)
		}
		for _, g := range []struct {
			title  string
			groups []surveys.Group
		}{{"by month", s.ByMonth}, {"by sequence", s.BySequence}, {"by job", s.ByJob}, {"by mailbox", s.ByMailbox}} {
			var tb table
			for _, grp := range g.groups {
				key := grp.Key
				if key == "" {
					key = "-"
				}
				if s.IsNPS {
					tb.row("    "+key, fmt.Sprintf("NPS %+.0f", grp.NPS.Score), fmt.Sprintf("(%d)", grp.N))
				} else {
					tb.row("    "+key, fmt.Sprintf("%.1f", grp.Mean), fmt.Sprintf("(%d)", grp.N))
				}
			}
			fmt.Fprintf(out, "  %s:\n", g.title)
			tb.write(out)
		}
	}
	for _, q := range s.Survey.Questions {
		counts, ok := s.Choices[q.ID]
		if !ok {
			continue
		}
		fmt.Fprintf(out, "  %s\n", q.Prompt.In(lang))
		var tb table
		for _, c := range counts {
			tb.row("    "+c.Label, fmt.Sprint(c.N), fmt.Sprintf("%.0f%%", 100*float64(c.N)/float64(s.Responses)))
		}
		tb.write(out)
	}
	fmt.Fprintln(out)
}

func surveysCSV(env *runEnv, p *project, db dbT, names []string) error {
	// A byte-order mark, so that Excel (which otherwise guesses GBK on a
	// Chinese system) reads the file as UTF-8.
	if _, err := io.WriteString(env.stdout, "\ufeff"); err != nil {
		return err
	}
	w := csv.NewWriter(env.stdout)
	for _, name := range names {
		s, _ := p.surveys.Get(name)
		head := []string{"survey", "month", "sequence", "job", "mailbox"}
		for _, q := range s.Questions {
			head = append(head, q.ID)
		}
		w.Write(head)
		rows, err := db.SurveyRows(env.ctx, name)
		if err != nil {
			return err
		}
		for _, r := range rows {
			rec := []string{name, r.Month, r.Sequence, r.Job, r.Mailbox}
			for _, q := range s.Questions {
				rec = append(rec, csvAnswer(r.Answers[q.ID], r.Answers[q.ID+".other"]))
			}
			for i := range rec {
				rec[i] = csvSafe(rec[i])
			}
			w.Write(rec)
		}
	}
	w.Flush()
	return w.Error()
}

func csvAnswer(v, other any) string {
	var s string
	switch v := v.(type) {
	case nil:
		return ""
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = fmt.Sprint(x)
		}
		s = strings.Join(parts, ";")
	case float64:
		s = fmt.Sprint(int(v))
	default:
		s = fmt.Sprint(v)
	}
	if other != nil {
		s += " (" + fmt.Sprint(other) + ")"
	}
	return s
}

// csvSafe keeps a spreadsheet from reading a cell as a formula (a
// candidate's answer "=HYPERLINK(…)"): such a cell gets a leading quote.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// surveysHTML writes the results page (charts in inline SVG, no scripts).
// The file is written whole or not at all.
func surveysHTML(env *runEnv, p *project, db dbT, names []string, path string) error {
	sums, err := surveySummaries(env, p, db, names)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := web.RenderResults(&buf, sums, p.cfg.Language, env.clock().In(p.location())); err != nil {
		return err
	}
	if path == "-" {
		_, err := env.stdout.Write(buf.Bytes())
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("writing the results page: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing the results page: %w", err)
	}
	fmt.Fprintf(env.stdout, "Wrote %s (%d surveys); open it in a browser.\n", path, len(sums))
	return nil
}

// surveySummaries reads the named surveys' responses and sums them up.
func surveySummaries(env *runEnv, p *project, db dbT, names []string) ([]surveys.Summary, error) {
	var sums []surveys.Summary
	for _, name := range names {
		s, _ := p.surveys.Get(name)
		rows, err := db.SurveyRows(env.ctx, name)
		if err != nil {
			return nil, err
		}
		sums = append(sums, surveys.Summarize(s, rows, p.cfg.Language))
	}
	return sums, nil
}
