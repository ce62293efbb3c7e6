package route

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/actors"
	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/messages"
)

// With the real actor tree on each node (fake processes): a session created through one node
// and used through the other shows its owner, its agent runs there, and deleting it through the
// other node stops the agent with every step reported to the caller's node before the answer.
func TestRealActorsAcrossNodes(t *testing.T) {
	nodes := startNodesWith(t, func(nd *testNode) Requester {
		sys, err := actors.Start(actors.Options{Store: store.NewMemory(), Logger: zerolog.Nop(), Processes: process.NewFake(),
			DataDir: t.TempDir(), Progress: nd.gw.Report, AgentStopGrace: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sys.Shutdown(context.Background()) })
		return sys
	}, "a", "b")
	a, b := nodes[0], nodes[1]
	s := session(t, a.ask(t, &messages.CreateSession{SessionID: "web", Labels: map[string]string{"team": "x"}}))
	caller := a // the node that does not own it
	if s.Node == "a" {
		caller = b
	}
	agent := testutil.AsAgent(caller.ask(t, &messages.CreateAgent{SessionID: "web", Name: "cat",
		Spec: messages.AgentSpec{Command: "cat", Mode: "interactive", Restart: "never"}}))
	if agent.Err != nil || agent.Agent.AgentID != "web/cat" {
		t.Fatalf("create_agent through %s: %+v", caller.name, agent)
	}
	got := session(t, caller.ask(t, &messages.GetSession{SessionID: "web"}))
	if got.Node != s.Node || len(got.Children) != 1 || got.Children[0].ID != "web/cat" || got.Labels["team"] != "x" {
		t.Fatalf("get_session through %s: %+v", caller.name, got)
	}
	res := caller.ask(t, &messages.DeleteSession{SessionID: "web", PreserveWork: true, Reason: "deleted", ProgressID: "progress-9"})
	steps := caller.progress.list()
	del := testutil.AsDeleteSession(res)
	if del.Err != nil || strings.Join(del.Stopped, ",") != "web/cat" {
		t.Fatalf("delete through %s: %+v", caller.name, del)
	}
	if len(steps) < 2 || !strings.HasPrefix(steps[0], "progress-9 1/") || !strings.Contains(strings.Join(steps, "\n"), "web/cat stopped") {
		t.Fatalf("steps at %s before the answer: %q; want the delete's, from the first, under its own id", caller.name, steps)
	}
	owner := a
	if caller == a {
		owner = b
	}
	if n := len(owner.progress.list()); n != 0 {
		t.Fatalf("the owner's own sink got %d steps of a call made elsewhere", n)
	}
	if e, ok := caller.ask(t, &messages.GetSession{SessionID: "web"}).(*messages.Error); !ok || e.Code != messages.CodeNotFound {
		t.Fatalf("get_session after the delete: %#v", e)
	}
}
