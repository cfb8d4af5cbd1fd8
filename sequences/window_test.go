package sequences

import (
	"strings"
	"testing"
	"time"
)

func TestWindowNext(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	ny, _ := time.LoadLocation("America/New_York")
	ldn, _ := time.LoadLocation("Europe/London")
	w := DefaultWindow
	tests := []struct {
		name string
		at   time.Time
		loc  *time.Location
		want string // local time, or "" for unchanged
	}{
		{"inside", time.Date(2026, 11, 23, 10, 0, 0, 0, sh), sh, ""},
		{"at opening", time.Date(2026, 11, 23, 9, 0, 0, 0, sh), sh, ""},
		{"before opening", time.Date(2026, 11, 23, 3, 0, 0, 0, sh), sh, "2026-11-23 09"},
		{"at closing", time.Date(2026, 11, 23, 20, 0, 0, 0, sh), sh, "2026-11-24 09"},
		{"friday night", time.Date(2026, 11, 27, 22, 0, 0, 0, sh), sh, "2026-11-30 09"},
		{"saturday", time.Date(2026, 11, 28, 12, 0, 0, 0, sh), sh, "2026-11-30 09"},
		{"DST change weekend", time.Date(2026, 3, 7, 12, 0, 0, 0, ny), ny, "2026-03-09 09"},
		{"London clocks go forward", time.Date(2026, 3, 28, 21, 0, 0, 0, ldn), ldn, "2026-03-30 09"},
		{"London clocks go back", time.Date(2026, 10, 24, 23, 30, 0, 0, ldn), ldn, "2026-10-26 09"},
		{"New York evening before DST ends", time.Date(2026, 10, 30, 20, 30, 0, 0, ny), ny, "2026-11-02 09"},
		{"UTC instant, Shanghai night", time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC), sh, "2026-11-24 09"},
	}
	for _, tt := range tests {
		got := w.Next(tt.at, tt.loc, nil, "enrollment.1")
		if tt.want == "" {
			if !got.Equal(tt.at) {
				t.Errorf("%s: moved to %v", tt.name, got)
			}
			continue
		}
		local := got.In(tt.loc)
		if !strings.HasPrefix(local.Format("2006-01-02 15"), tt.want) || local.Sub(time.Date(local.Year(), local.Month(), local.Day(), 9, 0, 0, 0, tt.loc)) >= maxJitter {
			t.Errorf("%s: %v, want %s:00 plus at most %v jitter", tt.name, local, tt.want, maxJitter)
		}
		if !w.Contains(got, tt.loc, nil) {
			t.Errorf("%s: %v is not inside the window", tt.name, local)
		}
	}
	if (Window{}).Next(time.Unix(0, 0), sh, nil, "x") != time.Unix(0, 0) {
		t.Error("the zero window is not always open")
	}
	a := w.Next(time.Date(2026, 11, 28, 12, 0, 0, 0, sh), sh, nil, "a.1")
	if a != w.Next(time.Date(2026, 11, 28, 13, 0, 0, 0, sh), sh, nil, "a.1") {
		t.Error("jitter is not stable for one enrollment and step")
	}
	spread := map[time.Time]bool{}
	for _, k := range []string{"a.1", "b.1", "c.1", "d.1", "e.1"} {
		spread[w.Next(time.Date(2026, 11, 28, 12, 0, 0, 0, sh), sh, nil, k)] = true
	}
	if len(spread) < 3 {
		t.Errorf("a batch lands on %d distinct times", len(spread))
	}
}

func TestWindowSpecParse(t *testing.T) {
	tests := []struct {
		spec WindowSpec
		err  string
	}{
		{WindowSpec{Days: []string{"mon", "Friday"}, Start: "09:00", End: "18:30"}, ""},
		{WindowSpec{Days: []string{"mon"}, Start: "00:00", End: "24:00"}, ""},
		{WindowSpec{Days: []string{"funday"}, Start: "09:00", End: "18:00"}, `unknown day "funday"`},
		{WindowSpec{Start: "09:00", End: "18:00"}, "no days"},
		{WindowSpec{Days: []string{"mon"}, Start: "9am", End: "18:00"}, `"9am" is not a time of day`},
		{WindowSpec{Days: []string{"mon"}, Start: "20:00", End: "09:00"}, "empty window"},
	}
	for _, tt := range tests {
		w, err := tt.spec.Parse()
		if tt.err == "" {
			if err != nil {
				t.Errorf("%+v: %v", tt.spec, err)
			} else if back, err := w.Spec().Parse(); err != nil || back.Start != w.Start || back.End != w.End || len(back.Days) != len(w.Days) {
				t.Errorf("%+v does not round-trip: %+v %v", tt.spec, w.Spec(), err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%+v: err %v, want %q", tt.spec, err, tt.err)
		}
	}
}
