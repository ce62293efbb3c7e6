package audit

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// queryLog records a small history at one-minute steps from t0 and returns its audit dir.
func queryLog(t *testing.T) (string, time.Time) {
	t.Helper()
	t0 := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	now := t0
	l, data := openLog(t, Options{SegmentSize: 1 << 10, Now: func() time.Time { now = now.Add(time.Minute); return now }})
	for _, e := range []Event{
		{Action: "session.create", Stage: StageRequested, Session: "a"},
		{Action: "session.create", Stage: StageCompleted, Session: "a", Outcome: OutcomeOK},
		{Action: "agent.create", Stage: StageRequested, Session: "a", Target: "a/agent-1"},
		{Action: "agent.create", Stage: StageFailed, Session: "a", Target: "a/agent-1", Outcome: OutcomeError},
		{Action: "session.create", Stage: StageRequested, Session: "b"},
		{Action: "session.delete", Stage: StageCompleted, Session: "a", Outcome: OutcomeOK},
	} {
		if _, err := l.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	return filepath.Join(data, DirName), t0
}

func TestQueryFilters(t *testing.T) {
	dir, t0 := queryLog(t)
	for _, tc := range []struct {
		name string
		f    Filter
		want []uint64
	}{
		{"all", Filter{}, []uint64{1, 2, 3, 4, 5, 6, 7, 8}},
		{"session", Filter{Session: "a"}, []uint64{2, 3, 4, 5, 7}},
		{"action", Filter{Action: "session.create"}, []uint64{2, 3, 6}},
		{"action prefix", Filter{Action: "session.*"}, []uint64{2, 3, 6, 7}},
		{"outcome", Filter{Outcome: OutcomeError}, []uint64{5}},
		{"stage", Filter{Stage: StageRequested}, []uint64{2, 4, 6}},
		{"since, until", Filter{Since: t0.Add(3 * time.Minute), Until: t0.Add(5 * time.Minute)}, []uint64{3, 4}},
		{"limit keeps the newest", Filter{Session: "a", Limit: 2}, []uint64{5, 7}},
		{"nothing", Filter{Session: "zzz"}, nil},
	} {
		evs, err := Query(dir, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := seqs(evs); !equal(got, tc.want) {
			t.Errorf("%s: seqs %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRecentReadsAcrossSegments(t *testing.T) {
	dir, _ := queryLog(t)
	for n, want := range map[int][]uint64{0: nil, 3: {6, 7, 8}, 100: {1, 2, 3, 4, 5, 6, 7, 8}} {
		evs, err := Recent(dir, n)
		if err != nil || !equal(seqs(evs), want) {
			t.Errorf("Recent(%d) = %v, %v; want %v", n, seqs(evs), err, want)
		}
	}
}

func TestQueryOnAMissingLogSaysWhatToDo(t *testing.T) {
	_, err := Query(filepath.Join(t.TempDir(), DirName), Filter{})
	if !errors.Is(err, ErrNoLog) || !containsAll(err.Error(), "--data-dir") {
		t.Fatalf("err = %v, want ErrNoLog mentioning --data-dir", err)
	}
}

func TestQuerySkipsDamagedLinesAndSaysSo(t *testing.T) {
	l, data := openLog(t, Options{})
	appendN(t, l, 3)
	l.Close()
	lines := readLines(t, seg(data, 1))
	lines[2] = []byte("garbage\n")
	writeFile(t, seg(data, 1), joinLines(lines))
	evs, err := Query(filepath.Join(data, DirName), Filter{})
	var de *DamageError
	if !errors.As(err, &de) || de.Line != 3 || de.Skipped != 1 || len(evs) != 4 {
		t.Fatalf("got %d events, err %v; want 4 events and a DamageError at line 3", len(evs), err)
	}
}

func seqs(evs []Event) []uint64 {
	var out []uint64
	for _, e := range evs {
		out = append(out, e.Seq)
	}
	return out
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
