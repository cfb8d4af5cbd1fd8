package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"followup/sequences"
	"followup/store"
)

// enrollView is the form to enroll one candidate, or everyone with a tag.
type enrollView struct {
	Sequences  []string
	Mailboxes  []string
	Sequence   *sequences.Sequence // chosen; nil until then
	Fields     []fieldInput
	Form       map[string]string
	Tags       []store.TagCount
	Problems   []string
	Result     *tagResult
	UploadSize int64 // MiB
}

type fieldInput struct {
	Name, Value string
	Required    bool
}

func (d *Dashboard) enrollViewFor(r *http.Request, seqName string, form map[string]string) enrollView {
	v := enrollView{Sequences: d.sequenceNames(), Mailboxes: d.cfg.Defaults.Mailboxes, Form: form, UploadSize: d.cfg.UploadLimit >> 20}
	if s, ok := d.cfg.Catalog.Sequences[seqName]; ok {
		v.Sequence = s
		for _, f := range s.Fields {
			v.Fields = append(v.Fields, fieldInput{Name: f, Value: form["f."+f], Required: true})
		}
		for _, f := range s.OptionalFields {
			v.Fields = append(v.Fields, fieldInput{Name: f, Value: form["f."+f]})
		}
		if form["mailbox"] == "" {
			form["mailbox"] = s.Mailbox
		}
	}
	if form["mailbox"] == "" {
		form["mailbox"] = d.cfg.Defaults.Mailbox
	}
	return v
}

func formMap(r *http.Request) map[string]string {
	m := map[string]string{}
	src := r.URL.Query()
	if r.Method == http.MethodPost {
		src = r.PostForm
	}
	for k, vs := range src {
		if len(vs) > 0 && k != "csrf" {
			m[k] = vs[0]
		}
	}
	return m
}

func (d *Dashboard) enrollForm(w http.ResponseWriter, r *http.Request) {
	form := formMap(r)
	d.render(w, r, http.StatusOK, "enroll", texts[d.lang(r, nil)]["navEnroll"], d.enrollViewFor(r, form["sequence"], form))
}

// request builds an enroll request from the form's candidate and field inputs.
func (v enrollView) request(form map[string]string, source string) sequences.EnrollRequest {
	req := sequences.EnrollRequest{
		Candidate: sequences.Candidate{Email: form["email"], Name: form["name"], Language: form["language"], Timezone: form["timezone"]},
		Sequence:  form["sequence"], Mailbox: form["mailbox"], Fields: map[string]string{}, Source: source,
	}
	if form["consent"] == "yes" {
		req.PoolConsent = sequences.ConsentGiven
	}
	for _, f := range v.Fields {
		if val := form["f."+f.Name]; val != "" {
			req.Fields[f.Name] = val
		}
	}
	return req
}

func (d *Dashboard) enroll(w http.ResponseWriter, r *http.Request) {
	form := formMap(r)
	t := texts[d.lang(r, nil)]
	v := d.enrollViewFor(r, form["sequence"], form)
	if v.Sequence == nil {
		v.Problems = []string{t["chooseSequence"]}
		d.render(w, r, http.StatusBadRequest, "enroll", t["navEnroll"], v)
		return
	}
	tags, tagErr := store.SplitTags(form["tags"])
	req, _, err := d.cfg.Catalog.Validate(v.request(form, "dashboard ("+sessionOf(r).Login+")"), d.cfg.Defaults)
	if err = errors.Join(err, tagErr); err != nil {
		v.Problems = strings.Split(err.Error(), "\n")
		d.render(w, r, http.StatusBadRequest, "enroll", t["navEnroll"], v)
		return
	}
	out, err := d.cfg.Store.Enroll(r.Context(), []sequences.EnrollRequest{req}, d.cfg.Catalog.Sequences, d.cfg.Now())
	if err != nil {
		d.fail(w, r, err)
		return
	}
	o := out[0]
	if o.Blocked {
		v.Problems = []string{fmt.Sprintf(t["notEnrolled"], req.Email, o.Reason)}
		d.render(w, r, http.StatusConflict, "enroll", t["navEnroll"], v)
		return
	}
	if len(tags) > 0 && o.Enrollment.CandidateID != 0 {
		if _, err := d.cfg.Store.TagCandidate(r.Context(), o.Enrollment.CandidateID, tags, d.cfg.Now()); err != nil {
			d.fail(w, r, err)
			return
		}
	}
	done := "enrolled"
	if !o.Created {
		done = "already"
	}
	d.cfg.Log.Info("dashboard: enrolled", "sequence", req.Sequence, "created", o.Created, "user", sessionOf(r).Login)
	http.Redirect(w, r, fmt.Sprintf("/candidates/%d?done=%s", o.Enrollment.CandidateID, done), http.StatusSeeOther)
}

// tagResult sums up an enrollment by tag.
type tagResult struct {
	Tag, Sequence string
	Enrolled      int
	Already       []string // "email: reason"
	Skipped       []string // suppressed, undeliverable, no consent, invalid
}

func (d *Dashboard) enrollTagForm(w http.ResponseWriter, r *http.Request) {
	form := formMap(r)
	v := d.enrollViewFor(r, form["sequence"], form)
	var err error
	if v.Tags, err = d.cfg.Store.AllTags(r.Context()); err != nil {
		d.fail(w, r, err)
		return
	}
	d.render(w, r, http.StatusOK, "enrolltag", texts[d.lang(r, nil)]["enrollByTag"], v)
}

// enrollTag enrolls every candidate with the tag in the sequence, with the
// same field values; suppressed, undeliverable and already enrolled
// candidates are skipped and listed.
func (d *Dashboard) enrollTag(w http.ResponseWriter, r *http.Request) {
	form := formMap(r)
	t := texts[d.lang(r, nil)]
	v := d.enrollViewFor(r, form["sequence"], form)
	ctx := r.Context()
	var err error
	if v.Tags, err = d.cfg.Store.AllTags(ctx); err != nil {
		d.fail(w, r, err)
		return
	}
	tag, tagErr := store.NormalizeTag(form["tag"])
	if v.Sequence == nil || tagErr != nil {
		v.Problems = []string{t["chooseTagSequence"]}
		d.render(w, r, http.StatusBadRequest, "enrolltag", t["enrollByTag"], v)
		return
	}
	cands, err := d.cfg.Store.CandidatesWithTag(ctx, tag)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	res := &tagResult{Tag: tag, Sequence: v.Sequence.Name}
	var reqs []sequences.EnrollRequest
	for _, c := range cands {
		f := map[string]string{"sequence": form["sequence"], "mailbox": form["mailbox"], "email": c.Email, "name": c.Name, "language": c.Language, "timezone": c.Timezone}
		for _, fi := range v.Fields {
			f["f."+fi.Name] = form["f."+fi.Name]
		}
		req, _, err := d.cfg.Catalog.Validate(v.request(f, fmt.Sprintf("dashboard tag %q (%s)", tag, sessionOf(r).Login)), d.cfg.Defaults)
		if err != nil {
			res.Skipped = append(res.Skipped, c.Email+": "+strings.ReplaceAll(err.Error(), "\n", "; "))
			continue
		}
		reqs = append(reqs, req)
	}
	if len(reqs) > 0 {
		out, err := d.cfg.Store.Enroll(ctx, reqs, d.cfg.Catalog.Sequences, d.cfg.Now())
		if err != nil {
			d.fail(w, r, err)
			return
		}
		for i, o := range out {
			switch {
			case o.Created:
				res.Enrolled++
			case o.Blocked:
				res.Skipped = append(res.Skipped, reqs[i].Email+": "+o.Reason)
			default:
				res.Already = append(res.Already, reqs[i].Email+": "+o.Reason)
			}
		}
	}
	d.cfg.Log.Info("dashboard: enrolled by tag", "sequence", res.Sequence, "enrolled", res.Enrolled,
		"already", len(res.Already), "skipped", len(res.Skipped), "user", sessionOf(r).Login)
	v.Result = res
	d.render(w, r, http.StatusOK, "enrolltag", t["enrollByTag"], v)
}
