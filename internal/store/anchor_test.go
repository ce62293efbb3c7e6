package store

import (
	"errors"
	"testing"
)

func TestAuditAnchorRidesOnWritesAndSurvivesReopen(t *testing.T) {
	s, path := openTemp(t)
	seq, hash := uint64(7), "h7"
	s.TrackAuditHead(func() (uint64, string) { return seq, hash })
	if err := s.PutSession(SessionRecord{ID: "a"}); err != nil {
		t.Fatal(err)
	}
	if a, err := s.AuditAnchor(); err != nil || a == nil || *a != (AuditAnchor{7, "h7"}) {
		t.Fatalf("anchor after a write: %v, %v; want seq 7", a, err)
	}
	if _, err := ReadAuditAnchor(path); !errors.Is(err, ErrBusy) {
		t.Fatalf("reading a store held by a running troupe: %v; want ErrBusy at once", err)
	}
	seq, hash = 9, "h9" // moved after the last write: Close records it
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if a, err := ReadAuditAnchor(path); err != nil || a == nil || *a != (AuditAnchor{9, "h9"}) {
		t.Fatalf("anchor after close: %v, %v; want seq 9", a, err)
	}
}
