package audit

import (
	"testing"
)

func TestRecordIsDurableAfterCloseAndChains(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := l.Record(Event{Action: "tool.read", Stage: StageCompleted, Outcome: OutcomeOK, Details: map[string]any{"i": i}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(dir + "/" + DirName)
	if err != nil || !rep.OK {
		t.Fatalf("verify after Record: %+v, %v", rep, err)
	}
	evs, err := Query(dir+"/"+DirName, Filter{Action: "tool.read"})
	if err != nil || len(evs) != 50 {
		t.Fatalf("got %d recorded events, %v; want 50", len(evs), err)
	}
	if err := l.Record(Event{Action: "late"}); err == nil {
		t.Fatal("Record after Close succeeded")
	}
}
