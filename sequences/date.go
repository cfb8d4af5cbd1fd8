package sequences

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Date is a wall-clock date and time with no zone: it is read in each
// candidate's own time zone ("2027-02-05 10:00" is 10:00 in Shanghai for
// one candidate and 10:00 in London for another).
type Date struct {
	Year, Month, Day, Hour, Minute int
}

// ParseDate reads "2027-02-05" (10:00 that day) or "2027-02-05 09:30".
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			d := Date{t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute()}
			if layout == "2006-01-02" {
				d.Hour = 10
			}
			return d, nil
		}
	}
	return Date{}, fmt.Errorf("%q is not a date (write 2027-02-05 or 2027-02-05 10:00)", s)
}

// IsZero reports whether no date is set.
func (d Date) IsZero() bool { return d.Year == 0 }

// In is the date as an instant in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, time.Month(d.Month), d.Day, d.Hour, d.Minute, 0, 0, loc)
}

func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d %02d:%02d", d.Year, d.Month, d.Day, d.Hour, d.Minute)
}

// MarshalJSON stores the date in pinned versions.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte(`""`), nil
	}
	return json.Marshal(d.String())
}

// UnmarshalJSON reads a pinned date.
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == "" {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(s)
	*d = v
	return err
}
