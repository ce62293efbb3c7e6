package actors

import (
	"context"
	"errors"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/messages"
)

// Writes to an agent's stdin block while the pipe is full (a process that does not read): up
// to seconds each. They run in one writer goroutine per agent (STYLE habit 15), so that the
// agent keeps answering read_agent_output, its output and its stop meanwhile. The agent keeps
// the queue: one write at a time goes to the goroutine, in the order the messages came, and
// each reports back (stdinWritten) before the next is handed over.

// errAgentStopped fails the writes still queued when the agent stops.
var errAgentStopped = errors.New("the agent stopped before the message was written to its stdin")

// stdinWrite is one write for the writer goroutine.
type stdinWrite struct {
	proc    process.Process
	data    []byte
	timeout time.Duration
	// closeAfter closes stdin after the write (per-message mode: the message is all the input).
	closeAfter bool
}

// stdinWritten reports the write at the head of the queue.
type stdinWritten struct{ err error }

// pendingWrite is a queued write and what to do once it is done.
type pendingWrite struct {
	write stdinWrite
	// done runs on the actor once the write is done (ctx is nil when the actor stops first).
	done func(ctx actor.Context, err error)
}

// stdinWriter is an agent's writer goroutine.
type stdinWriter struct {
	jobs   chan stdinWrite // holds at most the one write in flight
	cancel context.CancelFunc
}

// queueWrite queues w for the agent's stdin; done runs once it is written or failed.
func (a *agentActor) queueWrite(w stdinWrite, done func(ctx actor.Context, err error)) {
	a.writes = append(a.writes, pendingWrite{write: w, done: done})
	if len(a.writes) == 1 {
		a.handOver(w)
	}
}

// writesFull reports whether an interactive message must be refused: the process has not
// taken the messages already queued.
func (a *agentActor) writesFull() bool { return len(a.writes) >= a.cfg.opts.AgentQueueLimit }

// handOver gives w to the writer goroutine, started at the first write.
func (a *agentActor) handOver(w stdinWrite) {
	if a.writer == nil {
		wctx, cancel := context.WithCancel(a.cfg.opts.stopping)
		a.writer = &stdinWriter{jobs: make(chan stdinWrite, 1), cancel: cancel}
		go runStdinWriter(wctx, a.writer.jobs, a.root, a.self)
	}
	a.writer.jobs <- w
}

// runStdinWriter does the writes handed over, one at a time, until ctx ends.
func runStdinWriter(ctx context.Context, jobs <-chan stdinWrite, root *actor.RootContext, self *actor.PID) {
	for {
		select {
		case <-ctx.Done():
			return
		case w := <-jobs:
			wctx, cancel := context.WithTimeout(ctx, w.timeout)
			err := w.proc.Write(wctx, w.data)
			cancel()
			if w.closeAfter {
				_ = w.proc.CloseStdin()
			}
			root.Send(self, &stdinWritten{err: err})
		}
	}
}

// onStdinWritten finishes the write at the head of the queue and hands over the next.
func (a *agentActor) onStdinWritten(ctx actor.Context, msg *stdinWritten) {
	if len(a.writes) == 0 {
		return
	}
	head := a.writes[0]
	a.writes = a.writes[1:]
	if len(a.writes) > 0 {
		a.handOver(a.writes[0].write)
	}
	head.done(ctx, msg.err)
}

// stopWriter ends the writer goroutine when the actor stops; the writes still queued fail.
func (a *agentActor) stopWriter() {
	if a.writer != nil {
		a.writer.cancel()
	}
	for _, w := range a.writes {
		w.done(nil, errAgentStopped)
	}
	a.writes = nil
}

// writeMessage queues an interactive agent's message for its stdin and answers sender once it
// is written: at once, or after waiting for output as the caller asked.
func (a *agentActor) writeMessage(ctx actor.Context, msg *messages.SendToAgent, sender *actor.PID, from uint64) {
	respond := func(r *messages.SendToAgentResult) { a.root.Send(sender, r) }
	if a.writesFull() {
		a.root.Send(sender, messages.Errorf(messages.CodeBusy,
			"agent %s has not read the %d messages before this one yet; wait for it (read_agent_output) and send again", a.id, len(a.writes)))
		return
	}
	data := []byte(msg.Message + "\n")
	if a.terminal() {
		data = []byte(msg.Message + "\r") // Enter on a terminal
	}
	a.input()
	a.queueWrite(stdinWrite{proc: a.proc, data: data, timeout: 2 * time.Second}, func(ctx actor.Context, err error) {
		if err != nil {
			a.root.Send(sender, messages.Errorf(messages.CodeUnavailable, "could not give agent %s the message: %v", a.id, err))
			return
		}
		if msg.WaitSeconds <= 0 {
			respond(&messages.SendToAgentResult{AgentID: a.id, FromSeq: from, Status: a.status})
			return
		}
		a.input() // the quiet period counts from the write
		pattern, _ := compileWaitFor(msg.WaitFor)
		w := a.addWaiter(from, 0, msg.WaitSeconds, false, pattern, func(out *messages.AgentOutput) {
			respond(&messages.SendToAgentResult{AgentID: a.id, FromSeq: from, Output: out, Status: out.Status})
		})
		w.sawRunning = true // it was given input
		w.untilInput = a.terminal() && pattern == nil
		// Output may have come while the message waited for its turn.
		a.answerWaiters(ctx, false)
	})
}
