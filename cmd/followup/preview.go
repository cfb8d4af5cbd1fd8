package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"followup/sequences"
	"followup/store"
)

type previewCmd struct {
	Sequence string            `arg:"" help:"Sequence to preview."`
	Step     int               `help:"Step number (1 is the first)." default:"1"`
	All      bool              `help:"Preview every step."`
	Email    string            `short:"e" help:"Use this enrolled candidate's data."`
	Name     string            `short:"n" help:"Candidate's name (for a candidate who is not enrolled)."`
	Lang     string            `short:"l" help:"Language (zh-CN, en)."`
	Mailbox  string            `short:"m" help:"Mailbox to send from."`
	Field    map[string]string `short:"f" mapsep:"none" help:"A field as name=value (repeat it); missing fields show as «name»."`
	HTML     string            `help:"Write the HTML part here (default: preview-SEQUENCE-STEP.html in the current folder)." type:"path"`
}

func (c previewCmd) Run(env *runEnv) error {
	p, err := env.loadProject(false)
	if err != nil {
		return err
	}
	seq, err := p.catalog.Sequence(c.Sequence)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	e, err := c.enrollment(env, p, seq)
	if err != nil {
		return err
	}
	mbName := c.Mailbox
	if mbName == "" {
		mbName = e.Mailbox
	}
	mbs, closeMailers, err := p.mailboxes(1)
	if err != nil {
		return err
	}
	defer closeMailers()
	mb, ok := mbs[mbName]
	if !ok {
		return &exitError{code: 1, msg: fmt.Sprintf("no mailbox named %q", mbName)}
	}
	from, to := c.Step-1, c.Step
	if c.All {
		from, to = 0, len(seq.Steps)
	}
	if from < 0 || from >= len(seq.Steps) {
		return &exitError{code: 1, msg: fmt.Sprintf("%s has steps 1 to %d", seq.Name, len(seq.Steps))}
	}
	var thread []sequences.ThreadMessage
	at := env.clock()
	for i := 0; i < to; i++ {
		at = seq.Due(i, at, e.Timezone, "")
		msg, err := sequences.Compose(p.catalog.Templates, p.cfg.Language, e, seq, i, mb, thread, at)
		if err != nil {
			return &exitError{code: 1, msg: fmt.Sprintf("cannot render: %v", err)}
		}
		thread = append(thread, sequences.ThreadMessage{MessageID: msg.MessageID, Subject: msg.Subject})
		if i < from {
			continue
		}
		out := c.HTML
		if out == "" || c.All {
			out = fmt.Sprintf("preview-%s-%d.html", seq.Name, i+1)
			if c.HTML != "" {
				out = filepath.Join(filepath.Dir(c.HTML), out)
			}
		}
		if err := os.WriteFile(out, []byte(msg.HTML), 0o644); err != nil {
			return fmt.Errorf("writing the HTML preview: %w", err)
		}
		fmt.Fprintf(env.stdout, "── step %d of %d: %s, %s after the previous step ──\n", i+1, len(seq.Steps), seq.Steps[i].Template, seq.Steps[i].After)
		fmt.Fprintf(env.stdout, "From:    %s\nTo:      %s\nSubject: %s\n", displayAddr(msg.From), displayAddr(msg.To), msg.Subject)
		if msg.InReplyTo != "" {
			fmt.Fprintf(env.stdout, "In-Reply-To: <%s>\n", msg.InReplyTo)
		}
		fmt.Fprintf(env.stdout, "HTML:    %s\n\n%s\n", out, msg.Text)
	}
	return nil
}

// enrollment is the candidate to render for: an enrolled one, or one made
// from the flags with «field» placeholders for what is missing.
func (c previewCmd) enrollment(env *runEnv, p *project, seq *sequences.Sequence) (sequences.Enrollment, error) {
	e := sequences.Enrollment{UID: "preview", Sequence: seq.Name, Fields: map[string]string{}, Mailbox: p.cfg.Defaults().Mailbox,
		Candidate: sequences.Candidate{Email: "candidate@example.com", Name: "«name»", Language: p.cfg.Language}}
	if seq.Mailbox != "" {
		e.Mailbox = seq.Mailbox
	}
	if c.Email != "" {
		email, err := sequences.NormalizeEmail(c.Email)
		if err != nil {
			return e, &exitError{code: 1, msg: err.Error()}
		}
		db, err := p.openDB(env.ctx)
		if err != nil {
			return e, err
		}
		defer db.Close()
		tl, err := db.Timeline(env.ctx, email)
		if errors.Is(err, store.ErrNotFound) {
			e.Email = email
		} else if err != nil {
			return e, err
		} else {
			e.Candidate = tl.Candidate.Candidate
			for _, en := range tl.Enrollments {
				if en.Sequence == seq.Name {
					e.Fields, e.Mailbox, e.UID = en.Fields, en.Mailbox, en.UID
				}
			}
		}
	}
	if c.Name != "" {
		e.Name = c.Name
	}
	if c.Lang != "" {
		lang, err := sequences.NormalizeLanguage(c.Lang)
		if err != nil {
			return e, &exitError{code: 1, msg: err.Error()}
		}
		e.Language = lang
	}
	for k, v := range c.Field {
		e.Fields[strings.TrimSpace(k)] = v
	}
	for _, f := range seq.Fields {
		if e.Fields[f] == "" {
			e.Fields[f] = "«" + f + "»"
		}
	}
	return e, nil
}
