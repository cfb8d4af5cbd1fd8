package web

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"followup/internal/testenv"
	"followup/surveys"
)

// TestSurveyOnAPhoneInChromium answers the declined-offer survey the way a
// candidate does: real headless Chromium on a phone-sized screen, opening
// the link, choosing with taps, typing, sending, seeing the thank-you page.
// Screenshots of each page are kept in $FOLLOWUP_ARTIFACTS (default: the
// test's temporary folder).
func TestSurveyOnAPhoneInChromium(t *testing.T) {
	ctx, shot := phoneBrowser(t)
	db, h, link := surveySetup(t)
	ts := httptest.NewServer(h)
	defer ts.Close()

	var title, thanks, problem string
	err := chromedp.Run(ctx,
		chromedp.Navigate(ts.URL+link("declined-offer")),
		chromedp.WaitVisible(`button[type=submit]`),
		chromedp.Text(`h1`, &title),
		shot("survey-1-form.png"),
		// Send without the required answers: an inline error, nothing kept.
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`.err`, chromedp.ByQuery),
		chromedp.Text(`.err`, &problem, chromedp.ByQuery),
		shot("survey-2-error.png"),
		chromedp.Click(`input[name=reasons][value=salary]`),
		chromedp.Click(`input[name=reasons][value=other]`),
		chromedp.SendKeys(`input[name="reasons.other"]`, "通勤时间太长"),
		chromedp.Click(`input[name=contact_again][value=yes]`),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitNotPresent(`button[type=submit]`),
		chromedp.Text(`main`, &thanks),
		shot("survey-3-thanks.png"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(title, "offer") || !strings.Contains(problem, "请回答这个问题") || !strings.Contains(thanks, "非常感谢您的坦诚") {
		t.Errorf("title %q, problem %q, thanks %q", title, problem, thanks)
	}
	rows, err := db.SurveyResponses(context.Background(), "declined-offer")
	if err != nil || len(rows) != 1 || !strings.Contains(rows[0].Answers, "通勤时间太长") {
		t.Fatalf("stored: %+v %v", rows, err)
	}
	// What was stored is what the report counts: the two reasons tapped.
	var answers surveys.Answers
	if err := json.Unmarshal([]byte(rows[0].Answers), &answers); err != nil {
		t.Fatal(err)
	}
	def, _ := starterSurveys(t).Get("declined-offer")
	counted := map[string]int{}
	for _, c := range surveys.Summarize(def, []surveys.Row{{Answers: answers}}, "zh-CN").Choices["reasons"] {
		counted[c.ID] = c.N
	}
	if counted["salary"] != 1 || counted["other"] != 1 || counted["team"] != 0 {
		t.Errorf("the report counts %v", counted)
	}
}

// phoneBrowser is headless Chromium with a phone-sized screen.
func phoneBrowser(t *testing.T) (context.Context, func(name string) chromedp.Action) {
	t.Helper()
	return testenv.Browser(t, testenv.BrowserOptions{Width: 390, Height: 844, Scale: 2, Timeout: 60 * time.Second})
}

// TestNPSOnAPhoneInChromium opens a score link from an NPS email (score 3
// chosen, nothing recorded), changes it to 9 with a tap on the number,
// writes a reason and sends: one anonymous response with score 9.
func TestNPSOnAPhoneInChromium(t *testing.T) {
	ctx, shot := phoneBrowser(t)
	db, h, link := surveySetup(t)
	ts := httptest.NewServer(h)
	defer ts.Close()
	var preselected, thanks string
	var fits bool
	err := chromedp.Run(ctx,
		chromedp.Navigate(ts.URL+link("nps")+"?score=3"),
		chromedp.WaitVisible(`button[type=submit]`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector('input[name=score]:checked').value`, &preselected),
		// All eleven numbers on the screen without scrolling sideways.
		chromedp.Evaluate(`[...document.querySelectorAll('.pt span')].every(e => e.getBoundingClientRect().right <= window.innerWidth)`, &fits),
		shot("nps-1-form.png"),
		chromedp.Click(`input[name=score][value="9"] + span`, chromedp.ByQuery),
		chromedp.SendKeys(`textarea[name=reason]`, "面试官很专业", chromedp.ByQuery),
		chromedp.Click(`button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitNotPresent(`button[type=submit]`, chromedp.ByQuery),
		chromedp.Text(`main`, &thanks, chromedp.ByQuery),
		shot("nps-2-thanks.png"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if preselected != "3" || !fits || !strings.Contains(thanks, "谢谢您的反馈") {
		t.Errorf("preselected %q, numbers fit %v, thanks %q", preselected, fits, thanks)
	}
	rows, err := db.SurveyResponses(context.Background(), "nps")
	if err != nil || len(rows) != 1 || rows[0].Score == nil || *rows[0].Score != 9 {
		t.Fatalf("stored: %+v %v", rows, err)
	}
}
