package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// closedLog writes a log of 7 lines (audit.open, 5 events, audit.close) and returns its data dir.
func closedLog(t *testing.T, opts Options) string {
	t.Helper()
	l, data := openLog(t, opts)
	appendN(t, l, 5)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return data
}

// rehash recomputes the hash of a line after its content changed, as a forger would.
func rehash(line []byte) []byte {
	body := bytes.TrimSuffix(line, []byte("\n"))
	var f struct{ Prev string }
	enc := newEncoder()
	_ = json.Unmarshal(body, &f)
	h := enc.hash(f.Prev, body[:len(body)-suffixLen], "}")
	out := append([]byte(nil), body[:len(body)-suffixLen]...)
	return append(append(append(out, hashKey...), h...), "\"}\n"...)
}

func TestVerifyNamesTheFirstTamperedLine(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func([][]byte) [][]byte
		line   int
		reason string
	}{
		{"edit", func(ls [][]byte) [][]byte {
			ls[2] = bytes.Replace(ls[2], []byte(`"sb"`), []byte(`"sX"`), 1)
			return ls
		}, 3, "edited"},
		{"edit with its own hash recomputed", func(ls [][]byte) [][]byte {
			ls[2] = rehash(bytes.Replace(ls[2], []byte(`"sb"`), []byte(`"sX"`), 1))
			return ls
		}, 3, "without the chain key"},
		{"delete", func(ls [][]byte) [][]byte { return append(ls[:2], ls[3:]...) }, 3, "gap"},
		{"reorder", func(ls [][]byte) [][]byte { ls[2], ls[3] = ls[3], ls[2]; return ls }, 3, "seq 4 after seq 2"},
		{"duplicate", func(ls [][]byte) [][]byte {
			return append(ls[:4:4], append([][]byte{ls[3]}, ls[4:]...)...)
		}, 5, "reordered or duplicated"},
		{"truncate mid-line", func(ls [][]byte) [][]byte {
			ls[5] = ls[5][:40]
			return ls[:6]
		}, 6, "torn last line"},
		{"torn tail", func(ls [][]byte) [][]byte { return append(ls, []byte(`{"seq":8,"ti`)) }, 8, "torn last line"},
		{"blank line", func(ls [][]byte) [][]byte {
			return append(ls[:1:1], append([][]byte{[]byte("\n")}, ls[1:]...)...)
		}, 2, "not an audit line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := closedLog(t, Options{})
			writeFile(t, seg(data, 1), joinLines(tc.mutate(readLines(t, seg(data, 1)))))
			r := mustVerify(t, data)
			if r.OK || r.Segment != SegmentName(1) || r.Line != tc.line || !containsAll(r.Reason, tc.reason) {
				t.Fatalf("got %v\nwant %s line %d: …%s…", r, SegmentName(1), tc.line, tc.reason)
			}
		})
	}
}

func TestVerifyNoticesLinesCutFromTheEnd(t *testing.T) {
	data := closedLog(t, Options{})
	lines := readLines(t, seg(data, 1))
	writeFile(t, seg(data, 1), joinLines(lines[:5]))
	r := mustVerify(t, data)
	if r.OK || !containsAll(r.Reason, "ends at seq 5", "seq 7", "removed from the end") {
		t.Fatalf("got %v; want the cut named", r)
	}
	// Restarting on a cut log records the mismatch in the chain itself.
	l, err := Open(data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	evs, err := Query(filepath.Join(data, DirName), Filter{Action: ActionHeadMismatch})
	if err != nil || len(evs) != 1 || evs[0].Details["head_seq"] == nil {
		t.Fatalf("events %v, %v; want one %s", evs, err, ActionHeadMismatch)
	}
}

func TestVerifyNoticesAMissingOrRewrittenHead(t *testing.T) {
	data := closedLog(t, Options{})
	head := filepath.Join(data, DirName, HeadName)
	b, err := os.ReadFile(head)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("other"))
	writeFile(t, head, bytes.Replace(b, b[len(b)-65:len(b)-1], []byte(hex.EncodeToString(sum[:])), 1))
	if r := mustVerify(t, data); r.OK || r.Segment != HeadName || !containsAll(r.Reason, "rewritten") {
		t.Fatalf("rewritten head: %v", r)
	}
	os.Remove(head)
	if r := mustVerify(t, data); r.OK || r.Segment != HeadName || !containsAll(r.Reason, "missing") {
		t.Fatalf("missing head: %v", r)
	}
}

func TestTornTailIsMovedAsideAndTheChainContinues(t *testing.T) {
	data := closedLog(t, Options{})
	torn := []byte(`{"seq":8,"time":"2026-11-21T07:00:00Z","act`)
	f, err := os.OpenFile(seg(data, 1), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(torn)
	f.Close()

	l, err := Open(data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 1)
	l.Close()
	moved, err := os.ReadFile(seg(data, 1) + ".torn.1")
	if err != nil || !bytes.Equal(moved, torn) {
		t.Fatalf("moved aside: %q, %v; want the torn bytes %q", moved, err, torn)
	}
	r := mustVerify(t, data)
	if !r.OK || r.Events != 11 {
		t.Fatalf("after recovery: %v; want 11 intact events", r)
	}
	evs, _ := Query(filepath.Join(data, DirName), Filter{Action: ActionTornTail})
	if len(evs) != 1 || evs[0].Seq != 8 || evs[0].Details["moved_to"] != SegmentName(1)+".torn.1" {
		t.Fatalf("torn-tail events %+v; want one at seq 8 naming the file", evs)
	}
}
