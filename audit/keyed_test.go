package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rechain rewrites every line with an unkeyed chain, as someone who can write the audit
// directory but not read the key would, and rewrites the head to match.
func rechain(t *testing.T, data string, edit func(i int, line []byte) []byte) {
	t.Helper()
	lines := readLines(t, seg(data, 1))
	prev := genesisHash
	enc := newEncoder()
	var seq uint64
	for i, line := range lines {
		body := edit(i, bytes.TrimSuffix(line, []byte("\n")))
		var f struct{ Seq uint64 }
		_ = json.Unmarshal(body, &f)
		core := body[:len(body)-suffixLen]
		pk := bytes.LastIndex(core, []byte(prevKey))
		core = append(append(append([]byte(nil), core[:pk]...), prevKey...), prev...)
		core = append(core, '"')
		h := enc.hash(prev, core, "}")
		lines[i] = append(append(append(core, hashKey...), h...), "\"}\n"...)
		prev, seq = h, f.Seq
	}
	writeFile(t, seg(data, 1), joinLines(lines))
	writeFile(t, filepath.Join(data, DirName, HeadName), []byte(fmt.Sprintf(headFormat, seq, prev)))
}

// TestVerifyCatchesAChainRecomputedWithoutTheKey: editing a line and recomputing the whole
// chain and the head verified as intact before the chain was keyed (issue 11, item 5).
func TestVerifyCatchesAChainRecomputedWithoutTheKey(t *testing.T) {
	data := closedLog(t, Options{})
	rechain(t, data, func(i int, line []byte) []byte {
		if i == 2 {
			return bytes.Replace(line, []byte(`"sb"`), []byte(`"sX"`), 1)
		}
		return line
	})
	if r := mustVerify(t, data); r.OK || r.Line != 1 || !containsAll(r.Reason, "without the chain key") {
		t.Fatalf("got %v; want line 1 refused as rewritten without the key", r)
	}
}

// TestVerifyRefusesAWipedLog: an emptied segment without its head, or no audit files at all,
// verified as "intact: 0 events" (issue 11, item 5).
func TestVerifyRefusesAWipedLog(t *testing.T) {
	data := closedLog(t, Options{})
	writeFile(t, seg(data, 1), nil)
	os.Remove(filepath.Join(data, DirName, HeadName))
	if r := mustVerify(t, data); r.OK || !containsAll(r.Reason, "emptied or removed") {
		t.Fatalf("emptied log: %v; want it refused", r)
	}
	if err := os.RemoveAll(filepath.Join(data, DirName)); err != nil {
		t.Fatal(err)
	}
	r, err := Verify(filepath.Join(data, DirName))
	if err != nil || r.OK || !containsAll(r.Reason, "emptied or removed") {
		t.Fatalf("removed log: %v, %v; want it refused", r, err)
	}
}

// TestVerifyChecksTheAnchor: a log shorter than what troupe's store recorded, or different at
// that seq, is refused even when its own head agrees.
func TestVerifyChecksTheAnchor(t *testing.T) {
	l, data := openLog(t, Options{})
	appendN(t, l, 5)
	seq, hash := l.DurableHead()
	l.Close()
	dir := filepath.Join(data, DirName)
	if r, err := VerifyWith(dir, VerifyOptions{Anchor: &Anchor{Seq: seq, Hash: hash}}); err != nil || !r.OK {
		t.Fatalf("intact log with its anchor: %v, %v", r, err)
	}
	if r, _ := VerifyWith(dir, VerifyOptions{Anchor: &Anchor{Seq: seq + 3, Hash: hash}}); r.OK || !containsAll(r.Reason, "store recorded seq") {
		t.Fatalf("anchor past the end: %v; want it refused", r)
	}
	if r, _ := VerifyWith(dir, VerifyOptions{Anchor: &Anchor{Seq: seq - 1, Hash: hash}}); r.OK || !containsAll(r.Reason, "rewritten") {
		t.Fatalf("anchor with another hash: %v; want it refused", r)
	}
}

// TestALogFromBeforeTheKeyIsContinuedKeyed: a log whose lines carry plain SHA-256 (written
// before the chain was keyed) opens, is continued with keyed lines, and verifies; rewriting
// one of the new lines as unkeyed is refused.
func TestALogFromBeforeTheKeyIsContinuedKeyed(t *testing.T) {
	data := closedLog(t, Options{})
	rechain(t, data, func(_ int, line []byte) []byte { return line })
	keyPath := filepath.Join(data, KeyName)
	b, _ := os.ReadFile(keyPath)
	writeFile(t, keyPath, []byte(strings.SplitN(string(b), "\n", 2)[0]+"\n")) // an old key file
	old := len(readLines(t, seg(data, 1)))

	l, err := Open(data, Options{})
	if err != nil {
		t.Fatalf("Open of a log from before the key: %v", err)
	}
	appendN(t, l, 3)
	l.Close()
	r := mustVerify(t, data)
	if !r.OK || r.Legacy != uint64(old) || !r.Keyed {
		t.Fatalf("got %+v; want intact with %d legacy lines then keyed ones", r, old)
	}
	kf, err := readKeyFile(keyPath)
	if err != nil || kf.keyedFrom != uint64(old)+1 {
		t.Fatalf("key file keyed-from %d, %v; want %d", kf.keyedFrom, err, old+1)
	}
	rechain(t, data, func(_ int, line []byte) []byte { return line })
	if r := mustVerify(t, data); r.OK || r.Line != old+1 || !containsAll(r.Reason, "without the chain key") {
		t.Fatalf("after rewriting the keyed part unkeyed: %v; want line %d refused", r, old+1)
	}
}
