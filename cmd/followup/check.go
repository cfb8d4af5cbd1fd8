package main

import (
	"followup/surveys"
	"slices"
	"strings"

	"fmt"
	"followup/internal/yamlfile"
	"sort"

	"followup/config"
	"followup/sequences"
)

type checkCmd struct{}

func (checkCmd) Run(env *runEnv) error {
	cfg, ps := config.Load(env.configPath, env.getenv)
	if cfg != nil {
		cat, cps := sequences.LoadCatalog(cfg.Sequences, cfg.Templates)
		ps = append(ps, cps...)
		ps = append(ps, checkMailboxes(cfg, cat)...)
		_, calps := sequences.LoadCalendars(cfg.Calendars)
		ps = append(ps, calps...)
		set, sps := surveys.Load(cfg.Surveys)
		ps = append(ps, sps...)
		ps = append(ps, checkSurveyLinks(cfg, cat, set)...)
	}
	if len(ps) > 0 {
		return problemsError(ps)
	}
	cat, _ := sequences.LoadCatalog(cfg.Sequences, cfg.Templates)
	names := make([]string, 0, len(cat.Sequences))
	for n := range cat.Sequences {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(env.stdout, "%s: OK\n", cfg.File)
	fmt.Fprintf(env.stdout, "mailboxes:\n")
	for _, m := range cfg.Mailboxes {
		secret := "no password"
		switch {
		case m.SMTP.PasswordEnv != "":
			secret = "password from $" + m.SMTP.PasswordEnv
		case m.SMTP.PasswordFile != "":
			secret = "password from " + m.SMTP.PasswordFile
		case m.SMTP.Password != "":
			secret = "password in the config file (prefer password_env)"
		}
		fmt.Fprintf(env.stdout, "  %-12s %s via %s:%d (%s, %s)\n", m.Name, displayAddr(m.Address), m.SMTP.Host, m.SMTP.Port, m.SMTP.TLS, secret)
	}
	cals, _ := sequences.LoadCalendars(cfg.Calendars)
	fmt.Fprintf(env.stdout, "calendars:\n")
	thisYear := env.clock().Year()
	for _, c := range cals.All() {
		var years []string
		for y := thisYear - 1; y <= thisYear+1; y++ {
			if c.Covers(y) {
				years = append(years, fmt.Sprint(y))
			}
		}
		fmt.Fprintf(env.stdout, "  %-12s %s: %s\n", c.Region, c.Name, strings.Join(years, ", "))
		if !c.Covers(thisYear + 1) {
			fmt.Fprintf(env.stdout, "  note: %s has no %d holidays yet; add them to %s when they are announced (weekdays are used until then)\n", c.Region, thisYear+1, cfg.Calendars)
		}
	}
	fmt.Fprintf(env.stdout, "sequences:\n")
	for _, n := range names {
		s := cat.Sequences[n]
		fmt.Fprintf(env.stdout, "  %-26s %d steps  fields: %v\n", n, len(s.Steps), s.Fields)
	}
	return nil
}

// checkMailboxes reports sequences that name a mailbox the config lacks.
func checkMailboxes(cfg *config.Config, cat *sequences.Catalog) yamlfile.Problems {
	var ps yamlfile.Problems
	names := cfg.MailboxNames()
	for _, s := range cat.Sequences {
		if s.Mailbox == "" || slices.Contains(names, s.Mailbox) {
			continue
		}
		ps = append(ps, cat.Problemf(s.Name, "$.mailbox", "mailbox %q is not in the config (mailboxes: %s)", s.Mailbox, strings.Join(names, ", ")))
	}
	return ps
}
