package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"followup/sequences"
	"followup/store"
)

type reviewCmd struct {
	List    reviewListCmd    `cmd:"" default:"withargs" help:"Steps waiting for your approval, with their text."`
	Approve reviewApproveCmd `cmd:"" help:"Send a reviewed step, as rendered or in your own words."`
	Reject  reviewRejectCmd  `cmd:"" help:"Skip a reviewed step: it is never sent; the sequence goes on."`
}

type reviewListCmd struct{}

func (reviewListCmd) Run(env *runEnv) error {
	return env.withDB(func(p *project, db dbT) error {
		list, err := db.Reviews(env.ctx)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			fmt.Fprintln(env.stdout, "Nothing is waiting for review.")
			return nil
		}
		for _, r := range list {
			fmt.Fprintf(env.stdout, "── %s <%s>  %s step %d (%s), waiting since %s\nSubject: %s\n\n%s\n", r.Name, r.Email, r.Sequence, r.Step+1, r.Template, p.localTime(r.CreatedAt), r.Subject, strings.TrimSpace(r.Draft))
		}
		fmt.Fprintf(env.stdout, "\n%d waiting. Approve with `followup review approve EMAIL` (add --edit to rewrite it first), or skip with `followup review reject EMAIL`.\n", len(list))
		return nil
	})
}

type reviewApproveCmd struct {
	Email    string `arg:"" help:"The candidate's address."`
	Sequence string `short:"s" help:"The sequence, when several have a step waiting."`
	Subject  string `help:"Your own subject for this candidate."`
	File     string `help:"Your own text for this candidate (Markdown), from a file." type:"existingfile"`
	Edit     bool   `help:"Open the rendered text in $EDITOR and send what you save."`
}

func (c reviewApproveCmd) Run(env *runEnv) error {
	email, err := sequences.NormalizeEmail(c.Email)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	return env.withDB(func(p *project, db dbT) error {
		body := ""
		switch {
		case c.File != "":
			b, err := os.ReadFile(c.File)
			if err != nil {
				return err
			}
			body = string(b)
		case c.Edit:
			list, err := db.Reviews(env.ctx)
			if err != nil {
				return err
			}
			for _, r := range list {
				if r.Email == email && (c.Sequence == "" || r.Sequence == c.Sequence) {
					body = r.Draft
				}
			}
			if body, err = editText(body); err != nil {
				return &exitError{code: 1, msg: err.Error()}
			}
		}
		r, err := db.Approve(env.ctx, email, c.Sequence, c.Subject, body, env.clock())
		if errors.Is(err, store.ErrNoReview) {
			return &exitError{code: 1, msg: err.Error()}
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "Approved %s step %d for %s; it goes out at the next opening of the sending window.\n", r.Sequence, r.Step+1, email)
		return nil
	})
}

// editText opens text in the user's editor and returns what they saved.
func editText(text string) (string, error) {
	f, err := os.CreateTemp("", "followup-review-*.md")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(text); err != nil {
		return "", err
	}
	f.Close()
	editor := os.Getenv("EDITOR")
	if editor == "" {
		editor = "vi"
	}
	cmd := exec.Command("sh", "-c", editor+` "$1"`, "sh", f.Name())
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("the editor (%s) failed: %w; use --file instead", editor, err)
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(string(b)) == "" {
		return "", errors.New("the text is empty: nothing approved")
	}
	return string(b), nil
}

type reviewRejectCmd struct {
	Email    string `arg:"" help:"The candidate's address."`
	Sequence string `short:"s" help:"The sequence, when several have a step waiting."`
}

func (c reviewRejectCmd) Run(env *runEnv) error {
	email, err := sequences.NormalizeEmail(c.Email)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	return env.withDB(func(p *project, db dbT) error {
		r, err := db.Reject(env.ctx, email, c.Sequence, env.clock(), p.calendars)
		if errors.Is(err, store.ErrNoReview) {
			return &exitError{code: 1, msg: err.Error()}
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "Skipped %s step %d for %s; the sequence goes on.\n", r.Sequence, r.Step+1, email)
		return nil
	})
}

type consentCmd struct {
	Email     string `arg:"" help:"The candidate's address."`
	Given     bool   `help:"They agreed to stay in the talent pool."`
	Withdrawn bool   `help:"They no longer want to: their talent-pool sequences stop."`
}

func (c consentCmd) Run(env *runEnv) error {
	if c.Given == c.Withdrawn {
		return &exitError{code: 2, msg: "say --given or --withdrawn"}
	}
	email, err := sequences.NormalizeEmail(c.Email)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	answer := sequences.ConsentGiven
	if c.Withdrawn {
		answer = sequences.ConsentWithdrawn
	}
	return env.withDB(func(p *project, db dbT) error {
		found, err := db.Consent(env.ctx, email, answer, env.clock())
		if err != nil {
			return err
		}
		if !found {
			return &exitError{code: 1, msg: email + " is not a candidate here; enroll them with --consent"}
		}
		if c.Withdrawn {
			for name, s := range p.catalog.Sequences {
				if s.RequiresConsent {
					if _, err := db.Stop(env.ctx, store.Action{Email: email, Sequence: name, Reason: "talent-pool consent withdrawn"}, env.clock()); err != nil {
						return err
					}
				}
			}
		}
		fmt.Fprintf(env.stdout, "%s: talent-pool consent %s.\n", email, answer)
		return nil
	})
}
