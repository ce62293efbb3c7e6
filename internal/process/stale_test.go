package process

import (
	"context"
	"testing"
	"time"
)

func TestKillStaleRefusesReusedPID(t *testing.T) {
	p, _ := start(t, Spec{Command: "sleep", Args: []string{"1000"}})
	rec := p.Record()
	reused := rec
	reused.StartTime++ // the PID now names a process that started at another time
	// Its cgroup, named by the record's random token, would prove membership whatever the PID:
	// that way of finding processes is tested by TestParentDeathSignalAndStaleStrays.
	reused.Cgroup = ""
	if killed, err := KillStale(reused, time.Second); killed || err != nil {
		t.Fatalf("got killed=%v err=%v, want nothing done", killed, err)
	}
	if !running(p.PID()) {
		t.Fatal("KillStale hit a process whose start time differs from the record")
	}
}

func TestKillStaleEndsRecordedGroup(t *testing.T) {
	p, o := start(t, Spec{Command: "sh", Args: []string{"-c", "sleep 1000 & echo $!; sleep 1000"}})
	grandchild := atoi(t, firstLine(t, o))
	killed, err := KillStale(p.Record(), 5*time.Second)
	if err != nil || !killed {
		t.Fatalf("got killed=%v err=%v, want killed", killed, err)
	}
	waitDone(t, p)
	if running(grandchild) {
		t.Errorf("grandchild %d still running", grandchild)
	}
	if got := p.Exit().Signal; got != "SIGTERM" {
		t.Errorf("signal: got %q, want SIGTERM", got)
	}
}

func TestKillStaleIncompleteRecord(t *testing.T) {
	for _, rec := range []Record{{}, {PID: 1, PGID: 1, StartTime: 5}, {PID: 1234, PGID: 1234}} {
		if killed, err := KillStale(rec, time.Second); killed || err == nil {
			t.Errorf("%+v: got killed=%v err=%v, want an error", rec, killed, err)
		}
	}
}

func TestKillStaleGone(t *testing.T) {
	p, _ := start(t, Spec{Command: "true"})
	waitDone(t, p)
	if killed, err := KillStale(p.Record(), time.Second); killed || err != nil {
		t.Errorf("got killed=%v err=%v, want nothing found", killed, err)
	}
	if err := p.Stop(context.Background(), time.Second); err != nil {
		t.Errorf("stop after exit: %v", err)
	}
}

func TestParseStat(t *testing.T) {
	line := "4242 (a (weird) name) S 1 4240 4240 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 0 0"
	got, err := parseStat([]byte(line))
	want := procStat{PID: 4242, State: 'S', PPID: 1, PGRP: 4240, StartTime: 987654}
	if err != nil || got != want {
		t.Errorf("got %+v, %v; want %+v", got, err, want)
	}
	for _, bad := range []string{"", "4242 no parens", "4242 (x) S 1 2"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("%q: got no error", bad)
		}
	}
}
