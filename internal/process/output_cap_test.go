package process

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
)

// logFilesSize is what the log takes on disk: its file and the one before.
func logFilesSize(t *testing.T, o *Output) int64 {
	t.Helper()
	var n int64
	for _, p := range []string{o.Path(), o.Path() + ".1"} {
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	return n
}

// TestBoundedLogKeepsTheNewestAndSaysWhatWasDropped: `exec yes` wrote 5.3 GB of log in 20 s
// (issue 11, item 8). A bounded log keeps about the newest bytes, reads back what it kept, and
// says which chunks were dropped; it survives a restart.
func TestBoundedLogKeepsTheNewestAndSaysWhatWasDropped(t *testing.T) {
	const bound = 64 << 10
	o := newTestOutput(t, 2<<10)
	o.LimitLog(bound)
	w := o.Writer("stdout")
	line := bytes.Repeat([]byte("y"), 999)
	for i := 0; i < 1000; i++ { // about 1 MB, 16 times the bound
		fmt.Fprintf(w, "%s\n", line)
	}
	if got := logFilesSize(t, o); got > bound+2048 {
		t.Fatalf("the log takes %d bytes on disk, want about the bound %d", got, bound)
	}
	r := o.Read(0, 0)
	if r.Missing == 0 || !strings.Contains(r.Problem, "dropped") || !strings.Contains(r.Problem, "agent_log_bytes") {
		t.Fatalf("first read: missing %d, problem %q; want the dropped chunks counted and named", r.Missing, r.Problem)
	}
	if len(r.Chunks) == 0 || !r.FromLog || r.Chunks[0].Seq != r.Missing+1 {
		t.Fatalf("first read: %d chunks from %v (log %v); want the oldest kept chunk, read back from the log", len(r.Chunks), firstSeq(r), r.FromLog)
	}
	// Reading on from Next reaches the end with every kept chunk once, in order.
	next, seen := r.Chunks[len(r.Chunks)-1].Seq, len(r.Chunks)
	for r.More {
		r = o.Read(next, 0)
		if r.Missing != 0 || len(r.Chunks) == 0 || r.Chunks[0].Seq != next+1 {
			t.Fatalf("read after %d: %d chunks from %v, missing %d (%s)", next, len(r.Chunks), firstSeq(r), r.Missing, r.Problem)
		}
		next, seen = r.Next, seen+len(r.Chunks)
	}
	if next != 1000 || uint64(seen)+o.Read(0, 0).Missing != 1000 {
		t.Fatalf("read up to %d, %d chunks; want all 1000 accounted for", next, seen)
	}

	o.Close()
	o2, err := ReopenOutput(o.Path(), 2<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer o2.Close()
	o2.LimitLog(bound)
	fmt.Fprintln(o2.Writer("stdout"), "after the restart")
	r = o2.Read(0, 0)
	if r.Missing == 0 || r.LastSeq != 1001 || len(r.Chunks) == 0 || r.Chunks[0].Seq != r.Missing+1 {
		t.Fatalf("after reopen: last %d, missing %d, first %v; want seq to go on and the drop still reported", r.LastSeq, r.Missing, firstSeq(r))
	}
}

// TestReadIsBounded: read_agent_output with max_bytes of 100 MB took 174 s and 2.4 GB.
func TestReadIsBounded(t *testing.T) {
	o := newTestOutput(t, 8<<20)
	w := o.Writer("stdout")
	chunk := bytes.Repeat([]byte("x"), 32<<10)
	for i := 0; i < 128; i++ { // 4 MiB
		w.Write(chunk)
	}
	r := o.Read(0, 100<<20)
	n := 0
	for _, c := range r.Chunks {
		n += len(c.Data)
	}
	if n > MaxReadBytes || !r.More {
		t.Fatalf("a read asked for 100 MB returned %d bytes (more: %v); want at most %d and more to read", n, r.More, MaxReadBytes)
	}
}

func firstSeq(r ReadResult) any {
	if len(r.Chunks) == 0 {
		return "none"
	}
	return r.Chunks[0].Seq
}
