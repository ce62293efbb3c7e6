package process

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// TokenEnv is the environment variable that marks a real process and everything it starts with
// the random Record.Token, so that KillStale can recognise them after the leader is gone.
const TokenEnv = "TROUPE_PROCESS_TOKEN"

// LeftoverGrace is how long what a leader left in its process group after exiting on its own gets
// between SIGTERM and SIGKILL (unless Stop's SIGKILL comes first).
const LeftoverGrace = 2 * time.Second

// drainGrace bounds how long output is still read once the whole group is gone: only a process
// that left the group (setsid) can still hold the pipes open then.
const drainGrace = time.Second

// killWait bounds how long the leftovers get to vanish after SIGKILL before the process is
// reported done anyway (a process stuck in the kernel).
const killWait = 5 * time.Second

// Real returns the Driver that runs processes on os/exec (see the package doc).
func Real() Driver { return realDriver{} }

// realDriver is the Driver of Real.
type realDriver struct{}

// KillStale implements Driver with the package function KillStale.
func (realDriver) KillStale(rec Record, grace time.Duration) (bool, error) {
	return KillStale(rec, grace)
}

// Start implements Driver.
func (realDriver) Start(spec Spec) (Process, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(spec.Command, spec.Args...)
	cmd.Dir = spec.Dir
	cmd.Env = append(append(os.Environ(), spec.Env...), TokenEnv+"="+token)
	if spec.Terminal != nil && !envSets(spec.Env, "TERM") {
		// What the screen (charmbracelet/x/vt) emulates; the server's own TERM may be none.
		cmd.Env = append(cmd.Env, "TERM=xterm-256color")
	}
	cg := newCgroup(token)
	p := &realProcess{
		cg:       cg,
		spec:     spec,
		token:    token,
		done:     make(chan struct{}),
		killNow:  make(chan struct{}),
		writeSem: make(chan struct{}, 1),
	}
	cmd.SysProcAttr = p.sysProcAttr()
	if cg != nil {
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, cg.fd
	}
	childEnds, err := p.pipes(cmd)
	if err != nil {
		return nil, err
	}
	started := make(chan error, 1)
	go p.run(cmd, childEnds, started)
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// realProcess is a Process of Real.
type realProcess struct {
	spec    Spec
	token   string
	cg      *cgroup // nil without cgroups: the token finds what left the group
	pid     int
	record  Record
	stdin   *os.File   // our end of the stdin pipe (nil without Spec.Stdin), or the PTY's master
	outputs []*os.File // our ends of the stdout and stderr pipes, or the PTY's master
	tty     string     // the PTY's slave (/dev/pts/N) of a terminal process

	done     chan struct{} // closed by run at the very end
	status   ExitStatus    // written before done is closed
	killNow  chan struct{} // closed by Stop when its grace is over: leftovers get SIGKILL at once
	killOnce sync.Once
	mu       sync.Mutex // guards reaped against signals to the group
	reaped   bool

	writeSem   chan struct{} // one Write at a time
	closeStdin sync.Once
	stdinErr   error
}

// pipes creates the pipes the Spec asks for; it returns the child's ends, which the parent closes
// once the child has started.
func (p *realProcess) pipes(cmd *exec.Cmd) ([]*os.File, error) {
	if p.spec.Terminal != nil {
		return p.openTerminal(cmd)
	}
	var child []*os.File
	fail := func(err error) ([]*os.File, error) {
		closeFiles(child)
		closeFiles(p.outputs)
		if p.stdin != nil {
			p.stdin.Close()
		}
		return nil, fmt.Errorf("create pipes for %q: %w", p.spec.Command, err)
	}
	if p.spec.Stdin {
		r, w, err := os.Pipe()
		if err != nil {
			return fail(err)
		}
		cmd.Stdin, p.stdin, child = r, w, append(child, r)
	}
	for _, o := range []struct {
		dst  io.Writer
		into *io.Writer
	}{{p.spec.Stdout, &cmd.Stdout}, {p.spec.Stderr, &cmd.Stderr}} {
		if o.dst == nil {
			continue // exec connects /dev/null
		}
		r, w, err := os.Pipe()
		if err != nil {
			return fail(err)
		}
		// Passing *os.File makes exec hand the pipe to the child directly, with no copying
		// goroutine of its own: run does the copying and decides when it ends.
		*o.into, p.outputs, child = w, append(p.outputs, r), append(child, w)
	}
	return child, nil
}

// run starts the child, copies its output, waits for it, ends its leftovers and closes done.
//
// Pdeathsig is tied to the thread that forks, not to the process (go.dev/issue/27505): when that
// thread ends the child gets SIGKILL, although the server is alive. The runtime ends a thread only
// when a goroutine locked to it exits, and any idle thread may later be used by such a goroutine.
// So this goroutine locks its thread before forking and keeps it, blocked in wait, until the child
// has been reaped: the thread cannot end before the child, and a locked thread runs nothing else.
func (p *realProcess) run(cmd *exec.Cmd, childEnds []*os.File, started chan<- error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	err := cmd.Start()
	if err != nil && p.cg != nil && !errors.Is(err, exec.ErrNotFound) && !errors.Is(err, os.ErrNotExist) &&
		!errors.Is(err, os.ErrPermission) {
		// The kernel refused to start the child in its cgroup (clone3 filtered, a delegation
		// rule): start it without one, which the token scan then covers.
		p.dropCgroup()
		retry := exec.Command(cmd.Path, cmd.Args[1:]...)
		retry.Dir, retry.Env, retry.Stdin, retry.Stdout, retry.Stderr = cmd.Dir, cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr
		retry.SysProcAttr = p.sysProcAttr()
		cmd, err = retry, retry.Start()
	}
	if p.cg != nil {
		p.cg.started()
	}
	closeFiles(childEnds)
	if err != nil {
		p.dropCgroup()
		closeFiles(p.outputs)
		if p.stdin != nil {
			p.stdin.Close()
		}
		started <- startError(p.spec, err)
		return
	}
	p.pid = cmd.Process.Pid
	p.record = Record{PID: p.pid, PGID: p.pid, Token: p.token}
	if p.cg != nil {
		p.record.Cgroup = p.cg.dir
	}
	// The child is not reaped before cmd.Wait, so its /proc entry is there even if it exited.
	if st, err := readStat(p.pid); err == nil {
		p.record.StartTime = st.StartTime
	}

	dsts := []io.Writer{p.spec.Stdout, p.spec.Stderr}
	switch {
	case p.spec.Terminal != nil: // a terminal has one output, in Stdout
		dsts = []io.Writer{cmp.Or[io.Writer](p.spec.Stdout, io.Discard)}
	case p.spec.Stdout == nil:
		dsts = dsts[1:]
	}
	var copying sync.WaitGroup
	var deadlineHit [2]bool
	for i, r := range p.outputs {
		copying.Add(1)
		go func() {
			defer copying.Done()
			deadlineHit[i] = copyOut(dsts[i], r)
		}()
	}
	started <- nil

	// Wait for the leader to exit but leave it a zombie while its leftovers are ended: its PID,
	// which is the group id, stays reserved, so no signal to the group can hit another group.
	var werr error
	exitedErr := waitExited(p.pid)
	if exitedErr != nil {
		werr = cmd.Wait() // fallback: reap first, then only members still reserve the group id
	}
	if p.spec.Stdin && p.spec.Terminal == nil {
		p.CloseStdin()
	}
	p.endLeftovers()
	p.mu.Lock()
	if exitedErr == nil {
		werr = cmd.Wait() // reaps the leader
	}
	p.reaped = true
	p.mu.Unlock()
	if p.cg != nil {
		if err := cgroupRemove(p.cg.dir); err != nil {
			werr = errors.Join(werr, err)
		}
	}
	status := exitStatus(cmd.ProcessState, werr)
	for _, r := range p.outputs {
		r.SetReadDeadline(time.Now().Add(drainGrace))
	}
	copying.Wait()
	closeFiles(p.outputs)
	if p.spec.Terminal != nil {
		p.CloseStdin() // the master, closed twice: harmless
	}
	if deadlineHit[0] || deadlineHit[1] {
		status.Err = joinErr(status.Err, "output was cut off: a process outside the agent's process group still held its stdout or stderr")
	}
	p.status = status
	close(p.done)
}

// endLeftovers ends what the exited leader left running — in its group, and everything it
// started that left the group (its cgroup, or the processes carrying its token): SIGTERM, then
// SIGKILL after LeftoverGrace or as soon as Stop's grace is over.
func (p *realProcess) endLeftovers() {
	if !p.leftovers() && (p.cg != nil || !p.leftoversAfter(tokenRecheck)) {
		return
	}
	p.signal(syscall.SIGTERM)
	if poll(LeftoverGrace, p.killNow, func() bool { return !p.leftovers() }) {
		return
	}
	p.signal(syscall.SIGKILL)
	poll(killWait, nil, func() bool { return !p.leftovers() })
}

// leftovers reports whether anything the process started still runs.
func (p *realProcess) leftovers() bool {
	if groupRunning(p.pid) {
		return true
	}
	if p.cg != nil {
		return cgroupPopulated(p.cg.dir)
	}
	return len(tokenStrays(p.record)) > 0
}

// signal sends sig to the process group unless the leader has been reaped (from then on the
// group id may belong to somebody else), and to every descendant outside the group.
func (p *realProcess) signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reaped {
		return nil
	}
	err := signalGroup(p.pid, sig)
	if p.cg != nil {
		cgroupSignal(p.cg.dir, sig)
	} else {
		for _, st := range tokenStrays(p.record) {
			if sameProcess(st) {
				syscall.Kill(st.PID, sig) // ESRCH: it ended in between
			}
		}
	}
	return err
}

// dropCgroup gives up the process's cgroup (it could not be used).
func (p *realProcess) dropCgroup() {
	if p.cg == nil {
		return
	}
	p.cg.started()
	os.Remove(p.cg.dir)
	p.cg = nil
}

// waitExited blocks until process pid (a child) has exited, without reaping it (waitid with
// WNOWAIT).
func waitExited(pid int) error {
	const pPID = 1     // P_PID of waitid(2)
	var info [128]byte // siginfo_t
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid),
			uintptr(unsafe.Pointer(&info[0])), syscall.WEXITED|syscall.WNOWAIT, 0, 0)
		switch errno {
		case 0:
			return nil
		case syscall.EINTR:
			continue
		}
		return fmt.Errorf("wait for process %d: %w", pid, errno)
	}
}

// tokenRecheck is how long after a first empty scan the token scan looks again: a process in
// the middle of execve shows no environment for a moment, and one that had escaped the group
// was then missed (TestDescendantsThatLeaveTheGroupEndWithTheAgent, token mode, failed under
// load). Cgroups do not need it: their member list is exact.
const tokenRecheck = 30 * time.Millisecond

// leftoversAfter looks for leftovers again after d.
func (p *realProcess) leftoversAfter(d time.Duration) bool {
	time.Sleep(d)
	return p.leftovers()
}

// copyOut copies r to dst until r ends. Errors of dst are ignored: the child must never block on a
// full pipe because a consumer failed. It reports whether reading stopped at the read deadline.
func copyOut(dst io.Writer, r *os.File) (deadlineHit bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			dst.Write(buf[:n])
		}
		if err != nil {
			return errors.Is(err, os.ErrDeadlineExceeded)
		}
	}
}
