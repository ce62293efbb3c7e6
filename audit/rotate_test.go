package audit

import (
	"os"
	"path/filepath"
	"testing"
)

const smallSegment = 2 << 10

// rotatedLog writes 40 events into 2 KiB segments and returns the data dir and segment count.
func rotatedLog(t *testing.T) (string, int) {
	t.Helper()
	data := t.TempDir()
	for round := 0; round < 2; round++ { // a restart in between: rotation goes on from the last segment
		l, err := Open(data, Options{SegmentSize: smallSegment})
		if err != nil {
			t.Fatal(err)
		}
		appendN(t, l, 20)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	segs, err := listSegments(filepath.Join(data, DirName))
	if err != nil || len(segs) < 4 {
		t.Fatalf("segments %v, %v; want several", segs, err)
	}
	return data, len(segs)
}

func TestRotationKeepsOneChainAcrossSegments(t *testing.T) {
	data, n := rotatedLog(t)
	for i := 1; i <= n; i++ {
		st, err := os.Stat(seg(data, i))
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > smallSegment || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %d bytes, mode %v; want ≤ %d bytes, 0600", SegmentName(i), st.Size(), st.Mode().Perm(), smallSegment)
		}
	}
	r := mustVerify(t, data)
	if !r.OK || r.Events != 44 || r.Segments != n {
		t.Fatalf("Verify: %v; want 44 intact events in %d segments", r, n)
	}
	evs, err := Query(filepath.Join(data, DirName), Filter{})
	if err != nil || len(evs) != 44 || evs[43].Seq != 44 {
		t.Fatalf("Query: %d events, %v; want 44 in order", len(evs), err)
	}
}

func TestVerifyAcrossSegmentsNamesTheSegment(t *testing.T) {
	t.Run("edit in the second segment", func(t *testing.T) {
		data, _ := rotatedLog(t)
		lines := readLines(t, seg(data, 2))
		lines[1][15] ^= 1
		writeFile(t, seg(data, 2), joinLines(lines))
		if r := mustVerify(t, data); r.OK || r.Segment != SegmentName(2) || r.Line != 2 {
			t.Fatalf("got %v; want %s line 2", r, SegmentName(2))
		}
	})
	t.Run("first segment removed", func(t *testing.T) {
		data, _ := rotatedLog(t)
		os.Remove(seg(data, 1))
		if r := mustVerify(t, data); r.OK || r.Segment != SegmentName(1) || !containsAll(r.Reason, "missing") {
			t.Fatalf("got %v; want %s missing", r, SegmentName(1))
		}
	})
	t.Run("middle segment removed", func(t *testing.T) {
		data, _ := rotatedLog(t)
		os.Remove(seg(data, 2))
		if r := mustVerify(t, data); r.OK || r.Segment != SegmentName(2) || !containsAll(r.Reason, "missing") {
			t.Fatalf("got %v; want %s missing", r, SegmentName(2))
		}
	})
	t.Run("last segment removed", func(t *testing.T) {
		data, n := rotatedLog(t)
		os.Remove(seg(data, n))
		if r := mustVerify(t, data); r.OK || !containsAll(r.Reason, "removed from the end") {
			t.Fatalf("got %v; want the cut named", r)
		}
	})
	t.Run("segments swapped", func(t *testing.T) {
		data, _ := rotatedLog(t)
		os.Rename(seg(data, 2), seg(data, 99))
		os.Rename(seg(data, 3), seg(data, 2))
		os.Rename(seg(data, 99), seg(data, 3))
		if r := mustVerify(t, data); r.OK || r.Segment != SegmentName(2) || r.Line != 1 {
			t.Fatalf("got %v; want %s line 1", r, SegmentName(2))
		}
	})
}
