package audit

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/testutil"
)

// openLog opens a log in a fresh data directory and closes it at the end of the test.
func openLog(t testing.TB, opts Options) (*Log, string) {
	t.Helper()
	data := t.TempDir()
	l, err := Open(data, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l, data
}

// appendN appends n tool events to l.
func appendN(t testing.TB, l *Log, n int) []Event {
	t.Helper()
	out := make([]Event, 0, n)
	for i := 0; i < n; i++ {
		e, err := l.Append(context.Background(), Event{
			Action: "session.create", Stage: StageRequested, Session: "s" + string(rune('a'+i%26)),
			Actor:   &Actor{Transport: "stdio", ClientName: "test", ClientVersion: "1.0"},
			Details: map[string]any{"i": i},
		})
		if err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
		out = append(out, e)
	}
	return out
}

// readLines returns the lines of a file, each with its "\n" (the last may lack it).
func readLines(t testing.TB, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// writeFile replaces a file's content, keeping its mode.
func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func seg(data string, n int) string { return filepath.Join(data, DirName, SegmentName(n)) }

// waitFor polls cond until it holds, failing the test after a generous deadline.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, 20*time.Second, what, cond)
}

// mustVerify verifies the log in data and returns the report.
func mustVerify(t testing.TB, data string) Report {
	t.Helper()
	r, err := Verify(filepath.Join(data, DirName))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return r
}

func joinLines(lines [][]byte) []byte { return bytes.Join(lines, nil) }

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
