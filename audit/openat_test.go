package audit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// OpenAt keeps the log and its key where it is told: the key's directory is created 0700 and
// the key 0600; the log verifies with that key and not without it.
func TestOpenAtKeyElsewhere(t *testing.T) {
	root := t.TempDir()
	dir, keyPath := filepath.Join(root, "audit", "n1"), filepath.Join(root, "audit-keys", "n1.key")
	l, err := OpenAt(dir, keyPath, Options{SegmentSize: smallSegment})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 5)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Dir(keyPath): 0o700, keyPath: 0o600} {
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: %v, %v; want mode %v", path, st.Mode().Perm(), err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "audit", KeyName)); err == nil {
		t.Errorf("a key was written next to the audit directory too")
	}
	r, err := VerifyWith(dir, VerifyOptions{KeyPath: keyPath})
	if err != nil || !r.OK || !r.Keyed || r.Events != 7 {
		t.Fatalf("VerifyWith the key: %v, %v; want 7 keyed intact events", r, err)
	}
	if r, err := Verify(dir); err != nil || r.OK {
		t.Fatalf("Verify without the key: %v, %v; want damage (the chain is keyed)", r, err)
	}
}

// HashAt finds the hash of any line, whichever segment holds it, and nothing past the end.
func TestHashAt(t *testing.T) {
	l, data := openLog(t, Options{SegmentSize: smallSegment})
	evs := appendN(t, l, 40)
	dir := filepath.Join(data, DirName)
	if segs, _ := listSegments(dir); len(segs) < 3 {
		t.Fatalf("segments %v; want several", segs)
	}
	for _, e := range evs {
		if h, ok, err := HashAt(dir, e.Seq); err != nil || !ok || h != e.Hash {
			t.Fatalf("HashAt(%d) = %q, %v, %v; want %q", e.Seq, h, ok, err, e.Hash)
		}
	}
	for _, seq := range []uint64{0, evs[len(evs)-1].Seq + 1} {
		if h, ok, err := HashAt(dir, seq); err != nil || ok {
			t.Errorf("HashAt(%d) = %q, %v, %v; want not found", seq, h, ok, err)
		}
	}
}

// A mismatch with the anchor names where the anchor came from.
func TestVerifyAnchorSource(t *testing.T) {
	l, data := openLog(t, Options{})
	appendN(t, l, 3)
	l.Close()
	r, err := VerifyWith(filepath.Join(data, DirName), VerifyOptions{Anchor: &Anchor{Seq: 99, Hash: genesisHash},
		AnchorSource: "the head node n1 published to etcd"})
	if err != nil || r.OK || !strings.Contains(r.Reason, "the head node n1 published to etcd recorded seq 99") {
		t.Fatalf("got %v, %v; want a cut naming the published head", r, err)
	}
}
