package store

import (
	"sync/atomic"
	"testing"
	"time"
)

// The commit hook sees every committed write on a real bbolt file, and nothing once removed.
func TestCommitHookSeesEveryCommit(t *testing.T) {
	s, _ := openTemp(t)
	defer s.Close()
	var calls atomic.Int64
	s.SetCommitHook(func(d time.Duration) {
		if d > 0 {
			calls.Add(1)
		}
	})
	now := time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
	for _, id := range []string{"a", "b"} {
		if err := s.PutSession(SessionRecord{ID: id, CreatedAt: now, LastActivity: now, Status: "active"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := calls.Load(); got != 2 {
		t.Fatalf("commit hook called %d times (with a positive duration) after 2 writes, want 2", got)
	}
	s.SetCommitHook(nil)
	if err := s.PutSession(SessionRecord{ID: "c", CreatedAt: now, LastActivity: now, Status: "active"}); err != nil {
		t.Fatal(err)
	}
	if got := calls.Load(); got != 2 {
		t.Fatalf("commit hook called %d times after its removal, want still 2", got)
	}
}
