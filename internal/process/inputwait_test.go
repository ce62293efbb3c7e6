//go:build linux

package process

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/troupe-dev/troupe/internal/testutil"
	"golang.org/x/sys/unix"
)

func TestInputWaitingOnATerminal(t *testing.T) {
	t.Parallel()
	lines := filepath.Join(t.TempDir(), "lines")
	if err := os.WriteFile(lines, []byte(strings.Repeat("a line for less to show\n", 200)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		argv []string
		want bool // for false, the program prints "ready" first, so that the answer is not its start-up's
	}{
		{"python3 -i at its prompt", []string{"python3", "-i", "-q"}, true},
		{"bash at its prompt", []string{"bash", "--norc", "--noprofile", "-i"}, true},
		{"cat", []string{"cat"}, true},
		{"less on a file (reads /dev/tty on fd 3)", []string{"less", lines}, true},
		{"bash -c 'read -s x'", []string{"bash", "-c", "read -s x"}, true},
		{"node listening to stdin (epoll)", []string{"node", "-e", `process.stdin.on("data", () => {})`}, true},
		{"python polling stdin", []string{"python3", "-c", "import select; p = select.poll(); p.register(0, select.POLLIN); p.poll()"}, true},
		{"python selecting stdin", []string{"python3", "-c", "import os, select; r, w = os.pipe(); select.select([r, 0], [], [])"}, true},
		{"a python busy loop", []string{"python3", "-c", "print('ready', flush=True)\nwhile True: pass"}, false},
		{"sleep", []string{"sh", "-c", "echo ready; exec sleep 100"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pid, _, out := startOnTerminal(t, tc.argv...)
			expectAnswer(t, pid, out, tc.want)
		})
	}
}

func TestInputWaitingOnPipes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		argv []string
		want bool // for false, the program prints "ready" first, so that the answer is not its start-up's
	}{
		{"cat", []string{"cat"}, true},
		{"cat under sh, in the same group", []string{"sh", "-c", "cat; exit 3"}, true},
		{"python reading a pipe of its own", []string{"python3", "-c", "import os; r, w = os.pipe(); print('ready', flush=True); os.read(r, 1)"}, false},
		{"python polling a pipe of its own", []string{"python3", "-c", "import os, select; r, w = os.pipe(); p = select.poll(); p.register(r, select.POLLIN); p.register(0, select.POLLOUT); print('ready', flush=True); p.poll()"}, false},
		{"python selecting a pipe of its own", []string{"python3", "-c", "import os, select; r, w = os.pipe(); print('ready', flush=True); select.select([r], [0], [])"}, false},
		{"sleep", []string{"sh", "-c", "echo ready; exec sleep 100"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pid, out := startOnPipes(t, tc.argv...)
			expectAnswer(t, pid, out, tc.want)
		})
	}
}

// expectAnswer checks the answer for a program that waits for input (want), or one that does not
// and printed "ready" once it is in the state to be checked.
func expectAnswer(t testing.TB, pid int, out *testutil.LockedBuffer, want bool) {
	t.Helper()
	if want {
		expectInputWaiting(t, pid, true, "at start")
		return
	}
	if !poll(20*time.Second, nil, func() bool { return strings.Contains(out.String(), "ready") }) {
		t.Fatalf("the program never printed ready; its output: %q", out.String())
	}
	expectNotWaiting(t, pid, "once ready")
}

func TestInputWaitingFollowsPython(t *testing.T) {
	t.Parallel()
	pid, master, _ := startOnTerminal(t, "python3", "-i", "-q")
	expectInputWaiting(t, pid, true, "at the prompt")
	if _, err := master.WriteString("import time; time.sleep(3)\r"); err != nil {
		t.Fatal(err)
	}
	expectNotWaiting(t, pid, "in time.sleep(3)")
	expectInputWaiting(t, pid, true, "back at the prompt after the sleep")
}

func TestInputWaitingSeesTheForegroundGroup(t *testing.T) {
	t.Parallel()
	pid, master, _ := startOnTerminal(t, "bash", "--norc", "--noprofile", "-i")
	expectInputWaiting(t, pid, true, "at the prompt")
	// Meanwhile bash sleeps in wait4: what counts is the group of the job in the foreground.
	for _, job := range []struct {
		line string
		want bool
	}{{"sleep 100\r", false}, {"cat\r", true}} {
		if _, err := master.WriteString(job.line); err != nil {
			t.Fatal(err)
		}
		if !poll(20*time.Second, nil, func() bool { st, err := readStatTTY(pid); return err == nil && st.tpgid != pid }) {
			t.Fatalf("%q never got the terminal's foreground:\n%s", job.line, describeGroup(pid))
		}
		if job.want {
			expectInputWaiting(t, pid, true, "with "+job.line+" in the foreground")
		} else {
			expectNotWaiting(t, pid, "with "+job.line+" in the foreground")
		}
		if _, err := master.Write([]byte{3}); err != nil { // ^C ends the job, bash prompts again
			t.Fatal(err)
		}
		expectInputWaiting(t, pid, true, "at the prompt after ^C")
	}
}

func TestInputWaitingOfAnEndedLeader(t *testing.T) {
	t.Parallel()
	// A zombie (exited, not reaped yet), then nothing at all (reaped): both wait for nothing.
	cmd := exec.Command("true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	waitFor(t, "true to exit", func() bool { st, err := readStat(pid); return err == nil && !st.running() })
	if got, err := InputWaiting(pid); got || err != nil {
		t.Errorf("a zombie leader: InputWaiting = %v, %v; want false, nil", got, err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if got, err := InputWaiting(pid); got || err != nil {
		t.Errorf("a reaped leader: InputWaiting = %v, %v; want false, nil", got, err)
	}
}

func TestSyscallNumbersParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"270", 270, true}, {"0x7ffd19e34430", 0x7ffd19e34430, true},
		{"0xffffffffffffffff", 1<<64 - 1, true}, {"-1", 0, false}, {"0x", 0, false}, {"", 0, false},
	} {
		got, ok := parseUint([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseUint(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// BenchmarkInputWaiting measures one answer for `cat` on a pipe: a leader that waits, so the whole
// of /proc is scanned for the rest of its group.
func BenchmarkInputWaiting(b *testing.B) {
	pid, _ := startOnPipes(b, "cat")
	expectInputWaiting(b, pid, true, "at start")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := InputWaiting(pid); err != nil {
			b.Fatal(err)
		}
	}
}

// expectInputWaiting polls InputWaiting(pid) until it answers want: for up to 20 s, long enough
// for a program to start, or a 3 s sleep to end; failing, it shows what /proc showed of the group.
func expectInputWaiting(t testing.TB, pid int, want bool, when string) {
	t.Helper()
	var got bool
	var err error
	if poll(20*time.Second, nil, func() bool { got, err = InputWaiting(pid); return err == nil && got == want }) {
		return
	}
	t.Fatalf("%s: InputWaiting(%d) = %v, %v; want %v. /proc showed:\n%s", when, pid, got, err, want, describeGroup(pid))
}

// expectNotWaiting waits for InputWaiting(pid) to answer false, then checks that it keeps doing so
// for a while: a process that moves between states is also seen not waiting for an instant.
func expectNotWaiting(t testing.TB, pid int, when string) {
	t.Helper()
	expectInputWaiting(t, pid, false, when)
	for range 15 {
		if got, err := InputWaiting(pid); got || err != nil {
			t.Fatalf("%s: InputWaiting(%d) = %v, %v after false; want false. /proc showed:\n%s", when, pid, got, err, describeGroup(pid))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// describeGroup tells, for each process of the group InputWaiting looks at, its state, its system
// call and its open files.
func describeGroup(leader int) string {
	st, err := readStatTTY(leader)
	if err != nil {
		return fmt.Sprintf("leader %d: %v", leader, err)
	}
	group := st.tpgid
	if group <= 0 {
		group = st.pgrp
	}
	var b strings.Builder
	fmt.Fprintf(&b, "leader %d: state %c, pgrp %d, tpgid %d; looking at group %d\n", leader, st.state, st.pgrp, st.tpgid, group)
	m, _ := groupMembers(group)
	for _, p := range m {
		dir := "/proc/" + strconv.Itoa(p.PID)
		comm, _ := os.ReadFile(dir + "/comm")
		sc, _ := os.ReadFile(dir + "/syscall")
		fmt.Fprintf(&b, "  %d (%s) state %c syscall %s", p.PID, strings.TrimSpace(string(comm)), p.State, sc)
		fds, _ := os.ReadDir(dir + "/fd")
		for _, fd := range fds {
			target, _ := os.Readlink(dir + "/fd/" + fd.Name())
			fmt.Fprintf(&b, "    fd %s → %s\n", fd.Name(), target)
		}
	}
	return b.String()
}

// readStatTTY reads the state, process group and terminal foreground group of pid.
func readStatTTY(pid int) (procState, error) {
	s := inputScan{buf: make([]byte, 0, 1024)}
	return s.stat(pid)
}

// needProgram skips the test when the program is not installed.
func needProgram(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not installed: %v", name, err)
	}
}

// startOnTerminal starts argv on a new PTY (24×80) as the leader of its own session, whose
// controlling terminal the PTY is; it returns its PID, the master and what it printed.
// Everything is ended and reaped at cleanup: the leader's group and the terminal's foreground group.
func startOnTerminal(t testing.TB, argv ...string) (int, *os.File, *testutil.LockedBuffer) {
	t.Helper()
	needProgram(t, argv[0])
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "TERM=xterm-256color", "PS1=$ ", "LESS=", "LESSOPEN=")
	ptmx, err := pty.StartWithAttrs(cmd, &pty.Winsize{Rows: 24, Cols: 80},
		&syscall.SysProcAttr{Setsid: true, Setctty: true, Pdeathsig: syscall.SIGKILL})
	if err != nil {
		t.Fatal(err)
	}
	// A non-blocking duplicate of the master, so that closing it ends the drain (see openTerminal).
	fd, err := unix.FcntlInt(ptmx.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	ptmx.Close()
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal(err)
	}
	master := os.NewFile(uintptr(fd), "/dev/ptmx")
	out, drained := new(testutil.LockedBuffer), make(chan struct{})
	go func() {
		defer close(drained)
		io.Copy(out, master)
	}()
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		if st, err := readStatTTY(pid); err == nil && st.tpgid > 1 && st.tpgid != pid {
			syscall.Kill(-st.tpgid, syscall.SIGKILL)
		}
		syscall.Kill(-pid, syscall.SIGKILL)
		cmd.Wait()
		master.Close()
		<-drained
	})
	return pid, master, out
}

// startOnPipes starts argv with a stdin pipe (kept open until cleanup) in a process group of its
// own, and returns its PID and what it prints. The group is ended and the leader reaped at cleanup.
func startOnPipes(t testing.TB, argv ...string) (int, *testutil.LockedBuffer) {
	t.Helper()
	needProgram(t, argv[0])
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out := new(testutil.LockedBuffer)
	cmd.Stdout = out
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		syscall.Kill(-pid, syscall.SIGKILL)
		stdin.Close()
		cmd.Wait()
	})
	return pid, out
}
