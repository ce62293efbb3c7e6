package actors

import (
	"slices"
	"strings"
	"testing"

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
