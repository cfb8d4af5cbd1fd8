package main

import (
	"fmt"

	"followup/sequences"
)

type enrollCmd struct {
	Email    string            `arg:"" help:"Candidate's email address."`
	Sequence string            `short:"s" required:"" help:"Sequence to enroll into."`
	Name     string            `short:"n" help:"Candidate's name as you would greet them."`
	Lang     string            `short:"l" help:"Language of the emails (zh-CN, en); default from the config."`
	TZ       string            `name:"tz" help:"Candidate's time zone (IANA, e.g. Asia/Shanghai); default from the config."`
	Mailbox  string            `short:"m" help:"Mailbox to send from; default: the sequence's, else the first in the config."`
	Field    map[string]string `short:"f" mapsep:"none" help:"A field for the templates, as name=value (repeat it): -f job_title=工程师 -f strengths=…"`
	Consent  bool              `help:"The candidate agreed to stay in the talent pool (needed by sequences with requires_consent)."`
}

func (c enrollCmd) Run(env *runEnv) error {
	p, err := env.loadProject(false)
	if err != nil {
		return err
	}
	req, _, err := p.catalog.Validate(sequences.EnrollRequest{
		Candidate: sequences.Candidate{Email: c.Email, Name: c.Name, Language: c.Lang, Timezone: c.TZ},
		Sequence:  c.Sequence, Mailbox: c.Mailbox, Fields: c.Field, Source: "cli", PoolConsent: consentFlag(c.Consent),
	}, p.cfg.Defaults())
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("cannot enroll %s:\n%v", c.Email, err)}
	}
	db, err := p.openDB(env.ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	out, err := db.Enroll(env.ctx, []sequences.EnrollRequest{req}, p.catalog.Sequences, env.clock())
	if err != nil {
		return err
	}
	o := out[0]
	if o.Blocked {
		return &exitError{code: 1, msg: fmt.Sprintf("%s: not enrolled: %s.", req.Email, o.Reason)}
	}
	if !o.Created {
		fmt.Fprintf(env.stdout, "%s: nothing to do: %s.\n", req.Email, o.Reason)
		return nil
	}
	fmt.Fprintf(env.stdout, "Enrolled %s in %s: step 1 due %s.\n", req.Email, req.Sequence, p.localTime(*o.Enrollment.NextDueAt))
	return nil
}

func consentFlag(given bool) string {
	if given {
		return sequences.ConsentGiven
	}
	return ""
}
