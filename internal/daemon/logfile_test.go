package daemon

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestLogFileRotatesBounded: past max bytes the log becomes <log>.1 and a new one starts; no
// file grows past the bound and no line is split across files.
func TestLogFileRotatesBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), LogName)
	l, err := OpenLog(path, 100, false)
	if err != nil {
		t.Fatal(err)
	}
	line := []byte("0123456789abcdefghi\n") // 20 bytes
	for range 23 {
		if _, err := l.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	cur, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(path + ".1")
	if err != nil {
		t.Fatal(err)
	}
	if len(cur) > 100 || len(old) > 100 || len(old) == 0 || len(cur) == 0 {
		t.Fatalf("sizes: %s %d bytes, .1 %d bytes; want both in 1..100", LogName, len(cur), len(old))
	}
	if bytes.Count(cur, line)*len(line) != len(cur) || bytes.Count(old, line)*len(line) != len(old) {
		t.Fatal("a line was split across files")
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 2 {
		t.Fatalf("%d files in the log dir, want 2 (the log and one .1)", len(entries))
	}
	// Reopening appends and keeps counting the existing size.
	l, err = OpenLog(path, 100, false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for range 5 {
		_, _ = l.Write(line)
	}
	if st, _ := os.Stat(path); st.Size() > 100 {
		t.Fatalf("after reopening: %d bytes, want at most 100", st.Size())
	}
}
