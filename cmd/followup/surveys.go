package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"followup/config"
	"followup/internal/yamlfile"
	"followup/mailer"
	"followup/sequences"
	"followup/store"
	"followup/surveys"
	"followup/templates"
	"followup/web"
)

// surveyLinks binds an enrollment's personal links for one message.
type surveyLinks struct {
	set    *surveys.Set
	public string
	secret []byte
	uid    string
	at     time.Time
}

func (l surveyLinks) Link(name string, score *int) (string, error) {
	if _, ok := l.set.Get(name); !ok {
		return "", fmt.Errorf("no survey named %q", name)
	}
	return web.SurveyURL(l.public, l.secret, l.uid, name, l.at, score), nil
}

func (l surveyLinks) Scale(name string) (int, int, error) {
	s, ok := l.set.Get(name)
	if !ok {
		return 0, 0, fmt.Errorf("no survey named %q", name)
	}
	q, ok := s.ScaleQuestion()
	if !ok {
		return 0, 0, fmt.Errorf("survey %q has no scale question for survey_scale", name)
	}
	return q.Min, q.Max, nil
}

// surveyLinker is the mailboxes' source of survey links (nil without a web
// server).
func (p *project) surveyLinker() func(uid string, at time.Time) templates.SurveyLinks {
	h := p.cfg.HTTP
	if h == nil || h.Secret == "" {
		return nil
	}
	public, secret := h.PublicURL, []byte(h.Secret.Reveal())
	return func(uid string, at time.Time) templates.SurveyLinks {
		return surveyLinks{set: p.surveys, public: public, secret: secret, uid: uid, at: at}
	}
}

// checkSurveyLinks reports templates linking to surveys that do not exist.
// (Without a web server a link cannot be made: templates guard them with
// {{if .survey_links}}; an unguarded one pauses its enrollment with a clear
// reason when it is rendered.)
func checkSurveyLinks(cfg *config.Config, cat *sequences.Catalog, set *surveys.Set) yamlfile.Problems {
	var ps yamlfile.Problems
	for _, t := range cat.Templates.All() {
		for _, name := range t.Surveys() {
			if _, ok := set.Get(name); !ok {
				ps.Addf(t.File, 0, 0, "links to survey %q, which is not in %s (surveys: %s)", name, cfg.Surveys, strings.Join(set.Names(), ", "))
			}
		}
	}
	return ps
}

// surveyActions acts on a recorded response: tells the recruiter about a
// low score or a declined offer, and follows "may we contact you again?".
func (p *project) surveyActions(db dbT, mbs map[string]*sequences.Mailbox, now func() time.Time) func(context.Context, *surveys.Survey, sequences.Enrollment, surveys.Answers) {
	return func(ctx context.Context, s *surveys.Survey, e sequences.Enrollment, a surveys.Answers) {
		log := p.log.With("survey", s.Name)
		score, hasScore := s.Score(a)
		if s.Act.NotifyAlways || (hasScore && s.Act.NotifyBelow > 0 && score < s.Act.NotifyBelow) {
			if mb := mbs[e.Mailbox]; mb != nil {
				if err := mb.Sender.Send(ctx, surveyNote(p, s, e, a, mb)); err != nil {
					log.Warn("could not tell the recruiter about a survey answer", "err", err)
				}
			}
		}
		if q := s.Act.ContactAgain; q != "" && !s.Anonymous {
			switch a[q] {
			case "yes":
				if s.Act.Sequence == "" {
					break
				}
				req, _, err := p.catalog.Validate(sequences.EnrollRequest{
					Candidate: e.Candidate, Sequence: s.Act.Sequence, Fields: e.Fields, Source: "survey " + s.Name,
					PoolConsent: sequences.ConsentGiven,
				}, p.cfg.Defaults())
				if err != nil {
					log.Warn("could not enroll after a yes", "sequence", s.Act.Sequence, "err", err)
					break
				}
				if _, err := db.Enroll(ctx, []sequences.EnrollRequest{req}, p.catalog.Sequences, now()); err != nil {
					log.Error("enrolling after a yes", "err", err)
				}
			case "no":
				if _, err := db.Stop(ctx, store.Action{Email: e.Email, Reason: "answered " + s.Name + ": do not contact again"}, now()); err != nil {
					log.Error("stopping after a no", "err", err)
				}
			}
		}
	}
}

// surveyNote is the email to the recruiter about an answer. For an
// anonymous survey it names no one: only the sequence and the job.
func surveyNote(p *project, s *surveys.Survey, e sequences.Enrollment, a surveys.Answers, mb *sequences.Mailbox) *mailer.Message {
	lang := p.cfg.Language
	who := e.Name + " <" + e.Email + ">"
	if s.Anonymous {
		who = map[bool]string{true: "一位匿名候选人", false: "An anonymous candidate"}[strings.HasPrefix(lang, "zh")]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s — %s (%s, %s)\n\n", who, s.Title.In(lang), e.Sequence, e.Fields["job_title"])
	for _, q := range s.Questions {
		v, ok := a[q.ID]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "%s\n  %s\n", q.Prompt.In(lang), answerText(q, v, a[q.ID+".other"], lang))
	}
	return &mailer.Message{
		From: mb.From, To: mb.From, Subject: "[Followup] " + s.Title.In(lang), Text: b.String(),
		MessageID: fmt.Sprintf("survey.%d.%s@%s", time.Now().UnixNano(), s.Name, mb.Domain()),
		Headers:   map[string]string{"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
	}
}

// answerText shows an answer with its options' labels.
func answerText(q surveys.Question, v, other any, lang string) string {
	label := func(id string) string {
		for _, o := range q.Options {
			if o.ID == id {
				if o.Other && other != nil {
					return fmt.Sprintf("%s: %v", o.Label.In(lang), other)
				}
				return o.Label.In(lang)
			}
		}
		return id
	}
	switch v := v.(type) {
	case string:
		if q.Kind == surveys.Free {
			return v
		}
		return label(v)
	case []string:
		parts := make([]string, len(v))
		for i, id := range v {
			parts[i] = label(id)
		}
		return strings.Join(parts, "; ")
	}
	return fmt.Sprint(v)
}
