package bridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/troupe-dev/troupe/internal/config"
	"github.com/troupe-dev/troupe/internal/daemon"
)

// Starter finds the data dir's daemon, starting one detached when none answers.
type Starter struct {
	DataDir string
	// Version is this binary's; a daemon of another version with no running child is replaced.
	Version string
	// Executable runs the daemon: `Executable daemon --data-dir D --log-file D/daemon.log Args...`;
	// empty means this process's own binary.
	Executable string
	// Args are passed on to the daemon (--config and setting flags).
	Args []string
	// Timeout bounds the wait for a new daemon to answer (default 30 s).
	Timeout time.Duration
	Logger  zerolog.Logger
	// Spawn, when set, starts the daemon instead of running Executable (tests); the Starter
	// still holds the start lock and waits for the daemon to answer.
	Spawn func() error

	checkedVersion bool
}

// Ensure returns once a daemon answers on the data dir's socket.
func (s *Starter) Ensure(ctx context.Context, hc *http.Client) error {
	st, err := daemon.GetStatus(ctx, hc)
	if err != nil && !errors.Is(err, daemon.ErrNotRunning) {
		// A kept-alive connection to a daemon that died answers with a reset: ask again on a
		// new one.
		hc.CloseIdleConnections()
		st, err = daemon.GetStatus(ctx, hc)
	}
	if err == nil {
		return s.checkVersion(ctx, hc, st)
	}
	if !errors.Is(err, daemon.ErrNotRunning) {
		return fmt.Errorf("the troupe daemon of %s does not answer: %w; see %s, or stop it with `troupe daemon stop`", s.DataDir, err, daemonLog(s.DataDir))
	}
	return s.start(ctx, hc)
}

// checkVersion applies DESIGN §11's version skew rule once per bridge.
func (s *Starter) checkVersion(ctx context.Context, hc *http.Client, st daemon.Status) error {
	if s.checkedVersion || st.Version == s.Version || s.Version == "" {
		s.checkedVersion = true
		return nil
	}
	s.checkedVersion = true
	if st.RunningChildren > 0 {
		s.Logger.Warn().Str("daemon_version", st.Version).Str("bridge_version", s.Version).Int("running_children", st.RunningChildren).
			Msg("bridge: the running troupe daemon is another version; using it, since stopping it would end its running agents (run `troupe daemon stop` when convenient)")
		return nil
	}
	s.Logger.Info().Str("daemon_version", st.Version).Str("bridge_version", s.Version).
		Msg("bridge: replacing the troupe daemon of another version (nothing runs in it)")
	if err := daemon.RequestStop(ctx, hc); err != nil && !errors.Is(err, daemon.ErrNotRunning) {
		// A daemon that stops at once may close the connection before its answer: what
		// counts is that it goes away, checked below.
		s.Logger.Debug().Err(err).Msg("bridge: the stop request got no answer")
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := daemon.GetStatus(ctx, hc); errors.Is(err, daemon.ErrNotRunning) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the troupe daemon of version %s did not stop within a minute; see %s", st.Version, daemonLog(s.DataDir))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s.start(ctx, hc)
}

// start starts a daemon under the start lock, so that bridges started together start one.
func (s *Starter) start(ctx context.Context, hc *http.Client) error {
	if err := daemon.CheckSocketPath(s.DataDir); err != nil {
		return err
	}
	if err := config.EnsureDataDir(s.DataDir); err != nil {
		return fmt.Errorf("data dir %s: %w; choose another with --data-dir or TROUPE_DATA_DIR", s.DataDir, err)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	unlock, err := lockFile(ctx, filepath.Join(s.DataDir, daemon.StartLockName), timeout)
	if err != nil {
		return err
	}
	defer unlock()
	// Another bridge may have started one while we waited for the lock.
	if _, err := daemon.GetStatus(ctx, hc); err == nil {
		return nil
	}
	if s.Spawn != nil {
		if err := s.Spawn(); err != nil {
			return err
		}
		return s.waitReady(ctx, hc, nil, time.Now().Add(timeout))
	}
	exe := s.Executable
	if exe == "" {
		if exe, err = os.Executable(); err != nil {
			return fmt.Errorf("find troupe's own binary to start the daemon: %w", err)
		}
	}
	logPath := daemonLog(s.DataDir)
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open the daemon's log: %w", err)
	}
	args := append([]string{"daemon", "--data-dir", s.DataDir, "--log-file", logPath}, s.Args...)
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own session and process group: the client's Ctrl-C, or the bridge's death, does not
	// reach it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	logf.Close()
	if err != nil {
		return fmt.Errorf("start the troupe daemon (%s): %w", exe, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // reaped while the bridge lives
	s.Logger.Info().Int("pid", cmd.Process.Pid).Str("log", logPath).Msg("bridge: started the troupe daemon")
	s.checkedVersion = true
	return s.waitReady(ctx, hc, exited, time.Now().Add(timeout))
}

// waitReady waits until the daemon answers, it exits (exited), or the deadline.
func (s *Starter) waitReady(ctx context.Context, hc *http.Client, exited <-chan error, deadline time.Time) error {
	logPath := daemonLog(s.DataDir)
	for {
		if _, err := daemon.GetStatus(ctx, hc); err == nil {
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("the troupe daemon exited at start (%v); the end of its log %s:\n%s", err, logPath, logTail(logPath, 10))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(15 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the troupe daemon did not answer in time; the end of its log %s:\n%s", logPath, logTail(logPath, 10))
		}
	}
}

// lockFile takes an exclusive flock on path, waiting at most timeout.
func lockFile(ctx context.Context, path string, timeout time.Duration) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	deadline := time.Now().Add(timeout)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { _ = unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) || time.Now().After(deadline) || ctx.Err() != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %v (another troupe is starting the daemon and did not finish)", path, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func daemonLog(dataDir string) string { return filepath.Join(dataDir, daemon.LogName) }

// logTail returns the last n lines of a file.
func logTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(string(bytes.Join(lines, []byte("\n"))))
}
