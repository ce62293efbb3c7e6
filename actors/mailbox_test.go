package actors

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/internal/workspace"
	"github.com/troupe-dev/troupe/messages"
)

// Slow work (git, a walk, a store scan, a write to a full pipe) must not hold a mailbox: these
// tests block it on a gate and check that the actors still answer meanwhile.

// responsive is how long a call may take while slow work runs elsewhere; far above what it
// takes, far below the work the tests block.
const responsive = time.Second

// gate blocks slow work until the test releases it.
type gate struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func newGate() *gate {
	return &gate{entered: make(chan struct{}, 100), release: make(chan struct{})}
}

// openAtEnd opens g when the test ends, before the harness stops (cleanups run last first, and
// this one is registered after the harness's): nothing stays blocked, even on a failure.
func (h *harness) openAtEnd(g *gate) { h.t.Cleanup(g.open) }

// wait blocks until the gate opens or ctx ends.
func (g *gate) wait(ctx context.Context) error {
	select {
	case g.entered <- struct{}{}:
	default:
	}
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

// awaitEntered waits until slow work reached the gate.
func (g *gate) awaitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the slow work did not start")
	}
}

// askWithin asks msg and fails the test when no answer comes within responsive.
func (h *harness) askWithin(msg any) any {
	h.t.Helper()
	start := time.Now()
	res, err := h.sys.Request(context.Background(), msg, responsive)
	if err != nil {
		h.t.Fatalf("%T while slow work runs: %v (after %s)", msg, err, time.Since(start).Round(time.Millisecond))
	}
	return res
}

// future sends msg now and returns its pending answer: calls sent in order from one goroutine
// reach the actors in that order.
func (h *harness) future(msg any) *actor.Future {
	return h.sys.sys.Root.RequestFuture(h.sys.orchestrator, msg, 10*time.Second)
}

func userWorkspace(dir string) func(string, string) (string, bool, error) {
	return func(string, string) (string, bool, error) { return dir, false, nil }
}

func TestDeletePreservesWorkOffTheSessionMailbox(t *testing.T) {
	g := newGate()
	h := newHarness(t, func(o *Options) {
		o.PrepareWorkspace = userWorkspace(t.TempDir())
		o.preserveWork = func(ctx context.Context, _, _, _, _ string) (workspace.Preserved, error) {
			return workspace.Preserved{Kind: workspace.KindNone}, g.wait(ctx)
		}
	})
	h.openAtEnd(g)
	h.mustCreate("other")
	h.sessionWithAgents("victim", 1)
	del := h.future(&messages.DeleteSession{SessionID: "victim", Reason: "deleted", PreserveWork: true})
	g.awaitEntered(t)

	// DESIGN §4: the deleting status and the snapshot are durable, and no child has stopped.
	recs, err := h.store.LoadSessions()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.ID == "victim" && (r.Status != messages.StatusDeleting || r.SnapshotID == "") {
			t.Fatalf("while the work is preserved the record says %s, snapshot %q; want deleting with a snapshot", r.Status, r.SnapshotID)
		}
	}
	if p := h.procs.Processes()[0]; p.StopCalls() != 0 {
		t.Fatal("a child was stopped before the work was preserved")
	}

	if r := testutil.AsSession(h.askWithin(&messages.GetSession{SessionID: "other"})); r.Err != nil {
		t.Fatal(r.Err)
	}
	if r := testutil.AsSession(h.askWithin(&messages.GetSession{SessionID: "victim"})); r.Err == nil || r.Err.Code != messages.CodeDeleting {
		t.Fatalf("get_session on the session being deleted = %+v, want refused as deleting", r.Err)
	}
	// The session still handles its children: an agent's output counts as activity.
	h.clock.Advance(time.Minute)
	if err := h.procs.Processes()[0].Emit("stdout", "still working\n"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 2*time.Second, "the agent's output reaches the session being deleted", func() bool {
		for _, s := range testutil.AsListSessions(h.askWithin(&messages.ListSessions{})).Sessions {
			if s.SessionID == "victim" {
				return s.LastActivity.Equal(h.clock.Now())
			}
		}
		return false
	})

	g.open()
	res, err := del.Result()
	if err != nil {
		t.Fatal(err)
	}
	if d := testutil.AsDeleteSession(res); d.Err != nil || len(d.Stopped) != 1 {
		t.Fatalf("delete = %+v, want victim/a1 stopped", d)
	}
}

func TestDeleteDryRunPlansOffTheSessionMailbox(t *testing.T) {
	g := newGate()
	h := newHarness(t, func(o *Options) {
		o.PrepareWorkspace = userWorkspace(t.TempDir())
		o.planWork = func(ctx context.Context, _, _ string) (workspace.Preserved, error) {
			return workspace.Preserved{Kind: workspace.KindGitRef, Files: 3}, g.wait(ctx)
		}
	})
	h.openAtEnd(g)
	h.sessionWithAgents("s", 1)
	plan := h.future(&messages.DeleteSession{SessionID: "s", DryRun: true, PreserveWork: true})
	g.awaitEntered(t)
	if r := testutil.AsSession(h.askWithin(&messages.GetSession{SessionID: "s"})); r.Err != nil || len(r.Session.Children) != 1 {
		t.Fatalf("get_session during a dry run = %+v", r)
	}
	g.open()
	res, err := plan.Result()
	if err != nil {
		t.Fatal(err)
	}
	if d := testutil.AsDeleteSession(res); d.Err != nil || len(d.Plan) != 1 || d.Preserved.Kind != workspace.KindGitRef || d.Preserved.Files != 3 {
		t.Fatalf("dry run = %+v, preserved %+v", d, d.Preserved)
	}
}

// slowStore blocks its snapshot and tombstone reads and its prune on a gate.
type slowStore struct {
	store.Store
	gate *gate
}

func (s slowStore) Tombstone(id string) (store.Tombstone, error) {
	_ = s.gate.wait(context.Background())
	return s.Store.Tombstone(id)
}

func (s slowStore) Snapshots(sessionID string) ([]store.Snapshot, error) {
	_ = s.gate.wait(context.Background())
	return s.Store.Snapshots(sessionID)
}

func (s slowStore) PruneSnapshots(before time.Time) (int, error) {
	_ = s.gate.wait(context.Background())
	return s.Store.PruneSnapshots(before)
}

func TestOrchestratorReadsOffTheMailbox(t *testing.T) {
	for _, tc := range []struct {
		name  string
		slow  any
		check func(t *testing.T, res any)
	}{
		{"tombstone of an unknown id", &messages.GetSession{SessionID: "gone"}, func(t *testing.T, res any) {
			wantCode(t, testutil.AsSession(res).Err, messages.CodeNotFound)
		}},
		{"list_snapshots", &messages.ListSnapshots{}, func(t *testing.T, res any) {
			if r := testutil.AsListSnapshots(res); r.Err != nil {
				t.Fatal(r.Err)
			}
		}},
		{"the sweep's prune", &messages.SweepIdle{}, func(t *testing.T, res any) {
			if r := testutil.AsSweepIdle(res); r.Err != nil {
				t.Fatal(r.Err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGate()
			h := newHarness(t, func(o *Options) { o.Store = slowStore{Store: o.Store, gate: g} })
			h.openAtEnd(g)
			h.mustCreate("other")
			slow := h.future(tc.slow)
			g.awaitEntered(t)
			if r := testutil.AsSession(h.askWithin(&messages.GetSession{SessionID: "other"})); r.Err != nil {
				t.Fatal(r.Err)
			}
			g.open()
			res, err := slow.Result()
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, res)
		})
	}
}

// gatedDriver starts processes whose stdin writes block on a gate, as on a full pipe.
type gatedDriver struct {
	process.Driver
	gate *gate
}

func (d gatedDriver) Start(spec process.Spec) (process.Process, error) {
	p, err := d.Driver.Start(spec)
	if err != nil {
		return nil, err
	}
	return gatedProcess{Process: p, gate: d.gate}, nil
}

type gatedProcess struct {
	process.Process
	gate *gate
}

func (p gatedProcess) Write(ctx context.Context, b []byte) error {
	if err := p.gate.wait(ctx); err != nil {
		return err
	}
	return p.Process.Write(ctx, b)
}

func TestAgentWritesStdinOffTheMailbox(t *testing.T) {
	g := newGate()
	h := newHarness(t, func(o *Options) {
		o.Processes = gatedDriver{Driver: o.Processes, gate: g}
		o.AgentQueueLimit = 2
	})
	h.openAtEnd(g)
	h.mustCreate("s")
	h.mustAgent("s", "a", catSpec)
	var sends []*actor.Future
	for _, m := range []string{"one", "two", "three"} {
		sends = append(sends, h.future(&messages.SendToAgent{AgentID: "s/a", Message: m}))
	}
	g.awaitEntered(t)
	if r := testutil.AsReadAgentOutput(h.askWithin(&messages.ReadAgentOutput{AgentID: "s/a"})); r.Err != nil {
		t.Fatalf("read_agent_output while a write blocks: %v", r.Err)
	}
	g.open()
	for i, f := range sends {
		res, err := f.Result()
		if err != nil {
			t.Fatal(err)
		}
		r := testutil.AsSendToAgent(res)
		if i < 2 && r.Err != nil {
			t.Fatalf("send %d: %v", i+1, r.Err)
		}
		if i == 2 {
			wantCode(t, r.Err, messages.CodeBusy) // two were waiting for the pipe: the limit
		}
	}
	if got := string(h.procs.Processes()[0].Input()); got != "one\ntwo\n" {
		t.Fatalf("stdin got %q, want the messages in order", got)
	}
}
