package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"
)

// The seed corpora are in testdata/fuzz/<FuzzName>/: real lines and segments, edited, torn,
// reordered. Run a fuzzer with e.g. `go test -fuzz FuzzCheckLine ./audit`.

// FuzzCheckLine: the line parser never panics, and a line it accepts stops being accepted when
// any one of its bytes changes.
func FuzzCheckLine(f *testing.F) {
	f.Fuzz(func(t *testing.T, line []byte, pos uint16) {
		enc := newEncoder()
		fields, h, err := enc.checkLine(line)
		_, _ = parseEvent(line)
		if err != nil {
			return
		}
		if len(h) != hashHexLen || len(fields.Prev) != hashHexLen {
			t.Fatalf("accepted %q with hash %q, prev %q", line, h, fields.Prev)
		}
		changed := bytes.Clone(line)
		changed[int(pos)%len(changed)] ^= 1
		if _, _, err := enc.checkLine(changed); err == nil {
			t.Fatalf("accepted %q and also, with byte %d changed, %q", line, int(pos)%len(line), changed)
		}
	})
}

// FuzzVerify: Verify never panics on a segment of any content, agrees with a line-by-line
// chain check, and Query reads every line Verify accepts.
func FuzzVerify(f *testing.F) {
	dir := f.TempDir() // one directory for every input: the files are rewritten each time
	f.Fuzz(func(t *testing.T, content []byte) {
		if err := os.WriteFile(filepath.Join(dir, SegmentName(1)), content, 0o600); err != nil {
			t.Fatal(err)
		}
		c := newChainChecker()
		good, allGood := uint64(0), true
		_ = forEachLine(bytes.NewReader(content), func(line []byte, complete bool) error {
			if !complete || c.check(line) != "" {
				allGood = false
				return errStop
			}
			good++
			return nil
		})
		h, err := os.Create(filepath.Join(dir, HeadName)) // truncates the previous input's head
		if err != nil {
			t.Fatal(err)
		}
		hf := headFile{f: h}
		if err := hf.write(headState{Seq: c.seq, Hash: c.prev}, false); err != nil {
			t.Fatal(err)
		}
		h.Close()

		r, err := Verify(dir)
		if err != nil {
			t.Fatal(err)
		}
		if r.OK != allGood || r.Events != good {
			t.Fatalf("Verify: %v; the chain check found %d good lines, all good %v", r, good, allGood)
		}
		if !r.OK {
			return
		}
		evs, err := Query(dir, Filter{})
		if _, isDamage := err.(*DamageError); err != nil && !isDamage {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Seq < 1 || e.Seq > good {
				t.Fatalf("Query read seq %d from a log of %d verified lines", e.Seq, good)
			}
		}
	})
}

// FuzzRoundTrip: what the writer encodes, the parser reads back the same and accepts.
func FuzzRoundTrip(f *testing.F) {
	red := redactor{key: make([]byte, keyLen)}
	f.Fuzz(func(t *testing.T, action, session, target, detail string, seq uint64, dur float64) {
		e := Event{Seq: seq, Time: time.Unix(0, int64(seq>>1)).UTC(), Action: action, Session: session,
			Target: target, DurationMS: dur, Prev: genesisHash, Details: map[string]any{"note": detail}}
		if validate(&e) != nil {
			return
		}
		for _, s := range []string{action, session, target, detail} {
			if !utf8.ValidString(s) {
				return // written with U+FFFD in place of the invalid bytes, as encoding/json does
			}
		}
		details, raw, err := red.normalizeDetails(e.Details)
		if err != nil {
			t.Fatal(err)
		}
		enc := newEncoder()
		line, h, err := enc.appendLine(nil, &e, raw)
		if err != nil {
			t.Fatal(err)
		}
		body := bytes.TrimSuffix(line, []byte("\n"))
		if bytes.IndexByte(body, '\n') >= 0 {
			t.Fatalf("a newline inside the line %q", line)
		}
		if _, got, err := enc.checkLine(body); err != nil || got != h {
			t.Fatalf("checkLine(%q) = %s, %v; want %s", body, got, err, h)
		}
		back, err := parseEvent(body)
		if err != nil {
			t.Fatal(err)
		}
		if back.Seq != e.Seq || !back.Time.Equal(e.Time) || back.Action != e.Action || back.Session != e.Session ||
			back.Target != e.Target || back.DurationMS != e.DurationMS || back.Details["note"] != details["note"] || back.Hash != h {
			t.Fatalf("read back %+v\nfrom %s\nwant %+v", back, line, e)
		}
	})
}
