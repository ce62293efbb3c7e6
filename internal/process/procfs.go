package process

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procStat is what this package needs from /proc/<pid>/stat.
type procStat struct {
	PID       int
	State     byte
	PPID      int
	PGRP      int
	StartTime uint64
}

// running reports whether the process still runs: a zombie has ended, it only waits to be reaped
// (and some PID 1s never reap the orphans they inherit).
func (s procStat) running() bool { return s.State != 'Z' && s.State != 'X' && s.State != 'x' }

// readStat reads /proc/<pid>/stat.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseStat(b)
}

// parseStat parses the text of /proc/<pid>/stat (proc(5)).
func parseStat(b []byte) (procStat, error) {
	// Field 2 (comm) is in parentheses and may itself hold spaces and parentheses: the other
	// fields resume after the last ')'.
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 1 || end < open {
		return procStat{}, fmt.Errorf("unexpected /proc stat format: %.60q", b)
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil {
		return procStat{}, fmt.Errorf("unexpected /proc stat pid: %w", err)
	}
	f := strings.Fields(string(b[end+1:])) // f[0] is field 3, so field n is f[n-3]
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, fmt.Errorf("unexpected /proc/%d/stat format: %d fields after comm", pid, len(f))
	}
	ppid, err0 := strconv.Atoi(f[4-3])
	pgrp, err1 := strconv.Atoi(f[5-3])
	start, err2 := strconv.ParseUint(f[22-3], 10, 64)
	if err0 != nil || err1 != nil || err2 != nil {
		return procStat{}, fmt.Errorf("unexpected /proc/%d/stat fields: ppid %q, pgrp %q, starttime %q", pid, f[4-3], f[5-3], f[22-3])
	}
	return procStat{PID: pid, State: f[0][0], PPID: ppid, PGRP: pgrp, StartTime: start}, nil
}

// groupMembers lists the running processes of process group pgid, read from /proc. Processes that
// vanish while the list is read are left out.
func groupMembers(pgid int) ([]procStat, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var out []procStat
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		st, err := readStat(pid)
		if err != nil || st.PGRP != pgid || !st.running() {
			continue
		}
		out = append(out, st)
	}
	return out, nil
}

// groupRunning reports whether process group pgid has a running member.
func groupRunning(pgid int) bool {
	if syscall.Kill(-pgid, 0) == syscall.ESRCH {
		return false // not even a zombie left: no need to read /proc
	}
	m, err := groupMembers(pgid)
	return err != nil || len(m) > 0 // when /proc cannot be read, assume the worst
}

// hasEnv reports whether the initial environment of process pid holds exactly the entry kv.
func hasEnv(pid int, kv string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	for _, e := range bytes.Split(b, []byte{0}) {
		if string(e) == kv {
			return true
		}
	}
	return false
}

// sameProcess reports whether pid still names the process that st described: same start time,
// still running.
func sameProcess(st procStat) bool {
	now, err := readStat(st.PID)
	return err == nil && now.StartTime == st.StartTime && now.running()
}

// signalGroup sends sig to process group pgid; a group that is already gone is not an error.
func signalGroup(pgid int, sig syscall.Signal) error {
	if pgid <= 1 {
		return fmt.Errorf("refusing to signal process group %d", pgid)
	}
	if err := syscall.Kill(-pgid, sig); err != nil && err != syscall.ESRCH {
		return fmt.Errorf("send %s to process group %d: %w", signalName(sig), pgid, err)
	}
	return nil
}

// poll calls done with a growing pause (1 ms to 20 ms) until it returns true, d has passed, or
// abort is closed; it reports whether done returned true.
func poll(d time.Duration, abort <-chan struct{}, done func() bool) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	pause := time.Millisecond
	for {
		if done() {
			return true
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-deadline.C:
			t.Stop()
			return done()
		case <-abort:
			t.Stop()
			return done()
		}
		pause = min(2*pause, 20*time.Millisecond)
	}
}

// signalNames names the signals a process is usually killed with.
var signalNames = map[syscall.Signal]string{
	syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT",
	syscall.SIGILL: "SIGILL", syscall.SIGTRAP: "SIGTRAP", syscall.SIGABRT: "SIGABRT",
	syscall.SIGBUS: "SIGBUS", syscall.SIGFPE: "SIGFPE", syscall.SIGKILL: "SIGKILL",
	syscall.SIGUSR1: "SIGUSR1", syscall.SIGSEGV: "SIGSEGV", syscall.SIGUSR2: "SIGUSR2",
	syscall.SIGPIPE: "SIGPIPE", syscall.SIGALRM: "SIGALRM", syscall.SIGTERM: "SIGTERM",
	syscall.SIGXCPU: "SIGXCPU", syscall.SIGXFSZ: "SIGXFSZ", syscall.SIGSYS: "SIGSYS",
}

// signalName is "SIGKILL" for syscall.SIGKILL, "signal 42" for a signal without a usual name.
func signalName(s syscall.Signal) string {
	if n, ok := signalNames[s]; ok {
		return n
	}
	return "signal " + strconv.Itoa(int(s))
}

// ParentOf returns the parent of process pid, read from /proc/<pid>/stat.
func ParentOf(pid int) (int, error) {
	st, err := readStat(pid)
	return st.PPID, err
}

// Descendants lists the running processes whose parent chain reaches root (root itself
// excluded), read from /proc in one pass.
func Descendants(root int) []int {
	entries, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		if st, err := readStat(pid); err == nil && st.running() {
			parent[pid] = st.PPID
		}
	}
	var out []int
	for pid := range parent {
		for p, depth := parent[pid], 0; p > 1 && depth < 512; p, depth = parent[p], depth+1 {
			if p == root {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}
