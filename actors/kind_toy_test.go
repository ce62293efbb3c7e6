package actors

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/messages"
)

// A third child kind that exists only in this file: it proves that a new kind is one file plus
// its registration, and that create, get_session, the delete cascade, rollback, restore and
// recovery after a restart handle it without knowing it.

const kindToy messages.ChildKind = "toy"

func init() { registerKind(kindToy, toyKind{}) }

type toyKind struct{}

// toySpec is what the store keeps of a toy.
type toySpec struct {
	// Fail makes the toy refuse to stop.
	Fail bool `json:"fail"`
}

// createToy asks a session for a toy; the orchestrator routes it by its target alone.
type createToy struct {
	SessionID, Name string
	Fail            bool
}

func (m *createToy) TargetSession() string { return m.SessionID }

// toyReady tells the session a toy is up.
type toyReady struct{ name string }

func (toyKind) tools() string { return "toy tools" }

func (toyKind) receive(s *sessionActor, ctx actor.Context, msg any) bool {
	switch msg := msg.(type) {
	case *createToy:
		raw, _ := json.Marshal(toySpec{Fail: msg.Fail})
		c, err := s.newChild(kindToy, msg.Name, raw)
		if err != nil {
			ctx.Respond(err)
			return true
		}
		if err := (toyKind{}).start(s, ctx, c, startFresh); err != nil {
			ctx.Respond(messages.Errorf(messages.CodeInternal, "%v", err))
			return true
		}
		if err := s.persist(); err != nil {
			ctx.Respond(messages.Errorf(messages.CodeInternal, "%v", err))
			return true
		}
		s.reportChildren(ctx)
		ctx.Respond(&messages.SessionResult{Session: s.info()})
	case *toyReady:
		if c := s.childByName(msg.name); c != nil {
			c.state.Status = "ready"
		}
	default:
		return false
	}
	return true
}

func (toyKind) start(s *sessionActor, ctx actor.Context, c *child, _ startMode) error {
	var spec toySpec
	if err := json.Unmarshal(c.spec.Spec, &spec); err != nil {
		return err
	}
	id, name := c.spec.ID, c.spec.Name
	pid, err := s.spawnChild(ctx, actor.PropsFromFunc(func(ctx actor.Context) {
		switch ctx.Message().(type) {
		case *actor.Started:
			ctx.Send(ctx.Parent(), &toyReady{name: name})
		case *stopChild:
			if spec.Fail {
				ctx.Respond(&childStopped{id: id, err: errors.New("the toy will not stop")})
				return
			}
			ctx.Respond(&childStopped{id: id})
		}
	}), name)
	if err != nil {
		return err
	}
	c.pid = pid
	c.state = messages.ChildInfo{Status: "starting"}
	s.children = append(s.children, c)
	return nil
}

func (h *harness) mustToy(session, name string, fail bool) {
	h.t.Helper()
	if r := testutil.AsSession(h.ask(&createToy{SessionID: session, Name: name, Fail: fail})); r.Err != nil {
		h.t.Fatalf("create toy %s/%s: %v", session, name, r.Err)
	}
}

// kidsWhenReady waits until every child of a session runs, and lists them as "kind:id".
func (h *harness) kidsWhenReady(session string, n int) string {
	h.t.Helper()
	var got []string
	waitFor(h.t, func() bool {
		got = nil
		r := h.get(session)
		if r.Err != nil {
			return false
		}
		for _, k := range r.Session.Children {
			if k.Status != "ready" && k.Status != messages.AgentRunning {
				return false
			}
			got = append(got, fmt.Sprintf("%s:%s", k.Kind, k.ID))
		}
		return len(got) == n
	}, func() string { return strings.Join(got, " ") })
	return strings.Join(got, " ")
}

func TestAThirdKindGoesThroughTheWholeLifecycle(t *testing.T) {
	h := newHarness(t, nil)
	h.mustCreate("s")
	h.mustToy("s", "t1", false)
	h.mustAgent("s", "a", catSpec)
	h.mustToy("s", "", false)
	const kids = "toy:s/t1 agent:s/a toy:s/toy-1"
	if got := h.kidsWhenReady("s", 3); got != kids {
		t.Fatalf("get_session children = %s, want %s", got, kids)
	}
	if m := testutil.AsSessionMetrics(h.ask(&messages.SessionMetrics{})); m.Children[kindToy] != 2 || m.Children[messages.KindAgent] != 1 {
		t.Fatalf("metrics children = %v, want 2 toys and 1 agent", m.Children)
	}
	e := h.askQuick(&messages.SendToAgent{AgentID: "s/t1", Message: "hi"})
	wantCode(t, e, messages.CodeInvalidArgument)
	if !strings.Contains(e.Message, "s/t1 is a toy, not an agent; use toy tools") {
		t.Fatalf("an agent request for a toy: %q", e.Message)
	}

	// The delete cascade stops it like any child, newest first; restore brings it back.
	d := h.del(&messages.DeleteSession{SessionID: "s"})
	if d.Err != nil || strings.Join(d.Stopped, " ") != "s/toy-1 s/a s/t1" {
		t.Fatalf("delete = %+v, want s/toy-1 s/a s/t1 stopped in that order", d)
	}
	if r := testutil.AsSession(h.ask(&messages.RestoreSession{SnapshotID: d.SnapshotID})); r.Err != nil {
		t.Fatalf("restore: %v", r.Err)
	}
	if got := h.kidsWhenReady("s", 3); got != kids {
		t.Fatalf("children after restore = %s, want %s", got, kids)
	}

	// A toy that will not stop rolls the delete back: the newer children come back.
	h.mustCreate("r")
	h.mustToy("r", "old", false)
	h.mustToy("r", "stuck", true)
	h.mustToy("r", "new", false)
	h.kidsWhenReady("r", 3)
	rb := h.del(&messages.DeleteSession{SessionID: "r"})
	wantCode(t, rb.Err, messages.CodeRolledBack)
	if !strings.Contains(rb.Err.Message, "r/stuck did not stop") || !strings.Contains(rb.Err.Message, "r/new stopped first") {
		t.Fatalf("rollback answer %q", rb.Err.Message)
	}
	if got, want := h.kidsWhenReady("r", 3), "toy:r/old toy:r/stuck toy:r/new"; got != want {
		t.Fatalf("children after rollback = %s, want %s", got, want)
	}

	// A server restart re-creates it from the store.
	h.restart()
	if got, want := h.kidsWhenReady("r", 3), "toy:r/old toy:r/stuck toy:r/new"; got != want {
		t.Fatalf("children after a restart = %s, want %s", got, want)
	}
}
