package dashboard

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"followup/internal/testenv"
)

// desktopBrowser is headless Chromium with a laptop-sized window, in
// English.
func desktopBrowser(t *testing.T) (context.Context, func(name string) chromedp.Action) {
	t.Helper()
	return testenv.Browser(t, testenv.BrowserOptions{Width: 1366, Height: 900, Lang: "en-US"})
}

// TestDashboardInChromium: a recruiter signs in, enrolls a candidate
// through the form, finds them in the list, opens the timeline, adds a tag
// and a note, pauses and resumes — in real headless Chromium.
func TestDashboardInChromium(t *testing.T) {
	ctx, shot := desktopBrowser(t)
	f := newFixture(t)
	base := f.srv.URL
	q := chromedp.ByQuery
	var listText, status1, status2, timeline, tags string
	err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/candidates"), // not signed in: the sign-in page
		chromedp.WaitVisible(`input[name=login]`, q),
		shot("dashboard-1-sign-in.png"),
		chromedp.SendKeys(`input[name=login]`, "wang", q),
		chromedp.SendKeys(`input[name=password]`, testPassword, q),
		chromedp.Submit(`input[name=password]`, q),
		chromedp.WaitVisible(`form.filters`, q),

		// Enroll through the form: choose the sequence, then fill it in.
		chromedp.Navigate(base+"/enroll"),
		chromedp.WaitVisible(`#choose-sequence`, q),
		chromedp.SetValue(`#choose-sequence`, "post-interview-thanks", q),
		chromedp.Click(`#next`, q),
		chromedp.WaitVisible(`#enroll-form`, q),
		chromedp.SendKeys(`#enroll-form input[name=email]`, "li.lei@example.com", q),
		chromedp.SendKeys(`#enroll-form input[name=name]`, "李雷", q),
		chromedp.SendKeys(`#enroll-form textarea[name="f.job_title"]`, "高级后端工程师", q),
		shot("dashboard-2-enroll.png"),
		chromedp.Click(`#enroll-submit`, q),
		chromedp.WaitVisible(`#add-note`, q),

		// The list shows them.
		chromedp.Navigate(base+"/candidates"),
		chromedp.WaitVisible(`table.list`, q),
		chromedp.Text(`table.list`, &listText, q),
		shot("dashboard-3-list.png"),
		chromedp.Click(`table.list a[href^="/candidates/"]`, q),
		chromedp.WaitVisible(`#add-tags`, q),

		// A tag and a note.
		chromedp.SetValue(`input[name=tags]`, "Go，紧急", q),
		chromedp.Click(`#add-tags`, q),
		chromedp.WaitVisible(`.flash`, q),
		chromedp.SendKeys(`textarea[name=note]`, "电话沟通过，对薪资有顾虑。", q),
		chromedp.Click(`#add-note`, q),
		chromedp.WaitVisible(`li.note`, q),

		// Pause, then resume.
		chromedp.Click(`button[value=pause]`, q),
		chromedp.WaitVisible(`button[value=resume]`, q),
		chromedp.Text(`tr.enrollment .st`, &status1, q),
		chromedp.Click(`button[value=resume]`, q),
		chromedp.WaitVisible(`button[value=pause]`, q),
		chromedp.Text(`tr.enrollment .st`, &status2, q),
		chromedp.Text(`ol.timeline`, &timeline, q),
		chromedp.Text(`div.tags`, &tags, q),
		shot("dashboard-4-timeline.png"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(listText, "李雷") || !strings.Contains(listText, "post-interview-thanks") {
		t.Errorf("list: %q", listText)
	}
	if status1 != "paused" || status2 != "active" {
		t.Errorf("statuses %q then %q", status1, status2)
	}
	for _, want := range []string{"enrolled", "paused", "resumed", "电话沟通过，对薪资有顾虑。", "tagged"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline lacks %q: %s", want, timeline)
		}
	}
	if !strings.Contains(tags, "Go") || !strings.Contains(tags, "紧急") {
		t.Errorf("tags %q", tags)
	}
	// What the browser did is what is stored.
	tl, err := f.db.Timeline(context.Background(), "li.lei@example.com")
	if err != nil || len(tl.Enrollments) != 1 || tl.Enrollments[0].Status != "active" || tl.Enrollments[0].Fields["job_title"] != "高级后端工程师" {
		t.Fatalf("stored: %+v %v", tl, err)
	}
}
