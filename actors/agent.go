package actors

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/scheduler"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/terminal"
	"github.com/troupe-dev/troupe/messages"
)

// agentConfig is what a session gives a new agent actor.
type agentConfig struct {
	opts      *Options
	sessionID string
	name      string
	workspace string
	spec      messages.AgentSpec
	createdAt time.Time
	mode      startMode
	// stale is the process a previous run recorded; it is ended (if still there) before a new
	// one starts.
	stale *process.Record
}

// startMode says how an agent actor begins.
type startMode int

const (
	// startFresh: a new agent; its log must not exist yet.
	startFresh startMode = iota
	// startRecovered: the server restarted; reopen the log, and start a process only when the
	// policy is restart = "always" (the others show as exited, their output readable).
	startRecovered
	// startReopen: re-created by a rollback or a restore; reopen the log and start as new.
	startReopen
)

// agentActor is one agent (DESIGN §2): one long-lived process (interactive) or one process per
// message (per-message), its output with sequence numbers, and its status.
type agentActor struct {
	cfg  agentConfig
	id   string
	log  zerolog.Logger
	self *actor.PID
	root *actor.RootContext
	out  *process.Output

	proc     process.Process
	status   string
	exit     *process.ExitStatus
	startErr string
	restarts int
	lastRun  time.Time // when the current interactive process started, for the back-off reset

	queue     []queuedMessage // per-message mode: messages waiting for a run
	run       *agentRun       // per-message mode: the run in progress
	waiters   []*waiter
	nextWait  int
	timers    *scheduler.TimerScheduler
	stopWatch context.CancelFunc
	stopping  *actor.PID // who asked for the stop, answered once the process is gone
	restartT  scheduler.CancelFunc
	// clearing: the stale process of a previous run is being ended; startAfter: start the
	// interactive process once it is.
	clearing, startAfter bool
	// deferred are messages that arrived before the process could start.
	deferred []deferredSend
	// writer writes to the process's stdin off the mailbox; writes are the writes queued for
	// it, in order, the head in flight.
	writer *stdinWriter
	writes []pendingWrite

	// state is DESIGN §13's (running, waiting_for_input, idle, exited), re-read on output, input
	// and a timer (agent_terminal.go); lastIO is the last output or input.
	state          string
	lastIO         time.Time
	stateT         scheduler.CancelFunc
	stateAt        time.Time
	stateErrLogged bool
	// screen (terminal mode) is fed by tee, which also feeds the people attached.
	screen       *terminal.Screen
	tee          *ptyTee
	attached     map[*attachment]struct{}
	attachedSize messages.TermSize
}

type queuedMessage struct {
	text   string
	waiter *waiter // nil when the caller did not wait
}

// agentRun is one per-message process.
type agentRun struct {
	proc    process.Process
	fromSeq uint64
	waiter  *waiter
}

// Internal messages of the agent actor.
type (
	startAgent   struct{}
	agentStarted struct {
		name   string
		record *process.Record
		info   *messages.AgentInfo
		err    *messages.Error
	}
	outputArrived  struct{ seq uint64 }
	processExited  struct{ proc process.Process }
	waiterTimedOut struct{ id int }
	restartProcess struct{}
	staleCleared   struct {
		killed bool
		err    error
	}
	stopChild struct {
		grace time.Duration
		force bool
	}
	childStopped struct {
		id   string
		err  error
		exit *process.ExitStatus
	}
	processStopDone struct{ err error }
	// agentChanged tells the session an agent's state changed (for get_session and persistence).
	agentChanged struct {
		name     string
		info     messages.AgentInfo
		record   *process.Record
		activity bool
		// screen is a terminal agent's screen when it settled (waiting for input, or exited),
		// kept in its spec for snapshots; nil: unchanged.
		screen []string
	}
)

func newAgentActor(cfg agentConfig) *agentActor {
	id := cfg.sessionID + "/" + cfg.name
	return &agentActor{cfg: cfg, id: id, status: messages.AgentStarting, state: messages.StateRunning,
		log: cfg.opts.Logger.With().Str("agent", id).Logger()}
}

func agentLogPath(dataDir, sessionID, name string) string {
	return filepath.Join(dataDir, "agents", sessionID, name+".log")
}

// Receive implements actor.Actor.
func (a *agentActor) Receive(ctx actor.Context) {
	defer a.recoverPanic(ctx)
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		a.self, a.root = ctx.Self(), ctx.ActorSystem().Root
		a.timers = scheduler.NewTimerScheduler(ctx)
	case *startAgent:
		res := a.start(ctx)
		res.name = a.cfg.name
		if p := a.current(); p != nil {
			rec := p.Record()
			res.record = &rec
		}
		ctx.Respond(res)
	case *messages.SendToAgent:
		a.send(ctx, msg)
	case *messages.ReadAgentOutput:
		a.read(ctx, msg)
	case *outputArrived:
		a.lastIO = time.Now()
		a.refreshState(nil)
		a.answerWaiters(ctx, false)
		a.notify(ctx, true)
		if a.hasSettleWaiter() {
			a.scheduleCheck(settleQuiet)
		} else if a.cfg.spec.Mode != "per-message" {
			a.scheduleCheck(quietFor + 5*time.Millisecond)
		}
	case *processExited:
		a.onExit(ctx, msg.proc)
	case *waiterTimedOut:
		a.timeoutWaiter(ctx, msg.id)
	case *staleCleared:
		a.onStaleCleared(ctx, msg)
	case *restartProcess:
		a.restartT = nil
		if a.stopping == nil && a.status == messages.AgentExited {
			a.restarts++
			a.startInteractive(ctx)
			a.notify(ctx, false)
		}
	case *stopChild:
		a.beginStop(ctx, msg.grace, msg.force)
	case *processStopDone:
		a.finishStop(ctx, msg.err)
	case *stdinWritten:
		a.onStdinWritten(ctx, msg)
	case *actor.Stopping:
		a.shutdown()
	case *actor.Stopped, *actor.Restarting:
	default:
		if a.receiveTerminal(ctx, msg) {
			return
		}
		a.log.Warn().Str("type", fmt.Sprintf("%T", msg)).Msg("agent: unknown message")
		respondUnknown(ctx, "agent "+a.id)
	}
}

func (a *agentActor) recoverPanic(ctx actor.Context) {
	if r := recover(); r != nil {
		a.log.Error().Interface("panic", r).Str("type", fmt.Sprintf("%T", ctx.Message())).Msg("agent: handler panicked")
		err := messages.Errorf(messages.CodeInternal, "internal error in agent %s: %v", a.id, r)
		switch {
		case ctx.Sender() == nil:
		case isStop(ctx.Message()):
			ctx.Respond(&childStopped{id: a.id, err: err})
		case isStart(ctx.Message()):
			ctx.Respond(&agentStarted{name: a.cfg.name, err: err})
		default:
			ctx.Respond(err)
		}
	}
}

// watchOutput forwards "new output" to the actor as messages, from a goroutine that ends with
// the actor.
func (a *agentActor) watchOutput() {
	wctx, cancel := context.WithCancel(context.Background())
	a.stopWatch = cancel
	out, root, self := a.out, a.root, a.self
	go func() {
		last := out.LastSeq()
		for {
			if err := out.Wait(wctx, last); err != nil {
				return
			}
			last = out.LastSeq()
			root.Send(self, &outputArrived{seq: last})
		}
	}()
}

// spawn starts one process of the agent with its output wired to the log.
func (a *agentActor) spawn(args []string, stdin bool) (process.Process, error) {
	if a.cfg.opts.Processes == nil {
		return nil, errors.New("agents are not available: no process driver configured")
	}
	spec := process.Spec{
		Command: a.cfg.spec.Command, Args: args, Env: a.cfg.spec.Env, Dir: a.cfg.workspace,
		Stdout: a.out.Writer("stdout"), Stderr: a.out.Writer("stderr"), Stdin: stdin,
	}
	if a.terminal() {
		a.terminalSpec(&spec)
	}
	p, err := a.cfg.opts.Processes.Start(spec)
	if err != nil {
		return nil, err
	}
	root, self := a.root, a.self
	go func() {
		<-p.Done()
		root.Send(self, &processExited{proc: p})
	}()
	return p, nil
}

func (a *agentActor) startInteractive(ctx actor.Context) {
	p, err := a.spawn(a.cfg.spec.Args, true)
	if err != nil {
		a.status, a.startErr, a.proc = messages.AgentFailed, err.Error(), nil
		a.log.Warn().Err(err).Msg("agent process did not start")
		return
	}
	a.proc, a.exit, a.startErr = p, nil, ""
	a.status = messages.AgentRunning
	a.lastRun = a.cfg.opts.Clock.Now()
	a.lastIO, a.state = time.Now(), messages.StateRunning
	a.scheduleCheck(quietFor + 5*time.Millisecond)
}

// notify tells the session what changed.
func (a *agentActor) notify(ctx actor.Context, activity bool) {
	var rec *process.Record
	if p := a.current(); p != nil {
		r := p.Record()
		rec = &r
	}
	msg := &agentChanged{name: a.cfg.name, info: a.info(), record: rec, activity: activity}
	if a.tee != nil && (a.state == messages.StateWaitingForInput || a.state == messages.StateExited) && a.tee.drawn.Swap(false) {
		msg.screen = trimScreen(a.screen.Snapshot(0).Lines)
	}
	ctx.Send(ctx.Parent(), msg)
}

// current is the running process, if any.
func (a *agentActor) current() process.Process {
	if a.run != nil {
		return a.run.proc
	}
	return a.proc
}

func (a *agentActor) busy() bool { return a.run != nil }

func (a *agentActor) info() messages.AgentInfo {
	s := a.cfg.spec
	info := messages.AgentInfo{
		AgentID: a.id, SessionID: a.cfg.sessionID, Name: a.cfg.name, Preset: s.Preset, Command: s.Command, Args: s.Args,
		Mode: s.Mode, Restart: s.Restart, Status: a.status, State: a.state, Busy: a.busy(), Restarts: a.restarts,
		Queued: len(a.queue), Error: a.startErr, CreatedAt: a.cfg.createdAt,
	}
	if a.out != nil {
		info.LastSeq, info.LogPath = a.out.LastSeq(), a.out.Path()
	}
	if a.screen != nil {
		size := a.screen.Size()
		info.Size = &size
	}
	if p := a.current(); p != nil {
		info.PID = p.PID()
	}
	if a.exit != nil {
		code := a.exit.Code
		info.ExitCode, info.Signal = &code, a.exit.Signal
	}
	return info
}

// shutdown releases the actor's goroutines and process when it stops for any reason.
func (a *agentActor) shutdown() {
	if a.restartT != nil {
		a.restartT()
	}
	if p := a.current(); p != nil {
		// Only a server shutdown (or a crash of the session) gets here with a process still
		// running: clients such as Claude Desktop kill a server that takes seconds to exit, so
		// the grace is short. All agents stop at once.
		grace := min(a.cfg.opts.AgentStopGrace, time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), grace+5*time.Second)
		if err := p.Stop(ctx, grace); err != nil {
			a.log.Error().Err(err).Msg("agent process did not stop with its actor")
		}
		cancel()
	}
	a.stopWriter()
	if a.stateT != nil {
		a.stateT()
	}
	if a.tee != nil {
		a.detachAll()
	}
	if a.screen != nil {
		a.screen.Close()
	}
	for _, w := range a.waiters {
		w.cancelTimer()
	}
	a.waiters = nil
	if a.stopWatch != nil {
		a.stopWatch()
	}
	if a.out != nil {
		_ = a.out.Close()
	}
}

func isStop(msg any) bool { _, ok := msg.(*stopChild); return ok }

func isStart(msg any) bool { _, ok := msg.(*startAgent); return ok }
