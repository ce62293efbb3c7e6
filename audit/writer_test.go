package audit

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestOpenCreatesPrivateFiles(t *testing.T) {
	l, data := openLog(t, Options{})
	appendN(t, l, 1)
	for path, want := range map[string]os.FileMode{
		filepath.Join(data, DirName):           0o700 | os.ModeDir,
		filepath.Join(data, KeyName):           0o600,
		seg(data, 1):                           0o600,
		filepath.Join(data, DirName, HeadName): 0o600,
	} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != want {
			t.Errorf("%s: mode %v, want %v", path, st.Mode(), want)
		}
	}
}

func TestAppendFillsTheChain(t *testing.T) {
	now := time.Date(2026, 11, 21, 8, 0, 0, 0, time.FixedZone("x", 3600))
	l, data := openLog(t, Options{Now: func() time.Time { return now }})
	evs := appendN(t, l, 3)
	for i, e := range evs {
		if e.Seq != uint64(i+2) { // seq 1 is audit.open
			t.Errorf("event %d: seq %d, want %d", i, e.Seq, i+2)
		}
		if !e.Time.Equal(now) || e.Time.Location() != time.UTC {
			t.Errorf("event %d: time %v, want %v in UTC", i, e.Time, now)
		}
		if i > 0 && e.Prev != evs[i-1].Hash {
			t.Errorf("event %d: prev %s, want the hash before, %s", i, e.Prev, evs[i-1].Hash)
		}
	}
	if r := mustVerify(t, data); !r.OK || r.LastHash != evs[2].Hash {
		t.Fatalf("Verify: %v; want intact ending at %s", r, evs[2].Hash)
	}
}

func TestReopenContinuesTheChain(t *testing.T) {
	data := t.TempDir()
	var last Event
	for round := 0; round < 3; round++ {
		l, err := Open(data, Options{})
		if err != nil {
			t.Fatalf("Open round %d: %v", round, err)
		}
		evs := appendN(t, l, 2)
		if round > 0 && evs[0].Seq != last.Seq+3 { // audit.close, audit.open between
			t.Errorf("round %d: first seq %d, want %d", round, evs[0].Seq, last.Seq+3)
		}
		last = evs[1]
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	r := mustVerify(t, data)
	if !r.OK || r.Events != 12 {
		t.Fatalf("Verify: %v; want 12 intact events", r)
	}
}

func TestConcurrentAppendsAreAllDurableAndChained(t *testing.T) {
	l, data := openLog(t, Options{SegmentSize: 8 << 10})
	const writers, each = 16, 40
	seqs := make(chan uint64, writers*each)
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				e, err := l.Append(context.Background(), Event{Action: "page.navigate", Stage: StageCompleted})
				if err != nil {
					t.Error(err)
					return
				}
				seqs <- e.Seq
			}
		}()
	}
	wg.Wait()
	close(seqs)
	seen := map[uint64]bool{}
	for s := range seqs {
		if seen[s] {
			t.Fatalf("seq %d handed out twice", s)
		}
		seen[s] = true
	}
	if len(seen) != writers*each {
		t.Fatalf("%d distinct seqs, want %d", len(seen), writers*each)
	}
	r := mustVerify(t, data)
	if !r.OK || r.Events != writers*each+1 || r.Segments < 2 {
		t.Fatalf("Verify: %v; want %d intact events over several segments", r, writers*each+1)
	}
}

func TestCancelledContextRecordsNothing(t *testing.T) {
	l, data := openLog(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Append(ctx, Event{Action: "session.create"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if r := mustVerify(t, data); r.Events != 1 {
		t.Fatalf("events = %d, want only audit.open", r.Events)
	}
}

func TestSecondWriterIsRefused(t *testing.T) {
	_, data := openLog(t, Options{})
	if l2, err := Open(data, Options{}); !errors.Is(err, ErrLocked) {
		if l2 != nil {
			l2.Close()
		}
		t.Fatalf("second Open: err = %v, want ErrLocked", err)
	}
}

func TestCloseRecordsAndRefuses(t *testing.T) {
	l, data := openLog(t, Options{})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := l.Append(context.Background(), Event{Action: "x"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v, want ErrClosed", err)
	}
	evs, err := Recent(filepath.Join(data, DirName), 1)
	if err != nil || len(evs) != 1 || evs[0].Action != ActionClose {
		t.Fatalf("last event = %v, %v; want %s", evs, err, ActionClose)
	}
}

func TestDamagedLastLineIsRefusedAtOpen(t *testing.T) {
	l, data := openLog(t, Options{})
	appendN(t, l, 2)
	l.Close()
	lines := readLines(t, seg(data, 1))
	lines[len(lines)-1][20] ^= 1 // the last complete line
	writeFile(t, seg(data, 1), joinLines(lines))
	if l2, err := Open(data, Options{}); err == nil || !containsAll(err.Error(), SegmentName(1), "line 4", "verify") {
		if l2 != nil {
			l2.Close()
		}
		t.Fatalf("Open of a log with an edited last line: err = %v; want a refusal naming the line", err)
	}
}
