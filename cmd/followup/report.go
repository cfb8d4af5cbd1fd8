package main

import (
	"fmt"
)

type reportCmd struct {
	Variants reportVariantsCmd `cmd:"" default:"withargs" help:"Reply rates per step and template variant (A/B)."`
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
