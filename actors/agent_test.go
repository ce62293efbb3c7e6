package actors

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/messages"
)

var (
	catSpec = messages.AgentSpec{Command: "cat", Mode: "interactive", Restart: "never"}
	echoPer = messages.AgentSpec{Command: "echo", Args: []string{"got:", "{message}"}, Mode: "per-message", Restart: "never"}
)

func (h *harness) createAgent(session, name string, spec messages.AgentSpec) testutil.AgentReply {
	h.t.Helper()
	return testutil.AsAgent(h.ask(&messages.CreateAgent{SessionID: session, Name: name, Spec: spec}))
}

func (h *harness) mustAgent(session, name string, spec messages.AgentSpec) *messages.AgentInfo {
	h.t.Helper()
	r := h.createAgent(session, name, spec)
	if r.Err != nil {
		h.t.Fatalf("create agent %s/%s: %v", session, name, r.Err)
	}
	return r.Agent
}

func (h *harness) send(id, msg string, wait float64) testutil.SendToAgentReply {
	h.t.Helper()
	return testutil.AsSendToAgent(h.ask(&messages.SendToAgent{AgentID: id, Message: msg, WaitSeconds: wait}))
}

func (h *harness) read(id string, after uint64, wait float64) *messages.AgentOutput {
	h.t.Helper()
	r := testutil.AsReadAgentOutput(h.ask(&messages.ReadAgentOutput{AgentID: id, After: after, WaitSeconds: wait}))
	if r.Err != nil {
		h.t.Fatalf("read %s: %v", id, r.Err)
	}
	return r.Output
}

func joined(o *messages.AgentOutput) string {
	var b strings.Builder
	for _, c := range o.Chunks {
		b.WriteString(c.Text)
	}
	return b.String()
}

func TestAgentInteractiveEchoAndListing(t *testing.T) {
	h := newHarness(t, nil)
	h.mustCreate("s")
	a := h.mustAgent("s", "", catSpec)
	if a.AgentID != "s/agent-1" || a.Status != messages.AgentRunning || a.PID == 0 {
		t.Fatalf("agent = %+v, want s/agent-1 running with a pid", a)
	}
	r := h.send("s/agent-1", "hello", 5)
	if r.Err != nil || r.Output == nil || joined(r.Output) != "hello\n" {
		t.Fatalf("send with wait = %+v", r)
	}
	h.mustAgent("s", "second", catSpec)
	kids := h.get("s").Session.Children
	if len(kids) != 2 || kids[0].ID != "s/agent-1" || kids[1].ID != "s/second" || kids[0].Kind != "agent" || kids[0].PID == 0 {
		t.Fatalf("children = %+v, want both agents in creation order", kids)
	}
	m := testutil.AsSessionMetrics(h.ask(&messages.SessionMetrics{}))
	if m.Children[messages.KindAgent] != 2 || m.RunningChildren != 2 {
		t.Fatalf("metrics agents = %d, running %d; want 2, 2", m.Children[messages.KindAgent], m.RunningChildren)
	}
}

func TestAgentPerMessageQueuesInOrder(t *testing.T) {
	h := newHarness(t, nil)
	h.mustCreate("s")
	h.mustAgent("s", "e", echoPer)
	first := h.send("s/e", "one", 0)
	second := h.send("s/e", "two two", 5)
	if first.Err != nil || second.Err != nil {
		t.Fatalf("send: %v %v", first.Err, second.Err)
	}
	out := h.read("s/e", 0, 0)
	if got := joined(out); got != "got: one\ngot: two two\n" {
		t.Fatalf("output = %q, want both runs in order, each message one argument", got)
	}
	procs := h.procs.Processes()
	if len(procs) != 2 || len(procs[1].Spec().Args) != 2 || procs[1].Spec().Args[1] != "two two" {
		t.Fatalf("second run args = %v, want [got: two two]", procs[1].Spec().Args)
	}
}

func TestAgentBusyNeedsForce(t *testing.T) {
	h := newHarness(t, nil)
	h.procs.Behave("slow", process.FakeBehavior{Linger: true, Silent: true})
	h.mustCreate("s")
	h.mustAgent("s", "slow", messages.AgentSpec{Command: "slow", Mode: "per-message", Restart: "never"})
	h.send("s/slow", "work", 0)
	waitFor(t, func() bool { return h.get("s").Session.Children[0].Busy })
	d := testutil.AsDeleteAgent(h.ask(&messages.DeleteAgent{AgentID: "s/slow"}))
	wantCode(t, d.Err, messages.CodeBusy)
	if !strings.Contains(d.Err.Message, "force") {
		t.Fatalf("busy refusal %q should mention force", d.Err.Message)
	}
	d = testutil.AsDeleteAgent(h.ask(&messages.DeleteAgent{AgentID: "s/slow", Force: true}))
	if d.Err != nil || !d.Stopped {
		t.Fatalf("forced delete = %+v", d)
	}
	if kids := h.get("s").Session.Children; len(kids) != 0 {
		t.Fatalf("children after delete = %+v", kids)
	}
	if len(h.procs.Running()) != 0 {
		t.Fatal("the process still runs after delete_agent")
	}
}

func TestAgentCrashShowsExitCodeAndRefusesMessages(t *testing.T) {
	h := newHarness(t, nil)
	h.mustCreate("s")
	h.mustAgent("s", "c", catSpec)
	p := h.procs.Processes()[0]
	p.Emit("stderr", "boom\n")
	p.Finish(3)
	var out *messages.AgentOutput
	waitFor(t, func() bool { out = h.read("s/c", 0, 0); return out.Status == messages.AgentExited })
	if out.ExitCode == nil || *out.ExitCode != 3 || joined(out) != "boom\n" || out.Chunks[0].Stream != "stderr" {
		t.Fatalf("output after crash = %+v", out)
	}
	// The exited agent is still a child (its output stays readable) but runs nothing: it must
	// not keep the daemon from its idle exit.
	var m testutil.SessionMetricsReply
	waitFor(t, func() bool {
		m = testutil.AsSessionMetrics(h.ask(&messages.SessionMetrics{}))
		return m.RunningChildren == 0
	})
	if m.Children[messages.KindAgent] != 1 {
		t.Fatalf("metrics agents = %d, want the exited one still listed", m.Children[messages.KindAgent])
	}
	r := h.send("s/c", "hello?", 0)
	wantCode(t, r.Err, messages.CodeUnavailable)
	if !strings.Contains(r.Err.Message, "exit code 3") {
		t.Fatalf("message to an exited agent: %q should give the exit code", r.Err.Message)
	}
}

func TestAgentRestartPolicy(t *testing.T) {
	h := newHarness(t, nil)
	h.mustCreate("s")
	h.mustAgent("s", "a", messages.AgentSpec{Command: "cat", Mode: "interactive", Restart: "on-failure"})
	h.procs.Processes()[0].Finish(1)
	waitFor(t, func() bool {
		k := h.get("s").Session.Children[0]
		return k.Restarts == 1 && k.Status == messages.AgentRunning
	})
	h.procs.Processes()[1].Finish(0) // a clean exit is not a failure
	waitFor(t, func() bool { return h.get("s").Session.Children[0].Status == messages.AgentExited })
	if n := len(h.procs.Processes()); n != 2 {
		t.Fatalf("%d processes started, want 2 (no restart after exit 0)", n)
	}
}

func TestAgentsAfterServerRestart(t *testing.T) {
	h := newHarness(t, nil)
	h.mustCreate("s")
	h.mustAgent("s", "keep", messages.AgentSpec{Command: "cat", Mode: "interactive", Restart: "always"})
	h.mustAgent("s", "once", catSpec)
	h.send("s/once", "remember me", 5)
	running := h.procs.Running()
	// A crash: the actors vanish without stopping anything; the records stay.
	crashed := h.sys
	h.sys = nil
	crashed.sys.Shutdown() // stops no actors (DESIGN §10)
	defer crashed.stopActors()
	h.start()
	waitFor(t, func() bool { return len(h.procs.StaleKills()) == 2 })
	for _, p := range running {
		select {
		case <-p.Done():
		default:
			t.Fatalf("process %d of the crashed run is still alive", p.PID())
		}
	}
	var kids []messages.ChildInfo
	waitFor(t, func() bool {
		kids = h.get("s").Session.Children
		return len(kids) == 2 && kids[0].Status == messages.AgentRunning && kids[1].Status == messages.AgentExited
	}, func() string { return fmt.Sprintf("children %+v", kids) })
	if out := h.read("s/once", 0, 0); joined(out) != "remember me\n" {
		t.Fatalf("output after restart = %q", joined(out))
	}
}

func TestAgentBadInput(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.MaxChildren = 1 })
	h.mustCreate("s")
	h.mustAgent("s", "a", catSpec)
	wantCode(t, h.createAgent("s", "a", catSpec).Err, messages.CodeAlreadyExists)
	wantCode(t, h.createAgent("s", "b", catSpec).Err, messages.CodeLimitExceeded)
	wantCode(t, h.createAgent("s", "bad name", catSpec).Err, messages.CodeInvalidArgument)
	wantCode(t, h.createAgent("nobody", "x", catSpec).Err, messages.CodeNotFound)
	wantCode(t, h.send("s/zz", "x", 0).Err, messages.CodeNotFound)
	wantCode(t, h.send("no-slash", "x", 0).Err, messages.CodeInvalidArgument)
	h.procs.Behave("missing", process.FakeBehavior{StartErr: process.ErrClosed})
	h2 := newHarness(t, nil)
	h2.procs.Behave("missing", process.FakeBehavior{StartErr: process.ErrClosed})
	h2.mustCreate("t")
	r := h2.createAgent("t", "m", messages.AgentSpec{Command: "missing", Mode: "interactive", Restart: "never"})
	wantCode(t, r.Err, messages.CodeInvalidArgument)
	if kids := h2.get("t").Session.Children; len(kids) != 0 {
		t.Fatalf("a failed create left children %+v", kids)
	}
}

func TestAgentNameReusedStartsWithEmptyOutput(t *testing.T) {
	h := newHarness(t, nil)
	h.mustCreate("s")
	h.mustAgent("s", "a", catSpec)
	h.send("s/a", "first life", 5)
	if d := testutil.AsDeleteAgent(h.ask(&messages.DeleteAgent{AgentID: "s/a"})); d.Err != nil {
		t.Fatal(d.Err)
	}
	h.mustAgent("s", "a", catSpec)
	if out := h.read("s/a", 0, 0); len(out.Chunks) != 0 {
		t.Fatalf("the new agent shows the old one's output: %q", joined(out))
	}
	old, _ := filepath.Glob(filepath.Join(h.opts.DataDir, "agents", "s", "a.*.log"))
	if len(old) != 1 {
		t.Fatalf("old logs kept beside: %v, want one", old)
	}
}
