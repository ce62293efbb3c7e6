package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/terminal"
	"github.com/troupe-dev/troupe/messages"
)

// Terminal agents (DESIGN §13): the process runs on a PTY; everything it writes goes to the
// screen, to the people attached, and to the numbered output as for other agents.

// settleQuiet and settleMax: send_keys without a wait answers once the program's output after
// the keys has been quiet this long (its echo), or after settleMax.
const (
	settleQuiet = 15 * time.Millisecond
	settleMax   = 300 * time.Millisecond
)

// Internal messages of terminal agents.
type (
	// stateCheck re-reads the agent's state at its time.
	stateCheck struct{}
	// terminalReply is what the terminal answers the program (cursor position, attributes).
	terminalReply struct{ data []byte }
	attachInput   struct {
		att  *attachment
		data []byte
	}
	attachResize struct {
		att        *attachment
		rows, cols int
	}
	attachClosed struct{ att *attachment }
)

func (a *agentActor) terminal() bool { return a.cfg.spec.Mode == messages.ModeTerminal }

// termSize is the agent's own terminal size (its spec's, or the default).
func (a *agentActor) termSize() messages.TermSize {
	s := messages.TermSize{Rows: a.cfg.spec.Rows, Cols: a.cfg.spec.Cols}
	if s.Rows <= 0 {
		s.Rows = messages.DefaultTerminalRows
	}
	if s.Cols <= 0 {
		s.Cols = messages.DefaultTerminalCols
	}
	return s
}

// openScreen creates the screen of a terminal agent, once: it outlives restarts of the process.
func (a *agentActor) openScreen() {
	if !a.terminal() || a.screen != nil {
		return
	}
	size := a.termSize()
	root, self := a.root, a.self
	a.screen = terminal.New(size.Rows, size.Cols, 0, func(b []byte) { root.Send(self, &terminalReply{data: b}) })
	a.tee = &ptyTee{screen: a.screen, subs: map[*attachment]struct{}{}}
}

// terminalSpec makes spec run on the agent's PTY, its output through the tee.
func (a *agentActor) terminalSpec(spec *process.Spec) {
	size := a.termSize()
	if len(a.attached) > 0 {
		size = a.attachedSize
	}
	spec.Terminal = &process.TermSize{Rows: size.Rows, Cols: size.Cols}
	spec.Stdin, spec.Stderr = false, nil
	a.tee.setOut(spec.Stdout)
	spec.Stdout = a.tee
	a.screen.Resize(size.Rows, size.Cols)
}

// receiveTerminal handles the terminal messages; it reports whether msg was one.
func (a *agentActor) receiveTerminal(ctx actor.Context, msg any) bool {
	switch msg := msg.(type) {
	case *messages.ReadAgentScreen:
		a.readScreen(ctx, msg)
	case *messages.SendKeys:
		a.sendKeys(ctx, msg)
	case *messages.AttachAgent:
		a.attach(ctx, msg)
	case *messages.TerminalEcho:
		echo := true
		if e, ok := a.proc.(interface{ Echoing() (bool, error) }); ok && a.terminal() {
			if on, err := e.Echoing(); err == nil {
				echo = on
			}
		}
		ctx.Respond(&messages.TerminalEchoResult{Echo: echo})
	case *stateCheck:
		a.stateT = nil
		a.checkState(ctx)
	case *terminalReply:
		if a.proc != nil {
			a.queueWrite(stdinWrite{proc: a.proc, data: msg.data, timeout: 2 * time.Second}, func(actor.Context, error) {})
		}
	case *attachInput:
		if _, ok := a.attached[msg.att]; ok && a.proc != nil {
			a.input()
			a.queueWrite(stdinWrite{proc: a.proc, data: msg.data, timeout: 2 * time.Second}, func(_ actor.Context, err error) {
				if err != nil {
					a.log.Warn().Err(err).Msg("a keystroke of the person attached was not written")
				}
			})
		}
	case *attachResize:
		if _, ok := a.attached[msg.att]; ok {
			a.attachedSize = messages.TermSize{Rows: msg.rows, Cols: msg.cols}
			a.resize(a.attachedSize)
		}
	case *attachClosed:
		a.detach(msg.att)
	default:
		return false
	}
	return true
}

// notTerminal refuses a terminal tool on an agent on pipes, saying what to use.
func (a *agentActor) notTerminal(ctx actor.Context, tool string) bool {
	if a.terminal() {
		return false
	}
	ctx.Respond(messages.Errorf(messages.CodeInvalidArgument,
		"agent %s runs on pipes (mode %s), not on a terminal, so it has no screen for %s: use send_to_agent and read_agent_output, "+
			"or create the agent with mode \"terminal\" (presets bash, python)", a.id, a.cfg.spec.Mode, tool))
	return true
}

func (a *agentActor) readScreen(ctx actor.Context, msg *messages.ReadAgentScreen) {
	if a.notTerminal(ctx, "read_agent_screen") {
		return
	}
	pattern, err := compileWaitFor(msg.WaitFor)
	if err != nil {
		ctx.Respond(err)
		return
	}
	a.refreshState(ctx)
	sender := ctx.Sender()
	w := &waiter{screen: true, pattern: pattern, scrollback: msg.Scrollback, sawRunning: a.state != messages.StateWaitingForInput,
		reply: func(out *messages.AgentOutput) {}}
	w.screenReply = func(r *messages.ScreenResult) { ctx.Send(sender, r) }
	if msg.WaitSeconds <= 0 || a.waiterReady(w) {
		r := a.screenResult(w)
		ctx.Respond(r)
		return
	}
	a.addScreenWaiter(w, msg.WaitSeconds)
}

func (a *agentActor) sendKeys(ctx actor.Context, msg *messages.SendKeys) {
	if a.notTerminal(ctx, "send_keys") {
		return
	}
	pattern, perr := compileWaitFor(msg.WaitFor)
	if perr != nil {
		ctx.Respond(perr)
		return
	}
	data, err := a.screen.Keys(msg.Text, msg.Keys)
	if err != nil {
		ctx.Respond(messages.Errorf(messages.CodeInvalidArgument, "agent %s: %v", a.id, err))
		return
	}
	if a.stopping != nil {
		ctx.Respond(messages.Errorf(messages.CodeDeleting, "agent %s is being stopped", a.id))
		return
	}
	if a.proc == nil {
		ctx.Respond(messages.Errorf(messages.CodeUnavailable, "agent %s is not running (%s%s); read_agent_screen shows its last screen. Delete it and create a new one, or use restart = \"always\"", a.id, a.status, a.exitText()))
		return
	}
	if a.writesFull() {
		ctx.Respond(messages.Errorf(messages.CodeBusy, "agent %s has not read the %d writes before these keys yet; wait (read_agent_screen) and send again", a.id, len(a.writes)))
		return
	}
	sender := ctx.Sender()
	from := a.out.LastSeq()
	a.input()
	a.queueWrite(stdinWrite{proc: a.proc, data: data, timeout: 2 * time.Second}, func(ctx actor.Context, err error) {
		if err != nil {
			a.root.Send(sender, messages.Errorf(messages.CodeUnavailable, "could not type on agent %s's terminal: %v", a.id, err))
			return
		}
		a.input() // the quiet period counts from the write
		w := &waiter{screen: true, pattern: pattern, after: from, sawRunning: true, reply: func(*messages.AgentOutput) {}}
		w.screenReply = func(r *messages.ScreenResult) { a.root.Send(sender, r) }
		seconds := msg.WaitSeconds
		if seconds <= 0 {
			w.settle, seconds = true, settleMax.Seconds()
		}
		a.addScreenWaiter(w, seconds)
		// The echo may have come while the keys waited for their turn: it was checked against
		// the waiters before this one existed (found by the proptest).
		a.answerWaiters(ctx, false)
	})
}

// screenResult is the screen now with the agent's state, for w.
func (a *agentActor) screenResult(w *waiter) *messages.ScreenResult {
	r := &messages.ScreenResult{AgentID: a.id, Screen: a.screen.Snapshot(w.scrollback), State: a.state, Status: a.status,
		Matched: w.match != "", Match: w.match, Next: a.out.LastSeq()}
	if a.exit != nil && a.proc == nil {
		code := a.exit.Code
		r.ExitCode = &code
	}
	return r
}

// trimScreen drops the blank rows at the bottom of a screen.
func trimScreen(lines []string) []string {
	n := len(lines)
	for n > 0 && lines[n-1] == "" {
		n--
	}
	return append([]string{}, lines[:n]...)
}
