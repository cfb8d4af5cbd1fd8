package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// The seeds' metrics (docs/METRICS.md defines each one).

// StepMetrics is what one step of a sequence got back.
type StepMetrics struct {
	Sequence     string  `json:"sequence"`
	Step         int     `json:"step"` // 1-based in JSON and on screen
	Sent         int     `json:"sent"`
	Replied      int     `json:"replied"`
	Bounced      int     `json:"bounced"`
	Unsubscribed int     `json:"unsubscribed"`
	ReplyRate    float64 `json:"reply_rate"`
}

// SequenceMetrics is one sequence's enrollments in the period.
type SequenceMetrics struct {
	Sequence  string  `json:"sequence"`
	Enrolled  int     `json:"enrolled"`
	Contacted int     `json:"contacted"` // at least one message sent
	Replied   int     `json:"replied"`   // a person answered
	ReplyRate float64 `json:"reply_rate"`
	// Time from the first message to the first human answer, in hours.
	FirstReplyMedianHours *float64 `json:"first_reply_median_hours"`
	FirstReplyP90Hours    *float64 `json:"first_reply_p90_hours"`
}

// FeedbackCycle is the time from an event (an enrollment field holding a
// date, such as interview_date) to the first email about it.
type FeedbackCycle struct {
	Field       string   `json:"field"`
	Measured    int      `json:"measured"` // enrollments with the date and a sent email
	MedianHours *float64 `json:"median_hours"`
	P90Hours    *float64 `json:"p90_hours"`
	Within24h   *float64 `json:"within_24h"` // share followed up within 24 hours
}

// PoolMetrics is the talent-pool activation rate.
type PoolMetrics struct {
	Sequences      []string `json:"sequences"`
	Contacted      int      `json:"contacted"` // pool candidates mailed in the period
	Activated      int      `json:"activated"` // of those: replied, or enrolled in another process after
	ActivationRate *float64 `json:"activation_rate"`
}

// SourceMetrics is one source (channel) of candidates.
type SourceMetrics struct {
	Source    string  `json:"source"`
	Enrolled  int     `json:"enrolled"`
	Contacted int     `json:"contacted"`
	Replied   int     `json:"replied"`
	ReplyRate float64 `json:"reply_rate"`
}

// Metrics are the numbers a recruiting team watches, for one period.
type Metrics struct {
	From          time.Time         `json:"from"`
	To            time.Time         `json:"to"`
	Sequences     []SequenceMetrics `json:"sequences"`
	Steps         []StepMetrics     `json:"steps"`
	FeedbackCycle FeedbackCycle     `json:"feedback_cycle"`
	TalentPool    PoolMetrics       `json:"talent_pool"`
	Sources       []SourceMetrics   `json:"sources"`
	// Tracking is per sequence, for messages sent with tracking on; empty
	// when tracking was never on.
	Tracking []TrackingMetrics `json:"tracking"`
}

// TrackingMetrics are estimated open and click rates.
type TrackingMetrics struct {
	Sequence  string  `db:"sequence" json:"sequence"`
	Tracked   int     `db:"tracked" json:"tracked"` // messages sent with tracking
	Opened    int     `db:"opened" json:"opened"`   // opened by a person (estimate)
	Clicked   int     `db:"clicked" json:"clicked"` // a link clicked by a person (estimate)
	Machine   int     `db:"machine" json:"machine"` // messages also fetched by scanners or prefetching
	OpenRate  float64 `db:"-" json:"open_rate"`
	ClickRate float64 `db:"-" json:"click_rate"`
}

// MetricsQuery says what to measure.
type MetricsQuery struct {
	From, To time.Time
	// EventField names the enrollment field with the event date the
	// feedback cycle starts from (default interview_date).
	EventField string
	// PoolSequences are the talent-pool sequences (requires_consent).
	PoolSequences []string
	// Location reads event dates written without a zone (the company's).
	Location *time.Location
}

type enrollmentFacts struct {
	ID          int64     `db:"id"`
	CandidateID int64     `db:"candidate_id"`
	Sequence    string    `db:"sequence"`
	Fields      string    `db:"fields"`
	Source      string    `db:"source"`
	CreatedAt   time.Time `db:"created_at"`
	FirstSent   *sqlTime  `db:"first_sent"`
	FirstReply  *sqlTime  `db:"first_reply"`
}

// Metrics computes the seeds' metrics for enrollments created, and
// messages sent, in [From, To).
func (db *DB) Metrics(ctx context.Context, q MetricsQuery) (*Metrics, error) {
	if q.EventField == "" {
		q.EventField = "interview_date"
	}
	if q.Location == nil {
		q.Location = time.UTC
	}
	m := &Metrics{From: q.From, To: q.To, Steps: []StepMetrics{}}
	var variants []StepStats
	if err := db.qa.MetricsSteps.SelectContext(ctx, &variants, utc(q.From), utc(q.To)); err != nil {
		return nil, fmt.Errorf("measuring steps: %w", err)
	}
	for _, v := range variants { // rows are ordered by sequence, step, template
		n := len(m.Steps)
		if n == 0 || m.Steps[n-1].Sequence != v.Sequence || m.Steps[n-1].Step != v.Step+1 {
			m.Steps = append(m.Steps, StepMetrics{Sequence: v.Sequence, Step: v.Step + 1})
			n++
		}
		s := &m.Steps[n-1]
		s.Sent, s.Replied, s.Bounced, s.Unsubscribed = s.Sent+v.Sent, s.Replied+v.Replied, s.Bounced+v.Bounced, s.Unsubscribed+v.Unsubscribed
	}
	for i := range m.Steps {
		m.Steps[i].ReplyRate = ratio(m.Steps[i].Replied, m.Steps[i].Sent)
	}
	m.Tracking = []TrackingMetrics{}
	if err := db.qa.MetricsTracking.SelectContext(ctx, &m.Tracking, utc(q.From), utc(q.To)); err != nil {
		return nil, fmt.Errorf("measuring opens and clicks: %w", err)
	}
	for i := range m.Tracking {
		m.Tracking[i].OpenRate = ratio(m.Tracking[i].Opened, m.Tracking[i].Tracked)
		m.Tracking[i].ClickRate = ratio(m.Tracking[i].Clicked, m.Tracking[i].Tracked)
	}
	var facts []enrollmentFacts
	if err := db.qa.MetricsEnrollments.SelectContext(ctx, &facts, utc(q.From), utc(q.To)); err != nil {
		return nil, fmt.Errorf("measuring enrollments: %w", err)
	}
	m.Sequences = sequenceMetrics(facts)
	m.FeedbackCycle = feedbackCycle(facts, q.EventField, q.Location)
	m.TalentPool = poolMetrics(facts, q.PoolSequences)
	m.Sources = sourceMetrics(facts)
	return m, nil
}

func ratio(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return math.Round(float64(n)/float64(d)*1000) / 1000
}

func ratioPtr(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	r := ratio(n, d)
	return &r
}

// quantile of sorted hours (nearest rank), rounded to 0.1 h; nil when empty.
func quantile(sorted []float64, q float64) *float64 {
	if len(sorted) == 0 {
		return nil
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	v := math.Round(sorted[i]*10) / 10
	return &v
}

func sequenceMetrics(facts []enrollmentFacts) []SequenceMetrics {
	by := map[string]*SequenceMetrics{}
	hours := map[string][]float64{}
	var names []string
	for _, f := range facts {
		s := by[f.Sequence]
		if s == nil {
			s = &SequenceMetrics{Sequence: f.Sequence}
			by[f.Sequence] = s
			names = append(names, f.Sequence)
		}
		s.Enrolled++
		if f.FirstSent == nil {
			continue
		}
		s.Contacted++
		if f.FirstReply != nil {
			s.Replied++
			hours[f.Sequence] = append(hours[f.Sequence], f.FirstReply.T.Sub(f.FirstSent.T).Hours())
		}
	}
	sort.Strings(names)
	out := make([]SequenceMetrics, 0, len(names))
	for _, n := range names {
		s := by[n]
		s.ReplyRate = ratio(s.Replied, s.Contacted)
		h := hours[n]
		sort.Float64s(h)
		s.FirstReplyMedianHours, s.FirstReplyP90Hours = quantile(h, 0.5), quantile(h, 0.9)
		out = append(out, *s)
	}
	return out
}

// eventDateLayouts are the ways a date is written in a CSV or an ATS.
var eventDateLayouts = []string{time.RFC3339, "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02", "2006/01/02 15:04", "2006/01/02", "2006.01.02"}

// ParseEventDate reads an event date from an enrollment field; a date
// without a zone is in loc, a date without a time is the end of that day
// (a same-day email counts as 0 hours, never negative).
func ParseEventDate(s string, loc *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, l := range eventDateLayouts {
		t, err := time.ParseInLocation(l, s, loc)
		if err != nil {
			continue
		}
		if !strings.Contains(l, "15") && l != time.RFC3339 {
			t = t.Add(24*time.Hour - time.Second)
		}
		return t, true
	}
	return time.Time{}, false
}

func feedbackCycle(facts []enrollmentFacts, field string, loc *time.Location) FeedbackCycle {
	fc := FeedbackCycle{Field: field}
	var hours []float64
	within := 0
	for _, f := range facts {
		if f.FirstSent == nil || !strings.Contains(f.Fields, field) {
			continue
		}
		var fields map[string]string
		if json.Unmarshal([]byte(f.Fields), &fields) != nil {
			continue
		}
		at, ok := ParseEventDate(fields[field], loc)
		if !ok {
			continue
		}
		h := max(0, f.FirstSent.T.Sub(at).Hours())
		hours = append(hours, h)
		if h <= 24 {
			within++
		}
	}
	sort.Float64s(hours)
	fc.Measured = len(hours)
	fc.MedianHours, fc.P90Hours = quantile(hours, 0.5), quantile(hours, 0.9)
	fc.Within24h = ratioPtr(within, len(hours))
	return fc
}

func poolMetrics(facts []enrollmentFacts, pool []string) PoolMetrics {
	pm := PoolMetrics{Sequences: append([]string{}, pool...)}
	isPool := map[string]bool{}
	for _, p := range pool {
		isPool[p] = true
	}
	firstPoolSend := map[int64]time.Time{}
	activated := map[int64]bool{}
	for _, f := range facts {
		if !isPool[f.Sequence] || f.FirstSent == nil {
			continue
		}
		if t, ok := firstPoolSend[f.CandidateID]; !ok || f.FirstSent.T.Before(t) {
			firstPoolSend[f.CandidateID] = f.FirstSent.T
		}
		if f.FirstReply != nil {
			activated[f.CandidateID] = true
		}
	}
	for _, f := range facts {
		if t, ok := firstPoolSend[f.CandidateID]; ok && !isPool[f.Sequence] && f.CreatedAt.After(t) {
			activated[f.CandidateID] = true
		}
	}
	pm.Contacted, pm.Activated = len(firstPoolSend), len(activated)
	pm.ActivationRate = ratioPtr(pm.Activated, pm.Contacted)
	return pm
}

// sourceOf is the candidate's channel: the enrollment's "source" or
// "channel" field when the ATS or CSV gave one, else how they were
// enrolled (api, cli, import, dashboard).
func sourceOf(f enrollmentFacts) string {
	if strings.Contains(f.Fields, `"source"`) || strings.Contains(f.Fields, `"channel"`) {
		var fields map[string]string
		if json.Unmarshal([]byte(f.Fields), &fields) == nil {
			for _, k := range []string{"source", "channel"} {
				if v := strings.TrimSpace(fields[k]); v != "" {
					return v
				}
			}
		}
	}
	// "api:ats", "import:c.csv:12", "dashboard (wang)", "cli"
	how := strings.FieldsFunc(f.Source, func(r rune) bool { return r == ':' || r == ' ' || r == '(' })
	if len(how) == 0 {
		return "unknown"
	}
	return how[0]
}

func sourceMetrics(facts []enrollmentFacts) []SourceMetrics {
	by := map[string]*SourceMetrics{}
	for _, f := range facts {
		src := sourceOf(f)
		s := by[src]
		if s == nil {
			s = &SourceMetrics{Source: src}
			by[src] = s
		}
		s.Enrolled++
		if f.FirstSent != nil {
			s.Contacted++
			if f.FirstReply != nil {
				s.Replied++
			}
		}
	}
	out := make([]SourceMetrics, 0, len(by))
	for _, s := range by {
		s.ReplyRate = ratio(s.Replied, s.Contacted)
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Enrolled != out[j].Enrolled {
			return out[i].Enrolled > out[j].Enrolled
		}
		return out[i].Source < out[j].Source
	})
	return out
}

// sqlTime scans a timestamp that lost its column type in an aggregate
// (SQLite then returns go-sqlite3's text form).
type sqlTime struct{ T time.Time }

// sqliteTimeLayouts are the forms go-sqlite3 writes and reads.
var sqliteTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00", "2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05", "2006-01-02",
}

func (s *sqlTime) Scan(v any) error {
	switch x := v.(type) {
	case time.Time:
		s.T = x
		return nil
	case []byte:
		return s.parse(string(x))
	case string:
		return s.parse(x)
	}
	return fmt.Errorf("reading a timestamp from %T", v)
}

func (s *sqlTime) parse(x string) error {
	x = strings.TrimSuffix(x, "Z")
	for _, l := range sqliteTimeLayouts {
		if t, err := time.Parse(l, x); err == nil {
			s.T = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("reading timestamp %q", x)
}
