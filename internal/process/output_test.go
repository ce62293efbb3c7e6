package process

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOutputSequenceAndStreams(t *testing.T) {
	o := newTestOutput(t, 0)
	out, errw := o.Writer("stdout"), o.Writer("stderr")
	fmt.Fprint(out, "a")
	fmt.Fprint(errw, "b")
	fmt.Fprint(out, "c")
	r := o.Read(0, 0)
	var got []string
	for _, c := range r.Chunks {
		got = append(got, fmt.Sprintf("%d:%s:%s", c.Seq, c.Stream, c.Data))
	}
	if want := "1:stdout:a 2:stderr:b 3:stdout:c"; strings.Join(got, " ") != want {
		t.Errorf("got %q, want %q", strings.Join(got, " "), want)
	}
	if r.Next != 3 || r.LastSeq != 3 || r.More || r.FromLog || o.LastSeq() != 3 {
		t.Errorf("got %+v, want Next 3, LastSeq 3, nothing more", r)
	}
	if r := o.Read(2, 0); len(r.Chunks) != 1 || r.Chunks[0].Seq != 3 {
		t.Errorf("after 2: got %+v, want chunk 3 only", r.Chunks)
	}
	if r := o.Read(3, 0); len(r.Chunks) != 0 || r.Next != 3 {
		t.Errorf("after 3: got %+v, want nothing", r)
	}
}

func TestOutputMaxBytesPages(t *testing.T) {
	o := newTestOutput(t, 0)
	w := o.Writer("stdout")
	for i := range 10 {
		fmt.Fprintf(w, "%04d", i) // 4 bytes each
	}
	r := o.Read(0, 10)
	if len(r.Chunks) != 2 || !r.More || r.Next != 2 {
		t.Fatalf("got %d chunks, More %v, Next %d; want 2, true, 2", len(r.Chunks), r.More, r.Next)
	}
	if r := o.Read(0, 1); len(r.Chunks) != 1 {
		t.Errorf("maxBytes below one chunk: got %d chunks, want 1", len(r.Chunks))
	}
}

func TestOutputLargeWriteSplit(t *testing.T) {
	o := newTestOutput(t, 0)
	big := bytes.Repeat([]byte("x"), 3*maxChunk+5)
	if n, err := o.Writer("stdout").Write(big); n != len(big) || err != nil {
		t.Fatalf("write: %d, %v", n, err)
	}
	if o.LastSeq() != 4 || text(o, "") != string(big) {
		t.Errorf("got %d chunks, want 4 holding all the data", o.LastSeq())
	}
}

func TestOutputMemoryBoundAndLogReadBack(t *testing.T) {
	o := newTestOutput(t, 100)
	w := o.Writer("stdout")
	var all strings.Builder
	for i := range 500 {
		s := fmt.Sprintf("line %03d\n", i) // 9 bytes
		all.WriteString(s)
		w.Write([]byte(s))
	}
	if o.memBytes > 100 || len(o.mem) != 11 {
		t.Errorf("memory: %d bytes in %d chunks, want at most 100 bytes (11 chunks)", o.memBytes, len(o.mem))
	}
	r := o.Read(0, 1<<20)
	if !r.FromLog || r.Missing != 0 || r.More || len(r.Chunks) != 500 {
		t.Fatalf("got FromLog %v, Missing %d, More %v, %d chunks; want all 500 from the log", r.FromLog, r.Missing, r.More, len(r.Chunks))
	}
	if got := text(o, ""); got != all.String() {
		t.Error("paged reads do not give back all the output")
	}
	for _, after := range []uint64{63, 64, 65, 127, 300, 488, 489, 490} {
		if r := o.Read(after, 9); len(r.Chunks) != 1 || r.Chunks[0].Seq != after+1 {
			t.Errorf("after %d: got %+v, want chunk %d", after, r.Chunks, after+1)
		}
	}
}

func TestOutputLogFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "agents", "s1", "writer.log")
	o, err := NewOutput(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(o.Writer("stdout"), "hello\n")
	fmt.Fprint(o.Writer("stderr"), "bin\x00ary\nwith newline")
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("log mode: got %v (%v), want 0600", fi.Mode(), err)
	}
	if di, _ := os.Stat(filepath.Dir(path)); di.Mode().Perm() != 0o700 {
		t.Errorf("log dir mode: got %v, want 0700", di.Mode())
	}
	b, _ := os.ReadFile(path)
	for _, want := range []string{"#1 stdout 6 ", "\nhello\n\n#2 stderr 20 ", "\nbin\x00ary\nwith newline\n"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("log lacks %q:\n%s", want, b)
		}
	}
	if _, err := NewOutput(path, 0); !errors.Is(err, ErrLogExists) {
		t.Errorf("NewOutput over an existing log: got %v, want ErrLogExists", err)
	}
	if _, err := o.Writer("stdout").Write([]byte("late")); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close: got %v, want ErrClosed", err)
	}
	if got := text(o, ""); got != "hello\nbin\x00ary\nwith newline" {
		t.Errorf("read after Close: got %q", got)
	}
}

func TestOutputWaitLongPoll(t *testing.T) {
	o := newTestOutput(t, 0)
	got := make(chan error, 1)
	go func() { got <- o.Wait(context.Background(), 0) }()
	fmt.Fprint(o.Writer("stdout"), "x")
	if err := <-got; err != nil {
		t.Errorf("wait for chunk 1: %v", err)
	}
	if err := o.Wait(context.Background(), 0); err != nil {
		t.Errorf("wait with a chunk already there: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { got <- o.Wait(ctx, 1) }()
	cancel()
	if err := <-got; !errors.Is(err, context.Canceled) {
		t.Errorf("wait with ctx cancelled: got %v, want context.Canceled", err)
	}
	go func() { got <- o.Wait(context.Background(), 1) }()
	o.Close()
	if err := <-got; !errors.Is(err, ErrClosed) {
		t.Errorf("wait across Close: got %v, want ErrClosed", err)
	}
}

func TestReopenOutput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.log")
	o, err := NewOutput(path, 50)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		fmt.Fprintf(o.Writer("stdout"), "%d,", i)
	}
	before := text(o, "")
	o.Close()
	r, err := ReopenOutput(path, 50)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.LastSeq() != 200 || text(r, "") != before || r.memBytes > 50 {
		t.Fatalf("reopened: LastSeq %d, %d bytes in memory; want 200 and the same output", r.LastSeq(), r.memBytes)
	}
	fmt.Fprint(r.Writer("stderr"), "after restart")
	if res := r.Read(200, 0); len(res.Chunks) != 1 || res.Chunks[0].Seq != 201 || res.Chunks[0].Stream != "stderr" {
		t.Errorf("new chunk: got %+v, want seq 201 on stderr", res.Chunks)
	}
	fresh, err := ReopenOutput(filepath.Join(t.TempDir(), "none", "b.log"), 0)
	if err != nil || fresh.LastSeq() != 0 {
		t.Errorf("reopen without a log: got %v, want a new empty Output", err)
	}
	fresh.Close()
}

func TestReopenOutputRepairsTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.log")
	o, _ := NewOutput(path, 0)
	fmt.Fprint(o.Writer("stdout"), "whole")
	o.Close()
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	fmt.Fprintf(f, "#2 stdout 10 %s\npart", time.Now().UTC().Format(time.RFC3339Nano)) // crash mid-write
	f.Close()
	r, err := ReopenOutput(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(r.Writer("stdout"), "next")
	r.Close()
	if got := text(r, ""); got != "wholepartnext" {
		t.Errorf("got %q, want %q", got, "wholepartnext")
	}
	again, err := ReopenOutput(path, 0)
	if err != nil || text(again, "") != "wholepartnext" || again.LastSeq() != 3 {
		t.Errorf("reopen of the repaired log: %v, LastSeq %d", err, again.LastSeq())
	}
	again.Close()
}

func TestReopenOutputRefusesDamage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.log")
	os.WriteFile(path, []byte("#1 stdout 2 2026-01-01T00:00:00Z\nhi\ngarbage here\n#2 stdout 1 2026-01-01T00:00:00Z\nx\n"), 0o600)
	if _, err := ReopenOutput(path, 0); !errors.Is(err, ErrLogDamaged) {
		t.Errorf("got %v, want ErrLogDamaged", err)
	}
	os.WriteFile(path, []byte("#1 stdout 2 2026-01-01T00:00:00Z\nhi\n#5 stdout 1 2026-01-01T00:00:00Z\nx\n"), 0o600)
	if _, err := ReopenOutput(path, 0); !errors.Is(err, ErrLogDamaged) || !strings.Contains(err.Error(), "chunk 5 follows chunk 1") {
		t.Errorf("gap in sequence: got %v, want ErrLogDamaged", err)
	}
}

func TestOutputLogWriteFailure(t *testing.T) {
	o := newTestOutput(t, 10)
	w := o.Writer("stdout")
	fmt.Fprint(w, "logged....") // 10 bytes, chunk 1
	ro, err := os.Open(o.path)  // writes to a read-only handle fail
	if err != nil {
		t.Fatal(err)
	}
	o.mu.Lock()
	o.file.Close()
	o.file = ro
	o.mu.Unlock()
	for range 3 {
		fmt.Fprint(w, "unlogged..")
	}
	r := o.Read(0, 0)
	if r.Missing != 2 || r.Next != 4 || len(r.Chunks) != 2 || r.Chunks[1].Seq != 4 {
		t.Errorf("got %+v, want chunk 1 from the log, 2 and 3 missing, 4 from memory", r)
	}
	if !strings.Contains(r.Problem, "incomplete after chunk 1") {
		t.Errorf("problem: got %q, want it to say the log is incomplete after chunk 1", r.Problem)
	}
}

func TestOutputBadStreamName(t *testing.T) {
	o := newTestOutput(t, 0)
	if _, err := o.Writer("std out").Write([]byte("x")); err == nil || o.LastSeq() != 0 {
		t.Errorf("got %v, want an error and nothing written", err)
	}
}
