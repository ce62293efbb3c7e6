package route

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/messages"
)

// Sessions created through one node are placed on the least-loaded node, each owned once and
// run by its owner; any node answers for any session, a call on an agent included, through
// the owner.
func TestCallsAreAnsweredByTheOwner(t *testing.T) {
	nodes := startNodes(t, "a", "b", "c")
	byName := map[string]*testNode{}
	for _, nd := range nodes {
		byName[nd.name] = nd
	}
	per := map[string]int{}
	for i := range 9 {
		sid := fmt.Sprintf("s%d", i)
		got := session(t, nodes[0].ask(t, &messages.CreateSession{SessionID: sid}))
		o := owner(t, nodes[0], sid)
		if got.Node != o || !byName[o].actors.has(sid) {
			t.Fatalf("create %s: answered by node %q, owned by %q; want the owner to run it", sid, got.Node, o)
		}
		per[o]++
	}
	if per["a"] != 3 || per["b"] != 3 || per["c"] != 3 {
		t.Fatalf("sessions per node %v; want 3 each (the least loaded takes the next)", per)
	}
	for i := range 9 {
		sid := fmt.Sprintf("s%d", i)
		o := owner(t, nodes[0], sid)
		for _, via := range nodes {
			if got := session(t, via.ask(t, &messages.GetSession{SessionID: sid})); got.SessionID != sid || got.Node != o {
				t.Fatalf("get_session %s through %s: %+v; want it from its owner %s", sid, via.name, got, o)
			}
			res := via.ask(t, &messages.ReadAgentOutput{AgentID: sid + "/agent-1"})
			if r, ok := res.(*messages.ReadAgentOutputResult); !ok || r.Output.Status != "read on "+o {
				t.Fatalf("read_agent_output %s/agent-1 through %s: %#v; want it read on %s", sid, via.name, res, o)
			}
		}
	}
	// A session no node owns is answered here, as the actors answer it.
	if e, ok := nodes[1].ask(t, &messages.GetSession{SessionID: "nope"}).(*messages.Error); !ok || e.Code != messages.CodeNotFound {
		t.Fatalf("get_session of no session: %#v", e)
	}
}

// A create that fails gives its id back; a duplicate id is refused, naming the node that has
// it; a generated id is placed like any other.
func TestCreateClaimsAndReleases(t *testing.T) {
	nodes := startNodes(t, "a", "b")
	e, ok := nodes[0].ask(t, &messages.CreateSession{SessionID: "dup", Name: "refuse"}).(*messages.Error)
	if !ok || e.Message != "refused" {
		t.Fatalf("refused create: %#v", e)
	}
	testutil.Eventually(t, 5*time.Second, "the claim of dup released", func() bool { return owner(t, nodes[0], "dup") == "" })
	s := session(t, nodes[0].ask(t, &messages.CreateSession{SessionID: "dup"}))
	e, ok = nodes[1].ask(t, &messages.CreateSession{SessionID: "dup"}).(*messages.Error)
	if !ok || e.Code != messages.CodeAlreadyExists || !strings.Contains(e.Message, fmt.Sprintf("node %q", s.Node)) {
		t.Fatalf("second create of dup: %#v; want already_exists naming node %s", e, s.Node)
	}
	gen := session(t, nodes[1].ask(t, &messages.CreateSession{}))
	if !strings.HasPrefix(gen.SessionID, "s-") || owner(t, nodes[0], gen.SessionID) != gen.Node {
		t.Fatalf("generated session %+v: owner %q", gen, owner(t, nodes[0], gen.SessionID))
	}
}

// A restore is placed like a create, under the snapshot's session id; a clone lives where its
// source does.
func TestRestoreAndClonePlacement(t *testing.T) {
	nodes := startNodes(t, "a", "b")
	got := session(t, nodes[0].ask(t, &messages.RestoreSession{SnapshotID: "snap-1"}))
	if got.SessionID != "old" || owner(t, nodes[0], "old") != got.Node {
		t.Fatalf("restore: %+v, owner %q", got, owner(t, nodes[0], "old"))
	}
	e, ok := nodes[1].ask(t, &messages.RestoreSession{SnapshotID: "snap-1"}).(*messages.Error)
	if !ok || e.Code != messages.CodeAlreadyExists {
		t.Fatalf("restore over a live session: %#v", e)
	}
	// Clone through the node that does not own the source.
	src := got.Node
	via := nodes[0]
	if via.name == src {
		via = nodes[1]
	}
	clone := session(t, via.ask(t, &messages.CloneSession{SessionID: "old", NewSessionID: "twin"}))
	if clone.Node != src || owner(t, nodes[0], "twin") != src {
		t.Fatalf("clone of a session on %s: answered by %s, owned by %s; want both %s", src, clone.Node, owner(t, nodes[0], "twin"), src)
	}
	gen := session(t, via.ask(t, &messages.CloneSession{SessionID: "old"}))
	if gen.Node != src || owner(t, nodes[0], gen.SessionID) != src {
		t.Fatalf("clone with a generated id: %+v owned by %s", gen, owner(t, nodes[0], gen.SessionID))
	}
}

// list_sessions and session_metrics through any node cover the whole cluster.
func TestListSessionsMergesEveryNode(t *testing.T) {
	nodes := startNodes(t, "a", "b", "c")
	var want []string
	for i := range 7 {
		sid := fmt.Sprintf("s%02d", i)
		session(t, nodes[i%3].ask(t, &messages.CreateSession{SessionID: sid}))
		want = append(want, sid)
	}
	for _, via := range nodes {
		res, ok := via.ask(t, &messages.ListSessions{}).(*messages.ListSessionsResult)
		if !ok {
			t.Fatalf("list through %s: %#v", via.name, res)
		}
		var got []string
		for _, s := range res.Sessions {
			got = append(got, s.SessionID)
			if s.Node != owner(t, via, s.SessionID) {
				t.Fatalf("list through %s: %s says node %q, owned by %q", via.name, s.SessionID, s.Node, owner(t, via, s.SessionID))
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") || len(res.Unanswered) != 0 {
			t.Fatalf("list through %s: %v (unanswered %v); want %v", via.name, got, res.Unanswered, want)
		}
		m, ok := via.ask(t, &messages.SessionMetrics{}).(*messages.SessionMetricsResult)
		if !ok || m.TotalSessions != 7 || m.Sessions[messages.StatusActive] != 7 || m.MaxSessions != 30 || m.Created != 7 {
			t.Fatalf("metrics through %s: %+v; want 7 sessions summed over 3 nodes", via.name, m)
		}
	}
}

// stoppedX says that TestStoppedNodeIsUnavailable stopped gateway x.
var stoppedX bool

// A node whose gateway is gone: calls for its sessions are answered at once that it could not
// be reached and that nothing was done; cluster-wide reads name it and answer with the rest.
func TestStoppedNodeIsUnavailable(t *testing.T) {
	if stoppedX {
		t.Skip("gateway x was stopped by an earlier run of this test (-count > 1); it cannot start again in this process")
	}
	stoppedX = true
	nodes := startNodes(t, "a", "b", "x")
	onX := sessionOn(t, nodes[0], "x")
	session(t, nodes[0].ask(t, &messages.GetSession{SessionID: onX})) // a connection to x is up
	nodes[2].pooled.stop()
	const timeout = 3 * time.Second
	for _, via := range nodes[:2] {
		start := time.Now()
		res, err := via.router.Request(context.Background(), &messages.GetSession{SessionID: onX}, timeout)
		took := time.Since(start)
		e, ok := res.(*messages.Error)
		if err != nil || !ok || e.Code != messages.CodeUnavailable || !strings.Contains(e.Message, `node "x"`) {
			t.Fatalf("get_session of a session on stopped x through %s: %#v, %v", via.name, res, err)
		}
		if took > timeout+time.Second {
			t.Fatalf("the answer took %s, over the %s timeout", took, timeout)
		}
		t.Logf("through %s, after %s: %s", via.name, took.Round(time.Millisecond), e.Message)
	}
	// Once the connection to x is known to be down, a call says that nothing was done.
	testutil.Eventually(t, 10*time.Second, "a call to x says nothing was done", func() bool {
		res, _ := nodes[0].router.Request(context.Background(), &messages.GetSession{SessionID: onX}, timeout)
		e, ok := res.(*messages.Error)
		return ok && strings.Contains(e.Message, "nothing was done")
	})
	res, ok := nodes[1].ask(t, &messages.ListSessions{}).(*messages.ListSessionsResult)
	if !ok || len(res.Unanswered) != 1 || !strings.Contains(res.Unanswered[0], `node "x"`) {
		t.Fatalf("list with x stopped: %#v; want x named as unanswered", res)
	}
	for _, s := range res.Sessions {
		if s.Node == "x" {
			t.Fatalf("list with x stopped shows %s on x", s.SessionID)
		}
	}
}
