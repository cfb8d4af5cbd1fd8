package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"os"
	"strings"

	"followup/sequences"
)

type suppressCmd struct {
	List   suppressListCmd   `cmd:"" default:"withargs" help:"List the suppressed addresses."`
	Add    suppressAddCmd    `cmd:"" help:"Never mail these addresses again (stops their sequences)."`
	Remove suppressRemoveCmd `cmd:"" help:"Take an address off the list (only when the person asked to hear from you again)."`
	Import suppressImportCmd `cmd:"" help:"Add every address in a file (one per line, or a CSV with an email column)."`
	Export suppressExportCmd `cmd:"" help:"Write the list as CSV to standard output."`
}

type suppressListCmd struct{}

func (suppressListCmd) Run(env *runEnv) error {
	return env.withDB(func(p *project, db dbT) error {
		list, err := db.Suppressions(env.ctx)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			fmt.Fprintln(env.stdout, "The suppression list is empty.")
			return nil
		}
		for _, s := range list {
			fmt.Fprintf(env.stdout, "%s  %s  %s\n", p.localTime(s.CreatedAt), s.Email, s.Reason)
		}
		return nil
	})
}

type suppressAddCmd struct {
	Emails []string `arg:"" help:"Addresses."`
	Reason string   `help:"Why (kept with the entry)." default:"added by the recruiter"`
}

func (c suppressAddCmd) Run(env *runEnv) error {
	var emails []string
	for _, e := range c.Emails {
		addr, err := sequences.NormalizeEmail(e)
		if err != nil {
			return &exitError{code: 1, msg: err.Error()}
		}
		emails = append(emails, addr)
	}
	return env.withDB(func(p *project, db dbT) error {
		n, err := db.Suppress(env.ctx, emails, c.Reason, env.clock())
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "%d added (%d already suppressed); their sequences are stopped.\n", n, len(emails)-n)
		return nil
	})
}

type suppressRemoveCmd struct {
	Email string `arg:"" help:"Address."`
}

func (c suppressRemoveCmd) Run(env *runEnv) error {
	addr, err := sequences.NormalizeEmail(c.Email)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	return env.withDB(func(p *project, db dbT) error {
		removed, err := db.Unsuppress(env.ctx, addr)
		if err != nil {
			return err
		}
		if !removed {
			return &exitError{code: 1, msg: addr + " is not on the suppression list"}
		}
		fmt.Fprintf(env.stdout, "%s removed from the suppression list; their stopped sequences stay stopped (enroll them again if they asked for it).\n", addr)
		return nil
	})
}

type suppressImportCmd struct {
	File   string `arg:"" help:"File." type:"existingfile"`
	Reason string `help:"Why (kept with each entry)." default:"imported"`
}

func (c suppressImportCmd) Run(env *runEnv) error {
	f, err := os.Open(c.File)
	if err != nil {
		return err
	}
	defer f.Close()
	var emails []string
	bad := 0
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		field, _, _ := strings.Cut(sc.Text(), ",")
		field = strings.Trim(strings.TrimSpace(strings.TrimPrefix(field, "\ufeff")), `"`)
		if field == "" || strings.EqualFold(field, "email") {
			continue
		}
		addr, err := sequences.NormalizeEmail(field)
		if err != nil {
			bad++
			fmt.Fprintf(env.stderr, "%s:%d: %v\n", c.File, line, err)
			continue
		}
		emails = append(emails, addr)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", c.File, err)
	}
	return env.withDB(func(p *project, db dbT) error {
		n, err := db.Suppress(env.ctx, emails, c.Reason, env.clock())
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "%d added, %d already suppressed, %d rejected.\n", n, len(emails)-n, bad)
		if bad > 0 {
			return &exitError{code: exitRejectedRows}
		}
		return nil
	})
}

type suppressExportCmd struct{}

func (suppressExportCmd) Run(env *runEnv) error {
	return env.withDB(func(p *project, db dbT) error {
		list, err := db.Suppressions(env.ctx)
		if err != nil {
			return err
		}
		w := csv.NewWriter(env.stdout)
		w.Write([]string{"email", "reason", "created_at"})
		for _, s := range list {
			w.Write([]string{s.Email, s.Reason, s.CreatedAt.UTC().Format("2006-01-02T15:04:05Z")})
		}
		w.Flush()
		return w.Error()
	})
}

type forgetCmd struct {
	Email string `arg:"" help:"The candidate's address."`
	Yes   bool   `help:"Confirm: this cannot be undone."`
}

func (c forgetCmd) Run(env *runEnv) error {
	addr, err := sequences.NormalizeEmail(c.Email)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	if !c.Yes {
		return &exitError{code: 1, msg: fmt.Sprintf("followup forget erases every trace of %s's personal data and cannot be undone; run it again with --yes", addr)}
	}
	return env.withDB(func(p *project, db dbT) error {
		found, err := db.Forget(env.ctx, addr, env.clock())
		if err != nil {
			return err
		}
		if !found {
			fmt.Fprintf(env.stdout, "%s is not a candidate here; if it was suppressed, only its hash is kept now.\n", addr)
			return nil
		}
		fmt.Fprintf(env.stdout, "Erased %s: name, address, fields, subjects, replies, survey answers. Anonymous counts and anonymous survey answers remain; if they had unsubscribed, a hash of the address keeps them suppressed.\n", addr)
		return nil
	})
}
