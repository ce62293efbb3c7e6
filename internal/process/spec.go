package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Spec says what to start and how.
type Spec struct {
	// Command is the program: a name looked up in the server's PATH, or a path (a relative path
	// is taken relative to Dir). It is never run through a shell.
	Command string
	// Args are the arguments after the program name.
	Args []string
	// Env holds extra KEY=VALUE entries appended to the server's environment (the preset's, then
	// the call's: a later entry wins over an earlier one with the same key).
	Env []string
	// Dir is the working directory: the session's workspace. Empty means the server's own.
	Dir string
	// Stdout and Stderr receive the process's output; nil discards it. Each receives writes from
	// a single goroutine; they may be the same writer only if that writer is safe for concurrent
	// use (Output's writers are).
	Stdout, Stderr io.Writer
	// Stdin asks for a pipe to the process's stdin (Process.Write, CloseStdin). Without it the
	// process reads from /dev/null.
	Stdin bool
	// Terminal, when set, runs the process on a PTY of this size instead of pipes: its stdin,
	// stdout and stderr are the terminal, all its output goes to Stdout (Stderr is not used),
	// Write types on the terminal, and Resize changes its size. TERM is xterm-256color unless
	// Env sets it.
	Terminal *TermSize
}

// validate refuses what would start a different program than the caller meant.
func (s Spec) validate() error {
	if s.Command == "" {
		return fmt.Errorf("no command to start: set the preset's command")
	}
	if t := s.Terminal; t != nil && (t.Rows <= 0 || t.Cols <= 0 || t.Rows > 0xffff || t.Cols > 0xffff) {
		return fmt.Errorf("a terminal of %d rows and %d columns is not possible", t.Rows, t.Cols)
	}
	for _, kv := range s.Env {
		if i := strings.IndexByte(kv, '='); i <= 0 {
			return fmt.Errorf("environment entry %q is not KEY=VALUE: fix the preset's or the call's env", kv)
		}
	}
	return nil
}

// Driver starts processes (the ProcessDriver of DESIGN §1). Real runs them on os/exec; Fake
// simulates them for tests.
type Driver interface {
	// Start starts a process and returns once it runs (for Real: once the program was executed).
	Start(spec Spec) (Process, error)
	// KillStale ends what a previous run of the server left behind from the process of rec, if it
	// is still there; see the package function KillStale.
	KillStale(rec Record, grace time.Duration) (killed bool, err error)
	// LookPath says where Start would find command, or why it would not (an error wrapping
	// exec.ErrNotFound): so that an agent whose program is missing is refused at once.
	LookPath(command string) (string, error)
}

// Process is one started process. All methods are safe for concurrent use.
type Process interface {
	// PID is the process id (also its process group id).
	PID() int
	// Record is what to persist so that a restarted server can end this process (KillStale).
	Record() Record
	// Write writes p to the process's stdin. It blocks while the pipe is full, until ctx ends
	// (ErrNotReading; part of p may have been written). Writes never interleave.
	Write(ctx context.Context, p []byte) error
	// CloseStdin closes the stdin pipe: the process sees end of input. Closing twice is harmless.
	CloseStdin() error
	// Done is closed when the process has exited, been reaped, what it left in its process group
	// has been ended, and its output has been delivered to Spec.Stdout and Spec.Stderr.
	Done() <-chan struct{}
	// Exit is how the process ended; meaningful once Done is closed (before, the zero value).
	Exit() ExitStatus
	// InputWaiting reports whether the process is blocked waiting for input (see the package
	// function InputWaiting); false once it ended.
	InputWaiting() (bool, error)
	// Resize changes the size of the process's terminal (ErrNoTerminal without Spec.Terminal).
	Resize(rows, cols int) error
	// Stop ends the process group: SIGTERM, at most grace for it to exit, then SIGKILL. It
	// returns nil once Done is closed, or an error wrapping ErrNotStopped if ctx ends first.
	// A stopped or exited process is left alone (nil).
	Stop(ctx context.Context, grace time.Duration) error
}

// ExitStatus is how a process ended.
type ExitStatus struct {
	// Code is the exit code, or -1 when the process was killed by a signal.
	Code int `json:"code"`
	// Signal names the signal that killed it ("SIGTERM", "SIGKILL", …), or is empty.
	Signal string `json:"signal,omitempty"`
	// Err describes anything else that went wrong while waiting for it, or is empty.
	Err string `json:"error,omitempty"`
}

// Record identifies a started process well enough to end it after a server crash without hitting
// another process that got the same PID. It is JSON-serializable for the store.
type Record struct {
	// PID is the process id of the group leader.
	PID int `json:"pid"`
	// PGID is its process group id (equal to PID).
	PGID int `json:"pgid"`
	// StartTime is field 22 of /proc/<pid>/stat: clock ticks after boot when it started.
	StartTime uint64 `json:"start_time"`
	// Token is the random value of TokenEnv in the environment of the process and of everything
	// it started (unless they replaced their environment).
	Token string `json:"token,omitempty"`
	// Cgroup is the cgroup v2 directory the process and all it starts run in; empty where
	// cgroups are not available (then Token finds them).
	Cgroup string `json:"cgroup,omitempty"`
}

// MessagePlaceholder is the text in a preset's args that a per-message agent replaces with the message.
const MessagePlaceholder = "{message}"

// CheckMessage refuses a message that cannot be given to a per-message process with args as
// intended: one with a NUL byte (no argument can hold it), and one starting with "-" that would
// stand alone as an argument with no "--" before it — the program would read it as an option
// (`claude -p --dangerously-skip-permissions`). A preset makes such messages safe by putting
// "--" before "{message}", or by binding it to an option ("--message={message}").
func CheckMessage(args []string, message string) error {
	dashes := false
	for _, a := range args {
		if a == "--" {
			dashes = true
		}
		if !strings.Contains(a, MessagePlaceholder) {
			continue
		}
		if strings.IndexByte(message, 0) >= 0 {
			return errors.New("the message holds a NUL byte, which no program argument can carry; remove it")
		}
		if a == MessagePlaceholder && !dashes && strings.HasPrefix(message, "-") {
			return errors.New("the message starts with \"-\" and this agent's preset passes it as an argument of its own, " +
				"where the program would read it as an option; reword it (e.g. start with a space or a word), " +
				"or put \"--\" before {message} in the preset's args")
		}
	}
	return nil
}

// ExpandArgs prepares the arguments of one per-message process. Every occurrence of
// MessagePlaceholder in an argument is replaced by message; each argument stays one argument
// whatever the message holds (there is no shell). When no argument holds the placeholder, args
// are returned unchanged (as a copy) and viaStdin is true: the message goes to stdin.
func ExpandArgs(args []string, message string) (out []string, viaStdin bool) {
	out = make([]string, len(args))
	viaStdin = true
	for i, a := range args {
		if strings.Contains(a, MessagePlaceholder) {
			a = strings.ReplaceAll(a, MessagePlaceholder, message)
			viaStdin = false
		}
		out[i] = a
	}
	return out, viaStdin
}

// envSets reports whether env (KEY=VALUE entries) sets key.
func envSets(env []string, key string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, key+"=") {
			return true
		}
	}
	return false
}
