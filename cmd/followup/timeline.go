package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"followup/sequences"
	"followup/store"
)

type listCmd struct {
	Sequence string `short:"s" help:"Only this sequence."`
	Status   string `help:"Only this status." enum:",active,paused,stopped,finished,failed" default:""`
	Limit    int    `help:"At most this many rows." default:"1000"`
}

func (c listCmd) Run(env *runEnv) error {
	return env.withDB(func(p *project, db dbT) error { return c.run(env, p, db) })
}

func (c listCmd) run(env *runEnv, p *project, db dbT) error {
	rows, err := db.List(env.ctx, store.ListFilter{Sequence: c.Sequence, Status: c.Status, Limit: c.Limit})
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		fmt.Fprintln(env.stdout, "No enrollments match.")
		return nil
	}
	var tb table
	tb.row("EMAIL", "NAME", "SEQUENCE", "STATUS", "NEXT STEP", "DUE")
	for _, e := range rows {
		tb.row(e.Email, e.Name, e.Sequence, statusText(e), nextStepText(e), dueText(p, e))
	}
	return tb.write(env.stdout)
}

func statusText(e sequences.Enrollment) string {
	if e.StatusReason != "" && e.Status != sequences.Finished {
		return string(e.Status) + " (" + truncateWidth(e.StatusReason, 40) + ")"
	}
	return string(e.Status)
}

func nextStepText(e sequences.Enrollment) string {
	if !e.Status.Live() {
		return "-"
	}
	return fmt.Sprint(e.NextStep + 1)
}

func dueText(p *project, e sequences.Enrollment) string {
	if e.NextDueAt == nil || !e.Status.Live() {
		return "-"
	}
	return p.localTime(*e.NextDueAt)
}

type showCmd struct {
	Email string `arg:"" help:"Candidate's email address."`
}

func (c showCmd) Run(env *runEnv) error {
	return env.withDB(func(p *project, db dbT) error { return c.run(env, p, db) })
}

func (c showCmd) run(env *runEnv, p *project, db dbT) error {
	email, err := sequences.NormalizeEmail(c.Email)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	tl, err := db.Timeline(env.ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return &exitError{code: 1, msg: fmt.Sprintf("%s is not a candidate here (enroll them with `followup enroll`)", email)}
	}
	if err != nil {
		return err
	}
	cd := tl.Candidate
	fmt.Fprintf(env.stdout, "%s <%s>  %s  %s\n", cd.Name, cd.Email, cd.Language, cd.Timezone)
	if cd.UndeliverableReason != "" {
		fmt.Fprintf(env.stdout, "UNDELIVERABLE: %s\n", cd.UndeliverableReason)
	}
	tags, err := db.TagsOf(env.ctx, cd.ID)
	if err != nil {
		return err
	}
	if len(tags) > 0 {
		fmt.Fprintf(env.stdout, "tags: %s\n", strings.Join(tags, ", "))
	}
	fmt.Fprintln(env.stdout)
	var tb table
	for _, e := range tl.Enrollments {
		total := "?"
		if v, err := db.Version(env.ctx, e.VersionID); err == nil {
			total = fmt.Sprint(len(v.Steps))
		}
		next := ""
		if e.Status.Live() && e.NextDueAt != nil {
			next = "  next: step " + fmt.Sprint(e.NextStep+1) + " at " + p.localTime(*e.NextDueAt)
		}
		tb.row(e.Sequence, statusText(e), fmt.Sprintf("step %d of %s sent", e.NextStep, total), next)
	}
	tb.write(env.stdout)
	fmt.Fprintln(env.stdout)

	type entry struct {
		at   time.Time
		line string
	}
	seqOf := map[int64]string{}
	for _, e := range tl.Enrollments {
		seqOf[e.ID] = e.Sequence
	}
	const indent = "\n                      │ " // continuation lines of an entry
	var entries []entry
	for _, m := range tl.Messages {
		at := m.CreatedAt
		if m.SentAt != nil {
			at = *m.SentAt
		}
		subject := fmt.Sprintf("%q", m.Subject)
		if m.Subject == "" {
			subject = "(not rendered yet)"
		}
		line := fmt.Sprintf("%-9s %s step %d  %s  <%s>", m.Status, seqOf[m.EnrollmentID], m.Step+1, subject, m.MessageID)
		if m.Error != "" && m.Status != sequences.MsgSent {
			line += "\n                      " + m.Error
		}
		entries = append(entries, entry{at, line})
	}
	for _, ev := range tl.Events {
		switch ev.Kind {
		case "reply", "auto_reply", "bounce", "complaint", "unsubscribe", "not_interested", "survey":
			continue // shown with the message itself below
		}
		entries = append(entries, entry{ev.CreatedAt, fmt.Sprintf("%-9s %s", ev.Kind, ev.Detail)})
	}
	for _, in := range tl.Inbound {
		line := fmt.Sprintf("%-9s from %s  %q  (%s)", strings.ReplaceAll(in.Kind, "_", "-"), in.From, in.Subject, in.Reason)
		if t := strings.TrimSpace(in.Text); t != "" {
			line += indent + strings.ReplaceAll(t, "\n", indent)
		}
		entries = append(entries, entry{in.ReceivedAt, line})
	}
	stepOf := map[int64]string{}
	for _, m := range tl.Messages {
		stepOf[m.ID] = fmt.Sprintf("%s step %d", seqOf[m.EnrollmentID], m.Step+1)
	}
	for _, tr := range tl.Tracking {
		entries = append(entries, entry{tr.At.T, strings.TrimSpace(fmt.Sprintf("%-9s %s (estimate) %s", tr.Kind+"ed", stepOf[tr.MessageRow], tr.URL))})
	}
	answers, err := db.SurveyAnswersOf(env.ctx, cd.ID)
	if err != nil {
		return err
	}
	for _, a := range answers {
		line := fmt.Sprintf("%-9s %s (%s)", "survey", a.Survey, a.Sequence)
		if a.Score != nil {
			line += fmt.Sprintf(" score %d", *a.Score)
		}
		entries = append(entries, entry{a.CreatedAt, line + indent + a.Answers})
	}
	notes, err := db.NotesOf(env.ctx, cd.ID)
	if err != nil {
		return err
	}
	for _, n := range notes {
		entries = append(entries, entry{n.CreatedAt, fmt.Sprintf("%-9s by %s", "note", n.Author) + indent + strings.ReplaceAll(n.Text, "\n", indent)})
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].at.Before(entries[j].at) })
	for _, en := range entries {
		fmt.Fprintf(env.stdout, "%s  %s\n", p.localTime(en.at), en.line)
	}
	return nil
}

type actionArgs struct {
	Email    string `arg:"" help:"Candidate's email address."`
	Sequence string `short:"s" help:"Only this sequence (default: all of the candidate's)."`
}

type pauseCmd struct {
	actionArgs
	Reason string `help:"Why (shown in the timeline)."`
}

type stopCmd struct {
	actionArgs
	Reason string `help:"Why (shown in the timeline)."`
}

type resumeCmd struct {
	actionArgs
	AssumeSent bool `help:"The step whose delivery was unknown is in your Sent folder: count it as sent and go on."`
	Resend     bool `help:"The step whose delivery was unknown did not go out: send it again."`
}

func (c pauseCmd) Run(env *runEnv) error {
	return env.act(c.actionArgs, "paused", func(db *store.DB, p *project, a store.Action) ([]store.Changed, error) {
		a.Reason = c.Reason
		return db.Pause(env.ctx, a, env.clock())
	})
}

func (c stopCmd) Run(env *runEnv) error {
	return env.act(c.actionArgs, "stopped", func(db *store.DB, p *project, a store.Action) ([]store.Changed, error) {
		a.Reason = c.Reason
		if a.Reason == "" {
			a.Reason = "stopped by the recruiter"
		}
		return db.Stop(env.ctx, a, env.clock())
	})
}

func (c resumeCmd) Run(env *runEnv) error {
	if c.AssumeSent && c.Resend {
		return &exitError{code: 1, msg: "choose one: --assume-sent or --resend"}
	}
	return env.act(c.actionArgs, "resumed", func(db *store.DB, p *project, a store.Action) ([]store.Changed, error) {
		a.AssumeSent, a.Resend = c.AssumeSent, c.Resend
		return db.Resume(env.ctx, a, env.clock(), db.NextStepDue(env.ctx, p.calendars))
	})
}

func (env *runEnv) act(a actionArgs, verb string, do func(*store.DB, *project, store.Action) ([]store.Changed, error)) error {
	email, err := sequences.NormalizeEmail(a.Email)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	return env.withDB(func(p *project, db dbT) error { return env.report(a, verb, email, db, p, do) })
}

func (env *runEnv) report(a actionArgs, verb, email string, db dbT, p *project, do func(*store.DB, *project, store.Action) ([]store.Changed, error)) error {
	changed, err := do(db, p, store.Action{Email: email, Sequence: a.Sequence})
	if errors.Is(err, store.ErrUndecided) {
		return &exitError{code: 1, msg: err.Error()}
	}
	if err != nil {
		return err
	}
	if len(changed) == 0 {
		where := "any sequence"
		if a.Sequence != "" {
			where = a.Sequence
		}
		fmt.Fprintf(env.stdout, "%s: nothing to do (no enrollment in %s that can be %s).\n", email, where, verb)
		return nil
	}
	var names []string
	for _, c := range changed {
		names = append(names, c.Enrollment.Sequence+" → "+string(c.To))
	}
	fmt.Fprintf(env.stdout, "%s: %s.\n", email, strings.Join(names, ", "))
	return nil
}
