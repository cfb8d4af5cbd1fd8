package main

import (
	"fmt"
	"text/tabwriter"
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
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SEQUENCE\tSTEP\tTEMPLATE\tSENT\tREPLIED\tREPLY RATE")
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%.1f%%\n", r.Sequence, r.Step+1, r.Template, r.Sent, r.Replied, 100*float64(r.Replied)/float64(r.Sent))
		}
		tw.Flush()
		fmt.Fprintln(env.stdout, "\nA reply counts for every step sent before it; small numbers say little (compare variants once each has a few dozen sends).")
		return nil
	})
}
