package actors

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/internal/workspace"
	"github.com/troupe-dev/troupe/messages"
)

func (h *harness) del(msg *messages.DeleteSession) testutil.DeleteSessionReply {
	h.t.Helper()
	if msg.Reason == "" {
		msg.Reason = "deleted"
	}
	return testutil.AsDeleteSession(h.ask(msg))
}

// sessionWithAgents creates session id with n cat agents a1..an, in that order.
func (h *harness) sessionWithAgents(id string, n int) {
	h.t.Helper()
	h.mustCreate(id)
	for i := 1; i <= n; i++ {
		h.mustAgent(id, fmt.Sprintf("a%d", i), catSpec)
	}
}

func TestDeleteStopsChildrenNewestFirst(t *testing.T) {
	var mu sync.Mutex
	var steps []string
	h := newHarness(t, func(o *Options) {
		o.Progress = func(id string, done, total int, m string) {
			mu.Lock()
			defer mu.Unlock()
			if id == "call-1" {
				steps = append(steps, fmt.Sprintf("%d/%d %s", done, total, m))
			}
		}
	})
	h.sessionWithAgents("s", 4)
	res := h.del(&messages.DeleteSession{SessionID: "s", PreserveWork: true, ProgressID: "call-1"})
	mu.Lock()
	defer mu.Unlock()
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if got := strings.Join(res.Stopped, " "); got != "s/a4 s/a3 s/a2 s/a1" {
		t.Fatalf("stop order = %s, want newest first", got)
	}
	if len(steps) != 7 || !strings.HasPrefix(steps[0], "1/7 snapshot") || !strings.HasPrefix(steps[6], "7/7") {
		t.Fatalf("progress = %q, want 7 steps", steps)
	}
	for _, p := range h.procs.Processes() {
		if p.StopCalls() == 0 {
			t.Fatalf("process %d was not stopped", p.PID())
		}
	}
	snaps := testutil.AsListSnapshots(h.ask(&messages.ListSnapshots{SessionID: "s"}))
	if len(snaps.Snapshots) != 1 || snaps.Snapshots[0].SnapshotID != res.SnapshotID || len(snaps.Snapshots[0].Children) != 4 {
		t.Fatalf("snapshots = %+v", snaps)
	}
}

func TestDeleteDryRunChangesNothing(t *testing.T) {
	h := newHarness(t, nil)
	h.sessionWithAgents("s", 2)
	res := h.del(&messages.DeleteSession{SessionID: "s", DryRun: true, PreserveWork: true})
	if res.Err != nil || strings.Join(res.Plan, " ") != "s/a2 s/a1" || res.Preserved == nil {
		t.Fatalf("dry run = %+v", res)
	}
	kids := h.get("s").Session.Children
	if len(kids) != 2 || kids[0].Status != messages.AgentRunning || kids[1].Status != messages.AgentRunning {
		t.Fatalf("children after a dry run = %+v", kids)
	}
	if snaps := testutil.AsListSnapshots(h.ask(&messages.ListSnapshots{})); len(snaps.Snapshots) != 0 {
		t.Fatalf("a dry run wrote snapshots: %+v", snaps.Snapshots)
	}
}

func TestDeleteRefusesBusyChildrenUnlessForced(t *testing.T) {
	h := newHarness(t, nil)
	h.procs.Behave("slow", process.FakeBehavior{Linger: true, Silent: true})
	h.mustCreate("s")
	h.mustAgent("s", "idle", catSpec)
	h.mustAgent("s", "worker", messages.AgentSpec{Command: "slow", Mode: "per-message", Restart: "never"})
	h.send("s/worker", "job", 0)
	waitFor(t, func() bool { return h.get("s").Session.Children[1].Busy })
	res := h.del(&messages.DeleteSession{SessionID: "s"})
	wantCode(t, res.Err, messages.CodeBusy)
	if !strings.Contains(res.Err.Message, "s/worker") || strings.Contains(res.Err.Message, "s/idle") {
		t.Fatalf("refusal %q should name the busy child only", res.Err.Message)
	}
	if h.get("s").Err != nil {
		t.Fatal("the refused delete changed the session")
	}
	res = h.del(&messages.DeleteSession{SessionID: "s", Force: true})
	if res.Err != nil || strings.Join(res.Stopped, " ") != "s/worker s/idle" {
		t.Fatalf("forced delete = %+v", res)
	}
}

func TestRollbackAfterAStopFailure(t *testing.T) {
	h := newHarness(t, nil)
	h.procs.Behave("stuck", process.FakeBehavior{Stop: process.StopNever})
	h.mustCreate("s")
	h.ask(&messages.UpdateSessionState{SessionID: "s", Set: map[string]json.RawMessage{"k": json.RawMessage(`"v"`)}})
	h.mustAgent("s", "a1", catSpec)
	h.mustAgent("s", "stuck", messages.AgentSpec{Command: "stuck", Mode: "interactive", Restart: "never"})
	h.mustAgent("s", "a3", catSpec)
	h.mustAgent("s", "a4", catSpec)
	res := h.del(&messages.DeleteSession{SessionID: "s"})
	wantCode(t, res.Err, messages.CodeRolledBack)
	// The error is the whole answer: it says what failed, what had stopped and came back.
	for _, want := range []string{"s/stuck did not stop", "s/a4, s/a3 stopped first and were re-created"} {
		if !strings.Contains(res.Err.Message, want) {
			t.Fatalf("rollback answer %q does not say %q", res.Err.Message, want)
		}
	}
	var kids []messages.ChildInfo
	waitFor(t, func() bool {
		r := h.get("s")
		if r.Err != nil {
			return false
		}
		kids = r.Session.Children
		for _, k := range kids {
			if k.Status != messages.AgentRunning {
				return false
			}
		}
		return len(kids) == 4
	}, func() string { return fmt.Sprintf("%+v", kids) })
	var order []string
	for _, k := range kids {
		order = append(order, k.ID)
	}
	if strings.Join(order, " ") != "s/a1 s/stuck s/a3 s/a4" {
		t.Fatalf("children after rollback = %v, want the creation order back", order)
	}
	if st := h.get("s").Session.State; string(st["k"]) != `"v"` {
		t.Fatalf("state after rollback = %v", st)
	}
	m := testutil.AsSessionMetrics(h.ask(&messages.SessionMetrics{}))
	if m.Rollbacks != 1 {
		t.Fatalf("rollbacks = %d, want 1", m.Rollbacks)
	}
	// With force the failure is recorded and the cascade goes on.
	res = h.del(&messages.DeleteSession{SessionID: "s", Force: true})
	if res.Err != nil || len(res.Failures) != 1 || len(res.Stopped) != 3 {
		t.Fatalf("forced delete = %+v", res)
	}
	for _, p := range h.procs.Running() {
		p.Die("SIGKILL") // the stuck process, which no stop could end
	}
}

func TestRestoreAfterDeleteAndAfterExpiry(t *testing.T) {
	h := newHarness(t, nil)
	h.sessionWithAgents("s", 2)
	h.ask(&messages.UpdateSessionState{SessionID: "s", Set: map[string]json.RawMessage{"k": json.RawMessage(`1`)}})
	h.send("s/a1", "kept output", 5)
	res := h.del(&messages.DeleteSession{SessionID: "s"})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	r := testutil.AsSession(h.ask(&messages.RestoreSession{SnapshotID: res.SnapshotID}))
	if r.Err != nil || r.Session.SessionID != "s" || string(r.Session.State["k"]) != "1" {
		t.Fatalf("restore = %+v %v", r.Session, r.Err)
	}
	waitFor(t, func() bool {
		k := h.get("s").Session.Children
		return len(k) == 2 && k[0].ID == "s/a1" && k[1].ID == "s/a2" && k[0].Status == messages.AgentRunning && k[1].Status == messages.AgentRunning
	})
	if out := h.read("s/a1", 0, 0); !strings.Contains(joined(out), "kept output") {
		t.Fatalf("output after restore = %q", joined(out))
	}
	// The id is taken now: restoring again needs another id.
	wantCode(t, testutil.AsSession(h.ask(&messages.RestoreSession{SnapshotID: res.SnapshotID})).Err, messages.CodeAlreadyExists)
	other := testutil.AsSession(h.ask(&messages.RestoreSession{SnapshotID: res.SnapshotID, SessionID: "copy"}))
	if other.Err != nil || other.Session.Children[0].ID != "copy/a1" {
		t.Fatalf("restore under another id = %+v %v", other.Session, other.Err)
	}
	// After an expiry.
	h.clock.Advance(2 * time.Hour)
	h.ask(&messages.SweepIdle{})
	waitFor(t, func() bool { r := h.get("copy"); return r.Err != nil && r.Err.Code == messages.CodeExpired })
	msg := h.get("copy").Err.Message
	snap := msg[strings.Index(msg, "snap-"):]
	snap = snap[:strings.IndexByte(snap, '"')]
	if r := testutil.AsSession(h.ask(&messages.RestoreSession{SnapshotID: snap})); r.Err != nil {
		t.Fatalf("restore after expiry: %v", r.Err)
	}
	wantCode(t, testutil.AsSession(h.ask(&messages.RestoreSession{SnapshotID: "snap-nope"})).Err, messages.CodeNotFound)
}

func TestDeleteArchivesAnOwnedWorkspaceAndRestoreUnpacksIt(t *testing.T) {
	h := newHarness(t, func(o *Options) {
		o.PrepareWorkspace = func(id, requested string) (string, bool, error) {
			p, err := workspace.Create(o.DataDir, id)
			return p, true, err
		}
	})
	ws := h.mustCreate("w").Workspace
	if err := os.WriteFile(filepath.Join(ws, "notes.txt"), []byte("unsaved work"), 0o600); err != nil {
		t.Fatal(err)
	}
	res := h.del(&messages.DeleteSession{SessionID: "w", PreserveWork: true})
	if res.Err != nil || res.Preserved.Kind != workspace.KindArchive || res.Preserved.Archive == "" {
		t.Fatalf("delete = %+v %+v", res, res.Preserved)
	}
	if _, err := os.Stat(ws); !os.IsNotExist(err) {
		t.Fatalf("the archived workspace is still there: %v", err)
	}
	r := testutil.AsSession(h.ask(&messages.RestoreSession{SnapshotID: res.SnapshotID}))
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	data, err := os.ReadFile(filepath.Join(r.Session.Workspace, "notes.txt"))
	if err != nil || string(data) != "unsaved work" {
		t.Fatalf("restored workspace: %q, %v", data, err)
	}
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestDeletePreservesUncommittedWorkInAUsersRepository(t *testing.T) {
	repo := t.TempDir()
	git(t, repo, "init", "-q")
	os.WriteFile(filepath.Join(repo, "tracked.txt"), []byte("v1"), 0o600)
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-qm", "first")
	h := newHarness(t, func(o *Options) {
		o.PrepareWorkspace = func(id, requested string) (string, bool, error) { return requested, false, nil }
	})
	h.create(&messages.CreateSession{SessionID: "g", Workspace: repo})
	os.WriteFile(filepath.Join(repo, "tracked.txt"), []byte("v2, unsaved"), 0o600)
	os.WriteFile(filepath.Join(repo, "new.txt"), []byte("untracked"), 0o600)
	before := git(t, repo, "status", "--porcelain")
	res := h.del(&messages.DeleteSession{SessionID: "g", PreserveWork: true})
	if res.Err != nil || res.Preserved.Kind != workspace.KindGitRef || !strings.HasPrefix(res.Preserved.Ref, "refs/troupe/preserved/g/"+res.SnapshotID) {
		t.Fatalf("delete = %+v, preserved %+v", res.Err, res.Preserved)
	}
	if got := git(t, repo, "show", res.Preserved.Ref+":tracked.txt"); got != "v2, unsaved" {
		t.Fatalf("preserved tracked.txt = %q", got)
	}
	if got := git(t, repo, "show", res.Preserved.Ref+":new.txt"); got != "untracked" {
		t.Fatalf("preserved new.txt = %q", got)
	}
	if after := git(t, repo, "status", "--porcelain"); after != before {
		t.Fatalf("the working tree changed: %q → %q", before, after)
	}
	if _, err := os.Stat(filepath.Join(repo, "new.txt")); err != nil {
		t.Fatal("a user's workspace lost a file")
	}
}

func TestDeleteMixedChildrenNewestFirstAndRestoreOldestFirst(t *testing.T) {
	h, fake := pageHarness(t, nil)
	h.mustCreate("m")
	h.mustAgent("m", "a1", catSpec)
	h.mustPage("m", "p1", homeURL)
	h.mustAgent("m", "a2", catSpec)
	h.mustPage("m", "p2", loginURL)
	res := h.del(&messages.DeleteSession{SessionID: "m"})
	if res.Err != nil || strings.Join(res.Stopped, " ") != "m/p2 m/a2 m/p1 m/a1" {
		t.Fatalf("delete = %+v, want pages and agents stopped newest first", res)
	}
	if n := fake.Pages(); n != 0 {
		t.Fatalf("%d tabs left open after the delete", n)
	}
	r := testutil.AsSession(h.ask(&messages.RestoreSession{SnapshotID: res.SnapshotID}))
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	var kids []messages.ChildInfo
	waitFor(t, func() bool {
		kids = h.get("m").Session.Children
		for _, k := range kids {
			if k.Status != messages.AgentRunning && k.Status != messages.PageOpen {
				return false
			}
		}
		return len(kids) == 4
	}, func() string { return fmt.Sprintf("%+v", kids) })
	var order []string
	for _, k := range kids {
		order = append(order, k.ID)
	}
	if strings.Join(order, " ") != "m/a1 m/p1 m/a2 m/p2" || kids[3].URL != loginURL {
		t.Fatalf("restored children = %v (%+v), want the creation order with pages at their URLs", order, kids[3])
	}
}

func TestRollbackBringsPagesBack(t *testing.T) {
	h, _ := pageHarness(t, nil)
	h.procs.Behave("stuck", process.FakeBehavior{Stop: process.StopNever})
	h.mustCreate("r")
	h.mustAgent("r", "stuck", messages.AgentSpec{Command: "stuck", Mode: "interactive", Restart: "never"})
	h.mustPage("r", "p", loginURL)
	res := h.del(&messages.DeleteSession{SessionID: "r"})
	wantCode(t, res.Err, messages.CodeRolledBack)
	var kids []messages.ChildInfo
	waitFor(t, func() bool {
		kids = h.get("r").Session.Children
		return len(kids) == 2 && kids[1].ID == "r/p" && kids[1].Status == messages.PageOpen && kids[1].URL == loginURL
	}, func() string { return fmt.Sprintf("%+v", kids) })
	for _, p := range h.procs.Running() {
		p.Die("SIGKILL")
	}
}

// TestDeleteWhileAChildIsAlreadyStopping: a delete_session arriving while delete_agent is still
// stopping that agent waits for that stop instead of asking again (which failed and rolled back).
func TestDeleteWhileAChildIsAlreadyStopping(t *testing.T) {
	h := newHarness(t, nil)
	h.procs.Behave("slowstop", process.FakeBehavior{Stop: process.StopOnKill})
	h.mustCreate("s")
	h.mustAgent("s", "a1", catSpec)
	h.mustAgent("s", "slow", messages.AgentSpec{Command: "slowstop", Mode: "interactive", Restart: "never"})
	agent := h.sys.sys.Root.RequestFuture(h.sys.orchestrator, &messages.DeleteAgent{AgentID: "s/slow"}, 5*time.Second)
	sess := h.sys.sys.Root.RequestFuture(h.sys.orchestrator, &messages.DeleteSession{SessionID: "s", Reason: "deleted"}, 5*time.Second)
	ra, err := agent.Result()
	if err != nil || testutil.AsDeleteAgent(ra).Err != nil {
		t.Fatalf("delete_agent: %v %+v", err, ra)
	}
	rs, err := sess.Result()
	if err != nil {
		t.Fatal(err)
	}
	if r := testutil.AsDeleteSession(rs); r.Err != nil || strings.Join(r.Stopped, " ") != "s/slow s/a1" {
		t.Fatalf("delete_session = %+v, want both children stopped, newest first", r)
	}
}

// TestAFreshMessageMakesTheAgentRefuseAStopWithoutForce: the session's view of "busy" may lag;
// the agent itself refuses a stop without force while it handles a message, so a delete
// without force never kills a run.
func TestAFreshMessageMakesTheAgentRefuseAStopWithoutForce(t *testing.T) {
	h := newHarness(t, nil)
	h.procs.Behave("work", process.FakeBehavior{Linger: true, Silent: true})
	h.mustCreate("s")
	h.mustAgent("s", "w", messages.AgentSpec{Command: "work", Mode: "per-message", Restart: "never"})
	root := h.sys.sys.Root
	for i := range 20 {
		// The message and the delete are sent back to back, neither waiting for the other.
		sent := root.RequestFuture(h.sys.orchestrator, &messages.SendToAgent{AgentID: "s/w", Message: "job"}, 5*time.Second)
		res := h.del(&messages.DeleteSession{SessionID: "s"})
		if _, err := sent.Result(); err != nil {
			t.Fatal(err)
		}
		if res.Err == nil {
			t.Fatalf("round %d: a delete without force stopped a busy agent", i)
		}
		if res.Err.Code != messages.CodeBusy && res.Err.Code != messages.CodeRolledBack {
			t.Fatalf("round %d: %v, want a refusal or a rollback", i, res.Err)
		}
		for _, p := range h.procs.Running() {
			p.Finish(0)
		}
		waitFor(t, func() bool { k := h.get("s").Session.Children; return len(k) == 1 && !k[0].Busy })
	}
}

func TestSweepPrunesSnapshotsPastRetention(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.SnapshotRetention = 24 * time.Hour })
	h.mustCreate("old")
	first := h.del(&messages.DeleteSession{SessionID: "old"})
	h.clock.Advance(20 * time.Hour)
	h.mustCreate("new")
	second := h.del(&messages.DeleteSession{SessionID: "new"})
	h.clock.Advance(5 * time.Hour) // the first is 25 h old, the second 5 h
	h.ask(&messages.SweepIdle{})
	snaps := testutil.AsListSnapshots(h.ask(&messages.ListSnapshots{})).Snapshots
	if len(snaps) != 1 || snaps[0].SnapshotID != second.SnapshotID {
		t.Fatalf("snapshots after the sweep = %+v, want only %s (%s is past its retention)", snaps, second.SnapshotID, first.SnapshotID)
	}
	wantCode(t, testutil.AsSession(h.ask(&messages.RestoreSession{SnapshotID: first.SnapshotID})).Err, messages.CodeNotFound)
}
