package actors

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/messages"
)

// start opens the output log and, unless recovered without restart = "always", the process.
func (a *agentActor) start(ctx actor.Context) *agentStarted {
	path := agentLogPath(a.cfg.opts.DataDir, a.cfg.sessionID, a.cfg.name)
	var err error
	if a.cfg.mode == startFresh {
		if e := a.commandMissing(); e != nil {
			return &agentStarted{err: e}
		}
		// A new agent under a name used before (an agent deleted, or a session deleted and its
		// id used again) starts with empty output; the old log is kept beside, renamed.
		if aside, moved, merr := moveAside(path, a.cfg.opts.Clock.Now()); merr != nil {
			return &agentStarted{err: messages.Errorf(messages.CodeInternal, "agent %s: %v", a.id, merr)}
		} else if moved {
			a.log.Info().Str("old_log", aside).Msg("an earlier agent's output log of this name was moved aside")
		}
	}
	if a.cfg.mode != startFresh {
		a.out, err = process.ReopenOutput(path, a.cfg.opts.AgentOutputBytes)
	} else {
		a.out, err = process.NewOutput(path, a.cfg.opts.AgentOutputBytes)
	}
	if err != nil {
		return &agentStarted{err: messages.Errorf(messages.CodeInternal, "agent %s: %v", a.id, err)}
	}
	a.out.LimitLog(a.cfg.opts.AgentLogBytes)
	a.openScreen()
	a.watchOutput()
	a.clearStale()
	switch {
	case a.cfg.spec.Mode == "per-message":
		a.status, a.state = messages.AgentIdle, messages.StateIdle
	case a.cfg.mode == startRecovered && a.cfg.spec.Restart != "always":
		a.status, a.state = messages.AgentExited, messages.StateExited
		a.startErr = "the server restarted; this agent's process ended with it (restart policy " + a.cfg.spec.Restart + ")"
	case a.clearing:
		a.startAfter = true
	default:
		a.startInteractive(ctx)
		if a.status == messages.AgentFailed && a.cfg.mode == startFresh {
			return &agentStarted{err: messages.Errorf(messages.CodeInvalidArgument, "agent %s could not start: %s", a.id, a.startErr)}
		}
	}
	info := a.info()
	return &agentStarted{info: &info}
}

// commandMissing refuses an agent whose program Start would not find, in either mode, rather
// than create an agent with no process (pid 0) that fails at its first message. The error is
// the caller's to fix (DESIGN §7): it names the command and what to do.
func (a *agentActor) commandMissing() *messages.Error {
	drv := a.cfg.opts.Processes
	if drv == nil {
		return nil
	}
	if _, err := drv.LookPath(a.cfg.spec.Command); err != nil {
		return missingCommand(a.id, a.cfg.spec)
	}
	return nil
}

// missingCommand is the tool error for an agent whose command is not found.
func missingCommand(id string, spec messages.AgentSpec) *messages.Error {
	what, fix := fmt.Sprintf("the command %q", spec.Command), "or give its full path as command"
	if spec.Preset != "" {
		what = fmt.Sprintf("the command %q of preset %q", spec.Command, spec.Preset)
		fix = fmt.Sprintf("or set command in [presets.%s] of troupe.toml to its full path", spec.Preset)
	}
	return messages.Errorf(messages.CodeInvalidArgument,
		"agent %s: %s is not found on the server's PATH (%s): install it, or add its directory to extra_path (troupe.toml, --extra-path, or Extra PATH in the Claude Desktop extension's settings), %s; `troupe doctor` lists the presets whose command is missing",
		id, what, os.Getenv("PATH"), fix)
}

// clearStale ends, off the mailbox, what a previous run left of this agent's process: SIGTERM,
// the grace period, SIGKILL, only if the recorded start time still matches.
func (a *agentActor) clearStale() {
	rec := a.cfg.stale
	if rec == nil || a.cfg.opts.Processes == nil {
		return
	}
	a.clearing = true
	drv, grace, root, self := a.cfg.opts.Processes, a.cfg.opts.AgentStopGrace, a.root, a.self
	go func() {
		killed, err := drv.KillStale(*rec, grace)
		root.Send(self, &staleCleared{killed: killed, err: err})
	}()
}

func (a *agentActor) onStaleCleared(ctx actor.Context, msg *staleCleared) {
	a.clearing = false
	switch {
	case msg.err != nil:
		a.log.Warn().Err(msg.err).Msg("end the process a previous run left")
	case msg.killed:
		a.log.Info().Int("pid", a.cfg.stale.PID).Msg("ended the process a previous run left")
	}
	if a.startAfter && a.stopping == nil {
		a.startAfter = false
		a.startInteractive(ctx)
		a.notify(ctx, false)
	}
	a.startAfter = false
	deferred := a.deferred
	a.deferred = nil
	for _, d := range deferred {
		a.sendFrom(ctx, d.msg, d.sender)
	}
}

// moveAside renames an existing log at path to <name>.<time>.log beside it.
func moveAside(path string, now time.Time) (string, bool, error) {
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	base := strings.TrimSuffix(path, ".log")
	for i := 0; ; i++ {
		aside := fmt.Sprintf("%s.%s.log", base, now.UTC().Format("20060102T150405"))
		if i > 0 {
			aside = fmt.Sprintf("%s.%s-%d.log", base, now.UTC().Format("20060102T150405"), i)
		}
		if _, err := os.Lstat(aside); errors.Is(err, os.ErrNotExist) {
			return aside, true, os.Rename(path, aside)
		}
	}
}
