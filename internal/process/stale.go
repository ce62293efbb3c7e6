package process

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
//   - The processes whose environment holds rec.Token, wherever they are (a leader gone with the
//     crashed server's parent-death signal, a `setsid` child, a double fork), are ended one by
//     one, each re-checked by start time right before each signal.
//   - The cgroup troupe made for the process, when there is one, is ended whole.
//
// It sends SIGTERM, waits at most grace, then sends SIGKILL, and returns an error if something is
// still running a few seconds later. Zombies count as ended: reaping orphans is PID 1's job.
func KillStale(rec Record, grace time.Duration) (killed bool, err error) {
	if rec.PID <= 1 || rec.PGID <= 1 || rec.StartTime == 0 {
		return false, fmt.Errorf("kill stale process: incomplete record %+v: it cannot be checked against a reused PID, so it is left alone", rec)
	}
	if dir := staleCgroup(rec); dir != "" {
		// Everything the process started is in its cgroup, whatever group or session it chose.
		killed = cgroupPopulated(dir)
		err = endCgroup(dir, grace)
	}
	leader, lerr := readStat(rec.PID)
	if lerr == nil && leader.running() && leader.StartTime == rec.StartTime {
		killed = true
		err = errors.Join(err, endGroup(rec.PGID, grace))
	}
	// What left the group and carries the token (without a cgroup, or started before it).
	if members := tokenStrays(rec); len(members) > 0 {
		killed = true
		err = errors.Join(err, endMembers(rec, members, grace))
	}
	return killed, err
}

// staleCgroup returns the cgroup of rec when it is one troupe made for it (a directory named
// after the token in a "troupe" directory) and still exists; "" otherwise.
func staleCgroup(rec Record) string {
	dir := filepath.Clean(rec.Cgroup)
	if rec.Cgroup == "" || rec.Token == "" || filepath.Base(dir) != rec.Token || filepath.Base(filepath.Dir(dir)) != "troupe" {
		return ""
	}
	if _, err := os.Stat(filepath.Join(dir, "cgroup.procs")); err != nil {
		return ""
	}
	return dir
}

// endCgroup ends every process of a cgroup: SIGTERM, grace, then cgroup.kill; then removes it.
func endCgroup(dir string, grace time.Duration) error {
	gone := func() bool { return !cgroupPopulated(dir) }
	if !gone() {
		cgroupSignal(dir, syscall.SIGTERM)
		if !poll(grace, nil, gone) {
			cgroupSignal(dir, syscall.SIGKILL)
			if !poll(killWait, nil, gone) {
				return fmt.Errorf("kill stale processes of cgroup %s: still running after SIGKILL: %w", dir, ErrNotStopped)
			}
		}
	}
	return cgroupRemove(dir)
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
	gone := func() bool { return len(tokenStrays(rec)) == 0 }
	signalAll(members, syscall.SIGTERM)
	if poll(grace, nil, gone) {
		return nil
	}
	members = tokenStrays(rec)
	signalAll(members, syscall.SIGKILL)
	if !poll(killWait, nil, gone) {
		return fmt.Errorf("kill stale processes of process %d: still running after SIGKILL: %w", rec.PGID, ErrNotStopped)
	}
	return nil
}
