package testutil

import (
	"os"
	"testing"
)

// ShortDir is a fresh directory (removed at the test's end) with a short path: t.TempDir's
// paths carry the test's name and can push a unix socket inside past Linux's 107 bytes.
func ShortDir(tb testing.TB) string {
	tb.Helper()
	d, err := os.MkdirTemp("", "td")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(d) })
	return d
}
