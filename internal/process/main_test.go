package process

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// helperEnv makes the test binary act as a helper process (see pdeathsig_test.go).
const helperEnv = "TROUPE_PROCESS_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		runHelper()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// waitFor polls cond until it holds. The bound only keeps a broken test from hanging; it is far
// above any expected duration and not an assertion on speed.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if !poll(60*time.Second, nil, cond) {
		t.Fatalf("gave up waiting for %s", what)
	}
}

// waitDone waits for p to be done.
func waitDone(t testing.TB, p Process) {
	t.Helper()
	select {
	case <-p.Done():
	case <-time.After(60 * time.Second):
		t.Fatalf("process %d not done", p.PID())
	}
}

// newTestOutput creates an Output in a temporary directory.
func newTestOutput(t testing.TB, memLimit int) *Output {
	t.Helper()
	o, err := NewOutput(t.TempDir()+"/agents/s/a.log", memLimit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

// text returns all output of o with after > 0 joined, with its stream given ("" for both).
func text(o *Output, stream string) string {
	var b strings.Builder
	for next := uint64(0); ; {
		r := o.Read(next, 0)
		for _, c := range r.Chunks {
			if stream == "" || c.Stream == stream {
				b.Write(c.Data)
			}
		}
		if !r.More {
			return b.String()
		}
		next = r.Next
	}
}

// running reports whether pid is a running process (not gone, not a zombie).
func running(pid int) bool {
	st, err := readStat(pid)
	return err == nil && st.running()
}

// ourZombies lists the zombie children of the test process: reaping them is our job.
func ourZombies(t testing.TB) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readStat(pid); err == nil && st.PPID == os.Getpid() && !st.running() {
			out = append(out, pid)
		}
	}
	return out
}

// firstLine waits until o's stdout has a complete first line and returns it.
func firstLine(t testing.TB, o *Output) string {
	t.Helper()
	var line string
	waitFor(t, "a first line of output", func() bool {
		s := text(o, "stdout")
		i := strings.IndexByte(s, '\n')
		line = s[:max(i, 0)]
		return i >= 0
	})
	return line
}

// atoi parses a PID printed by a shell.
func atoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}
