package browser

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// chromeFlags are the flags every launch passes. The network here is closed, so everything
// that phones home is off (otherwise Chromium floods refused connections). Never add
// --disable-crashpad-for-testing: cookie calls hang with it (DESIGN §10).
var chromeFlags = []string{
	"--headless",
	"--disable-gpu",
	"--disable-quic",
	"--no-first-run",
	"--no-default-browser-check",
	"--no-startup-window",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--disable-extensions",
	"--disable-default-apps",
	"--disable-dev-shm-usage",
	// SpareRendererForSitePerProcess: Chromium keeps an idle renderer ready for the next
	// cross-site navigation, ~40 MB PSS for nothing most of the time. --in-process-gpu: the
	// (software, --disable-gpu) compositor runs in the browser process instead of a process of
	// its own: ~12 MB less. One context with one page: 320 → 286 MB (BENCH
	// peer_troupe_chromium_mb, measured beside Playwright MCP's 485 MB).
	"--disable-features=Translate,MediaRouter,OptimizationHints,SpareRendererForSitePerProcess",
	"--in-process-gpu",
	"--metrics-recording-only",
	"--password-store=basic",
	"--use-mock-keychain",
	"--mute-audio",
	"--hide-scrollbars",
	"--window-size=1280,800",
	// CDP on fd 3 and fd 4 (pipe.go), never on a port: a page must not reach the browser's
	// control channel (issue 11 item 1). Never add --remote-debugging-port or
	// --remote-allow-origins.
	"--remote-debugging-pipe",
	linkLocalRules,
}

// linkLocalRules make every request to a link-local address (169.254.0.0/16, fe80::/10, and
// IPv4-mapped 169.254 as Chromium writes it, [::ffff:a9fe:…]) fail as unresolvable in the
// network stack, so that no fetch, XHR, WebSocket, subresource or redirect of a page reaches
// a cloud metadata service; the URL policy refuses them earlier for navigations (policy_addr.go).
// Host rules see IP literals as the URL parser canonicalized them (http://2852039166/ is
// 169.254.169.254 by then); a name that resolves to such an address is not covered.
const linkLocalRules = "--host-resolver-rules=MAP 169.254.* ~NOTFOUND, MAP [::ffff:a9fe:* ~NOTFOUND, " +
	"MAP [fe8* ~NOTFOUND, MAP [fe9* ~NOTFOUND, MAP [fea* ~NOTFOUND, MAP [feb* ~NOTFOUND"

const (
	profileDirName = "profile"      // the user-data dir, under Options.DataDir
	pidFileName    = "chromium.pid" // the running browser, so that a restart can sweep it
	stopGrace      = 5 * time.Second
	outputDrain    = 2 * time.Second
)

// chromium is one running browser process (and its process group).
type chromium struct {
	pid    int
	conn   *cdpConn      // the one CDP connection, over the pipes
	exited chan struct{} // closed once the main process has exited and been reaped
	output chan struct{} // closed once its output has been read to the end
}

// alive reports whether the browser runs and its connection is up.
func (c *chromium) alive() bool {
	select {
	case <-c.exited:
		return false
	default:
		return c.conn == nil || !c.conn.dead()
	}
}

// launchChromium sweeps dataDir (a leftover browser is killed, the profile removed) and starts
// Chromium in its own process group with CDP on its pipes, waiting until the browser answers.
func launchChromium(ctx context.Context, bin, dataDir string, log zerolog.Logger) (*chromium, error) {
	profile := filepath.Join(dataDir, profileDirName)
	if err := sweep(dataDir, profile, log); err != nil {
		return nil, err
	}
	args := append([]string{}, chromeFlags...)
	args = append(args, "--user-data-dir="+profile)
	if os.Geteuid() == 0 {
		args = append(args, "--no-sandbox") // Chromium refuses to run as root with its sandbox
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLaunch, err)
	}
	cdpFiles, pipe, err := newPipes()
	if err != nil {
		_ = r.Close()
		_ = w.Close()
		return nil, fmt.Errorf("%w: %v", ErrLaunch, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = w, w
	cmd.ExtraFiles = cdpFiles[:] // fd 3 and fd 4 in Chromium
	// Own process group: the whole tree can be signalled at once. Pdeathsig: the browser dies
	// with troupe even after a SIGKILL of troupe; the pid file covers the rest at the next start.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	_ = w.Close()
	_ = cdpFiles[0].Close()
	_ = cdpFiles[1].Close()
	if err != nil {
		_ = r.Close()
		pipe.close()
		return nil, fmt.Errorf("%w: %s: %v", ErrLaunch, bin, err)
	}
	c := &chromium{pid: cmd.Process.Pid, exited: make(chan struct{}), output: make(chan struct{})}
	if err := os.WriteFile(filepath.Join(dataDir, pidFileName), []byte(strconv.Itoa(c.pid)), 0o600); err != nil {
		log.Warn().Err(err).Msg("browser: cannot write the pid file")
	}
	tail := &outputTail{}
	go c.readOutput(r, tail, log)
	go func() {
		_ = cmd.Wait()
		close(c.exited)
		pipe.close()
		// Renderers and helpers left behind by a crash: the group goes with its leader.
		_ = syscall.Kill(-c.pid, syscall.SIGKILL)
		// A helper outside the group (crashpad) may keep the pipe open: stop reading anyway.
		t := time.NewTimer(outputDrain)
		defer t.Stop()
		select {
		case <-c.output:
		case <-t.C:
			_ = r.Close()
		}
	}()
	conn, err := connect(ctx, pipe)
	if err == nil {
		c.conn = conn
		log.Info().Int("pid", c.pid).Str("bin", bin).Msg("browser: chromium started")
		return c, nil
	}
	select {
	case <-c.exited:
		<-c.output
		return nil, fmt.Errorf("%w: %s exited at start: %s", ErrLaunch, bin, tail.String())
	default:
		c.kill()
		return nil, fmt.Errorf("%w: %s did not answer on its DevTools pipe in time (%v): %s", ErrLaunch, bin, err, tail.String())
	}
}

// readOutput logs Chromium's output at debug level and keeps its last lines for errors.
func (c *chromium) readOutput(r *os.File, tail *outputTail, log zerolog.Logger) {
	defer close(c.output)
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		tail.add(line)
		log.Debug().Int("pid", c.pid).Str("line", line).Msg("chromium")
	}
}

// stop asks the browser to exit (its pipe closed, SIGTERM to the group), then kills what is
// left after a grace period, and waits until the process is reaped and its output drained.
func (c *chromium) stop() {
	if c.conn != nil {
		c.conn.close()
	}
	_ = syscall.Kill(-c.pid, syscall.SIGTERM)
	t := time.NewTimer(stopGrace)
	defer t.Stop()
	select {
	case <-c.exited:
	case <-t.C:
	}
	c.kill()
}

// kill SIGKILLs the process group and waits for it.
func (c *chromium) kill() {
	_ = syscall.Kill(-c.pid, syscall.SIGKILL)
	<-c.exited
	<-c.output
}

// sweep kills a browser left running on this data dir by an earlier troupe, then removes the
// profile. The earlier browser is found through the pid file and, since a crashed troupe's
// browser may be a zombie already while its helpers (renderers, utilities) still write into the
// profile, through every process whose command line names the profile.
func sweep(dataDir, profile string, log zerolog.Logger) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("%w: cannot create the browser data dir %s: %v", ErrLaunch, dataDir, err)
	}
	pidFile := filepath.Join(dataDir, pidFileName)
	if b, err := os.ReadFile(pidFile); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 && ownsProfile(pid, profile) {
			log.Warn().Int("pid", pid).Msg("browser: killing a chromium left over from an earlier run")
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			_ = syscall.Kill(pid, syscall.SIGKILL)
			waitGone(pid)
		}
		_ = os.Remove(pidFile)
	}
	for _, pid := range profileProcesses(profile) {
		log.Warn().Int("pid", pid).Msg("browser: killing a chromium process left over from an earlier run")
		// Its whole process group too, unless that is ours: a child it started that names the
		// profile differently (or not at all) could otherwise still write into it.
		if pgid, err := syscall.Getpgid(pid); err == nil && pgid > 1 && pgid != syscall.Getpgrp() {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
		waitGone(pid)
	}
	var err error
	for range 20 { // a process that was exiting may still have created a file
		if err = os.RemoveAll(profile); err == nil {
			// Removed; gone for good only if nothing that was still exiting made it again.
			time.Sleep(20 * time.Millisecond)
			if _, serr := os.Stat(profile); os.IsNotExist(serr) {
				return nil
			}
			continue
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%w: cannot sweep the browser profile %s: %v", ErrLaunch, profile, err)
}

// profileProcesses lists the live processes (zombies aside) using this profile.
func profileProcesses(profile string) []int {
	var pids []int
	files, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range files {
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f)))
		if err == nil && pid != os.Getpid() && ownsProfile(pid, profile) && !gone(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// ownsProfile reports whether process pid is a browser using this profile.
func ownsProfile(pid int, profile string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	for _, arg := range strings.Split(string(b), "\x00") {
		if arg == "--user-data-dir="+profile {
			return true
		}
	}
	return false
}

// gone reports whether pid has ended: no such process, or a zombie nobody reaped yet (PID 1
// here does not reap orphans).
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] == 'Z'
}

// waitGone waits (bounded) until a process that is not our child has ended.
func waitGone(pid int) {
	for range 100 {
		if gone(pid) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// outputTail keeps the last lines Chromium printed before announcing itself, for errors.
type outputTail struct {
	mu    sync.Mutex
	lines []string
}

func (t *outputTail) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if strings.Contains(line, "dbus") { // noise on machines without a system bus
		return
	}
	t.lines = append(t.lines, line)
	if len(t.lines) > 10 {
		t.lines = t.lines[1:]
	}
}

func (t *outputTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == 0 {
		return "(no output)"
	}
	return strings.Join(t.lines, " | ")
}
