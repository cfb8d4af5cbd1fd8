package sequences

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Delay is how long after the previous step (or after enrollment) a step is
// due. It is written as a number and a unit: 30m, 4h, 2d, 1w, or a sum such
// as 1w2d or 1d12h.
type Delay struct {
	D time.Duration
	// BusinessDays are working days of the candidate's region (3bd):
	// weekends, public holidays and 调休 taken into account.
	BusinessDays int
}

var delayUnits = map[byte]time.Duration{
	'm': time.Minute,
	'h': time.Hour,
	'd': 24 * time.Hour,
	'w': 7 * 24 * time.Hour,
}

// maxDelay keeps arithmetic far from overflow: no follow-up waits 10 years.
const maxDelay = 10 * 365 * 24 * time.Hour

// ParseDelay parses "30m", "4h", "2d", "1w", "1w2d", "0m".
func ParseDelay(s string) (Delay, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return Delay{}, fmt.Errorf("empty delay: write a number and a unit, e.g. 30m, 4h, 2d or 1w")
	}
	var total time.Duration
	bd := 0
	rest := in
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return Delay{}, fmt.Errorf("bad delay %q: expected a number at %q (use m, h, d or w units, e.g. 1w2d)", in, rest)
		}
		if i == len(rest) {
			return Delay{}, fmt.Errorf("bad delay %q: %q has no unit (m = minutes, h = hours, d = days, w = weeks, bd = business days)", in, rest)
		}
		if strings.HasPrefix(rest[i:], "bd") {
			n, err := strconv.Atoi(rest[:i])
			if err != nil || n > 2500 {
				return Delay{}, fmt.Errorf("bad delay %q: longer than 10 years", in)
			}
			bd += n
			rest = rest[i+2:]
			continue
		}
		unit, ok := delayUnits[rest[i]]
		if !ok {
			return Delay{}, fmt.Errorf("bad delay %q: unknown unit %q (m = minutes, h = hours, d = days, w = weeks, bd = business days)", in, rest[i:i+1])
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil || time.Duration(n) > maxDelay/unit {
			return Delay{}, fmt.Errorf("bad delay %q: longer than 10 years", in)
		}
		total += time.Duration(n) * unit
		if total > maxDelay {
			return Delay{}, fmt.Errorf("bad delay %q: longer than 10 years", in)
		}
		rest = rest[i+1:]
	}
	return Delay{D: total, BusinessDays: bd}, nil
}

// From returns when a step with this delay is due, counting from t, with
// business days counted on cal in loc (nil calendar: Monday to Friday).
// Business days keep the time of day: 3bd from Friday 15:00 is Wednesday
// 15:00, or later when a holiday intervenes.
func (d Delay) From(t time.Time, loc *time.Location, cal *Calendar) time.Time {
	if d.BusinessDays > 0 {
		if loc == nil {
			loc = time.UTC
		}
		l := t.In(loc)
		for n := d.BusinessDays; n > 0; {
			l = l.AddDate(0, 0, 1)
			if cal.IsWorkingDay(l) {
				n--
			}
		}
		t = l
	}
	return t.Add(d.D)
}

// String formats the delay the way it is written in sequence files.
func (d Delay) String() string {
	if d.D == 0 && d.BusinessDays == 0 {
		return "0m"
	}
	var b strings.Builder
	if d.BusinessDays > 0 {
		b.WriteString(strconv.Itoa(d.BusinessDays) + "bd")
	}
	rest := d.D
	for _, u := range []struct {
		c byte
		d time.Duration
	}{{'w', delayUnits['w']}, {'d', delayUnits['d']}, {'h', time.Hour}, {'m', time.Minute}} {
		if n := rest / u.d; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10))
			b.WriteByte(u.c)
			rest -= n * u.d
		}
	}
	return b.String()
}

// MarshalText stores a delay in pinned sequence versions.
func (d Delay) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a delay from a pinned sequence version.
func (d *Delay) UnmarshalText(b []byte) error {
	v, err := ParseDelay(string(b))
	*d = v
	return err
}
