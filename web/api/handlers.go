package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"followup/sequences"
	"followup/store"
	"followup/surveys"
	"followup/webhooks"
)

func (a *API) openapi(*request) (int, any, error) {
	return http.StatusOK, json.RawMessage(openAPI), nil
}

// Sequence is a sequence one can enroll into.
type Sequence struct {
	Name            string   `json:"name"`
	Description     string   `json:"description"`
	Mailbox         string   `json:"mailbox"`
	OnReply         string   `json:"on_reply"`
	RequiresConsent bool     `json:"requires_consent"`
	Fields          []string `json:"fields"`
	OptionalFields  []string `json:"optional_fields"`
	Steps           []Step   `json:"steps"`
}

// Step is one email of a sequence.
type Step struct {
	Step     int      `json:"step"`
	Template string   `json:"template"`
	After    string   `json:"after,omitempty"`
	On       string   `json:"on,omitempty"`
	Reply    bool     `json:"reply"`
	Review   bool     `json:"review"`
	Variants []string `json:"variants"`
}

func (a *API) sequences(*request) (int, any, error) {
	names := make([]string, 0, len(a.Catalog.Sequences))
	for n := range a.Catalog.Sequences {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]Sequence, 0, len(names))
	for _, n := range names {
		s := a.Catalog.Sequences[n]
		v := Sequence{Name: s.Name, Description: s.Description, Mailbox: s.Mailbox, OnReply: s.OnReply, RequiresConsent: s.RequiresConsent,
			Fields: nonNil(s.Fields), OptionalFields: nonNil(s.OptionalFields), Steps: []Step{}}
		if v.OnReply == "" {
			v.OnReply = "stop"
		}
		for i, st := range s.Steps {
			step := Step{Step: i + 1, Template: st.Template, Reply: st.Reply, Review: st.Review, Variants: nonNil(st.Variants)}
			if st.On.IsZero() {
				step.After = st.After.String()
			} else {
				step.On = st.On.String()
			}
			v.Steps = append(v.Steps, step)
		}
		out = append(out, v)
	}
	return http.StatusOK, map[string]any{"sequences": out}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Enrollment is an enrollment as the API shows it.
type Enrollment struct {
	UID          string            `json:"uid"`
	Email        string            `json:"email"`
	Name         string            `json:"name"`
	Language     string            `json:"language"`
	Timezone     string            `json:"timezone"`
	Sequence     string            `json:"sequence"`
	Mailbox      string            `json:"mailbox"`
	Status       string            `json:"status"`
	StatusReason string            `json:"status_reason"`
	NextStep     int               `json:"next_step"` // 1-based: the step that goes out next
	NextDueAt    *time.Time        `json:"next_due_at"`
	Fields       map[string]string `json:"fields"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
}

func viewEnrollment(e sequences.Enrollment) Enrollment {
	f := e.Fields
	if f == nil {
		f = map[string]string{}
	}
	return Enrollment{UID: e.UID, Email: e.Email, Name: e.Name, Language: e.Language, Timezone: e.Timezone,
		Sequence: e.Sequence, Mailbox: e.Mailbox, Status: string(e.Status), StatusReason: e.StatusReason,
		NextStep: e.NextStep + 1, NextDueAt: e.NextDueAt, Fields: f, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

// EnrollInput is one enrollment asked for.
type EnrollInput struct {
	Email    string            `json:"email"`
	Name     string            `json:"name"`
	Language string            `json:"language"`
	Timezone string            `json:"timezone"`
	Sequence string            `json:"sequence"`
	Mailbox  string            `json:"mailbox"`
	Fields   map[string]string `json:"fields"`
	// Consent: the candidate agreed to stay in the talent pool.
	Consent bool `json:"consent"`
	// Tags are added to the candidate (skills, industry, desired role…).
	Tags []string `json:"tags"`
}

// EnrollResult says what became of one input.
type EnrollResult struct {
	Index      int         `json:"index"`
	Email      string      `json:"email"`  // as given, or normalized when valid
	Result     string      `json:"result"` // created, exists, blocked, invalid
	Reason     string      `json:"reason,omitempty"`
	Errors     []string    `json:"errors,omitempty"`
	Enrollment *Enrollment `json:"enrollment,omitempty"`
}

// maxBatch is the most enrollments one request may carry.
const maxBatch = 1000

func (a *API) enroll(req *request) (int, any, error) {
	var batch struct {
		Enrollments []EnrollInput `json:"enrollments"`
	}
	var probe map[string]json.RawMessage
	_ = json.Unmarshal(req.body, &probe) // a malformed body is reported by decode below
	_, isBatch := probe["enrollments"]
	single := !isBatch
	var inputs []EnrollInput
	if single {
		var in EnrollInput
		if err := req.decode(&in); err != nil {
			return 0, nil, err
		}
		inputs = []EnrollInput{in}
	} else {
		if err := req.decode(&batch); err != nil {
			return 0, nil, err
		}
		inputs = batch.Enrollments
		if len(inputs) == 0 {
			return 0, nil, errorf(http.StatusUnprocessableEntity, "invalid_request", "enrollments is empty")
		}
		if len(inputs) > maxBatch {
			return 0, nil, errorf(http.StatusRequestEntityTooLarge, "too_large", "%d enrollments in one request; send at most %d", len(inputs), maxBatch)
		}
	}
	results, err := a.enrollAll(req, inputs, "api:"+req.token.Name)
	if err != nil {
		return 0, nil, err
	}
	if !single {
		return http.StatusOK, map[string]any{"results": results}, nil
	}
	r := results[0]
	switch r.Result {
	case "invalid":
		return 0, nil, &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_request", Message: "the enrollment is not valid", Details: r.Errors}
	case "blocked":
		return 0, nil, &Error{Status: http.StatusConflict, Code: "blocked", Message: r.Reason}
	case "created":
		return http.StatusCreated, r, nil
	}
	return http.StatusOK, r, nil
}

// enrollAll validates and enrolls inputs in one transaction, one result per
// input: one bad input never blocks the others.
func (a *API) enrollAll(req *request, inputs []EnrollInput, source string) ([]EnrollResult, error) {
	results := make([]EnrollResult, len(inputs))
	var valid []sequences.EnrollRequest
	var at []int
	var tagsOf [][]string
	key := strings.TrimSpace(req.Header.Get("Idempotency-Key"))
	for i, in := range inputs {
		results[i].Index, results[i].Email = i, in.Email
		r := sequences.EnrollRequest{
			Candidate: sequences.Candidate{Email: in.Email, Name: in.Name, Language: in.Language, Timezone: in.Timezone},
			Sequence:  in.Sequence, Mailbox: in.Mailbox, Fields: in.Fields, Source: source,
		}
		if in.Consent {
			r.PoolConsent = sequences.ConsentGiven
		}
		if r.Fields == nil {
			r.Fields = map[string]string{}
		}
		if key != "" {
			// The enrollment itself remembers the key, so a retry after a
			// crash between enrolling and answering enrolls nobody twice.
			r.IdempotencyKey = fmt.Sprintf("api:%d:%s:%d", req.token.ID, key, i)
		}
		v, _, err := a.Catalog.Validate(r, a.Defaults)
		tags, terr := normalizeTags(in.Tags)
		if err != nil || terr != nil {
			results[i].Result = "invalid"
			results[i].Errors = append(splitErrors(err), splitErrors(terr)...)
			continue
		}
		tagsOf = append(tagsOf, tags)
		results[i].Email = v.Email
		valid = append(valid, v)
		at = append(at, i)
	}
	if len(valid) > 0 {
		out, err := a.DB.Enroll(req.ctx, valid, a.Catalog.Sequences, a.Now())
		if err != nil {
			return nil, fmt.Errorf("enrolling: %w", err)
		}
		for j, o := range out {
			res := &results[at[j]]
			res.Reason = o.Reason
			switch {
			case o.Blocked:
				res.Result = "blocked"
			case o.Created:
				res.Result = "created"
			default:
				res.Result = "exists"
			}
			if o.Enrollment.UID != "" {
				e := viewEnrollment(o.Enrollment)
				res.Enrollment = &e
			}
			if len(tagsOf[j]) > 0 && !o.Blocked && o.Enrollment.CandidateID != 0 {
				if _, err := a.DB.TagCandidate(req.ctx, o.Enrollment.CandidateID, tagsOf[j], a.Now()); err != nil {
					return nil, fmt.Errorf("tagging: %w", err)
				}
			}
		}
	}
	return results, nil
}

func splitErrors(err error) []string {
	if err == nil {
		return nil
	}
	var out []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (a *API) listEnrollments(req *request) (int, any, error) {
	q := req.URL.Query()
	f := store.SearchFilter{Sequence: q.Get("sequence"), Status: q.Get("status"), Mailbox: q.Get("mailbox"), Tag: q.Get("tag"), Query: q.Get("q")}
	var err error
	if f.BeforeID, err = intParam(q.Get("before"), 0, "before"); err != nil {
		return 0, nil, err
	}
	limit, err := intParam(q.Get("limit"), 50, "limit")
	if err != nil {
		return 0, nil, err
	}
	if limit < 1 || limit > 500 {
		return 0, nil, errorf(http.StatusBadRequest, "invalid_request", "limit must be between 1 and 500")
	}
	f.Limit = int(limit)
	if f.Status != "" && !validStatus(f.Status) {
		return 0, nil, errorf(http.StatusBadRequest, "invalid_request", "status %q: use active, paused, stopped, finished or failed", f.Status)
	}
	es, err := a.DB.Search(req.ctx, f)
	if err != nil {
		return 0, nil, err
	}
	out := struct {
		Enrollments []Enrollment `json:"enrollments"`
		Next        string       `json:"next,omitempty"`
	}{Enrollments: make([]Enrollment, 0, len(es))}
	for _, e := range es {
		out.Enrollments = append(out.Enrollments, viewEnrollment(e))
	}
	if len(es) == f.Limit {
		next := req.URL.Query()
		next.Set("before", strconv.FormatInt(es[len(es)-1].ID, 10))
		out.Next = req.URL.Path + "?" + next.Encode()
	}
	return http.StatusOK, out, nil
}

func validStatus(s string) bool {
	switch sequences.Status(s) {
	case sequences.Active, sequences.Paused, sequences.Stopped, sequences.Finished, sequences.Failed:
		return true
	}
	return false
}

func intParam(s string, def int64, name string) (int64, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, errorf(http.StatusBadRequest, "invalid_request", "%s must be a whole number, not %q", name, s)
	}
	return n, nil
}

func (a *API) getEnrollment(req *request) (int, any, error) {
	e, err := a.DB.EnrollmentByUID(req.ctx, req.PathValue("uid"))
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, errorf(http.StatusNotFound, "not_found", "no enrollment has this uid")
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, viewEnrollment(e), nil
}

// Item is one entry of a candidate's timeline.
type Item struct {
	At         time.Time       `json:"at"`
	Kind       string          `json:"kind"` // message, reply, auto_reply, bounce, …, survey, or an event kind
	Enrollment string          `json:"enrollment,omitempty"`
	Step       int             `json:"step,omitempty"`
	Status     string          `json:"status,omitempty"`
	Subject    string          `json:"subject,omitempty"`
	From       string          `json:"from,omitempty"`
	To         string          `json:"to,omitempty"`
	Text       string          `json:"text,omitempty"`
	Detail     string          `json:"detail,omitempty"`
	Survey     string          `json:"survey,omitempty"`
	Score      *int            `json:"score,omitempty"`
	Answers    json.RawMessage `json:"answers,omitempty"`
}

// Candidate is a candidate with their enrollments and timeline.
type Candidate struct {
	Email         string       `json:"email"`
	Name          string       `json:"name"`
	Language      string       `json:"language"`
	Timezone      string       `json:"timezone"`
	Undeliverable string       `json:"undeliverable,omitempty"`
	Tags          []string     `json:"tags"`
	Enrollments   []Enrollment `json:"enrollments"`
	Timeline      []Item       `json:"timeline"`
}

func (a *API) email(req *request) (string, error) {
	email, err := sequences.NormalizeEmail(req.PathValue("email"))
	if err != nil {
		return "", errorf(http.StatusBadRequest, "invalid_request", "%v", err)
	}
	return email, nil
}

func (a *API) candidate(req *request) (int, any, error) {
	email, err := a.email(req)
	if err != nil {
		return 0, nil, err
	}
	tl, err := a.DB.Timeline(req.ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, errorf(http.StatusNotFound, "not_found", "no candidate has this address")
	}
	if err != nil {
		return 0, nil, err
	}
	answers, err := a.DB.SurveyAnswersOf(req.ctx, tl.Candidate.ID)
	if err != nil {
		return 0, nil, err
	}
	tags, err := a.DB.TagsOf(req.ctx, tl.Candidate.ID)
	if err != nil {
		return 0, nil, err
	}
	c := buildCandidate(tl, answers)
	c.Tags = nonNil(tags)
	return http.StatusOK, c, nil
}

func buildCandidate(tl *store.Timeline, answers []store.SurveyAnswer) Candidate {
	c := Candidate{Email: tl.Candidate.Email, Name: tl.Candidate.Name, Language: tl.Candidate.Language,
		Timezone: tl.Candidate.Timezone, Undeliverable: tl.Candidate.UndeliverableReason,
		Tags: []string{}, Enrollments: []Enrollment{}, Timeline: []Item{}}
	uid := map[int64]string{}
	for _, e := range tl.Enrollments {
		uid[e.ID] = e.UID
		c.Enrollments = append(c.Enrollments, viewEnrollment(e))
	}
	ref := func(id *int64) string {
		if id == nil {
			return ""
		}
		return uid[*id]
	}
	for _, m := range tl.Messages {
		at := m.CreatedAt
		if m.SentAt != nil {
			at = *m.SentAt
		}
		c.Timeline = append(c.Timeline, Item{At: at, Kind: "message", Enrollment: uid[m.EnrollmentID], Step: m.Step + 1,
			Status: string(m.Status), Subject: m.Subject, From: m.From, To: m.To, Text: m.Body, Detail: m.Error})
	}
	for _, in := range tl.Inbound {
		c.Timeline = append(c.Timeline, Item{At: in.ReceivedAt, Kind: in.Kind, Enrollment: ref(in.EnrollmentID),
			Subject: in.Subject, From: in.From, Text: in.Text, Detail: in.Reason})
	}
	for _, ev := range tl.Events {
		if ev.Kind == "survey" || ev.Kind == "sent" || isInboundKind(ev.Kind) {
			continue // shown with their content above and below
		}
		c.Timeline = append(c.Timeline, Item{At: ev.CreatedAt, Kind: ev.Kind, Enrollment: ref(ev.EnrollmentID), Detail: ev.Detail})
	}
	msgs := map[int64]sequences.Message{}
	for _, m := range tl.Messages {
		msgs[m.ID] = m
	}
	for _, tr := range tl.Tracking {
		m := msgs[tr.MessageRow]
		c.Timeline = append(c.Timeline, Item{At: tr.At.T, Kind: tr.Kind + "ed", Enrollment: uid[m.EnrollmentID], Step: m.Step + 1,
			Detail: tr.URL})
	}
	for _, s := range answers {
		c.Timeline = append(c.Timeline, Item{At: s.CreatedAt, Kind: "survey", Enrollment: s.EnrollmentUID, Survey: s.Survey,
			Score: s.Score, Answers: json.RawMessage(s.Answers)})
	}
	sort.SliceStable(c.Timeline, func(i, j int) bool { return c.Timeline[i].At.Before(c.Timeline[j].At) })
	return c
}

// isInboundKind: events that repeat an inbound message of the timeline.
func isInboundKind(k string) bool {
	switch k {
	case "reply", "auto_reply", "bounce", "complaint", "unsubscribe", "not_interested":
		return true
	}
	return false
}

type actionInput struct {
	Sequence   string `json:"sequence"`
	Reason     string `json:"reason"`
	AssumeSent bool   `json:"assume_sent"`
	Resend     bool   `json:"resend"`
}

// Changed is an enrollment an action changed.
type Changed struct {
	UID      string `json:"uid"`
	Sequence string `json:"sequence"`
	Status   string `json:"status"`
}

func (a *API) act(req *request, do func(store.Action) ([]store.Changed, error)) (int, any, error) {
	email, err := a.email(req)
	if err != nil {
		return 0, nil, err
	}
	var in actionInput
	if len(strings.TrimSpace(string(req.body))) > 0 {
		if err := req.decode(&in); err != nil {
			return 0, nil, err
		}
	}
	if in.AssumeSent && in.Resend {
		return 0, nil, errorf(http.StatusUnprocessableEntity, "invalid_request", "choose one: assume_sent or resend")
	}
	changed, err := do(store.Action{Email: email, Sequence: in.Sequence, Reason: strings.TrimSpace(in.Reason), AssumeSent: in.AssumeSent, Resend: in.Resend})
	if errors.Is(err, store.ErrUndecided) {
		return 0, nil, errorf(http.StatusConflict, "undecided", "%v", err)
	}
	if err != nil {
		return 0, nil, err
	}
	out := struct {
		Changed []Changed `json:"changed"`
	}{Changed: []Changed{}}
	for _, c := range changed {
		out.Changed = append(out.Changed, Changed{UID: c.Enrollment.UID, Sequence: c.Enrollment.Sequence, Status: string(c.To)})
	}
	return http.StatusOK, out, nil
}

func (a *API) pause(req *request) (int, any, error) {
	return a.act(req, func(ac store.Action) ([]store.Changed, error) {
		if ac.Reason == "" {
			ac.Reason = "paused through the API"
		}
		return a.DB.Pause(req.ctx, ac, a.Now())
	})
}

func (a *API) stop(req *request) (int, any, error) {
	return a.act(req, func(ac store.Action) ([]store.Changed, error) {
		if ac.Reason == "" {
			ac.Reason = "stopped through the API"
		}
		return a.DB.Stop(req.ctx, ac, a.Now())
	})
}

func (a *API) resume(req *request) (int, any, error) {
	return a.act(req, func(ac store.Action) ([]store.Changed, error) {
		return a.DB.Resume(req.ctx, ac, a.Now(), a.DB.NextStepDue(req.ctx, a.Calendars))
	})
}

// Suppression is an address that is never mailed.
type Suppression struct {
	Email     string    `json:"email"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

func (a *API) suppressions(req *request) (int, any, error) {
	list, err := a.DB.Suppressions(req.ctx)
	if err != nil {
		return 0, nil, err
	}
	out := struct {
		Suppressions []Suppression `json:"suppressions"`
	}{Suppressions: make([]Suppression, 0, len(list))}
	for _, s := range list {
		out.Suppressions = append(out.Suppressions, Suppression(s))
	}
	return http.StatusOK, out, nil
}

func (a *API) suppress(req *request) (int, any, error) {
	var in struct {
		Emails []string `json:"emails"`
		Reason string   `json:"reason"`
	}
	if err := req.decode(&in); err != nil {
		return 0, nil, err
	}
	if len(in.Emails) == 0 || len(in.Emails) > 10000 {
		return 0, nil, errorf(http.StatusUnprocessableEntity, "invalid_request", "emails must list 1 to 10,000 addresses")
	}
	var bad []string
	emails := make([]string, 0, len(in.Emails))
	for _, e := range in.Emails {
		n, err := sequences.NormalizeEmail(e)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%q: %v", e, err))
			continue
		}
		emails = append(emails, n)
	}
	if len(bad) > 0 {
		return 0, nil, &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_request", Message: "some addresses are not valid; nothing was added", Details: bad}
	}
	reason := strings.TrimSpace(in.Reason)
	if reason == "" {
		reason = "added through the API"
	}
	added, err := a.DB.Suppress(req.ctx, emails, reason, a.Now())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]int{"added": added}, nil
}

func (a *API) unsuppress(req *request) (int, any, error) {
	email, err := a.email(req)
	if err != nil {
		return 0, nil, err
	}
	ok, err := a.DB.Unsuppress(req.ctx, email)
	if err != nil {
		return 0, nil, err
	}
	if !ok {
		return 0, nil, errorf(http.StatusNotFound, "not_found", "this address is not on the suppression list")
	}
	return http.StatusOK, map[string]bool{"removed": true}, nil
}

func (a *API) surveyList(req *request) (int, any, error) {
	type survey struct {
		Name      string `json:"name"`
		Title     string `json:"title"`
		Anonymous bool   `json:"anonymous"`
	}
	out := struct {
		Surveys []survey `json:"surveys"`
	}{Surveys: []survey{}}
	if a.Surveys != nil {
		for _, n := range a.Surveys.Names() {
			s, _ := a.Surveys.Get(n)
			out.Surveys = append(out.Surveys, survey{Name: n, Title: s.Title.In(a.Language), Anonymous: s.Anonymous})
		}
	}
	return http.StatusOK, out, nil
}

// Results is a survey's summary.
type Results struct {
	Survey     string           `json:"survey"`
	Responses  int              `json:"responses"`
	NPS        *NPS             `json:"nps"`
	Mean       *float64         `json:"mean"`
	Scores     []int            `json:"distribution"` // count per score, lowest first
	Choices    map[string][]Tag `json:"choices"`      // per question: options by count
	ByMonth    []Segment        `json:"by_month"`
	BySequence []Segment        `json:"by_sequence"`
	ByJob      []Segment        `json:"by_job"`
	ByMailbox  []Segment        `json:"by_mailbox"`
}

// NPS is a Net Promoter Score with its parts.
type NPS struct {
	Score      float64 `json:"score"`
	Promoters  int     `json:"promoters"`
	Passives   int     `json:"passives"`
	Detractors int     `json:"detractors"`
	Total      int     `json:"total"`
}

// Tag is an option and how often it was chosen.
type Tag struct {
	Option string `json:"option"`
	Label  string `json:"label"`
	Count  int    `json:"count"`
}

// Segment is one group's score.
type Segment struct {
	Key       string  `json:"key"`
	Responses int     `json:"responses"`
	NPS       *NPS    `json:"nps,omitempty"`
	Mean      float64 `json:"mean"`
}

func viewNPS(n surveys.NPS) *NPS {
	return &NPS{Score: n.Score, Promoters: n.Promoters, Passives: n.Passives, Detractors: n.Detractors, Total: n.Total}
}

func (a *API) surveyResults(req *request) (int, any, error) {
	name := req.PathValue("name")
	var s *surveys.Survey
	if a.Surveys != nil {
		s, _ = a.Surveys.Get(name)
	}
	if s == nil {
		return 0, nil, errorf(http.StatusNotFound, "not_found", "no survey is named %q", name)
	}
	rows, err := a.DB.SurveyRows(req.ctx, name)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, viewResults(surveys.Summarize(s, rows, a.Language)), nil
}

func viewResults(sum surveys.Summary) Results {
	r := Results{Survey: sum.Survey.Name, Responses: sum.Responses, Scores: sum.Distribution, Choices: map[string][]Tag{}}
	if r.Scores == nil {
		r.Scores = []int{}
	}
	if sum.IsNPS && sum.NPS.Total > 0 {
		r.NPS = viewNPS(sum.NPS)
	} else if len(sum.Distribution) > 0 && sum.Responses > 0 {
		m := sum.Mean
		r.Mean = &m
	}
	for q, counts := range sum.Choices {
		for _, c := range counts {
			r.Choices[q] = append(r.Choices[q], Tag{Option: c.ID, Label: c.Label, Count: c.N})
		}
	}
	seg := func(gs []surveys.Group) []Segment {
		out := make([]Segment, 0, len(gs))
		for _, g := range gs {
			s := Segment{Key: g.Key, Responses: g.N, Mean: g.Mean}
			if sum.IsNPS {
				s.NPS = viewNPS(g.NPS)
			}
			out = append(out, s)
		}
		return out
	}
	r.ByMonth, r.BySequence, r.ByJob, r.ByMailbox = seg(sum.ByMonth), seg(sum.BySequence), seg(sum.ByJob), seg(sum.ByMailbox)
	return r
}

// MetricsReport is the seeds' metrics with the survey numbers.
type MetricsReport struct {
	*store.Metrics
	NPS            *Results          `json:"nps"`
	DeclineReasons []Tag             `json:"decline_reasons"`
	Definitions    map[string]string `json:"definitions"`
}

// metricsTTL is how long a computed report is reused while nothing new is
// recorded: computing reads every enrollment of the period (about a second
// for 100,000), and a page that refreshes or several people looking should
// not repeat it.
const metricsTTL = 5 * time.Minute

type metricsCache struct {
	mu      sync.Mutex
	entries map[string]cachedReport
}

type cachedReport struct {
	at   time.Time
	mark string
	rep  *MetricsReport
}

// Metrics computes the metrics for [from, to): the API and the dashboard
// show the same numbers. A report is reused until something is recorded.
func (a *API) Metrics(ctx context.Context, from, to time.Time, field, lang string) (*MetricsReport, error) {
	key := from.Format(time.RFC3339) + "|" + to.Format(time.RFC3339) + "|" + field + "|" + lang
	now := a.Now()
	mark, err := a.DB.ChangeMark(ctx)
	if err != nil {
		return nil, err
	}
	a.cache.mu.Lock()
	if e, ok := a.cache.entries[key]; ok && e.mark == mark && now.Sub(e.at) < metricsTTL && !now.Before(e.at) {
		a.cache.mu.Unlock()
		return e.rep, nil
	}
	a.cache.mu.Unlock()
	rep, err := a.computeMetrics(ctx, from, to, field, lang)
	if err != nil {
		return nil, err
	}
	a.cache.mu.Lock()
	defer a.cache.mu.Unlock()
	if a.cache.entries == nil || len(a.cache.entries) >= 64 {
		a.cache.entries = map[string]cachedReport{}
	}
	a.cache.entries[key] = cachedReport{at: now, mark: mark, rep: rep}
	return rep, nil
}

func (a *API) computeMetrics(ctx context.Context, from, to time.Time, field, lang string) (*MetricsReport, error) {
	var pool []string
	for n, s := range a.Catalog.Sequences {
		if s.RequiresConsent {
			pool = append(pool, n)
		}
	}
	sort.Strings(pool)
	m, err := a.DB.Metrics(ctx, store.MetricsQuery{From: from, To: to, EventField: field, PoolSequences: pool, Location: a.Location})
	if err != nil {
		return nil, err
	}
	rep := &MetricsReport{Metrics: m, DeclineReasons: []Tag{}, Definitions: DefinitionsIn(lang)}
	if a.Surveys == nil {
		return rep, nil
	}
	if s, ok := a.Surveys.Get("nps"); ok {
		rows, err := a.DB.SurveyRows(ctx, "nps")
		if err != nil {
			return nil, err
		}
		r := viewResults(surveys.Summarize(s, inPeriod(rows, from, to), lang))
		rep.NPS = &r
	}
	if s, ok := a.Surveys.Get("declined-offer"); ok {
		rows, err := a.DB.SurveyRows(ctx, "declined-offer")
		if err != nil {
			return nil, err
		}
		sum := surveys.Summarize(s, inPeriod(rows, from, to), lang)
		for _, q := range s.Questions {
			if q.Kind == "scale" || q.Kind == "text" {
				continue
			}
			for _, c := range sum.Choices[q.ID] {
				rep.DeclineReasons = append(rep.DeclineReasons, Tag{Option: c.ID, Label: c.Label, Count: c.N})
			}
			break // the first choice question holds the reasons
		}
	}
	return rep, nil
}

// inPeriod keeps the responses of the months that overlap [from, to).
func inPeriod(rows []surveys.Row, from, to time.Time) []surveys.Row {
	lo, hi := from.UTC().Format("2006-01"), to.UTC().Add(-time.Nanosecond).Format("2006-01")
	var out []surveys.Row
	for _, r := range rows {
		if r.Month >= lo && r.Month <= hi {
			out = append(out, r)
		}
	}
	return out
}

func (a *API) metrics(req *request) (int, any, error) {
	from, to, err := Period(req.URL.Query().Get("from"), req.URL.Query().Get("to"), a.Now(), a.Location)
	if err != nil {
		return 0, nil, errorf(http.StatusBadRequest, "invalid_request", "%v", err)
	}
	lang := a.Language
	if l := req.Header.Get("Accept-Language"); l != "" {
		lang = l
	}
	rep, err := a.Metrics(req.ctx, from, to, req.URL.Query().Get("field"), shortLang(lang))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, rep, nil
}

// Period reads from/to dates (YYYY-MM-DD, to inclusive); by default the
// last 90 days up to today.
func Period(fromS, toS string, now time.Time, loc *time.Location) (time.Time, time.Time, error) {
	day := func(s string) (time.Time, error) {
		t, err := time.ParseInLocation("2006-01-02", s, loc)
		if err != nil {
			return time.Time{}, fmt.Errorf("date %q: use YYYY-MM-DD", s)
		}
		return t, nil
	}
	today := now.In(loc)
	to := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, 1)
	if toS != "" {
		t, err := day(toS)
		if err != nil {
			return time.Time{}, time.Time{}, err
		}
		to = t.AddDate(0, 0, 1)
	}
	from := to.AddDate(0, 0, -90)
	if fromS != "" {
		t, err := day(fromS)
		if err != nil {
			return time.Time{}, time.Time{}, err
		}
		from = t
	}
	if !from.Before(to) {
		return time.Time{}, time.Time{}, errors.New("from must be on or before to")
	}
	if to.Sub(from) > 3*366*24*time.Hour {
		return time.Time{}, time.Time{}, errors.New("the period is over three years; choose a shorter one")
	}
	return from, to, nil
}

// Delivery is one webhook delivery of the log.
type Delivery struct {
	ID             int64      `json:"id"`
	Endpoint       string     `json:"endpoint"` // without its query string (it may hold a secret)
	EventID        int64      `json:"event_id"`
	EventType      string     `json:"event_type"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	LastStatusCode int        `json:"last_status_code"`
	LastError      string     `json:"last_error"`
	CreatedAt      time.Time  `json:"created_at"`
	DeliveredAt    *time.Time `json:"delivered_at"`
}

func (a *API) deliveries(req *request) (int, any, error) {
	q := req.URL.Query()
	f := webhooks.Filter{Status: q.Get("status")}
	switch f.Status {
	case "", "pending", "delivered", "failed":
	default:
		return 0, nil, errorf(http.StatusBadRequest, "invalid_request", "status %q: use pending, delivered or failed", f.Status)
	}
	var err error
	if f.BeforeID, err = intParam(q.Get("before"), 0, "before"); err != nil {
		return 0, nil, err
	}
	limit, err := intParam(q.Get("limit"), 50, "limit")
	if err != nil || limit < 1 || limit > 500 {
		return 0, nil, errorf(http.StatusBadRequest, "invalid_request", "limit must be between 1 and 500")
	}
	f.Limit = int(limit)
	list, err := a.DB.ListDeliveries(req.ctx, f)
	if err != nil {
		return 0, nil, err
	}
	out := struct {
		Deliveries []Delivery `json:"deliveries"`
	}{Deliveries: make([]Delivery, 0, len(list))}
	for _, d := range list {
		endpoint, _, _ := strings.Cut(d.Endpoint, "?")
		out.Deliveries = append(out.Deliveries, Delivery{ID: d.ID, Endpoint: endpoint, EventID: d.EventID, EventType: d.EventType,
			Status: d.Status, Attempts: d.Attempts, NextAttemptAt: d.NextAttemptAt, LastStatusCode: d.LastStatusCode,
			LastError: d.LastError, CreatedAt: d.CreatedAt, DeliveredAt: d.DeliveredAt})
	}
	return http.StatusOK, out, nil
}

// maxTags bounds the tags one request adds.
const maxTags = 50

func normalizeTags(in []string) ([]string, error) {
	if len(in) > maxTags {
		return nil, fmt.Errorf("tags: %d given; at most %d", len(in), maxTags)
	}
	var out []string
	var errs []error
	for _, t := range in {
		n, err := store.NormalizeTag(t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, n)
	}
	return out, errors.Join(errs...)
}

// candidateID finds the candidate of the path's {email}.
func (a *API) candidateID(req *request) (int64, error) {
	email, err := a.email(req)
	if err != nil {
		return 0, err
	}
	c, err := a.DB.CandidateByEmail(req.ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return 0, errorf(http.StatusNotFound, "not_found", "no candidate has this address")
	}
	return c.ID, err
}

func (a *API) addTags(req *request) (int, any, error) {
	id, err := a.candidateID(req)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Tags []string `json:"tags"`
	}
	if err := req.decode(&in); err != nil {
		return 0, nil, err
	}
	tags, err := normalizeTags(in.Tags)
	if err != nil || len(tags) == 0 {
		e := &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_request", Message: "give 1 to 50 valid tags", Details: splitErrors(err)}
		return 0, nil, e
	}
	if _, err := a.DB.TagCandidate(req.ctx, id, tags, a.Now()); err != nil {
		return 0, nil, err
	}
	return a.tagsOf(req, id)
}

func (a *API) removeTag(req *request) (int, any, error) {
	id, err := a.candidateID(req)
	if err != nil {
		return 0, nil, err
	}
	ok, err := a.DB.UntagCandidate(req.ctx, id, req.PathValue("tag"), a.Now())
	if err != nil {
		return 0, nil, errorf(http.StatusUnprocessableEntity, "invalid_request", "%v", err)
	}
	if !ok {
		return 0, nil, errorf(http.StatusNotFound, "not_found", "the candidate does not have this tag")
	}
	return a.tagsOf(req, id)
}

func (a *API) tagsOf(req *request, id int64) (int, any, error) {
	tags, err := a.DB.TagsOf(req.ctx, id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string][]string{"tags": nonNil(tags)}, nil
}

func (a *API) tags(req *request) (int, any, error) {
	all, err := a.DB.AllTags(req.ctx)
	if err != nil {
		return 0, nil, err
	}
	if all == nil {
		all = []store.TagCount{}
	}
	return http.StatusOK, map[string]any{"tags": all}, nil
}

// enrollTag enrolls every candidate with a tag into a sequence (the same
// fields for all), like the dashboard's "enroll by tag".
func (a *API) enrollTag(req *request) (int, any, error) {
	tag, err := store.NormalizeTag(req.PathValue("tag"))
	if err != nil {
		return 0, nil, errorf(http.StatusBadRequest, "invalid_request", "%v", err)
	}
	var in struct {
		Sequence string            `json:"sequence"`
		Mailbox  string            `json:"mailbox"`
		Fields   map[string]string `json:"fields"`
		Consent  bool              `json:"consent"`
	}
	if err := req.decode(&in); err != nil {
		return 0, nil, err
	}
	if _, ok := a.Catalog.Sequences[in.Sequence]; !ok {
		return 0, nil, errorf(http.StatusUnprocessableEntity, "invalid_request", "sequence %q does not exist", in.Sequence)
	}
	cands, err := a.DB.CandidatesWithTag(req.ctx, tag)
	if err != nil {
		return 0, nil, err
	}
	if len(cands) > maxBatch {
		return 0, nil, errorf(http.StatusRequestEntityTooLarge, "too_large", "%d candidates have this tag; at most %d at a time", len(cands), maxBatch)
	}
	batch := make([]EnrollInput, 0, len(cands))
	for _, c := range cands {
		batch = append(batch, EnrollInput{Email: c.Email, Name: c.Name, Language: c.Language, Timezone: c.Timezone,
			Sequence: in.Sequence, Mailbox: in.Mailbox, Fields: in.Fields, Consent: in.Consent})
	}
	results, err := a.enrollAll(req, batch, "api tag "+tag+":"+req.token.Name)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"tag": tag, "results": results}, nil
}
