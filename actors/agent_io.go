package actors

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/messages"
)

// errBusyChild is a child's refusal to stop without force while it handles a message.
var errBusyChild = errors.New("it is busy handling a message")

// output reads the agent's output after `after`.
func (a *agentActor) output(after uint64, maxBytes int) *messages.AgentOutput {
	r := a.out.Read(after, maxBytes)
	info := a.info()
	out := &messages.AgentOutput{AgentID: a.id, Status: info.Status, State: info.State, Busy: info.Busy, ExitCode: info.ExitCode, Signal: info.Signal,
		Chunks: make([]messages.OutputChunk, len(r.Chunks)), Next: r.Next, LastSeq: r.LastSeq, More: r.More,
		Missing: r.Missing, Problem: r.Problem}
	for i, c := range r.Chunks {
		out.Chunks[i] = messages.OutputChunk{Seq: c.Seq, Stream: c.Stream, Time: c.Time, Text: string(c.Data)}
	}
	return out
}

func (a *agentActor) read(ctx actor.Context, msg *messages.ReadAgentOutput) {
	pattern, perr := compileWaitFor(msg.WaitFor)
	if perr != nil {
		ctx.Respond(perr)
		return
	}
	a.refreshState(ctx)
	sender := ctx.Sender()
	w := a.newWaiter(msg.After, msg.MaxBytes, false, pattern, func(out *messages.AgentOutput) {
		ctx.Send(sender, &messages.ReadAgentOutputResult{Output: out})
	})
	if msg.WaitSeconds <= 0 || a.waiterReady(w) {
		a.finishWaiter(w, false) // at once: no timer made for it
		return
	}
	a.register(w, msg.WaitSeconds)
}

func (a *agentActor) send(ctx actor.Context, msg *messages.SendToAgent) {
	if a.startAfter {
		// The process starts once what a previous run left is ended: the message waits for it.
		a.deferred = append(a.deferred, deferredSend{msg: msg, sender: ctx.Sender()})
		return
	}
	a.sendFrom(ctx, msg, ctx.Sender())
}

// deferredSend is a message that arrived while the agent's process was about to start.
type deferredSend struct {
	msg    *messages.SendToAgent
	sender *actor.PID
}

// sendFrom handles a message for the caller sender.
func (a *agentActor) sendFrom(ctx actor.Context, msg *messages.SendToAgent, sender *actor.PID) {
	respond := func(r *messages.SendToAgentResult) { ctx.Send(sender, r) }
	fail := func(code messages.Code, format string, args ...any) {
		ctx.Send(sender, messages.Errorf(code, format, args...))
	}
	if a.stopping != nil {
		fail(messages.CodeDeleting, "agent %s is being stopped", a.id)
		return
	}
	if _, perr := compileWaitFor(msg.WaitFor); perr != nil {
		ctx.Send(sender, perr)
		return
	}
	from := a.out.LastSeq()
	if a.cfg.spec.Mode == "per-message" {
		if e := a.commandMissing(); e != nil { // removed since the agent was created
			ctx.Send(sender, e)
			return
		}
		// Refused before anything is queued: a message the preset would pass as an option
		// (`claude -p --dangerously-skip-permissions`), or one no argument can carry (a NUL).
		if err := process.CheckMessage(a.cfg.spec.Args, msg.Message); err != nil {
			fail(messages.CodeInvalidArgument, "agent %s cannot take this message: %v", a.id, err)
			return
		}
		if len(a.queue) >= a.cfg.opts.AgentQueueLimit {
			fail(messages.CodeBusy, "agent %s already has %d messages waiting, the most it queues; wait for them (read_agent_output) and send again", a.id, len(a.queue))
			return
		}
		q := queuedMessage{text: msg.Message}
		if msg.WaitSeconds > 0 {
			pattern, _ := compileWaitFor(msg.WaitFor) // checked by the caller (sendFrom)
			q.waiter = a.addWaiter(from, 0, msg.WaitSeconds, true, pattern, func(out *messages.AgentOutput) {
				ctx.Send(sender, &messages.SendToAgentResult{AgentID: a.id, FromSeq: from, Output: out, Status: out.Status})
			})
		}
		a.queue = append(a.queue, q)
		queued := len(a.queue) - 1
		if a.run != nil {
			queued++
		}
		a.nextRun(ctx)
		if q.waiter == nil {
			respond(&messages.SendToAgentResult{AgentID: a.id, FromSeq: from, Queued: queued, Status: a.status})
		}
		return
	}
	if a.proc == nil || a.status == messages.AgentExited || a.status == messages.AgentFailed {
		fail(messages.CodeUnavailable, "agent %s is not running (%s%s); its output stays readable with read_agent_output. Delete it and create a new one, or use a preset with restart = \"always\"", a.id, a.status, a.exitText())
		return
	}
	a.writeMessage(ctx, msg, sender, from)
}

func (a *agentActor) exitText() string {
	switch {
	case a.exit != nil && a.exit.Signal != "":
		return ", killed by " + a.exit.Signal
	case a.exit != nil:
		return fmt.Sprintf(", exit code %d", a.exit.Code)
	case a.startErr != "":
		return ": " + a.startErr
	}
	return ""
}

// nextRun starts the next queued message of a per-message agent when none is running.
func (a *agentActor) nextRun(ctx actor.Context) {
	for a.run == nil && len(a.queue) > 0 && a.stopping == nil {
		q := a.queue[0]
		a.queue = a.queue[1:]
		args, viaStdin := process.ExpandArgs(a.cfg.spec.Args, q.text)
		from := a.out.LastSeq()
		p, err := a.spawn(args, viaStdin)
		if err != nil {
			a.startErr = err.Error()
			if q.waiter != nil {
				out := a.output(from, 0)
				out.Problem = "the process did not start: " + err.Error()
				a.answer(q.waiter, out)
			}
			continue
		}
		if viaStdin {
			a.queueWrite(stdinWrite{proc: p, data: []byte(q.text), timeout: 5 * time.Second, closeAfter: true}, func(_ actor.Context, err error) {
				if err != nil {
					a.log.Warn().Err(err).Msg("write message to stdin")
				}
			})
		}
		if q.waiter != nil {
			q.waiter.after = from
		}
		a.run = &agentRun{proc: p, fromSeq: from, waiter: q.waiter}
		a.status, a.startErr, a.exit = messages.AgentBusy, "", nil
		a.state = messages.StateRunning
		a.notify(ctx, true)
	}
}

// onExit handles the end of a process: a per-message run, or the interactive process (then
// the restart policy applies).
func (a *agentActor) onExit(ctx actor.Context, p process.Process) {
	exit := p.Exit()
	if a.run != nil && a.run.proc == p {
		w := a.run.waiter
		a.run, a.exit = nil, &exit
		a.status, a.state = messages.AgentIdle, messages.StateIdle
		if w != nil {
			a.answer(w, a.output(w.after, w.maxBytes))
		}
		a.nextRun(ctx)
		a.notify(ctx, true)
		return
	}
	if a.proc != p {
		return
	}
	a.proc, a.exit = nil, &exit
	a.status, a.state = messages.AgentExited, messages.StateExited
	if a.tee != nil {
		a.detachAll()
	}
	a.answerWaiters(ctx, false)
	a.notify(ctx, true)
	if a.stopping == nil && a.shouldRestart(exit) {
		a.restartT = a.timers.SendOnce(a.backoff(), a.self, &restartProcess{})
	}
}

func (a *agentActor) shouldRestart(exit process.ExitStatus) bool {
	switch a.cfg.spec.Restart {
	case "always":
		return true
	case "on-failure":
		return exit.Code != 0 || exit.Signal != ""
	}
	return false
}

// backoff doubles with each restart up to 30 s; a process that ran a minute resets it.
func (a *agentActor) backoff() time.Duration {
	if a.cfg.opts.Clock.Now().Sub(a.lastRun) > time.Minute {
		return a.cfg.opts.RestartBackoff
	}
	d := a.cfg.opts.RestartBackoff << min(a.restarts, 5)
	return min(d, 30*time.Second)
}

// beginStop ends the agent's process without blocking the mailbox; finishStop answers.
func (a *agentActor) beginStop(ctx actor.Context, grace time.Duration, force bool) {
	if a.stopping != nil {
		ctx.Respond(&childStopped{id: a.id, err: errors.New("a stop is already in progress")})
		return
	}
	if a.busy() && !force {
		ctx.Respond(&childStopped{id: a.id, err: errBusyChild})
		return
	}
	a.stopping = ctx.Sender()
	a.status, a.state = messages.AgentStopping, messages.StateExited
	a.startAfter = false
	for _, d := range a.deferred {
		ctx.Send(d.sender, messages.Errorf(messages.CodeDeleting, "agent %s was stopped before its process started", a.id))
	}
	a.deferred = nil
	if a.restartT != nil {
		a.restartT()
		a.restartT = nil
	}
	p := a.current()
	if p == nil {
		a.finishStop(ctx, nil)
		return
	}
	root, self := a.root, a.self
	go func() {
		sctx, cancel := context.WithTimeout(context.Background(), grace+5*time.Second)
		defer cancel()
		root.Send(self, &processStopDone{err: p.Stop(sctx, grace)})
	}()
}

func (a *agentActor) finishStop(ctx actor.Context, err error) {
	var exit *process.ExitStatus
	if err == nil {
		if p := a.current(); p != nil {
			e := p.Exit()
			a.exit = &e
			a.proc, a.run = nil, nil
		}
		exit = a.exit
	}
	if err != nil {
		// The agent lives on: its queued messages still run, in order.
		a.status = messages.AgentRunning
		if a.run != nil {
			a.status = messages.AgentBusy
		}
		to := a.stopping
		a.stopping = nil
		a.nextRun(ctx)
		ctx.Send(to, &childStopped{id: a.id, err: err})
		return
	}
	a.status, a.state = messages.AgentExited, messages.StateExited
	if a.tee != nil {
		a.detachAll()
	}
	for _, q := range a.queue {
		if q.waiter != nil {
			out := a.output(q.waiter.after, 0)
			out.Problem = "the agent was stopped before this message ran"
			a.answer(q.waiter, out)
		}
	}
	a.queue = nil
	a.answerWaiters(ctx, true)
	ctx.Send(a.stopping, &childStopped{id: a.id, err: err, exit: exit})
	a.stopping = nil
}
