package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/process"
)

// TestFenceWatchdog: renewed deadlines keep everything; input ending (the daemon done with it)
// kills nothing; a deadline that passes kills every process under the daemon, not the daemon.
func TestFenceWatchdog(t *testing.T) {
	root := exec.Command("sh", "-c", "sleep 60 & sleep 60 & exec sleep 61") // the "daemon" outlives its children
	if err := root.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = root.Process.Kill(); _ = root.Wait() })
	var kids []int
	eventually(t, 5*time.Second, "the sleeps start", func() bool {
		kids = process.Descendants(root.Process.Pid)
		return len(kids) == 2
	})

	// EOF: nothing killed.
	var log strings.Builder
	if err := runFenceWatchdog(strings.NewReader(fmt.Sprintln(time.Now().Add(time.Hour).UnixNano())), root.Process.Pid, &log); err != nil {
		t.Fatal(err)
	}
	for _, k := range kids {
		if !alive(k) {
			t.Fatalf("the watchdog killed %d on a clean end", k)
		}
	}

	// A deadline renewed, then left to pass.
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- runFenceWatchdog(r, root.Process.Pid, &log) }()
	fmt.Fprintln(w, time.Now().Add(200*time.Millisecond).UnixNano())
	fmt.Fprintln(w, time.Now().Add(400*time.Millisecond).UnixNano())
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the watchdog did not act on a passed deadline")
	}
	_ = w.Close()
	eventually(t, 5*time.Second, "the daemon's children killed", func() bool {
		for _, k := range kids {
			if alive(k) {
				return false
			}
		}
		return true
	})
	if !alive(root.Process.Pid) {
		t.Fatal("the watchdog killed the daemon itself")
	}
	if !strings.Contains(log.String(), "killed 2 processes") {
		t.Fatalf("the watchdog said %q", log.String())
	}
}

// TestClusterSecretIsSharedAndPrivate: nodes starting at once read one whole secret, mode 0600.
func TestClusterSecretIsSharedAndPrivate(t *testing.T) {
	dir := t.TempDir()
	got := make(chan string, 8)
	for i := 0; i < 8; i++ {
		go func() {
			s, err := clusterSecret(dir)
			if err != nil {
				t.Error(err)
			}
			got <- s
		}()
	}
	first := <-got
	for i := 1; i < 8; i++ {
		if s := <-got; s != first || len(s) != 64 {
			t.Fatalf("secrets %q and %q", first, s)
		}
	}
	st, err := os.Stat(filepath.Join(dir, "cluster.secret"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("cluster.secret: %v %v", st.Mode(), err)
	}
}
