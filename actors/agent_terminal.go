package actors

import (
	"io"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/terminal"
	"github.com/troupe-dev/troupe/messages"
)

// Terminal agents (DESIGN §13): the process runs on a PTY; everything it writes goes to the
// screen, to the people attached, and to the numbered output as for other agents.

// quietFor is how long an agent's output and input must have been quiet before a process
// blocked on its input counts as waiting for it: a process that was just given input, or is
// between two writes, is still working.
const quietFor = 100 * time.Millisecond

// runningPoll is how often the state of a running agent is checked when nothing happens (a
// program that finishes a computation and waits without printing).
const runningPoll = 500 * time.Millisecond

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

// ptyTee hands a terminal's output to the screen and the people attached (atomically, so that
// an attachment starts from a repaint with nothing lost or doubled), then to the output log.
type ptyTee struct {
	mu     sync.Mutex
	screen *terminal.Screen
	subs   map[*attachment]struct{}
	out    io.Writer
	// drawn: the screen changed since the session was last given it. Set as the screen is
	// written, not when the actor hears of the output: a state check may come first.
	drawn atomic.Bool
}

func (t *ptyTee) setOut(w io.Writer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.out = w
}

func (t *ptyTee) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.screen.Write(p)
	t.drawn.Store(true)
	for att := range t.subs {
		att.deliver(p)
	}
	out := t.out
	t.mu.Unlock()
	if out == nil {
		return len(p), nil
	}
	return out.Write(p)
}

// subscribe adds att, with the repaint of the screen at that moment.
func (t *ptyTee) subscribe(att *attachment) {
	t.mu.Lock()
	defer t.mu.Unlock()
	att.repaint = t.screen.Repaint()
	t.subs[att] = struct{}{}
}

// unsubscribe removes att and closes its output.
func (t *ptyTee) unsubscribe(att *attachment) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.subs[att]; ok {
		delete(t.subs, att)
		close(att.out)
	}
}

// attachment is a person's hold on a terminal agent (messages.Attachment).
type attachment struct {
	root    *actor.RootContext
	self    *actor.PID
	repaint []byte
	out     chan []byte
	once    sync.Once
	closed  chan struct{}
}

// attachBuffer is how many pieces of output wait for a slow person before the oldest go.
const attachBuffer = 256

func (att *attachment) deliver(p []byte) {
	b := append([]byte(nil), p...)
	for {
		select {
		case att.out <- b:
			return
		default:
		}
		select { // full: drop the oldest piece
		case <-att.out:
		default:
		}
	}
}

func (att *attachment) Repaint() []byte       { return att.repaint }
func (att *attachment) Output() <-chan []byte { return att.out }
func (att *attachment) Write(p []byte) error {
	select {
	case <-att.closed:
		return io.ErrClosedPipe
	default:
	}
	att.root.Send(att.self, &attachInput{att: att, data: append([]byte(nil), p...)})
	return nil
}

func (att *attachment) Resize(rows, cols int) error {
	if rows < messages.MinTerminalRows || cols < messages.MinTerminalCols || rows > messages.MaxTerminalRows || cols > messages.MaxTerminalCols {
		return messages.Errorf(messages.CodeInvalidArgument, "a terminal of %d×%d is outside %d×%d…%d×%d", rows, cols,
			messages.MinTerminalRows, messages.MinTerminalCols, messages.MaxTerminalRows, messages.MaxTerminalCols)
	}
	att.root.Send(att.self, &attachResize{att: att, rows: rows, cols: cols})
	return nil
}

func (att *attachment) Close() {
	att.once.Do(func() {
		close(att.closed)
		att.root.Send(att.self, &attachClosed{att: att})
	})
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

// addScreenWaiter registers w with its deadline and checks it once output or state change.
func (a *agentActor) addScreenWaiter(w *waiter, seconds float64) {
	a.nextWait++
	w.id = a.nextWait
	d := min(time.Duration(seconds*float64(time.Second)), maxWait)
	w.cancelTimer = a.timers.SendOnce(d, a.self, &waiterTimedOut{id: w.id})
	a.waiters = append(a.waiters, w)
	if w.settle {
		a.scheduleCheck(settleQuiet)
	}
}

// compileWaitFor compiles a wait_for pattern; ^ and $ match at line ends (screen rows, lines of
// output).
func compileWaitFor(p string) (*regexp.Regexp, *messages.Error) {
	if p == "" {
		return nil, nil
	}
	re, err := regexp.Compile("(?m)" + p)
	if err != nil {
		return nil, messages.Errorf(messages.CodeInvalidArgument, "wait_for is not a valid regular expression (Go RE2 syntax): %v", err)
	}
	return re, nil
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

// input records that the agent was just given input: it is running until it has been quiet.
func (a *agentActor) input() {
	a.lastIO = time.Now()
	if a.state == messages.StateWaitingForInput {
		a.state = messages.StateRunning
	}
	a.scheduleCheck(quietFor + 5*time.Millisecond)
}

// scheduleCheck makes a state check happen within d (an earlier one scheduled stays).
func (a *agentActor) scheduleCheck(d time.Duration) {
	at := time.Now().Add(d)
	if a.stateT != nil && !a.stateAt.After(at) {
		return
	}
	if a.stateT != nil {
		a.stateT()
	}
	a.stateAt = at
	a.stateT = a.timers.SendOnce(d, a.self, &stateCheck{})
}

// checkState re-reads the state, tells the session when it changed, answers the waiters it
// completes, and plans the next check.
func (a *agentActor) checkState(ctx actor.Context) {
	a.refreshState(ctx)
	a.answerWaiters(ctx, false)
	switch {
	case a.hasSettleWaiter():
		a.scheduleCheck(settleQuiet)
	case a.state == messages.StateRunning && a.current() != nil && a.cfg.spec.Mode != "per-message":
		next := runningPoll
		if quiet := time.Until(a.lastIO.Add(quietFor)); quiet > 0 {
			next = quiet + 5*time.Millisecond // the quiet period ends first
		}
		a.scheduleCheck(next)
	}
}

func (a *agentActor) hasSettleWaiter() bool {
	for _, w := range a.waiters {
		if w.settle {
			return true
		}
	}
	return false
}

// refreshState computes the state now; a change is told to the session.
func (a *agentActor) refreshState(ctx actor.Context) {
	s := a.computeState()
	if s != a.state {
		a.state = s
		for _, w := range a.waiters {
			if s != messages.StateWaitingForInput {
				w.sawRunning = true
			}
		}
		if ctx != nil {
			a.notify(ctx, false)
		}
	}
}

// computeState is DESIGN §13's state of the agent now.
func (a *agentActor) computeState() string {
	switch {
	case a.cfg.spec.Mode == "per-message" && a.run != nil:
		return messages.StateRunning
	case a.cfg.spec.Mode == "per-message":
		return messages.StateIdle
	case a.proc == nil || a.status == messages.AgentExited || a.status == messages.AgentFailed || a.status == messages.AgentStopping:
		return messages.StateExited
	case time.Since(a.lastIO) < quietFor || len(a.writes) > 0:
		return messages.StateRunning
	}
	waiting, err := a.proc.InputWaiting()
	if err != nil {
		if !a.stateErrLogged {
			a.stateErrLogged = true
			a.log.Warn().Err(err).Msg("cannot tell whether the agent waits for input; it shows as running")
		}
		return messages.StateRunning
	}
	if waiting {
		return messages.StateWaitingForInput
	}
	return messages.StateRunning
}

// attach gives a person a hold on the terminal (troupe attach).
func (a *agentActor) attach(ctx actor.Context, msg *messages.AttachAgent) {
	if !a.terminal() {
		ctx.Respond(messages.Errorf(messages.CodeInvalidArgument,
			"agent %s runs on pipes (mode %s), not on a terminal: there is nothing to attach to. Read it with `read_agent_output`, "+
				"or create the agent with mode \"terminal\" (presets bash, python)", a.id, a.cfg.spec.Mode))
		return
	}
	if a.proc == nil {
		ctx.Respond(messages.Errorf(messages.CodeUnavailable, "agent %s is not running (%s%s): there is no terminal to attach to", a.id, a.status, a.exitText()))
		return
	}
	att := &attachment{root: a.root, self: a.self, out: make(chan []byte, attachBuffer), closed: make(chan struct{})}
	if a.attached == nil {
		a.attached = map[*attachment]struct{}{}
	}
	a.attached[att] = struct{}{}
	if msg.Rows > 0 && msg.Cols > 0 {
		a.attachedSize = messages.TermSize{Rows: min(max(msg.Rows, messages.MinTerminalRows), messages.MaxTerminalRows),
			Cols: min(max(msg.Cols, messages.MinTerminalCols), messages.MaxTerminalCols)}
		a.resize(a.attachedSize)
	}
	a.tee.subscribe(att)
	a.log.Info().Int("rows", msg.Rows).Int("cols", msg.Cols).Msg("a person attached to the terminal")
	ctx.Respond(&messages.AttachAgentResult{Attachment: att})
}

// detach ends a hold; the last one gives the PTY back its own size.
func (a *agentActor) detach(att *attachment) {
	if _, ok := a.attached[att]; !ok {
		return
	}
	delete(a.attached, att)
	a.tee.unsubscribe(att)
	a.log.Info().Msg("a person detached from the terminal")
	if len(a.attached) == 0 && a.attachedSize != a.termSize() && a.attachedSize.Rows > 0 {
		a.attachedSize = messages.TermSize{}
		a.resize(a.termSize())
	}
}

// detachAll ends every hold (the process ended, or the agent stops).
func (a *agentActor) detachAll() {
	for att := range a.attached {
		att.once.Do(func() { close(att.closed) })
		delete(a.attached, att)
		a.tee.unsubscribe(att)
	}
}

// resize gives the PTY and the screen a size.
func (a *agentActor) resize(s messages.TermSize) {
	a.screen.Resize(s.Rows, s.Cols)
	if a.proc != nil {
		if err := a.proc.Resize(s.Rows, s.Cols); err != nil {
			a.log.Warn().Err(err).Msg("resize the terminal")
		}
	}
}

// trimScreen drops the blank rows at the bottom of a screen.
func trimScreen(lines []string) []string {
	n := len(lines)
	for n > 0 && lines[n-1] == "" {
		n--
	}
	return append([]string{}, lines[:n]...)
}
