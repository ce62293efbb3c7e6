package browser

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/testutil"
	"go.uber.org/goleak"
)

// The integration tests share one Chromium (launched by the first test that needs it).
var (
	sharedOnce sync.Once
	sharedDrv  *rodDriver
	sharedErr  error
	sharedDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedDrv != nil {
		if err := sharedDrv.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "closing the shared browser:", err)
			code = 1
		}
	}
	if sharedDir != "" {
		_ = os.RemoveAll(sharedDir)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// shared returns the test binary's driver.
func shared(tb testing.TB) *rodDriver {
	tb.Helper()
	sharedOnce.Do(func() {
		sharedDir, sharedErr = os.MkdirTemp("", "troupe-browser-test-")
		if sharedErr != nil {
			return
		}
		var d Driver
		d, sharedErr = New(Options{DataDir: sharedDir})
		if sharedErr == nil {
			sharedDrv = d.(*rodDriver)
		}
	})
	if sharedErr != nil {
		tb.Fatalf("shared driver: %v", sharedErr)
	}
	return sharedDrv
}

// newDriver returns a driver of its own (its own Chromium), closed at the end of the test.
func newDriver(t *testing.T, opts Options) *rodDriver {
	t.Helper()
	opts.DataDir = t.TempDir()
	d, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return d.(*rodDriver)
}

// openContext opens a context closed at the end of the test.
func openContext(t testing.TB, d Driver, session string, cookies []Cookie) Context {
	t.Helper()
	c, err := d.OpenContext(context.Background(), session, cookies)
	if err != nil {
		t.Fatalf("OpenContext(%s): %v", session, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// openPage opens a page closed at the end of the test.
func openPage(t testing.TB, c Context, url string) Page {
	t.Helper()
	p, err := c.OpenPage(context.Background(), url)
	if err != nil {
		t.Fatalf("OpenPage(%s): %v", url, err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}

// waitFor polls cond until it holds, failing the test after a generous bound.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, 20*time.Second, what, cond)
}
