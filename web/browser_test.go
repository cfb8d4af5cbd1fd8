package web

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"followup/surveys"
)

// TestSurveyOnAPhoneInChromium answers the declined-offer survey the way a
// candidate does: real headless Chromium on a phone-sized screen, opening
// the link, choosing with taps, typing, sending, seeing the thank-you page.
// Screenshots of each page are kept in $FOLLOWUP_ARTIFACTS (default: the
// test's temporary folder).
func TestSurveyOnAPhoneInChromium(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("FOLLOWUP_REQUIRE_SERVERS") == "1" {
			t.Fatal("chromium is not installed (scripts/testenv/install.sh installs it)")
		}
		t.Skip("chromium is not installed; scripts/test.sh installs it")
	}
	db, h, link := surveySetup(t)
	ts := httptest.NewServer(h)
	defer ts.Close()
	artifacts := os.Getenv("FOLLOWUP_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	os.MkdirAll(artifacts, 0o755)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(390, 844), // a phone
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	shot := func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			var buf []byte
			if err := chromedp.FullScreenshot(&buf, 100).Do(ctx); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(artifacts, name), buf, 0o644)
		})
	}
	var title, thanks, problem string
	err = chromedp.Run(ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)),
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
	set, _ := surveys.Load(filepath.Join("..", "cmd", "followup", "starter", "surveys"))
	def, _ := set.Get("declined-offer")
	sum := surveys.Summarize(def, []surveys.Row{{Answers: surveys.Answers{"reasons": []any{"salary", "other"}}}}, "zh-CN")
	if sum.Choices["reasons"][0].N != 1 {
		t.Error("the answer does not show in the report")
	}
	t.Logf("screenshots in %s", artifacts)
}
