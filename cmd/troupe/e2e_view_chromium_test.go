package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/launcher"
	"github.com/go-rod/rod/lib/proto"

	"github.com/troupe-dev/troupe/internal/browser"
	"github.com/troupe-dev/troupe/internal/testutil"
)

// Driving a Chromium of the test's own, for the live view's tests (e2e_view_test.go).

// testChromium launches a Chromium of the test's own (the host's browser, not troupe's), killed
// when the test ends. rod's launcher gives it a DevTools port on loopback, which is fine here:
// troupe's own Chromium never has one (internal/browser/launch.go).
func testChromium(t *testing.T) *rod.Browser {
	t.Helper()
	bin, err := browser.FindBrowser("")
	if err != nil {
		t.Fatal(err)
	}
	l := launcher.New().Bin(bin).Headless(true).Leakless(false).UserDataDir(t.TempDir()).
		NoSandbox(os.Geteuid() == 0). // Chromium refuses to run as root with its sandbox
		Set("disable-gpu").Set("disable-dev-shm-usage").Set("no-first-run").Set("disable-background-networking").
		Set("disable-component-update").Set("disable-extensions").Set("hide-scrollbars")
	u, err := l.Launch()
	if err != nil {
		t.Fatalf("launch %s: %v", bin, err)
	}
	t.Cleanup(func() {
		l.Kill()
		l.Cleanup()
	})
	b := rod.New().ControlURL(u)
	if err := b.Connect(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// openTab opens url in a 1200-pixel-wide tab.
func openTab(t *testing.T, b *rod.Browser, url string) *rod.Page {
	t.Helper()
	p, err := b.Page(proto.TargetCreateTarget{URL: "about:blank"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	p = p.Timeout(60 * time.Second)
	if err := p.SetViewport(&proto.EmulationSetDeviceMetricsOverride{Width: 1200, Height: 900, DeviceScaleFactor: 1}); err != nil {
		t.Fatal(err)
	}
	if err := p.Navigate(url); err != nil {
		t.Fatal(err)
	}
	return p
}

// viewFrame is the view inside the host page's iframe.
func viewFrame(t *testing.T, p *rod.Page) *rod.Page {
	t.Helper()
	waitFor(t, p, "the view to start", `() => window.viewLoaded === true`)
	el, err := p.Element("iframe#view")
	if err != nil {
		t.Fatal(err)
	}
	f, err := el.Frame()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// click clicks the element of p that selector finds.
func click(t *testing.T, p *rod.Page, selector string) {
	t.Helper()
	el, err := p.Element(selector)
	if err == nil {
		err = el.Click(proto.InputMouseButtonLeft, 1)
	}
	if err != nil {
		t.Fatalf("click %s: %v", selector, err)
	}
}

// eval evaluates a JavaScript function in p and returns its value as a string.
func eval(t *testing.T, p *rod.Page, js string) string {
	t.Helper()
	res, err := p.Eval(js)
	if err != nil {
		t.Fatalf("eval %s: %v", js, err)
	}
	return res.Value.Str()
}

func evalJSON(t *testing.T, p *rod.Page, js string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(eval(t, p, js)), v); err != nil {
		t.Fatalf("eval %s: %v", js, err)
	}
}

// waitFor polls a JavaScript predicate in p; on a timeout it reports what the view shows.
func waitFor(t *testing.T, p *rod.Page, what, js string) {
	t.Helper()
	testutil.Eventually(t, 45*time.Second, what, func() bool {
		res, err := p.Eval(`() => { try { return !!(` + js + `)(); } catch (e) { return false; } }`)
		return err == nil && res.Value.Bool()
	}, func() string {
		res, err := p.Eval(`() => document.body ? document.body.innerText.slice(0, 3000) : ''`)
		if err != nil {
			return err.Error()
		}
		return "the page shows:\n" + res.Value.Str()
	})
}

// screenshot takes the whole page at 1200 pixels wide: the tab is made as tall as the page.
func screenshot(t *testing.T, p *rod.Page) []byte {
	t.Helper()
	var height int
	evalJSON(t, p, `() => String(Math.ceil(document.documentElement.scrollHeight))`, &height)
	if err := p.SetViewport(&proto.EmulationSetDeviceMetricsOverride{Width: 1200, Height: height, DeviceScaleFactor: 1}); err != nil {
		t.Fatal(err)
	}
	_ = p.WaitRepaint()
	png, err := p.Screenshot(false, &proto.PageCaptureScreenshot{Format: proto.PageCaptureScreenshotFormatPng})
	if err != nil {
		t.Fatal(err)
	}
	return png
}

// artifactsDir is where the screenshots go, kept after the run: $TROUPE_ARTIFACTS, else
// test-artifacts/ at the repository's root (ignored by git).
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("TROUPE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func save(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	t.Logf("screenshot: %s", abs)
}
