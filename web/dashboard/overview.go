package dashboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"followup/store"
	"followup/surveys"
	"followup/web"
)

type sequenceOverview struct {
	Name, Description string
	Counts            map[string]int
	Steps             []stepOverview
}

type stepOverview struct {
	Step     int // from 1
	Template string
	Review   bool
	Total    store.StepStats
	Variants []store.StepStats // when the step has several templates
}

// sequencesPage: per sequence, the enrollments by status and, per step
// (and variant), what was sent and what came back.
func (d *Dashboard) sequencesPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	counts, err := d.cfg.Store.StatusCounts(ctx)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	stats, err := d.cfg.Store.StepOverview(ctx)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	byName := map[string]*sequenceOverview{}
	get := func(name string) *sequenceOverview {
		o, ok := byName[name]
		if !ok {
			o = &sequenceOverview{Name: name, Counts: map[string]int{}}
			if s, ok := d.cfg.Catalog.Sequences[name]; ok {
				o.Description = s.Description
				for i, st := range s.Steps {
					o.Steps = append(o.Steps, stepOverview{Step: i + 1, Template: st.Template, Review: st.Review})
				}
			}
			byName[name] = o
		}
		return o
	}
	for _, n := range d.sequenceNames() {
		get(n)
	}
	for _, c := range counts {
		get(c.Sequence).Counts[c.Status] += c.N
	}
	for _, s := range stats {
		o := get(s.Sequence)
		for len(o.Steps) <= s.Step {
			o.Steps = append(o.Steps, stepOverview{Step: len(o.Steps) + 1})
		}
		st := &o.Steps[s.Step]
		st.Total.Sent += s.Sent
		st.Total.Replied += s.Replied
		st.Total.Bounced += s.Bounced
		st.Total.Unsubscribed += s.Unsubscribed
		st.Variants = append(st.Variants, s)
	}
	var out []sequenceOverview
	for _, o := range byName {
		for i := range o.Steps {
			if len(o.Steps[i].Variants) < 2 {
				o.Steps[i].Variants = nil
			}
		}
		out = append(out, *o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	d.render(w, r, http.StatusOK, "sequences", texts[d.lang(r, nil)]["navSequences"], struct {
		Sequences []sequenceOverview
		Statuses  []string
	}{out, statuses})
}

// reviewPage lists the steps waiting for approval, with their text.
func (d *Dashboard) reviewPage(w http.ResponseWriter, r *http.Request) {
	list, err := d.cfg.Store.Reviews(r.Context())
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.render(w, r, http.StatusOK, "review", texts[d.lang(r, nil)]["navReview"], list)
}

func (d *Dashboard) findReview(r *http.Request) (store.Review, bool, error) {
	list, err := d.cfg.Store.Reviews(r.Context())
	if err != nil {
		return store.Review{}, false, err
	}
	for _, rv := range list {
		if rv.Email == r.PostForm.Get("email") && rv.Sequence == r.PostForm.Get("sequence") {
			return rv, true, nil
		}
	}
	return store.Review{}, false, nil
}

// reviewApprove sends a reviewed step as rendered, or in the recruiter's
// own words when they changed the subject or the text.
func (d *Dashboard) reviewApprove(w http.ResponseWriter, r *http.Request) {
	rv, ok, err := d.findReview(r)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	if !ok {
		http.Redirect(w, r, "/review?done=gone", http.StatusSeeOther)
		return
	}
	subject, body := "", ""
	if r.PostForm.Get("mode") == "edit" {
		if s := strings.TrimSpace(r.PostForm.Get("subject")); s != "" && s != strings.TrimSpace(rv.Subject) {
			subject = s
		}
		if b := strings.ReplaceAll(r.PostForm.Get("body"), "\r\n", "\n"); strings.TrimSpace(b) != "" && strings.TrimSpace(b) != strings.TrimSpace(rv.Draft) {
			body = b
		}
	}
	if _, err := d.cfg.Store.Approve(r.Context(), rv.Email, rv.Sequence, subject, body, d.cfg.Now()); err != nil {
		if errors.Is(err, store.ErrNoReview) {
			http.Redirect(w, r, "/review?done=gone", http.StatusSeeOther)
			return
		}
		d.fail(w, r, err)
		return
	}
	d.cfg.Log.Info("dashboard: review approved", "sequence", rv.Sequence, "step", rv.Step+1, "own_wording", subject != "" || body != "", "user", sessionOf(r).Login)
	http.Redirect(w, r, "/review?done=approved", http.StatusSeeOther)
}

// reviewReject skips a reviewed step; the sequence goes on.
func (d *Dashboard) reviewReject(w http.ResponseWriter, r *http.Request) {
	rv, ok, err := d.findReview(r)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	if !ok {
		http.Redirect(w, r, "/review?done=gone", http.StatusSeeOther)
		return
	}
	_, err = d.cfg.Store.Reject(r.Context(), rv.Email, rv.Sequence, d.cfg.Now(), d.cfg.Calendars)
	if errors.Is(err, store.ErrNoReview) {
		http.Redirect(w, r, "/review?done=gone", http.StatusSeeOther)
		return
	}
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.cfg.Log.Info("dashboard: review rejected", "sequence", rv.Sequence, "step", rv.Step+1, "user", sessionOf(r).Login)
	http.Redirect(w, r, "/review?done=rejected", http.StatusSeeOther)
}

type surveyItem struct {
	Name, Title string
	Responses   int
}

func (d *Dashboard) surveysPage(w http.ResponseWriter, r *http.Request) {
	lang := map[string]string{"zh": "zh-CN", "en": "en"}[d.lang(r, nil)]
	var items []surveyItem
	if d.cfg.Surveys != nil {
		for _, n := range d.cfg.Surveys.Names() {
			s, _ := d.cfg.Surveys.Get(n)
			rows, err := d.cfg.Store.SurveyResponses(r.Context(), n)
			if err != nil {
				d.fail(w, r, err)
				return
			}
			items = append(items, surveyItem{Name: n, Title: s.Title.In(lang), Responses: len(rows)})
		}
	}
	d.render(w, r, http.StatusOK, "surveys", texts[d.lang(r, nil)]["navSurveys"], items)
}

// surveyResults is the results page with its charts (web.RenderResults),
// behind sign-in. It has its own inline styles.
func (d *Dashboard) surveyResults(w http.ResponseWriter, r *http.Request) {
	def, ok := d.cfg.Surveys.Get(r.PathValue("name"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	stored, err := d.cfg.Store.SurveyResponses(r.Context(), def.Name)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	rows := make([]surveys.Row, 0, len(stored))
	for _, s := range stored {
		a := surveys.Answers{}
		if err := json.Unmarshal([]byte(s.Answers), &a); err != nil {
			d.fail(w, r, fmt.Errorf("reading a %s response: %w", def.Name, err))
			return
		}
		rows = append(rows, surveys.Row{Sequence: s.Sequence, Job: s.Job, Mailbox: s.Mailbox, Month: s.Month, Score: s.Score, Answers: a})
	}
	lang := map[string]string{"zh": "zh-CN", "en": "en"}[d.lang(r, nil)]
	var buf bytes.Buffer
	if err := web.RenderResults(&buf, []surveys.Summary{surveys.Summarize(def, rows, lang)}, lang, d.cfg.Now().In(d.cfg.Location)); err != nil {
		d.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}
