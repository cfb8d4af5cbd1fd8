package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ArtifactsEnv names the folder where browser tests keep their screenshots
// (default: a temporary folder of the test, removed afterwards).
const ArtifactsEnv = "FOLLOWUP_ARTIFACTS"

// BrowserOptions describe the headless Chromium a test gets from Browser.
type BrowserOptions struct {
	// Width and Height are the window and viewport in CSS pixels
	// (default 1366×900, a laptop).
	Width, Height int
	// Scale is the device pixel ratio (0: 1; a phone is 2 or 3).
	Scale float64
	// Lang is Chromium's UI language, which also sets the Accept-Language
	// header, e.g. "en-US" (empty: Chromium's default).
	Lang string
	// Timeout bounds everything done with the returned context
	// (default 90 s).
	Timeout time.Duration
}

// Browser starts Debian's headless Chromium with a fresh profile and
// returns a chromedp context for it, and an action that saves a full-page
// screenshot as a PNG named name in $FOLLOWUP_ARTIFACTS (default: a
// temporary folder of the test). The browser is closed when the test ends.
//
// Without chromium on the PATH the test is skipped, or fails when
// FOLLOWUP_REQUIRE_SERVERS=1.
//
// Pass chromedp.ByQuery to selector actions: the default BySearch can wait
// forever on selectors it reads as XPath.
func Browser(t testing.TB, o BrowserOptions) (context.Context, func(name string) chromedp.Action) {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv(RequireServersEnv) == "1" {
			t.Fatal("testenv: chromium is not installed (scripts/testenv/install.sh installs it; " + RequireServersEnv + "=1, so this is a failure, not a skip)")
		}
		t.Skip("testenv: chromium is not installed; scripts/test.sh installs it")
	}
	if o.Width <= 0 || o.Height <= 0 {
		o.Width, o.Height = 1366, 900
	}
	if o.Timeout <= 0 {
		o.Timeout = 90 * time.Second
	}
	artifacts := os.Getenv(ArtifactsEnv)
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatalf("testenv: %s: %v", ArtifactsEnv, err)
	}
	// The profile is removed after the browser has exited (Chromium may
	// still be writing to it when a test's own temporary folder goes).
	profile, err := os.MkdirTemp("", "followup-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.UserDataDir(profile),
		chromedp.WindowSize(o.Width, o.Height),
	)
	if o.Lang != "" {
		opts = append(opts, chromedp.Flag("lang", o.Lang))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, o.Timeout)
	t.Cleanup(func() {
		chromedp.Cancel(ctx) // closes the browser and waits for it
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
		os.RemoveAll(profile)
	})
	viewport := []chromedp.EmulateViewportOption{}
	if o.Scale > 0 {
		viewport = append(viewport, chromedp.EmulateScale(o.Scale))
	}
	if err := chromedp.Run(ctx, chromedp.EmulateViewport(int64(o.Width), int64(o.Height), viewport...)); err != nil {
		t.Fatalf("testenv: starting chromium (%s): %v", bin, err)
	}
	shot := func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			var buf []byte
			if err := chromedp.FullScreenshot(&buf, 100).Do(ctx); err != nil {
				return fmt.Errorf("screenshot %s: %w", name, err)
			}
			p := filepath.Join(artifacts, name)
			t.Logf("screenshot %s", p)
			if err := os.WriteFile(p, buf, 0o644); err != nil {
				return fmt.Errorf("screenshot %s: %w", name, err)
			}
			return nil
		})
	}
	return ctx, shot
}
