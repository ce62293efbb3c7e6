package actors

import (
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/messages"
)

// probe is a caller that keeps every reply it gets, so that a test can count them: a future
// takes only the first.
type probe struct {
	to      *actor.PID
	mu      sync.Mutex
	replies []any
}

// probeAsk makes the probe send msg to its target, as a request.
type probeAsk struct{ msg any }

func (p *probe) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case actor.SystemMessage, actor.AutoReceiveMessage:
	case *probeAsk:
		ctx.Request(p.to, msg.msg)
	case *ping:
		ctx.Respond(&ping{})
	default:
		p.mu.Lock()
		p.replies = append(p.replies, msg)
		p.mu.Unlock()
	}
}

func (p *probe) got() []any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]any(nil), p.replies...)
}

func (p *probe) count() int { return len(p.got()) }

// newProbe spawns a probe that asks the orchestrator.
func (h *harness) newProbe() (*probe, *actor.PID) {
	p := &probe{to: h.sys.orchestrator}
	pid := h.sys.sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return p }))
	h.t.Cleanup(func() { _ = h.sys.sys.Root.StopFuture(pid).Wait() })
	return p, pid
}

// settle returns once the probe has handled every reply sent to it so far.
func (h *harness) settle(pid *actor.PID) {
	h.t.Helper()
	if _, err := h.sys.sys.Root.RequestFuture(pid, &ping{}, 5*time.Second).Result(); err != nil {
		h.t.Fatal(err)
	}
}

// A per-message waiter whose wait ran out is answered then, and never again: not when its run
// ends, not when the agent is stopped before its run starts (defect 6).
func TestPerMessageWaiterIsAnsweredOnce(t *testing.T) {
	tests := []struct {
		name string
		// end ends the runs the waiters belong to, once their waits have run out.
		end func(h *harness)
	}{
		{"the runs end after the waits", func(h *harness) {
			h.procs.Processes()[0].Finish(0)
			waitFor(h.t, func() bool { return len(h.procs.Processes()) == 2 })
			h.procs.Processes()[1].Finish(0)
			waitFor(h.t, func() bool { return h.read("s/slow", 0, 0).Status == messages.AgentIdle })
		}},
		{"the agent is stopped before the queued run starts", func(h *harness) {
			if d := testutil.AsDeleteAgent(h.ask(&messages.DeleteAgent{AgentID: "s/slow", Force: true})); d.Err != nil || !d.Stopped {
				h.t.Fatalf("forced delete = %+v", d)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.procs.Behave("slow", process.FakeBehavior{Linger: true, Silent: true})
			h.mustCreate("s")
			h.mustAgent("s", "slow", messages.AgentSpec{Command: "slow", Mode: "per-message", Restart: "never"})
			p, pid := h.newProbe()
			for _, text := range []string{"running", "queued"} {
				h.sys.sys.Root.Send(pid, &probeAsk{msg: &messages.SendToAgent{AgentID: "s/slow", Message: text, WaitSeconds: 0.05}})
			}
			waitFor(t, func() bool { return p.count() == 2 })
			for i, r := range p.got() {
				if sr, ok := r.(*messages.SendToAgentResult); !ok || sr.Output == nil || !sr.Output.TimedOut {
					t.Fatalf("reply %d = %+v, want an answer that the wait timed out", i, r)
				}
			}
			tt.end(h)
			h.get("s") // the agent has told its session what happened, after any reply
			h.settle(pid)
			if got := p.got(); len(got) != 2 {
				t.Fatalf("the probe got %d replies to its 2 messages: a waiter was answered twice: %+v", len(got), got[2:])
			}
		})
	}
}
