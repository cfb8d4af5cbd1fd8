package testenv

import (
	"bytes"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserWithoutChromium: with no chromium on the PATH a browser test
// is skipped, or fails under FOLLOWUP_REQUIRE_SERVERS=1.
func TestBrowserWithoutChromium(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, c := range []struct {
		require      string
		skip, failed bool
	}{
		{"", true, false},
		{"1", false, true},
	} {
		t.Setenv(RequireServersEnv, c.require)
		f := &fakeTB{TB: t}
		f.run(func(tb testing.TB) { Browser(tb, BrowserOptions{}) })
		if f.skipped != c.skip || f.failed != c.failed || !strings.Contains(f.msg, "chromium") {
			t.Errorf("%s=%q: skipped=%v failed=%v msg=%q", RequireServersEnv, c.require, f.skipped, f.failed, f.msg)
		}
	}
}

// TestBrowserViewportLanguageAndScreenshot: the page sees the asked-for
// viewport and language, and a screenshot is a PNG of the page's size
// (times the scale) in $FOLLOWUP_ARTIFACTS.
func TestBrowserViewportLanguageAndScreenshot(t *testing.T) {
	artifacts := t.TempDir()
	t.Setenv(ArtifactsEnv, artifacts)
	ctx, shot := Browser(t, BrowserOptions{Width: 390, Height: 844, Scale: 2, Lang: "en-US"})
	langs := make(chan string, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		select {
		case langs <- r.Header.Get("Accept-Language"):
		default:
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html><body style="margin:0"><h1>Hello</h1></body></html>`))
	}))
	defer ts.Close()
	var width, height int
	if err := chromedp.Run(ctx,
		chromedp.Navigate(ts.URL),
		chromedp.WaitVisible(`h1`, chromedp.ByQuery),
		chromedp.Evaluate(`window.innerWidth`, &width),
		chromedp.Evaluate(`window.innerHeight`, &height),
		shot("browser-test.png"),
	); err != nil {
		t.Fatal(err)
	}
	if width != 390 || height != 844 {
		t.Errorf("viewport %d×%d, want 390×844", width, height)
	}
	if acceptLanguage := <-langs; !strings.HasPrefix(acceptLanguage, "en-US") {
		t.Errorf("Accept-Language %q, want en-US first", acceptLanguage)
	}
	b, err := os.ReadFile(filepath.Join(artifacts, "browser-test.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	if w := img.Bounds().Dx(); w != 780 {
		t.Errorf("screenshot %d pixels wide, want 780 (390 at scale 2)", w)
	}
}
