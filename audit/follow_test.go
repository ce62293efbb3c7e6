package audit

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestFollowSeesNewEventsAcrossSegments(t *testing.T) {
	l, _ := openLog(t, Options{SegmentSize: 1 << 10})
	first := appendN(t, l, 3)
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var got []uint64
	done := make(chan error, 1)
	go func() {
		done <- Follow(ctx, l.Dir(), first[1].Seq, time.Millisecond, func(e Event) error {
			mu.Lock()
			got = append(got, e.Seq)
			mu.Unlock()
			return nil
		})
	}()
	appendN(t, l, 20) // several rotations
	last := first[2].Seq + 20
	waitFor(t, "followed events", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0 && got[len(got)-1] == last
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Follow: %v", err)
	}
	for i, s := range got {
		if s != first[2].Seq+uint64(i) {
			t.Fatalf("followed seqs %v; want every seq from %d to %d once, in order", got, first[2].Seq, last)
		}
	}
}
