package actors

import (
	"slices"
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/messages"
)

var termSpec = messages.AgentSpec{Command: "cat", Mode: messages.ModeTerminal, Restart: "never", Rows: 6, Cols: 30}

func (h *harness) screen(id string, wait float64, waitFor string) *messages.ScreenResult {
	h.t.Helper()
	switch r := h.ask(&messages.ReadAgentScreen{AgentID: id, WaitSeconds: wait, WaitFor: waitFor}).(type) {
	case *messages.ScreenResult:
		return r
	default:
		h.t.Fatalf("read_agent_screen %s: %+v", id, r)
		return nil
	}
}

func TestTerminalAgentScreenStateAndSnapshot(t *testing.T) {
	h := newHarness(t, nil)
	h.mustCreate("s")
	a := h.mustAgent("s", "t", termSpec)
	if a.Mode != messages.ModeTerminal || a.Size == nil || *a.Size != (messages.TermSize{Rows: 6, Cols: 30}) {
		t.Fatalf("terminal agent: %+v", a)
	}
	r, ok := h.ask(&messages.SendKeys{AgentID: "s/t", Text: "hello", Keys: []string{"Enter"}, WaitSeconds: 5}).(*messages.ScreenResult)
	if !ok || !slices.Contains(r.Lines, "hello") || r.State != messages.StateWaitingForInput {
		t.Fatalf("send_keys hello Enter: %+v", r)
	}
	if ps := h.procs.Processes(); len(ps) != 1 || string(ps[0].Input()) != "hello\r" {
		t.Fatalf("typed: %v", ps)
	}
	kids := h.get("s").Session.Children
	if kids[0].State != messages.StateWaitingForInput {
		t.Fatalf("get_session child state %q", kids[0].State)
	}
	// Deleted and restored: the screen it showed is kept, the new process has a new screen.
	res := h.del(&messages.DeleteSession{SessionID: "s"})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	back := h.ask(&messages.RestoreSession{SnapshotID: res.SnapshotID})
	_ = back
	waitFor(t, func() bool {
		k := h.get("s").Session.Children
		return len(k) == 1 && k[0].Status == messages.AgentRunning
	})
	k := h.get("s").Session.Children[0]
	if !slices.Contains(k.LastScreen, "hello") {
		t.Fatalf("restored child's last screen %q", k.LastScreen)
	}
	if s := h.screen("s/t", 0, ""); strings.Contains(strings.Join(s.Lines, "\n"), "hello") || s.Size.Rows != 6 {
		t.Errorf("the new terminal: %+v", s)
	}
}

func TestTerminalAgentRestartsOnANewTerminalOfItsSize(t *testing.T) {
	h := newHarness(t, nil)
	h.mustCreate("s")
	spec := termSpec
	spec.Restart = "always"
	h.mustAgent("s", "t", spec)
	h.ask(&messages.SendKeys{AgentID: "s/t", Text: "before", Keys: []string{"Enter"}})
	h.procs.Processes()[0].Finish(1)
	waitFor(t, func() bool {
		return len(h.procs.Processes()) == 2 && h.get("s").Session.Children[0].Status == messages.AgentRunning
	})
	p := h.procs.Processes()[1]
	if ts := p.Spec().Terminal; ts == nil || ts.Rows != 6 || ts.Cols != 30 {
		t.Fatalf("the restarted process's terminal: %+v", ts)
	}
	// The screen lives on across the restart, as a terminal window whose program was started again.
	if r := h.screen("s/t", 0, ""); !slices.Contains(r.Lines, "before") || r.State == messages.StateExited {
		t.Errorf("after the restart: %+v", r)
	}
	r, ok := h.ask(&messages.SendKeys{AgentID: "s/t", Text: "after", Keys: []string{"Enter"}, WaitFor: "^after$", WaitSeconds: 5}).(*messages.ScreenResult)
	if !ok || !r.Matched || string(p.Input()) != "after\r" {
		t.Errorf("typing on the restarted agent: %+v %q", r, p.Input())
	}
}

func TestTerminalToolsRefuseAgentsOnPipes(t *testing.T) {
	h := newHarness(t, nil)
	h.mustCreate("s")
	h.mustAgent("s", "p", catSpec)
	for _, msg := range []any{&messages.ReadAgentScreen{AgentID: "s/p"}, &messages.SendKeys{AgentID: "s/p", Text: "x"}, &messages.AttachAgent{AgentID: "s/p"}} {
		e, ok := h.ask(msg).(*messages.Error)
		if !ok || e.Code != messages.CodeInvalidArgument || !strings.Contains(e.Message, "not on a terminal") {
			t.Errorf("%T on an agent on pipes: %+v", msg, e)
		}
	}
	if len(h.procs.Processes()[0].Input()) != 0 {
		t.Error("a refused call typed something")
	}
}

func TestAttachmentTypesResizesAndGivesTheSizeBack(t *testing.T) {
	h := newHarness(t, nil)
	h.mustCreate("s")
	h.mustAgent("s", "t", termSpec)
	h.ask(&messages.SendKeys{AgentID: "s/t", Text: "drawn", Keys: []string{"Enter"}})
	res, ok := h.ask(&messages.AttachAgent{AgentID: "s/t", Rows: 20, Cols: 70}).(*messages.AttachAgentResult)
	if !ok {
		t.Fatalf("attach: %+v", res)
	}
	att := res.Attachment
	if !strings.Contains(string(att.Repaint()), "drawn") {
		t.Errorf("the repaint lacks what the screen shows: %q", att.Repaint())
	}
	p := h.procs.Processes()[0]
	waitFor(t, func() bool { return p.Size() == process.TermSize{Rows: 20, Cols: 70} })
	if err := att.Write([]byte("typed\r")); err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	waitFor(t, func() bool {
		select {
		case b := <-att.Output():
			got.Write(b)
		default:
		}
		return strings.Contains(got.String(), "typed\r\n")
	}, func() string { return got.String() })
	if r := h.screen("s/t", 0, ""); !slices.Contains(r.Lines, "typed") || r.Size.Rows != 20 {
		t.Errorf("the model's view while a person is attached: %+v", r)
	}
	if err := att.Resize(30, 90); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return p.Size() == process.TermSize{Rows: 30, Cols: 90} })
	if err := att.Resize(1, 1); err == nil {
		t.Error("a 1×1 terminal was accepted")
	}
	att.Close()
	att.Close()
	waitFor(t, func() bool { return p.Size() == process.TermSize{Rows: 6, Cols: 30} })
	waitFor(t, func() bool { // what was delivered before, then closed
		select {
		case _, open := <-att.Output():
			return !open
		default:
			return false
		}
	})
	if err := att.Write([]byte("late")); err == nil {
		t.Error("a write after Close was accepted")
	}
	if r := h.screen("s/t", 0, ""); r.Status != messages.AgentRunning {
		t.Errorf("after detaching the agent is %s", r.Status)
	}
}
