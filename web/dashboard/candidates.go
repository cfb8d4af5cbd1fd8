package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"followup/sequences"
	"followup/store"
	"followup/surveys"
)

const pageSize = 50

var statuses = []string{string(sequences.Active), string(sequences.Paused), string(sequences.Stopped), string(sequences.Finished), string(sequences.Failed)}

type listView struct {
	Query, Sequence, Status, Mailbox, Tag string
	Rows                                  []listRow
	Sequences, Statuses, Mailboxes        []string
	Tags                                  []store.TagCount
	Page                                  int
	Prev, Next                            string
}

type listRow struct {
	E    sequences.Enrollment
	Tags []string
}

// candidates is the list of enrollments with filters, search and pages.
func (d *Dashboard) candidates(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := listView{Query: q.Get("q"), Sequence: q.Get("sequence"), Status: q.Get("status"), Mailbox: q.Get("mailbox"), Tag: q.Get("tag"),
		Sequences: d.sequenceNames(), Statuses: statuses, Mailboxes: d.cfg.Defaults.Mailboxes}
	v.Page, _ = strconv.Atoi(q.Get("page"))
	v.Page = max(v.Page, 1)
	ctx := r.Context()
	rows, err := d.cfg.Store.SearchEnrollments(ctx, store.SearchFilter{Sequence: v.Sequence, Status: v.Status, Mailbox: v.Mailbox,
		Tag: v.Tag, Query: v.Query, Offset: (v.Page - 1) * pageSize, Limit: pageSize + 1})
	if err != nil {
		d.fail(w, r, err)
		return
	}
	more := len(rows) > pageSize
	rows = rows[:min(len(rows), pageSize)]
	tagsOf := map[int64][]string{}
	for _, e := range rows {
		tags, ok := tagsOf[e.CandidateID]
		if !ok {
			if tags, err = d.cfg.Store.TagsOf(ctx, e.CandidateID); err != nil {
				d.fail(w, r, err)
				return
			}
			tagsOf[e.CandidateID] = tags
		}
		v.Rows = append(v.Rows, listRow{E: e, Tags: tags})
	}
	if v.Tags, err = d.cfg.Store.AllTags(ctx); err != nil {
		d.fail(w, r, err)
		return
	}
	pageURL := func(n int) string {
		u := url.Values{}
		for k, val := range map[string]string{"q": v.Query, "sequence": v.Sequence, "status": v.Status, "mailbox": v.Mailbox, "tag": v.Tag} {
			if val != "" {
				u.Set(k, val)
			}
		}
		u.Set("page", strconv.Itoa(n))
		return "/candidates?" + u.Encode()
	}
	if v.Page > 1 {
		v.Prev = pageURL(v.Page - 1)
	}
	if more {
		v.Next = pageURL(v.Page + 1)
	}
	d.render(w, r, http.StatusOK, "candidates", texts[d.lang(r, nil)]["navCandidates"], v)
}

type candidateView struct {
	C           store.CandidateRecord
	Enrollments []enrollmentView
	Live        bool // some enrollment is active or paused
	Entries     []entry
	Tags        []string
	AllTags     []store.TagCount
	Undecided   bool // resuming needs "assume sent" or "resend"
}

type enrollmentView struct {
	E     sequences.Enrollment
	Steps int // 0: unknown
}

// entry is one line of the timeline.
type entry struct {
	At       time.Time
	Kind     string // message, inbound, event, survey, note
	Status   string // of a message; the kind of an inbound mail; the event kind
	Sequence string
	Step     int // from 1
	Subject  string
	Body     string // what is kept of the text
	BodyNote string // what the body is ("draft", "own wording")
	From     string
	Detail   string
	Answers  []answerView
}

type answerView struct{ Prompt, Value string }

func (d *Dashboard) candidateID(w http.ResponseWriter, r *http.Request) (store.CandidateRecord, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return store.CandidateRecord{}, false
	}
	c, err := d.cfg.Store.CandidateByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return c, false
	}
	if err != nil {
		d.fail(w, r, err)
		return c, false
	}
	return c, true
}

// candidate is the candidate's page: the timeline, tags, notes, actions.
func (d *Dashboard) candidate(w http.ResponseWriter, r *http.Request) {
	c, ok := d.candidateID(w, r)
	if !ok {
		return
	}
	d.showCandidate(w, r, http.StatusOK, c, "", false)
}

func (d *Dashboard) showCandidate(w http.ResponseWriter, r *http.Request, code int, c store.CandidateRecord, problem string, undecided bool) {
	v, err := d.candidateView(r, c)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	v.Undecided = undecided
	title := c.Name
	if title == "" {
		title = c.Email
	}
	pv := d.view(r, title, v)
	pv.Error = problem
	d.renderView(w, code, "candidate", pv)
}

func (d *Dashboard) candidateView(r *http.Request, c store.CandidateRecord) (candidateView, error) {
	ctx := r.Context()
	v := candidateView{C: c}
	tl, err := d.cfg.Store.Timeline(ctx, c.Email)
	if err != nil {
		return v, err
	}
	seqOf := map[int64]string{}
	for _, e := range tl.Enrollments {
		seqOf[e.ID] = e.Sequence
		ev := enrollmentView{E: e}
		if s, err := d.cfg.Store.Version(ctx, e.VersionID); err == nil {
			ev.Steps = len(s.Steps)
		}
		v.Enrollments = append(v.Enrollments, ev)
		v.Live = v.Live || e.Status.Live()
	}
	kept, err := d.cfg.Store.MessageTextsOf(ctx, c.ID)
	if err != nil {
		return v, err
	}
	for _, m := range tl.Messages {
		at := m.CreatedAt
		if m.SentAt != nil {
			at = *m.SentAt
		}
		en := entry{At: at, Kind: "message", Status: string(m.Status), Sequence: seqOf[m.EnrollmentID], Step: m.Step + 1, Subject: m.Subject, From: m.From, Detail: m.Error}
		if t, ok := kept[m.ID]; ok {
			switch {
			case m.Body != "":
				en.Body, en.BodyNote = m.Body, "asSent"
			case t.OverrideBody != "":
				en.Body, en.BodyNote = t.OverrideBody, "ownWording"
			case t.Draft != "":
				en.Body, en.BodyNote = t.Draft, "draft"
			}
			if t.OverrideSubject != "" {
				en.Subject = t.OverrideSubject
			}
		}
		v.Entries = append(v.Entries, en)
	}
	for _, ev := range tl.Events {
		switch ev.Kind {
		case "reply", "auto_reply", "bounce", "complaint", "unsubscribe", "not_interested", "survey":
			continue // shown with the message or the answers themselves
		}
		en := entry{At: ev.CreatedAt, Kind: "event", Status: ev.Kind, Detail: ev.Detail}
		if ev.EnrollmentID != nil {
			en.Sequence = seqOf[*ev.EnrollmentID]
		}
		v.Entries = append(v.Entries, en)
	}
	stepOf := map[int64]entry{}
	for _, m := range tl.Messages {
		stepOf[m.ID] = entry{Sequence: seqOf[m.EnrollmentID], Step: m.Step + 1}
	}
	for _, tr := range tl.Tracking {
		m := stepOf[tr.MessageRow]
		detail := fmt.Sprintf("%s %d", texts[d.lang(r, nil)]["step"], m.Step)
		if tr.URL != "" {
			detail += " · " + tr.URL
		}
		v.Entries = append(v.Entries, entry{At: tr.At.T, Kind: "event", Status: tr.Kind + "ed", Sequence: m.Sequence, Detail: detail})
	}
	for _, in := range tl.Inbound {
		en := entry{At: in.ReceivedAt, Kind: "inbound", Status: in.Kind, From: in.From, Subject: in.Subject, Body: strings.TrimSpace(in.Text), Detail: in.Reason}
		if in.EnrollmentID != nil {
			en.Sequence = seqOf[*in.EnrollmentID]
		}
		v.Entries = append(v.Entries, en)
	}
	answers, err := d.cfg.Store.SurveyAnswersOf(ctx, c.ID)
	if err != nil {
		return v, err
	}
	for _, a := range answers {
		v.Entries = append(v.Entries, entry{At: a.CreatedAt, Kind: "survey", Status: a.Survey, Sequence: a.Sequence, Answers: d.answerLines(a, r)})
	}
	notes, err := d.cfg.Store.NotesOf(ctx, c.ID)
	if err != nil {
		return v, err
	}
	for _, n := range notes {
		v.Entries = append(v.Entries, entry{At: n.CreatedAt, Kind: "note", From: n.Author, Body: n.Text})
	}
	sort.SliceStable(v.Entries, func(i, j int) bool { return v.Entries[i].At.Before(v.Entries[j].At) })
	if v.Tags, err = d.cfg.Store.TagsOf(ctx, c.ID); err != nil {
		return v, err
	}
	if v.AllTags, err = d.cfg.Store.AllTags(ctx); err != nil {
		return v, err
	}
	return v, nil
}

// answerLines shows a survey response as the survey's questions and the
// answers' labels when the survey is known, else as stored.
func (d *Dashboard) answerLines(a store.SurveyAnswer, r *http.Request) []answerView {
	var got surveys.Answers
	if err := json.Unmarshal([]byte(a.Answers), &got); err != nil {
		return []answerView{{Value: a.Answers}}
	}
	lang := map[string]string{"zh": "zh-CN", "en": "en"}[d.lang(r, nil)]
	var def *surveys.Survey
	if d.cfg.Surveys != nil {
		def, _ = d.cfg.Surveys.Get(a.Survey)
	}
	var out []answerView
	if def == nil {
		for _, k := range sortedKeys(got) {
			out = append(out, answerView{Prompt: k, Value: fmt.Sprint(got[k])})
		}
		return out
	}
	for _, q := range def.Questions {
		val, ok := got[q.ID]
		if !ok {
			continue
		}
		labels := map[string]string{}
		for _, o := range q.Options {
			labels[o.ID] = o.Label.In(lang)
		}
		var parts []string
		var each []any
		switch x := val.(type) {
		case []any:
			each = x
		default:
			each = []any{x}
		}
		for _, p := range each {
			s := fmt.Sprint(p)
			if l, ok := labels[s]; ok {
				s = l
			}
			parts = append(parts, s)
		}
		if other, ok := got[q.ID+".other"]; ok {
			parts = append(parts, fmt.Sprint(other))
		}
		out = append(out, answerView{Prompt: q.Prompt.In(lang), Value: strings.Join(parts, ", ")})
	}
	return out
}

func sortedKeys(m surveys.Answers) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// action pauses, resumes or stops the candidate's live enrollments (all,
// or the one sequence the form names).
func (d *Dashboard) action(verb string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, ok := d.candidateID(w, r)
		if !ok {
			return
		}
		ctx, now := r.Context(), d.cfg.Now()
		a := store.Action{Email: c.Email, Sequence: r.PostForm.Get("sequence"), Reason: strings.TrimSpace(r.PostForm.Get("reason"))}
		var err error
		switch verb {
		case "pause":
			a.Reason = joinReason("paused in the dashboard by "+sessionOf(r).Login, a.Reason)
			_, err = d.cfg.Store.Pause(ctx, a, now)
		case "stop":
			a.Reason = joinReason("stopped in the dashboard by "+sessionOf(r).Login, a.Reason)
			_, err = d.cfg.Store.Stop(ctx, a, now)
		case "resume":
			a.AssumeSent, a.Resend = r.PostForm.Get("unknown") == "assume-sent", r.PostForm.Get("unknown") == "resend"
			_, err = d.cfg.Store.Resume(ctx, a, now, d.cfg.Store.NextStepDue(ctx, d.cfg.Calendars))
		}
		if errors.Is(err, store.ErrUndecided) {
			d.showCandidate(w, r, http.StatusConflict, c, texts[d.lang(r, nil)]["undecided"], true)
			return
		}
		if err != nil {
			d.fail(w, r, err)
			return
		}
		d.cfg.Log.Info("dashboard: "+verb, "candidate", c.ID, "sequence", a.Sequence, "user", sessionOf(r).Login)
		http.Redirect(w, r, fmt.Sprintf("/candidates/%d?done=%s", c.ID, verb), http.StatusSeeOther)
	}
}

func joinReason(who, why string) string {
	if why == "" {
		return who
	}
	return who + ": " + why
}

func (d *Dashboard) addTags(w http.ResponseWriter, r *http.Request) {
	c, ok := d.candidateID(w, r)
	if !ok {
		return
	}
	tags, err := store.SplitTags(r.PostForm.Get("tags"))
	if err != nil || len(tags) == 0 {
		problem := texts[d.lang(r, nil)]["noTag"]
		if err != nil {
			problem = err.Error()
		}
		d.showCandidate(w, r, http.StatusBadRequest, c, problem, false)
		return
	}
	if _, err := d.cfg.Store.TagCandidate(r.Context(), c.ID, tags, d.cfg.Now()); err != nil {
		d.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/candidates/%d?done=tagged", c.ID), http.StatusSeeOther)
}

func (d *Dashboard) removeTag(w http.ResponseWriter, r *http.Request) {
	c, ok := d.candidateID(w, r)
	if !ok {
		return
	}
	if _, err := d.cfg.Store.UntagCandidate(r.Context(), c.ID, r.PostForm.Get("tag"), d.cfg.Now()); err != nil {
		d.showCandidate(w, r, http.StatusBadRequest, c, err.Error(), false)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/candidates/%d?done=untagged", c.ID), http.StatusSeeOther)
}

func (d *Dashboard) addNote(w http.ResponseWriter, r *http.Request) {
	c, ok := d.candidateID(w, r)
	if !ok {
		return
	}
	text := r.PostForm.Get("note")
	if strings.TrimSpace(text) == "" || len(text) > store.MaxNoteLen {
		d.showCandidate(w, r, http.StatusBadRequest, c, texts[d.lang(r, nil)]["noteProblem"], false)
		return
	}
	if err := d.cfg.Store.AddNote(r.Context(), c.ID, sessionOf(r).Login, text, d.cfg.Now()); err != nil {
		d.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/candidates/%d?done=noted", c.ID), http.StatusSeeOther)
}
