package sequences

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"followup/mailer"
	"followup/templates"
)

// MergeData is what a template of this enrollment can use: the built-in
// fields and the enrollment's own. Declared optional fields that are empty
// are present as "", so {{if .x}} works and nothing renders "<no value>".
func MergeData(e Enrollment, seq *Sequence, mb *Mailbox) templates.Data {
	d := templates.Data{}
	for _, f := range seq.AllFields() {
		d[f] = ""
	}
	for k, v := range e.Fields {
		d[k] = v
	}
	d["name"] = e.Name
	d["email"] = e.Email
	d["sender_name"] = mb.From.Name
	d["sender_email"] = mb.From.Address
	d["company"] = mb.Company
	// "yes" when personal survey links work (the web server is configured):
	// templates offer a survey then, and ask for a reply otherwise.
	d["survey_links"] = ""
	if mb.SurveyLinks != nil {
		d["survey_links"] = "yes"
	}
	return d
}

// Compose renders step of seq for enrollment e as it would be sent from mb.
// thread holds the enrollment's earlier sent messages (for reply steps).
func Compose(set *templates.Set, defaultLang string, e Enrollment, seq *Sequence, step int, mb *Mailbox, thread []ThreadMessage, now time.Time) (*mailer.Message, error) {
	return ComposeWith(set, defaultLang, e, seq, step, mb, thread, now, Written{})
}

// Written is the recruiter's own wording for one candidate's step (an
// approved review step); empty fields keep the template's.
type Written struct {
	Subject, Body string
}

// ComposeWith is Compose with the recruiter's own wording, if any.
func ComposeWith(set *templates.Set, defaultLang string, e Enrollment, seq *Sequence, step int, mb *Mailbox, thread []ThreadMessage, now time.Time, w Written) (*mailer.Message, error) {
	if step < 0 || step >= len(seq.Steps) {
		return nil, fmt.Errorf("sequence %s has no step %d (its pinned version has %d)", seq.Name, step+1, len(seq.Steps))
	}
	st := seq.Steps[step]
	tpl, err := set.Lookup(ChooseTemplate(st, e.UID, step), e.Language, defaultLang)
	if err != nil {
		return nil, fmt.Errorf("step %d: %w", step+1, err)
	}
	data := MergeData(e, seq, mb)
	var links templates.SurveyLinks
	if mb.SurveyLinks != nil {
		links = mb.SurveyLinks(e.UID, now)
	}
	r, err := set.RenderWith(tpl, data, mb.Signature, links)
	if err != nil {
		return nil, fmt.Errorf("step %d: %w", step+1, err)
	}
	if w.Body != "" || w.Subject != "" {
		subject, body := r.Subject, w.Body
		if w.Subject != "" {
			subject = w.Subject
		}
		if body == "" {
			body = r.Text
		}
		if r, err = set.RenderWritten(subject, body, tpl.Lang, data, mb.Signature); err != nil {
			return nil, fmt.Errorf("step %d (as written by the recruiter): %w", step+1, err)
		}
	}
	msg := &mailer.Message{
		From:      mb.From,
		To:        mail.Address{Name: e.Name, Address: e.Email},
		Subject:   r.Subject,
		Text:      r.Text,
		HTML:      r.HTML,
		MessageID: MessageID(e.UID, step, mb.Domain()),
		Date:      now,
	}
	if st.Reply && len(thread) > 0 {
		// RFC 5322 §3.6.4: In-Reply-To names the parent, References the
		// whole chain; the subject keeps the thread's first subject.
		root := stripReplyPrefix(thread[0].Subject)
		if root == "" {
			// The first message's subject was never recorded (a send
			// interrupted by a crash, then assumed delivered): render it.
			root = firstSubject(set, defaultLang, e, seq, mb)
		}
		msg.Subject = "Re: " + root
		msg.InReplyTo = thread[len(thread)-1].MessageID
		for _, t := range thread {
			msg.References = append(msg.References, t.MessageID)
		}
	}
	// RFC 2369: a way out in every email. A mail to the recruiter's own
	// mailbox with the subject "unsubscribe" is read by the inbox and puts
	// the address on the suppression list.
	msg.Headers = map[string]string{"List-Unsubscribe": "<mailto:" + mb.From.Address + "?subject=unsubscribe>"}
	if mb.UnsubscribeURL != nil {
		// RFC 8058: one click in the mail client unsubscribes with a POST
		// to this URL; the https link comes first, the mailto stays.
		msg.Headers["List-Unsubscribe"] = "<" + mb.UnsubscribeURL(e.UID) + ">, " + msg.Headers["List-Unsubscribe"]
		msg.Headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
	}
	if mb.Track != nil && msg.HTML != "" {
		msg.HTML = mb.Track(msg.MessageID, msg.HTML)
	}
	if msg.Subject == "" {
		return nil, fmt.Errorf("step %d: template %s has no subject (add \"subject:\" to its front matter, or make the step a reply)", step+1, tpl.File)
	}
	return msg, nil
}

// firstSubject renders the subject of the sequence's first step for e.
func firstSubject(set *templates.Set, defaultLang string, e Enrollment, seq *Sequence, mb *Mailbox) string {
	tpl, err := set.Lookup(ChooseTemplate(seq.Steps[0], e.UID, 0), e.Language, defaultLang)
	if err != nil {
		return ""
	}
	r, err := set.Render(tpl, MergeData(e, seq, mb), nil)
	if err != nil {
		return ""
	}
	return r.Subject
}

func stripReplyPrefix(s string) string {
	for {
		t := strings.TrimSpace(s)
		lower := strings.ToLower(t)
		cut := false
		for _, p := range []string{"re:", "re：", "回复:", "回复：", "答复:", "答复："} {
			if strings.HasPrefix(lower, p) {
				t, cut = t[len(p):], true
				break
			}
		}
		if !cut {
			return t
		}
		s = t
	}
}

// compose prepares the message of a claim.
func (s *Scheduler) compose(ctx context.Context, c Claim, seq *Sequence, mb *Mailbox, now time.Time) (*mailer.Message, error) {
	var thread []ThreadMessage
	if c.Step < len(seq.Steps) && seq.Steps[c.Step].Reply {
		var err error
		if thread, err = s.Store.Thread(ctx, c.Enrollment.ID, c.Step); err != nil {
			return nil, err
		}
	}
	return ComposeWith(s.Templates, s.DefaultLanguage, c.Enrollment, seq, c.Step, mb, thread, now,
		Written{Subject: c.OverrideSubject, Body: c.OverrideBody})
}
