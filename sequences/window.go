package sequences

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"
)

// Window is when a sequence's emails may arrive, in the candidate's own time
// zone: some days of the week, between two times of day. A step due outside
// it goes at the next opening, plus a few minutes' jitter so a batch does
// not land at 09:00:00 exactly. The zero Window is always open.
type Window struct {
	Days []time.Weekday
	// WorkingDays opens the window on the working days of the candidate's
	// region instead of fixed weekdays: public holidays are closed and
	// make-up working days (调休) are open (see Calendar).
	WorkingDays bool
	Start       time.Duration // since midnight
	End         time.Duration // since midnight, after Start
}

// DefaultWindow is 09:00–20:00, Monday to Friday: the seeds' rule that
// nothing arrives before nine or after eight.
var DefaultWindow = Window{
	WorkingDays: true,
	Start:       9 * time.Hour,
	End:         20 * time.Hour,
}

// maxJitter spreads sends after a window opens.
const maxJitter = 20 * time.Minute

// IsZero reports whether the window is unset (always open).
func (w Window) IsZero() bool { return len(w.Days) == 0 && !w.WorkingDays }

func (w Window) openOn(d time.Time, cal *Calendar) bool {
	if w.WorkingDays {
		return cal.IsWorkingDay(d)
	}
	for _, x := range w.Days {
		if x == d.Weekday() {
			return true
		}
	}
	return false
}

// Next returns t when t is inside the window in loc, else the next opening
// plus a jitter derived from key (stable: the same enrollment and step get
// the same minute every time it is computed).
//
// cal is the calendar of the candidate's region (nil: plain weekdays).
func (w Window) Next(t time.Time, loc *time.Location, cal *Calendar, key string) time.Time {
	if w.IsZero() {
		return t
	}
	if loc == nil {
		loc = time.UTC
	}
	local := t.In(loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	// Three weeks covers the longest run of closed days (the Spring
	// Festival with its weekends).
	for i := 0; i < 21; i++ {
		d := day.AddDate(0, 0, i)
		if !w.openOn(d, cal) {
			continue
		}
		open := at(d, w.Start)
		closeAt := at(d, w.End)
		if i == 0 && !local.Before(open) && local.Before(closeAt) {
			return t // inside
		}
		if local.Before(open) {
			j := jitter(key, min(maxJitter, (w.End-w.Start)/4))
			return open.Add(j)
		}
	}
	return t // unreachable with at least one day
}

// Contains reports whether t is inside the window in loc.
func (w Window) Contains(t time.Time, loc *time.Location, cal *Calendar) bool {
	return w.Next(t, loc, cal, "").Equal(t)
}

// at is the wall-clock time of day on d's date (DST-safe: 09:00 stays 09:00).
func at(d time.Time, since time.Duration) time.Time {
	h, m := int(since/time.Hour), int(since%time.Hour/time.Minute)
	return time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, d.Location())
}

func jitter(key string, span time.Duration) time.Duration {
	if key == "" || span <= 0 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(key))
	return time.Duration(h.Sum32()%uint32(span/time.Second)) * time.Second
}

var dayNames = map[string]time.Weekday{}

func init() {
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		dayNames[name] = d
		dayNames[name[:3]] = d
	}
}

// WindowSpec is a window as written in YAML: days: [mon, tue], start:
// "09:00", end: "20:00".
type WindowSpec struct {
	Days  []string `yaml:"days" json:"days"`
	Start string   `yaml:"start" json:"start"`
	End   string   `yaml:"end" json:"end"`
}

// Parse checks a window spec; every problem is returned, joined.
func (s WindowSpec) Parse() (Window, error) {
	var w Window
	var errs []string
	seen := map[time.Weekday]bool{}
	for _, d := range s.Days {
		if strings.EqualFold(strings.TrimSpace(d), "working") {
			w.WorkingDays = true
			continue
		}
		wd, ok := dayNames[strings.ToLower(strings.TrimSpace(d))]
		if !ok {
			errs = append(errs, fmt.Sprintf("unknown day %q (use mon, tue, wed, thu, fri, sat, sun)", d))
			continue
		}
		if !seen[wd] {
			seen[wd] = true
			w.Days = append(w.Days, wd)
		}
	}
	sort.Slice(w.Days, func(i, j int) bool { return w.Days[i] < w.Days[j] })
	if len(s.Days) == 0 {
		errs = append(errs, "no days: list at least one, e.g. days: [working] or [mon, tue, wed, thu, fri]")
	}
	if w.WorkingDays && len(w.Days) > 0 {
		errs = append(errs, "\"working\" already means the working days of the candidate's region: list it alone")
	}
	var err error
	if w.Start, err = clock(s.Start); err != nil {
		errs = append(errs, "start: "+err.Error())
	}
	if w.End, err = clock(s.End); err != nil {
		errs = append(errs, "end: "+err.Error())
	}
	if len(errs) == 0 && w.End <= w.Start {
		errs = append(errs, fmt.Sprintf("empty window: end %s is not after start %s", s.End, s.Start))
	}
	if len(errs) > 0 {
		return Window{}, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return w, nil
}

func clock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		if strings.TrimSpace(s) == "24:00" {
			return 24 * time.Hour, nil
		}
		return 0, fmt.Errorf("%q is not a time of day (write 09:00)", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// Spec writes the window back as YAML/JSON fields.
func (w Window) Spec() WindowSpec {
	if w.IsZero() {
		return WindowSpec{}
	}
	var days []string
	if w.WorkingDays {
		days = append(days, "working")
	}
	for _, d := range w.Days {
		days = append(days, strings.ToLower(d.String()[:3]))
	}
	f := func(d time.Duration) string {
		return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return WindowSpec{Days: days, Start: f(w.Start), End: f(w.End)}
}

// MarshalJSON stores the window in pinned sequence versions.
func (w Window) MarshalJSON() ([]byte, error) {
	if w.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(w.Spec())
}

// UnmarshalJSON reads a pinned window.
func (w *Window) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*w = Window{}
		return nil
	}
	var s WindowSpec
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := s.Parse()
	*w = v
	return err
}
