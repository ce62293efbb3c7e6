package process

import (
	"fmt"
	"syscall"
	"time"
)

// KillStale ends what a previous run of the server left behind from the process of rec, and
// reports whether it found anything of it. It never signals a process that is not provably part
// of it:
//
//   - If the leader's PID is in use, the process there must have rec's start time; otherwise the PID
//     was reused, which also means the whole group had gone (a PID stays reserved while it is a
//     group id), and nothing is done. A matching leader gets SIGTERM with its whole group.
//   - If the leader is gone (normally: the parent-death signal killed it with the crashed server),
//     the running members of group rec.PGID whose environment holds rec.Token are ended one by
//     one, each re-checked by start time right before each signal.
//
// It sends SIGTERM, waits at most grace, then sends SIGKILL, and returns an error if something is
// still running a few seconds later. Zombies count as ended: reaping orphans is PID 1's job.
func KillStale(rec Record, grace time.Duration) (killed bool, err error) {
	if rec.PID <= 1 || rec.PGID <= 1 || rec.StartTime == 0 {
		return false, fmt.Errorf("kill stale process: incomplete record %+v: it cannot be checked against a reused PID, so it is left alone", rec)
	}
	leader, err := readStat(rec.PID)
	if err == nil && leader.running() {
		if leader.StartTime != rec.StartTime {
			return false, nil // PID reused
		}
		return true, endGroup(rec.PGID, grace)
	}
	members, err := strayMembers(rec)
	if err != nil || len(members) == 0 {
		return false, err
	}
	return true, endMembers(rec, members, grace)
}

// strayMembers lists the running members of group rec.PGID that carry rec.Token.
func strayMembers(rec Record) ([]procStat, error) {
	if rec.Token == "" {
		return nil, nil
	}
	all, err := groupMembers(rec.PGID)
	if err != nil {
		return nil, fmt.Errorf("kill stale process group %d: %w", rec.PGID, err)
	}
	var ours []procStat
	for _, m := range all {
		if m.StartTime >= rec.StartTime && hasEnv(m.PID, TokenEnv+"="+rec.Token) {
			ours = append(ours, m)
		}
	}
	return ours, nil
}

// endGroup ends a group whose leader is alive and verified (so the group id is not reused).
func endGroup(pgid int, grace time.Duration) error {
	if err := signalGroup(pgid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("kill stale process group: %w", err)
	}
	gone := func() bool { return !groupRunning(pgid) }
	if poll(grace, nil, gone) {
		return nil
	}
	if err := signalGroup(pgid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill stale process group: %w", err)
	}
	if !poll(killWait, nil, gone) {
		return fmt.Errorf("kill stale process group %d: still running after SIGKILL: %w", pgid, ErrNotStopped)
	}
	return nil
}

// endMembers ends the stray members of rec's group, listing them again before each round so that
// what they start meanwhile is not missed.
func endMembers(rec Record, members []procStat, grace time.Duration) error {
	signalAll := func(ms []procStat, sig syscall.Signal) {
		for _, m := range ms {
			if sameProcess(m) {
				syscall.Kill(m.PID, sig) // ESRCH: it ended in between
			}
		}
	}
	gone := func() bool {
		ms, err := strayMembers(rec)
		return err == nil && len(ms) == 0
	}
	signalAll(members, syscall.SIGTERM)
	if poll(grace, nil, gone) {
		return nil
	}
	members, _ = strayMembers(rec)
	signalAll(members, syscall.SIGKILL)
	if !poll(killWait, nil, gone) {
		return fmt.Errorf("kill stale processes of group %d: still running after SIGKILL: %w", rec.PGID, ErrNotStopped)
	}
	return nil
}
