package process

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A process group does not hold everything a process starts: `setsid`, a double fork or a
// daemon leaves it, and would outlive its agent. Where the machine has a writable cgroup v2
// hierarchy, every agent runs in a cgroup of its own (the child is placed there at clone time,
// CLONE_INTO_CGROUP, so nothing escapes in between) and ends with `cgroup.kill`, which reaches
// every descendant whatever its group or session. Elsewhere the per-process token in the
// environment (TokenEnv) finds the descendants that kept it (see tokenStrays).

// cgroupDisabled turns cgroups off (TROUPE_NO_CGROUP=1, and tests of the fallback).
var cgroupDisabled = os.Getenv("TROUPE_NO_CGROUP") == "1"

// cgroupBase is the directory under which agent cgroups are made: "troupe" inside the cgroup
// v2 hierarchy at this server's own cgroup; "" when there is none that can be written.
var cgroupBase = sync.OnceValue(func() string {
	mount, self, err := ownCgroup2()
	if err != nil {
		return ""
	}
	base := filepath.Join(mount, self, "troupe")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return ""
	}
	// A probe: a cgroup troupe can make and remove, and whose kill file exists (Linux ≥ 5.14).
	probe, err := os.MkdirTemp(base, "probe-")
	if err != nil {
		return ""
	}
	_, kerr := os.Stat(filepath.Join(probe, "cgroup.kill"))
	os.Remove(probe)
	if kerr != nil {
		return ""
	}
	return base
})

// ownCgroup2 finds the cgroup v2 mount point and this process's cgroup in it.
func ownCgroup2() (mount, self string, err error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			self = p
		}
	}
	if self == "" {
		return "", "", errors.New("no cgroup v2 entry in /proc/self/cgroup")
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "… mountpoint options - fstype source superoptions" (proc(5))
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok || !strings.HasPrefix(post, "cgroup2 ") {
			continue
		}
		if fields := strings.Fields(pre); len(fields) >= 5 {
			return fields[4], self, nil
		}
	}
	return "", "", errors.New("no cgroup2 mount")
}

// cgroup is one agent's cgroup.
type cgroup struct {
	dir string
	fd  int // an open descriptor of dir for clone3, until the child started
}

// newCgroup makes the cgroup of the process with the given token; nil when cgroups are off or
// not available here.
func newCgroup(token string) *cgroup {
	base := cgroupBase()
	if cgroupDisabled || base == "" {
		return nil
	}
	dir := filepath.Join(base, token)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil
	}
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		os.Remove(dir)
		return nil
	}
	return &cgroup{dir: dir, fd: fd}
}

// started closes the descriptor clone3 needed.
func (c *cgroup) started() {
	if c.fd >= 0 {
		syscall.Close(c.fd)
		c.fd = -1
	}
}

// pids lists the processes in the cgroup (zombies are not listed).
func cgroupPIDs(dir string) []int {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range bytes.Fields(b) {
		if pid, err := strconv.Atoi(string(f)); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// populated reports whether a process still runs in the cgroup.
func cgroupPopulated(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.events"))
	if err != nil {
		return false // gone
	}
	return bytes.Contains(b, []byte("populated 1"))
}

// cgroupSignal sends sig to every process in the cgroup; SIGKILL goes through cgroup.kill,
// which also reaches what is forked meanwhile.
func cgroupSignal(dir string, sig syscall.Signal) {
	if sig == syscall.SIGKILL {
		if err := os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0); err == nil {
			return
		}
	}
	for _, pid := range cgroupPIDs(dir) {
		syscall.Kill(pid, sig) // ESRCH: it ended in between
	}
}

// cgroupRemove removes an emptied cgroup, waiting briefly for the kernel to see it empty.
func cgroupRemove(dir string) error {
	var err error
	for i := 0; i < 50; i++ {
		if err = os.Remove(dir); err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("remove cgroup %s: %w", dir, err)
}

// tokenStrays lists the running processes, anywhere on the machine, whose environment holds
// the token of rec and that started no earlier than rec's leader: what the agent started,
// including what left its process group. The fallback without cgroups.
func tokenStrays(rec Record) []procStat {
	if rec.Token == "" {
		return nil
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	kv := TokenEnv + "=" + rec.Token
	var out []procStat
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 1 || pid == rec.PID {
			continue
		}
		st, err := readStat(pid)
		if err != nil || !st.running() || st.StartTime < rec.StartTime || !hasEnv(pid, kv) {
			continue
		}
		out = append(out, st)
	}
	return out
}
