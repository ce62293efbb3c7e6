package process

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestOutputProperties: whatever is written, with any memory limit and restarts in between, every
// chunk keeps its order, stream and bytes, memory stays within the limit, and paged reads from any
// point give back exactly the chunks after it.
func TestOutputProperties(t *testing.T) {
	dir := t.TempDir()
	run := 0
	rapid.Check(t, func(rt *rapid.T) {
		run++
		path := filepath.Join(dir, fmt.Sprint(run), "a.log")
		limit := rapid.IntRange(1, 200).Draw(rt, "limit")
		o, err := NewOutput(path, limit)
		if err != nil {
			rt.Fatal(err)
		}
		defer func() { o.Close() }()
		var want []Chunk
		for i, n := 0, rapid.IntRange(0, 60).Draw(rt, "writes"); i < n; i++ {
			if rapid.IntRange(0, 9).Draw(rt, "restart") == 0 {
				o.Close()
				if o, err = ReopenOutput(path, limit); err != nil {
					rt.Fatal(err)
				}
			}
			stream := rapid.SampledFrom([]string{"stdout", "stderr"}).Draw(rt, "stream")
			data := rapid.SliceOfN(rapid.Byte(), 0, 90).Draw(rt, "data")
			if _, err := o.Writer(stream).Write(data); err != nil {
				rt.Fatal(err)
			}
			if len(data) > 0 {
				want = append(want, Chunk{Seq: uint64(len(want) + 1), Stream: stream, Data: data})
			}
			if o.memBytes > limit {
				rt.Fatalf("%d bytes in memory, limit %d", o.memBytes, limit)
			}
		}
		if o.LastSeq() != uint64(len(want)) {
			rt.Fatalf("LastSeq %d, want %d", o.LastSeq(), len(want))
		}
		after := rapid.IntRange(0, len(want)).Draw(rt, "after")
		maxBytes := rapid.IntRange(1, 300).Draw(rt, "maxBytes")
		var got []Chunk
		for next := uint64(after); ; {
			r := o.Read(next, maxBytes)
			if r.Missing != 0 || r.Problem != "" {
				rt.Fatalf("read after %d: %d missing: %s", next, r.Missing, r.Problem)
			}
			got = append(got, r.Chunks...)
			if !r.More {
				break
			}
			if len(r.Chunks) == 0 {
				rt.Fatalf("read after %d: More without chunks", next)
			}
			next = r.Next
		}
		if len(got) != len(want)-after {
			rt.Fatalf("got %d chunks after %d, want %d", len(got), after, len(want)-after)
		}
		for i, c := range got {
			w := want[after+i]
			if c.Seq != w.Seq || c.Stream != w.Stream || !bytes.Equal(c.Data, w.Data) {
				rt.Fatalf("chunk %d: got %d %s %q, want %d %s %q", i, c.Seq, c.Stream, c.Data, w.Seq, w.Stream, w.Data)
			}
		}
	})
}

// TestExpandArgsProperties: one argument in, one argument out; the message lands verbatim in
// place of each placeholder and nowhere else; without a placeholder, args are unchanged.
func TestExpandArgsProperties(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		args := rapid.SliceOfN(rapid.OneOf(rapid.String(), rapid.Just(MessagePlaceholder),
			rapid.Just("--prompt="+MessagePlaceholder)), 0, 6).Draw(rt, "args")
		msg := rapid.OneOf(rapid.String(), rapid.Just("a {message} b; $(rm -rf /) 'x'")).Draw(rt, "message")
		out, viaStdin := ExpandArgs(args, msg)
		if len(out) != len(args) {
			rt.Fatalf("%d args became %d", len(args), len(out))
		}
		has := false
		for i, a := range args {
			has = has || strings.Contains(a, MessagePlaceholder)
			parts := strings.Split(a, MessagePlaceholder)
			if want := strings.Join(parts, msg); out[i] != want {
				rt.Fatalf("arg %d: got %q, want %q", i, out[i], want)
			}
		}
		if viaStdin == has {
			rt.Fatalf("viaStdin %v with a placeholder present: %v", viaStdin, has)
		}
	})
}

func TestExpandArgs(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		msg      string
		want     []string
		viaStdin bool
	}{
		{[]string{"-p", "{message}"}, "fix it; rm -rf /", []string{"-p", "fix it; rm -rf /"}, false},
		{[]string{"--prompt={message}!"}, "a b", []string{"--prompt=a b!"}, false},
		{[]string{"a-z", "A-Z"}, "hi", []string{"a-z", "A-Z"}, true},
		{nil, "hi", []string{}, true},
	} {
		got, viaStdin := ExpandArgs(tc.args, tc.msg)
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) || viaStdin != tc.viaStdin {
			t.Errorf("ExpandArgs(%q, %q): got %q, %v; want %q, %v", tc.args, tc.msg, got, viaStdin, tc.want, tc.viaStdin)
		}
	}
	args := []string{"{message}"}
	ExpandArgs(args, "x")
	if args[0] != "{message}" {
		t.Error("ExpandArgs changed its input")
	}
}

// TestCheckMessage: a message never becomes an option of a per-message program, and a NUL is
// refused with the reason instead of failing the start (issue 11, items 3 and 11).
func TestCheckMessage(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		message string
		ok      bool
	}{
		{[]string{"-p", "{message}"}, "--dangerously-skip-permissions", false},
		{[]string{"exec", "{message}"}, "--dangerously-bypass-approvals-and-sandbox", false},
		{[]string{"-p", "--", "{message}"}, "--dangerously-skip-permissions", true},
		{[]string{"--yes", "--message={message}"}, "--anything", true},
		{[]string{"-p", "{message}"}, "fix the -v flag", true},
		{[]string{"-p", "{message}"}, " -leading space", true},
		{[]string{"-p", "--", "{message}"}, "a\x00b", false},
		{[]string{"tr", "a-z"}, "-via stdin\x00", true}, // stdin carries anything
	} {
		err := CheckMessage(tc.args, tc.message)
		if (err == nil) != tc.ok {
			t.Errorf("CheckMessage(%q, %q) = %v, want ok=%v", tc.args, tc.message, err, tc.ok)
		}
	}
}
