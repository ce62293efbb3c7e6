package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func openTemp(t *testing.T) (*Bolt, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "troupe.db")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s, path
}

func TestSessionsSurviveReopen(t *testing.T) {
	s, path := openTemp(t)
	now := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	rec := SessionRecord{ID: "alpha", Name: "A", CreatedAt: now, LastActivity: now, Status: "active",
		State:    map[string]json.RawMessage{"k": json.RawMessage(`{"n":1}`)},
		Children: []ChildSpec{{ID: "alpha/agent-1", Kind: "agent", Name: "agent-1"}}}
	if err := s.PutSession(rec); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, err := s2.LoadSessions()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "alpha" || string(got[0].State["k"]) != `{"n":1}` || len(got[0].Children) != 1 || !got[0].CreatedAt.Equal(now) {
		t.Fatalf("got %+v, want the alpha record back", got)
	}
}

func TestConcurrentWritesAllLand(t *testing.T) {
	s, path := openTemp(t)
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.PutSession(SessionRecord{ID: fmt.Sprint("s", i), Status: "active"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	s.Close()
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, _ := s2.LoadSessions()
	if len(got) != 64 {
		t.Fatalf("got %d sessions, want 64", len(got))
	}
}

func TestSecondOpenIsRefusedWithAdvice(t *testing.T) {
	s, path := openTemp(t)
	defer s.Close()
	_, err := Open(path)
	if err == nil {
		t.Fatal("second Open succeeded, want an error naming the other process")
	}
	if want := "another troupe process"; !contains(err.Error(), want) {
		t.Fatalf("err = %v, want it to mention %q", err, want)
	}
}

func TestWriteAfterCloseFails(t *testing.T) {
	s, _ := openTemp(t)
	s.Close()
	if err := s.PutSession(SessionRecord{ID: "x"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("err = %v, want ErrClosed", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
