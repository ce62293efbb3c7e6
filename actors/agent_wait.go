package actors

// Waits of the agent tools (DESIGN §13): a caller holds a long poll that ends on new output, a
// wait_for match, the program waiting for input again, its exit, or the deadline.

import (
	"regexp"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/scheduler"

	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/messages"
)

// waiter is a caller holding a long poll: it is answered on new output after `after`, when the
// run it waits for ends, when the agent exits, or at its deadline.
type waiter struct {
	id       int
	after    uint64
	maxBytes int
	// forRun: answer only when the per-message run this waiter belongs to has ended.
	forRun      bool
	reply       func(out *messages.AgentOutput)
	cancelTimer scheduler.CancelFunc
	// answered: the caller has its reply. A waiter is reachable from a.waiters and from its
	// queued message or run; only the first answer counts (defect 6: a second one went to a
	// caller that had stopped listening).
	answered bool
	// pattern (wait_for) must match the new output, or the screen, before the wait ends — or the
	// agent becomes waiting for input (sawRunning: it was seen doing something else during the
	// wait) or exits. match is what it matched.
	pattern    *regexp.Regexp
	match      string
	sawRunning bool
	// screen waiters (terminal agents) answer with the screen (screenReply), with scrollback
	// lines; settle ones (send_keys without a wait) once the output after the keys is quiet.
	screen      bool
	screenReply func(*messages.ScreenResult)
	scrollback  int
	settle      bool
	// untilInput: a message to a terminal agent waits for its answer — until the program waits
	// for input again — not for the echo of the message, which comes at once.
	untilInput bool
}

const maxWait = 300 * time.Second

func (a *agentActor) addWaiter(after uint64, maxBytes int, seconds float64, forRun bool, pattern *regexp.Regexp, reply func(*messages.AgentOutput)) *waiter {
	w := a.newWaiter(after, maxBytes, forRun, pattern, reply)
	a.register(w, seconds)
	return w
}

// newWaiter is a waiter not registered yet: one answered at once needs no timer.
func (a *agentActor) newWaiter(after uint64, maxBytes int, forRun bool, pattern *regexp.Regexp, reply func(*messages.AgentOutput)) *waiter {
	return &waiter{after: after, maxBytes: maxBytes, forRun: forRun, reply: reply, pattern: pattern,
		sawRunning: a.state != messages.StateWaitingForInput}
}

// register makes w wait, up to seconds (and maxWait).
func (a *agentActor) register(w *waiter, seconds float64) {
	a.nextWait++
	w.id = a.nextWait
	d := min(time.Duration(seconds*float64(time.Second)), maxWait)
	w.cancelTimer = a.timers.SendOnce(d, a.self, &waiterTimedOut{id: w.id})
	a.waiters = append(a.waiters, w)
}

// answerWaiters answers the waiters whose condition holds (all of them when final).
func (a *agentActor) answerWaiters(ctx actor.Context, final bool) {
	var ready []*waiter
	for _, w := range a.waiters {
		if final || a.waiterReady(w) {
			ready = append(ready, w)
		}
	}
	for _, w := range ready {
		a.finishWaiter(w, false)
	}
}

// waiterReady says whether w's wait is over: its pattern matched; the agent exited or became
// waiting for input; without a pattern, new output came (an output wait) or the output after
// the keys is quiet (a settle wait).
func (a *agentActor) waiterReady(w *waiter) bool {
	exited := a.status == messages.AgentExited || a.status == messages.AgentFailed
	if w.pattern != nil {
		text := ""
		if w.screen {
			text = a.screen.Text()
		} else if a.out.LastSeq() > w.after {
			text = outputText(a.out.Read(w.after, process.MaxReadBytes))
		}
		if m := w.pattern.FindString(text); m != "" || (text != "" && w.pattern.MatchString(text)) {
			w.match = m
			return true
		}
		return (!w.forRun && exited) || (w.sawRunning && a.state == messages.StateWaitingForInput)
	}
	switch {
	case w.forRun:
		return false // answered when its run ends
	case exited:
		return true
	case w.settle:
		return a.out.LastSeq() > w.after && time.Since(a.lastIO) >= settleQuiet
	case w.untilInput:
		return w.sawRunning && a.state == messages.StateWaitingForInput
	case w.screen:
		return a.state == messages.StateWaitingForInput
	}
	return a.out.LastSeq() > w.after
}

// outputText is the text of a read of output, for wait_for: a terminal's "\r\n" as "\n", so
// that $ matches at the end of its lines.
func outputText(r process.ReadResult) string {
	var b strings.Builder
	for _, c := range r.Chunks {
		b.Write(c.Data)
	}
	return strings.ReplaceAll(b.String(), "\r\n", "\n")
}

// finishWaiter answers w with what it waits for: the screen, or the output.
func (a *agentActor) finishWaiter(w *waiter, timedOut bool) {
	if w.screen {
		if w.answered {
			return
		}
		w.answered = true
		a.dropWaiter(w)
		r := a.screenResult(w)
		r.TimedOut = timedOut && !w.settle
		w.screenReply(r)
		return
	}
	out := a.output(w.after, w.maxBytes)
	out.TimedOut = timedOut
	out.Matched, out.Match = w.match != "" || (w.pattern != nil && !timedOut && w.pattern.MatchString(outputText(a.out.Read(w.after, process.MaxReadBytes)))), w.match
	a.answer(w, out)
}

// answer gives a waiter its reply, once: it leaves the waiters and later answers are dropped.
func (a *agentActor) answer(w *waiter, out *messages.AgentOutput) {
	if w.answered {
		return
	}
	w.answered = true
	a.dropWaiter(w) // also cancels its timer
	w.reply(out)
}

func (a *agentActor) timeoutWaiter(ctx actor.Context, id int) {
	for _, w := range a.waiters {
		if w.id == id {
			// What came last may match: the deadline is no reason to say it did not.
			a.finishWaiter(w, !(w.pattern != nil && a.waiterReady(w)))
			return
		}
	}
}

func (a *agentActor) dropWaiter(w *waiter) {
	if w.cancelTimer == nil {
		return // never registered
	}
	w.cancelTimer()
	for i, x := range a.waiters {
		if x == w {
			a.waiters = append(a.waiters[:i], a.waiters[i+1:]...)
			return
		}
	}
}

// addScreenWaiter registers w with its deadline and checks it once output or state change.
func (a *agentActor) addScreenWaiter(w *waiter, seconds float64) {
	a.register(w, seconds)
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
