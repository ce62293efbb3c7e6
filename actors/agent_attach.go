package actors

// A person's hold on a terminal agent (troupe attach, DESIGN §13): the tee that gives them the
// PTY's output, the attachment they get, and the actor's side of attaching and resizing.

import (
	"io"
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/terminal"
	"github.com/troupe-dev/troupe/messages"
)

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
