package actors

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/messages"
)

// askQuick asks with a short deadline: a request that gets no answer fails the test in a second
// instead of hanging it for the call timeout.
func (h *harness) askQuick(msg any) *messages.Error {
	h.t.Helper()
	res, err := h.sys.Request(context.Background(), msg, time.Second)
	if err != nil {
		h.t.Fatalf("%T got no answer: %v", msg, err)
	}
	e, _ := res.(*messages.Error)
	return e
}

// A request for one kind of child that names a child of another kind is refused at once, with
// the tools that fit; it used to reach the child, which never answered (defect 1).
func TestChildRequestOfTheWrongKindIsRefused(t *testing.T) {
	h, _ := pageHarness(t, nil)
	h.mustCreate("s")
	h.mustAgent("s", "a", catSpec)
	h.mustPage("s", "p", homeURL)
	tests := []struct {
		msg  any
		want string
	}{
		{&messages.SendToAgent{AgentID: "s/p", Message: "hi"}, "s/p is a page, not an agent; use page tools"},
		{&messages.ReadAgentOutput{AgentID: "s/p"}, "s/p is a page, not an agent; use page tools"},
		{&messages.DeleteAgent{AgentID: "s/p"}, "s/p is a page, not an agent; use page tools"},
		{&messages.NavigatePage{PageID: "s/a", URL: homeURL}, "s/a is an agent, not a page; use agent tools"},
		{&messages.PageContent{PageID: "s/a"}, "s/a is an agent, not a page; use agent tools"},
		{&messages.PageAction{PageID: "s/a", Action: "click", Selector: "p"}, "s/a is an agent, not a page; use agent tools"},
		{&messages.ScreenshotPage{PageID: "s/a"}, "s/a is an agent, not a page; use agent tools"},
		{&messages.ClosePage{PageID: "s/a"}, "s/a is an agent, not a page; use agent tools"},
	}
	for _, tt := range tests {
		e := h.askQuick(tt.msg)
		wantCode(t, e, messages.CodeInvalidArgument)
		if !strings.Contains(e.Message, tt.want) {
			t.Errorf("%T: %q does not say %q", tt.msg, e.Message, tt.want)
		}
	}
	if kids := h.get("s").Session.Children; len(kids) != 2 {
		t.Fatalf("children after the refusals = %+v, want both", kids)
	}
}

// Requests no actor knows, each reaching a different actor through the ordinary routing.
type (
	strangeRequest      struct{}
	strangeSessionWork  struct{ id string }
	strangeChildRequest struct {
		id   string
		kind messages.ChildKind
	}
)

func (m *strangeSessionWork) TargetSession() string           { return m.id }
func (m *strangeChildRequest) TargetChild() string            { return m.id }
func (m *strangeChildRequest) TargetKind() messages.ChildKind { return m.kind }

// Every actor answers a request it does not understand with an internal error, so that a
// forgotten case fails fast instead of hanging its caller (STYLE habit 13).
func TestEveryActorAnswersAnUnknownRequest(t *testing.T) {
	h, _ := pageHarness(t, nil)
	h.mustCreate("s")
	h.mustAgent("s", "a", catSpec)
	h.mustPage("s", "p", homeURL)
	tests := []struct {
		actor string
		msg   any
	}{
		{"the orchestrator", &strangeRequest{}},
		{`session "s"`, &strangeSessionWork{id: "s"}},
		{"agent s/a", &strangeChildRequest{id: "s/a", kind: messages.KindAgent}},
		{"page s/p", &strangeChildRequest{id: "s/p", kind: messages.KindPage}},
	}
	for _, tt := range tests {
		e := h.askQuick(tt.msg)
		wantCode(t, e, messages.CodeInternal)
		if !strings.Contains(e.Message, tt.actor) {
			t.Errorf("%T: %q does not name %s", tt.msg, e.Message, tt.actor)
		}
	}
}
