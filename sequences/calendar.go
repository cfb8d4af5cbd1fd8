package sequences

import (
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"followup/internal/yamlfile"
)

//go:embed calendars/*.yaml
var builtinCalendars embed.FS

// Calendar says which days are working days in a region: weekdays, minus
// public holidays, plus make-up working days (mainland China's 调休: a
// Saturday or Sunday that is worked, in exchange for a longer holiday).
type Calendar struct {
	Region   string
	Name     string
	Zones    []string
	holidays map[string]string // "2026-02-16" → 春节
	workdays map[string]bool
	years    map[int]bool
}

// IsWorkingDay reports whether the date of d (in its own location) is a
// working day. A nil calendar, or a year it does not cover, means plain
// Monday to Friday.
func (c *Calendar) IsWorkingDay(d time.Time) bool {
	if c != nil {
		key := d.Format("2006-01-02")
		if c.workdays[key] {
			return true
		}
		if _, ok := c.holidays[key]; ok {
			return false
		}
	}
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// Holiday names the holiday on d's date, if any.
func (c *Calendar) Holiday(d time.Time) (string, bool) {
	if c == nil {
		return "", false
	}
	n, ok := c.holidays[d.Format("2006-01-02")]
	return n, ok
}

// Covers reports whether the calendar lists the given year.
func (c *Calendar) Covers(year int) bool { return c != nil && c.years[year] }

// Calendars maps time zones to calendars.
type Calendars struct {
	byZone map[string]*Calendar
	all    []*Calendar
}

// For returns the calendar of a candidate's time zone, or nil (plain
// weekdays).
func (cs *Calendars) For(tz string) *Calendar {
	if cs == nil {
		return nil
	}
	return cs.byZone[tz]
}

// All lists the loaded calendars.
func (cs *Calendars) All() []*Calendar {
	if cs == nil {
		return nil
	}
	return cs.all
}

type calendarFile struct {
	Region string              `yaml:"region"`
	Name   string              `yaml:"name"`
	Zones  []string            `yaml:"zones"`
	Years  map[string]yearFile `yaml:"years"`
}

type yearFile struct {
	Source   string        `yaml:"source"`
	Holidays []holidayFile `yaml:"holidays"`
	Workdays []string      `yaml:"workdays"`
}

type holidayFile struct {
	Name string `yaml:"name"`
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

// LoadCalendars reads the built-in calendars, then every *.yaml in dir (if
// dir exists): a project file for a region the built-ins have adds its
// years to it (a year it lists replaces the built-in one).
func LoadCalendars(dir string) (*Calendars, yamlfile.Problems) {
	cs := &Calendars{byZone: map[string]*Calendar{}}
	byRegion := map[string]*Calendar{}
	var ps yamlfile.Problems
	entries, _ := builtinCalendars.ReadDir("calendars")
	for _, e := range entries {
		content, _ := builtinCalendars.ReadFile("calendars/" + e.Name())
		ps = append(ps, parseCalendar("(built-in) "+e.Name(), content, byRegion)...)
	}
	if dir != "" {
		files, err := os.ReadDir(dir)
		if err != nil && !os.IsNotExist(err) {
			ps.Addf(dir, 0, 0, "reading calendars: %v", err)
		}
		for _, f := range files {
			if f.IsDir() || !(strings.HasSuffix(f.Name(), ".yaml") || strings.HasSuffix(f.Name(), ".yml")) {
				continue
			}
			path := filepath.Join(dir, f.Name())
			content, err := os.ReadFile(path)
			if err != nil {
				ps.Addf(path, 0, 0, "reading calendar: %v", err)
				continue
			}
			ps = append(ps, parseCalendar(path, content, byRegion)...)
		}
	}
	var regions []string
	for r := range byRegion {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	for _, r := range regions {
		c := byRegion[r]
		cs.all = append(cs.all, c)
		for _, z := range c.Zones {
			cs.byZone[z] = c
		}
	}
	return cs, ps
}

func parseCalendar(file string, content []byte, byRegion map[string]*Calendar) yamlfile.Problems {
	var f calendarFile
	doc, ps := yamlfile.Decode(file, content, &f)
	if len(ps) > 0 {
		return ps
	}
	if f.Region == "" {
		return append(ps, doc.Problemf("$", "no region: add e.g. \"region: cn\""))
	}
	c, ok := byRegion[f.Region]
	if !ok {
		c = &Calendar{Region: f.Region, holidays: map[string]string{}, workdays: map[string]bool{}, years: map[int]bool{}}
		byRegion[f.Region] = c
	}
	if f.Name != "" {
		c.Name = f.Name
	}
	for i, z := range f.Zones {
		if _, err := time.LoadLocation(z); err != nil {
			ps = append(ps, doc.Problemf(fmt.Sprintf("$.zones[%d]", i), "unknown time zone %q", z))
			continue
		}
		if !contains(c.Zones, z) {
			c.Zones = append(c.Zones, z)
		}
	}
	var years []string
	for y := range f.Years {
		years = append(years, y)
	}
	sort.Strings(years)
	for _, ys := range years {
		y, err := strconv.Atoi(ys)
		path := "$.years." + ys
		if err != nil || y < 2000 || y > 2100 {
			ps = append(ps, doc.Problemf(path, "year %q: write a year such as 2027", ys))
			continue
		}
		yp := parseYear(doc, path, y, f.Years[ys])
		if len(yp.problems) > 0 {
			ps = append(ps, yp.problems...)
			continue
		}
		// A year given again (a project file correcting the built-in one)
		// replaces it.
		for k := range c.holidays {
			if strings.HasPrefix(k, ys+"-") {
				delete(c.holidays, k)
			}
		}
		for k := range c.workdays {
			if strings.HasPrefix(k, ys+"-") {
				delete(c.workdays, k)
			}
		}
		for k, v := range yp.holidays {
			c.holidays[k] = v
		}
		for k := range yp.workdays {
			c.workdays[k] = true
		}
		c.years[y] = true
	}
	return ps
}

type parsedYear struct {
	holidays map[string]string
	workdays map[string]bool
	problems yamlfile.Problems
}

func parseYear(doc *yamlfile.Doc, path string, year int, yf yearFile) parsedYear {
	py := parsedYear{holidays: map[string]string{}, workdays: map[string]bool{}}
	date := func(p, s string) (time.Time, bool) {
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			py.problems = append(py.problems, doc.Problemf(p, "%q is not a date (write 2027-02-05)", s))
			return d, false
		}
		if d.Year() != year {
			py.problems = append(py.problems, doc.Problemf(p, "%s is not in %d", s, year))
			return d, false
		}
		return d, true
	}
	for i, h := range yf.Holidays {
		hp := fmt.Sprintf("%s.holidays[%d]", path, i)
		from, ok1 := date(hp+".from", h.From)
		to, ok2 := date(hp+".to", h.To)
		if !ok1 || !ok2 {
			continue
		}
		if to.Before(from) {
			py.problems = append(py.problems, doc.Problemf(hp, "%s ends (%s) before it starts (%s)", h.Name, h.To, h.From))
			continue
		}
		for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
			py.holidays[d.Format("2006-01-02")] = h.Name
		}
	}
	for i, w := range yf.Workdays {
		wp := fmt.Sprintf("%s.workdays[%d]", path, i)
		d, ok := date(wp, w)
		if !ok {
			continue
		}
		key := d.Format("2006-01-02")
		switch {
		case py.holidays[key] != "":
			py.problems = append(py.problems, doc.Problemf(wp, "%s is listed both as a holiday (%s) and as a working day", w, py.holidays[key]))
		case d.Weekday() != time.Saturday && d.Weekday() != time.Sunday:
			py.problems = append(py.problems, doc.Problemf(wp, "%s is a %s, a working day anyway: make-up working days are weekend days", w, d.Weekday()))
		default:
			py.workdays[key] = true
		}
	}
	return py
}
