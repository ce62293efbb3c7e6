package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/troupe-dev/troupe/internal/cluster"
	"github.com/troupe-dev/troupe/internal/process"
)

// The fence watchdog (DESIGN §16, fencing by time): a cluster daemon's lease deadline is enforced
// by the daemon's own timer, which cannot fire while the daemon is frozen (SIGSTOP, a VM paused):
// meanwhile its sessions are taken over elsewhere and their old agents would run on. So the
// daemon starts this small process in its own process group and feeds it the deadline; when the
// deadline passes unrenewed, it kills every process under the daemon (agents, their children,
// Chromium) with SIGKILL. When the daemon resumes it fences itself and stops.

func newFenceWatchdogCmd() *cobra.Command {
	var daemonPID int
	cmd := &cobra.Command{
		Use:    "fence-watchdog",
		Short:  "internal: kills a frozen cluster daemon's children when its lease deadline passes",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runFenceWatchdog(os.Stdin, daemonPID, os.Stderr)
		},
	}
	cmd.Flags().IntVar(&daemonPID, "daemon-pid", 0, "the daemon whose descendants to kill (default: the parent)")
	return cmd
}

// runFenceWatchdog reads deadlines (unix nanoseconds, one per line) until EOF (the daemon is done
// with it) and kills the daemon's descendants when the last one passes.
func runFenceWatchdog(in io.Reader, daemonPID int, stderr io.Writer) error {
	if daemonPID <= 0 {
		daemonPID = os.Getppid()
	}
	lines := make(chan int64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			if n, err := strconv.ParseInt(strings.TrimSpace(sc.Text()), 10, 64); err == nil {
				lines <- n
			}
		}
	}()
	var deadline time.Time
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case n, ok := <-lines:
			if !ok {
				return nil
			}
			deadline = time.Unix(0, n)
			timer.Reset(time.Until(deadline))
		case <-timer.C:
			if deadline.IsZero() || time.Now().Before(deadline) {
				timer.Reset(time.Until(deadline))
				continue
			}
			killed := killDescendants(daemonPID, os.Getpid())
			fmt.Fprintf(stderr, "troupe fence-watchdog: the lease deadline %s passed unrenewed (daemon pid %d frozen or cut off): killed %d processes under it\n",
				deadline.Format(time.RFC3339Nano), daemonPID, killed)
			return nil
		}
	}
}

// killDescendants sends SIGKILL to every process under root but skip; it returns how many.
func killDescendants(root, skip int) int {
	n := 0
	for _, pid := range process.Descendants(root) {
		if pid != skip && syscall.Kill(pid, syscall.SIGKILL) == nil {
			n++
		}
	}
	return n
}

// fenceWatchdog is the daemon's side: the process and the goroutine that feeds it.
type fenceWatchdog struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	stop chan struct{}
	done sync.WaitGroup
}

// startFenceWatchdog starts the watchdog for m's deadline, in its own process group (a SIGSTOP
// of the daemon's group does not freeze it).
func startFenceWatchdog(m *cluster.Member, log zerolog.Logger) (*fenceWatchdog, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "fence-watchdog", "--daemon-pid", strconv.Itoa(os.Getpid()))
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the fence watchdog: %w", err)
	}
	w := &fenceWatchdog{cmd: cmd, in: in, stop: make(chan struct{})}
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		var last time.Time
		for {
			if d := m.Deadline(); !d.Equal(last) {
				last = d
				if _, err := fmt.Fprintln(in, d.UnixNano()); err != nil {
					log.Warn().Err(err).Msg("cluster: the fence watchdog is gone")
					return
				}
			}
			select {
			case <-w.stop:
				return
			case <-m.Fenced():
				return
			case <-t.C:
			}
		}
	}()
	return w, nil
}

// Close ends the watchdog: its input ends, and it exits without killing anything.
func (w *fenceWatchdog) Close() {
	if w == nil {
		return
	}
	close(w.stop)
	w.done.Wait()
	_ = w.in.Close()
	_ = w.cmd.Wait()
}
