package actors

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/bench"
	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/internal/workspace"
	"github.com/troupe-dev/troupe/messages"
)

// slowGitRepo makes a git repository whose `git add` of its one untracked file takes at least
// delay: a clean filter that sleeps, run by the real git process that preservation starts.
func slowGitRepo(tb testing.TB, delay time.Duration) string {
	tb.Helper()
	dir := tb.TempDir()
	git := func(args ...string) {
		tb.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			tb.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	git("init", "-q")
	git("config", "filter.slow.clean", fmt.Sprintf("sleep %g; cat", delay.Seconds()))
	if err := os.WriteFile(filepath.Join(dir, ".gitattributes"), []byte("*.slow filter=slow\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "work.slow"), []byte("uncommitted work\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// BenchmarkGetSessionDuringDelete measures get_session on one session while another session's
// delete preserves a workspace whose `git add` takes 2 s: a slow disk or a big tree under one
// session must not stall the calls on the others.
func BenchmarkGetSessionDuringDelete(b *testing.B) {
	repo := slowGitRepo(b, 2*time.Second)
	sys := startBenchSystem(b, Options{Processes: process.NewFake(), PrepareWorkspace: func(_, requested string) (string, bool, error) {
		return requested, false, nil
	}})
	ask := func(msg any) any {
		res, err := sys.Request(context.Background(), msg, time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		return res
	}
	for b.Loop() {
		ask(&messages.CreateSession{SessionID: "other"})
		ask(&messages.CreateSession{SessionID: "victim", Workspace: repo})
		if r := testutil.AsAgent(ask(&messages.CreateAgent{SessionID: "victim", Name: "cat", Spec: messages.AgentSpec{Command: "cat", Mode: "interactive", Restart: "never"}})); r.Err != nil {
			b.Fatal(r.Err)
		}
		done := make(chan testutil.DeleteSessionReply, 1)
		start := time.Now()
		go func() {
			res, err := sys.Request(context.Background(), &messages.DeleteSession{SessionID: "victim", PreserveWork: true}, time.Minute)
			if err != nil {
				res = messages.Errorf(messages.CodeInternal, "%v", err)
			}
			done <- testutil.AsDeleteSession(res)
		}()
		var ds []time.Duration
		var res testutil.DeleteSessionReply
		for finished := false; !finished; {
			t := time.Now()
			if r := testutil.AsSession(ask(&messages.GetSession{SessionID: "other"})); r.Err != nil {
				b.Fatal(r.Err)
			}
			ds = append(ds, time.Since(t))
			select {
			case res = <-done:
				finished = true
			case <-time.After(10 * time.Millisecond):
			}
		}
		if res.Err != nil || res.Preserved == nil || res.Preserved.Kind != workspace.KindGitRef {
			b.Fatalf("delete: %v, preserved %+v", res.Err, res.Preserved)
		}
		if took := time.Since(start); took < 2*time.Second {
			b.Fatalf("the delete took %s: the slow git add did not run", took)
		}
		ask(&messages.DeleteSession{SessionID: "other"})
		bench.ReportRounded("get_session_p99_during_delete_ms", bench.Millis(bench.Percentile(ds, 99)), 1, "ms")
	}
}
