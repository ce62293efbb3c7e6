package actors

// Every agent's state (DESIGN §13): running, waiting_for_input, idle, exited — re-read on output,
// input and a timer, and told to the session when it changes.

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/messages"
)

// quietFor is how long an agent's output and input must have been quiet before a process
// blocked on its input counts as waiting for it: a process that was just given input, or is
// between two writes, is still working.
const quietFor = 100 * time.Millisecond

// runningPoll is how often the state of a running agent is checked when nothing happens (a
// program that finishes a computation and waits without printing).
const runningPoll = 500 * time.Millisecond

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
