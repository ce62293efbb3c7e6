package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/troupe-dev/troupe/internal/daemon"
)

// detachKey is Ctrl-] (as telnet's escape): it detaches and is not typed on the agent.
const detachKey = 0x1d

func newAttachCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "attach AGENT_ID",
		Short: "Take a terminal agent's terminal over from your own shell (Ctrl-] detaches)",
		Long: "Attach your terminal to a terminal agent (mode \"terminal\", e.g. presets bash, python, claude-tui) of\n" +
			"the data dir's daemon: you see its screen and type on it, its terminal takes your window's size\n" +
			"while you are attached, and the model can still read its screen. Ctrl-] detaches; the agent runs on.\n\n" +
			"Example:\n  troupe attach work/repl",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := daemonDataDir(cmd)
			if err != nil {
				return err
			}
			return attach(cmd.Context(), dir, args[0], os.Stdin, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
}

// attach runs the person's side: raw mode on in, the agent's output to out, until Ctrl-], the
// end of the agent's process, or the daemon's going away. The terminal is always restored.
func attach(ctx context.Context, dataDir, agentID string, in *os.File, out, errOut io.Writer) error {
	fd := int(in.Fd())
	if !term.IsTerminal(fd) {
		return errors.New("troupe attach needs a terminal: run it from your own shell (to script a terminal agent, use the send_keys and read_agent_screen tools)")
	}
	cols, rows, err := term.GetSize(fd)
	if err != nil {
		cols, rows = 0, 0 // the agent keeps its own size
	}
	t, err := daemon.DialTerminal(ctx, dataDir, agentID, rows, cols)
	switch {
	case errors.Is(err, daemon.ErrNotRunning):
		return fmt.Errorf("no troupe daemon is running for %s, so agent %s is not running either: start troupe (`troupe daemon`, or a client running `troupe serve`) and create the agent", dataDir, agentID)
	case err != nil:
		return err
	}
	defer t.Close()
	state, err := term.MakeRaw(fd)
	if err != nil {
		return fmt.Errorf("put the terminal in raw mode: %w", err)
	}
	// leave gives the person their terminal back as it was, once: before any word is printed
	// on it, and deferred for every other way out (an error, a signal).
	var leaveOnce sync.Once
	leave := func() {
		leaveOnce.Do(func() {
			io.WriteString(out, "\x1b[?1049l")
			_ = term.Restore(fd, state)
		})
	}
	defer leave()
	// The alternate screen keeps the person's own scrollback as it was, as tmux does.
	io.WriteString(out, "\x1b[?1049h")

	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	defer signal.Stop(winch)
	// In raw mode Ctrl-C and Ctrl-\ are keys typed on the agent; these come from elsewhere (kill,
	// a closed window) and must not leave the person's terminal raw.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(stop)

	ended := make(chan error, 1) // the agent's output ended: it exited, or the daemon went
	go func() {
		_, err := io.Copy(out, t)
		ended <- err
	}()
	detached := make(chan error, 1)
	go func() { detached <- typeKeys(in, t) }()
	detachedWord := func() {
		leave()
		fmt.Fprintf(errOut, "detached from %s; it keeps running (troupe attach %s to come back)\n", agentID, agentID)
	}
	for {
		select {
		case <-winch:
			if c, r, err := term.GetSize(fd); err == nil {
				_ = t.Resize(r, c)
			}
		case <-stop:
			detachedWord()
			return nil
		case <-ctx.Done(): // the command's context: as a signal
			detachedWord()
			return nil
		case err := <-detached:
			if err != nil {
				return fmt.Errorf("reading your keys: %w", err)
			}
			detachedWord()
			return nil
		case <-ended:
			leave()
			fmt.Fprintf(errOut, "%s's terminal closed: its program ended, or the daemon stopped (get_session shows which)\n", agentID)
			return nil
		}
	}
}

// typeKeys sends what the person types until Ctrl-] (nil) or the end of their input.
func typeKeys(in io.Reader, t *daemon.Terminal) error {
	buf := make([]byte, 4096)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			for i, b := range chunk {
				if b == detachKey {
					if i > 0 {
						_ = t.Type(chunk[:i])
					}
					return nil
				}
			}
			if werr := t.Type(chunk); werr != nil {
				return nil // the daemon's side closed: the output's end says why
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
