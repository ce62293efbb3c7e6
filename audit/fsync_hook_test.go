package audit

import (
	"sync/atomic"
	"testing"
	"time"
)

// The fsync hook sees every fsync of a segment (each Append waits for its own here), and
// nothing once removed.
func TestFsyncHookSeesEveryFsync(t *testing.T) {
	l, _ := openLog(t, Options{})
	var calls atomic.Int64
	var negative atomic.Bool
	l.SetFsyncHook(func(d time.Duration) {
		calls.Add(1)
		if d < 0 {
			negative.Store(true)
		}
	})
	appendN(t, l, 3)
	if got := calls.Load(); got != 3 {
		t.Fatalf("fsync hook called %d times after 3 appends, want 3", got)
	}
	if negative.Load() {
		t.Fatal("the hook was given a negative duration")
	}
	l.SetFsyncHook(nil)
	appendN(t, l, 1)
	if got := calls.Load(); got != 3 {
		t.Fatalf("fsync hook called %d times after its removal, want still 3", got)
	}
}
