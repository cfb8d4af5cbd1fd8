package sequences

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestChinaCalendar(t *testing.T) {
	cals, ps := LoadCalendars("")
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	cn := cals.For("Asia/Shanghai")
	if cn == nil || cals.For("Europe/London") != nil {
		t.Fatal("the China calendar is not tied to China's time zones only")
	}
	sh := Location("Asia/Shanghai")
	day := func(s string) time.Time { d, _ := time.ParseInLocation("2006-01-02", s, sh); return d }
	tests := []struct {
		date    string
		working bool
	}{
		{"2026-02-13", true},  // Friday
		{"2026-02-14", true},  // Saturday, 调休 working day
		{"2026-02-16", false}, // Monday, Spring Festival
		{"2026-02-23", false}, // Monday, last day of the holiday
		{"2026-02-24", true},
		{"2026-02-28", true},  // Saturday, 调休
		{"2026-10-10", true},  // Saturday, 调休
		{"2026-10-05", false}, // National Day
		{"2025-01-26", true},  // Sunday, 调休
		{"2025-10-08", false},
		{"2027-01-02", false}, // not announced yet: a plain Saturday
		{"2027-01-04", true},
	}
	for _, tt := range tests {
		if got := cn.IsWorkingDay(day(tt.date)); got != tt.working {
			t.Errorf("%s: working %v, want %v", tt.date, got, tt.working)
		}
	}
	if name, ok := cn.Holiday(day("2026-02-17")); !ok || name != "春节" {
		t.Errorf("2026-02-17: %q %v", name, ok)
	}

	// Three business days from Friday 13 February 2026, 15:00: Saturday the
	// 14th is worked, then nine days of Spring Festival.
	d, err := ParseDelay("3bd")
	if err != nil || d.String() != "3bd" {
		t.Fatalf("ParseDelay(3bd) = %+v, %v", d, err)
	}
	got := d.From(time.Date(2026, 2, 13, 15, 0, 0, 0, sh), sh, cn)
	if want := time.Date(2026, 2, 25, 15, 0, 0, 0, sh); !got.Equal(want) {
		t.Errorf("3bd over the Spring Festival: %v, want %v", got, want)
	}
	if got := d.From(time.Date(2026, 2, 13, 15, 0, 0, 0, sh), sh, nil); !got.Equal(time.Date(2026, 2, 18, 15, 0, 0, 0, sh)) {
		t.Errorf("3bd on weekdays only: %v", got)
	}

	// A working-day window opens on the 调休 Saturday and not on holidays.
	w := DefaultWindow
	if at := time.Date(2026, 2, 14, 10, 0, 0, 0, sh); !w.Contains(at, sh, cn) {
		t.Error("closed on a make-up working Saturday")
	}
	next := w.Next(time.Date(2026, 2, 16, 10, 0, 0, 0, sh), sh, cn, "k")
	if next.In(sh).Format("2006-01-02 15") != "2026-02-24 09" {
		t.Errorf("during the Spring Festival the next opening is %v", next.In(sh))
	}
}

func TestProjectCalendarFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "cn-2027.yaml"), []byte(`region: cn
years:
  2027:
    holidays:
      - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
    workdays: [2027-01-09]
`), 0o644)
	os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte(`region: xx
zones: [Mars/Base]
years:
  2027:
    holidays:
      - {name: A, from: 2027-05-05, to: 2027-05-01}
      - {name: B, from: 2026-13-01, to: 2027-01-01}
    workdays: [2027-01-06, 2027-05-05]
`), 0o644)
	cals, ps := LoadCalendars(dir)
	want := []string{`broken.yaml:2:9: unknown time zone "Mars/Base"`, "A ends (2027-05-01) before it starts", `"2026-13-01" is not a date`, "2027-01-06 is a Wednesday"}
	joined := ""
	for _, p := range ps {
		joined += p.String() + "\n"
	}
	for _, w := range want {
		if !strings.Contains(joined, w) {
			t.Errorf("problems lack %q:\n%s", w, joined)
		}
	}
	cn := cals.For("Asia/Shanghai")
	if !cn.Covers(2026) || !cn.Covers(2027) {
		t.Error("the project's 2027 did not add to the built-in years")
	}
	sh := Location("Asia/Shanghai")
	if cn.IsWorkingDay(time.Date(2027, 1, 1, 12, 0, 0, 0, sh)) || !cn.IsWorkingDay(time.Date(2027, 1, 9, 12, 0, 0, 0, sh)) {
		t.Error("the 2027 days are not applied")
	}
}

func TestParseDate(t *testing.T) {
	d, err := ParseDate("2027-02-05")
	if err != nil || d.String() != "2027-02-05 10:00" {
		t.Errorf("%v %v", d, err)
	}
	if _, err := ParseDate("5 Feb"); err == nil {
		t.Error("accepted 5 Feb")
	}
}
