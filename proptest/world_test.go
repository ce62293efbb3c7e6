package proptest

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"pgregory.net/rapid"

	"github.com/troupe-dev/troupe/actors"
	"github.com/troupe-dev/troupe/audit"
	"github.com/troupe-dev/troupe/internal/browser"
	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/messages"
	"github.com/troupe-dev/troupe/tools"
)

// Commands of the fake agents: "cat" echoes (interactive); "slow" runs until the test
// finishes it, so that a per-message agent stays busy.
var (
	catSpec  = messages.AgentSpec{Command: "cat", Mode: interactive, Restart: "never"}
	slowSpec = messages.AgentSpec{Command: "slow", Mode: perMessage, Restart: "never"}
	// termSpec is "cat" on a terminal (its size is drawn): the fake echoes what is typed, as a
	// terminal does.
	termSpec = messages.AgentSpec{Command: "cat", Mode: terminal, Restart: "never"}
)

// settleTimeout bounds the wait for asynchronous work (children starting, expiries) to finish;
// it only turns a hang into a failure, nothing is timed.
const settleTimeout = 20 * time.Second

// tb is what the world needs of a test: *rapid.T in the state machine, *testing.T in the
// regression scripts.
type tb = rapid.TB

// cleanupTB is a tb that also takes cleanups.
type cleanupTB interface {
	tb
	Cleanup(func())
}

// world is the real tree under test with its fakes, kept across restarts.
type world struct {
	dir     string
	clock   *testutil.Clock
	store   *store.Memory
	procs   *process.Fake
	browser *browser.Fake
	log     *audit.Log
	opts    actors.Options
	sys     *actors.System
	m       *model
	// lastSeq is the audit seq of the last step marker: the events after it are the current
	// action's.
	lastSeq uint64
	tail    *auditTail
	step    int
	action  string
	done    bool
}

func newWorld(t cleanupTB) *world {
	dir, err := os.MkdirTemp(tempBase(), "troupe-proptest-")
	if err != nil {
		t.Fatal(err)
	}
	w := &world{dir: dir, clock: testutil.NewClock(),
		store: store.NewMemory(), procs: process.NewFake(), browser: browser.NewFake(browser.Policy{})}
	w.m = newModel(w.clock.Now())
	w.procs.Behave("slow", process.FakeBehavior{Linger: true, Silent: true})
	// Small segments, so that the chain is verified across rotations too.
	w.log, err = audit.Open(dir, audit.Options{Now: w.clock.Now, RecordDelay: time.Millisecond, SegmentSize: 16 << 10})
	if err != nil {
		_ = os.RemoveAll(dir)
		t.Fatal(err)
	}
	w.tail = &auditTail{dir: w.log.Dir(), seg: 1}
	w.opts = actors.Options{Store: w.store, Logger: zerolog.Nop(), Clock: w.clock,
		MaxSessions: maxSessions, MaxChildren: maxChildren, MaxStateBytes: maxStateBytes,
		IdleTimeout: idleTimeout, SnapshotRetention: retention,
		Events:    tools.EventSink{Log: w.log},
		Processes: w.procs, Browser: w.browser, DataDir: dir,
		AgentStopGrace: 10 * time.Millisecond, RestartBackoff: time.Millisecond,
		PageTimeout: 10 * time.Second, PageCloseTimeout: 5 * time.Second}
	t.Cleanup(func() {
		w.teardown()
		_ = os.RemoveAll(dir)
	})
	w.start(t)
	w.marker(t, "start")
	return w
}

// tempBase is where runs keep their files: a memory file system when there is one, because
// every run opens an audit log and every step fsyncs it (about three times faster on tmpfs,
// which is what lets rapid shrink a failure to a few steps within its time limit).
var tempBase = sync.OnceValue(func() string {
	if f, err := os.CreateTemp("/dev/shm", "troupe-proptest-probe-"); err == nil {
		f.Close()
		os.Remove(f.Name())
		return "/dev/shm"
	}
	return os.TempDir()
})

func (w *world) start(t tb) {
	sys, err := actors.Start(w.opts)
	if err != nil {
		w.fatalf(t, "actors.Start: %v", err)
	}
	w.sys = sys
}

func (w *world) shutdown() error {
	if w.sys == nil {
		return nil
	}
	err := w.sys.Shutdown(context.Background())
	w.sys = nil
	return err
}

// teardown releases everything but the files: processes that would never stop are killed
// first, so that no goroutine waits for them. It runs once, at the end of a run (before the
// closed audit log is checked) or after a failure.
func (w *world) teardown() {
	if w.done {
		return
	}
	w.done = true
	for _, p := range w.procs.Running() {
		p.Die("SIGKILL")
	}
	_ = w.shutdown()
	for _, p := range w.procs.Running() {
		p.Die("SIGKILL")
	}
	_ = w.log.Close()
	_ = w.browser.Close()
}

// ask sends msg to the tree and returns the reply.
func (w *world) ask(t tb, msg any) any {
	t.Helper()
	res, err := w.sys.Request(context.Background(), msg, settleTimeout)
	if err != nil {
		w.fatalf(t, "Request(%T): %v", msg, err)
	}
	return res
}

func (w *world) get(t tb, id string) testutil.SessionReply {
	t.Helper()
	return testutil.AsSession(w.ask(t, &messages.GetSession{SessionID: id}))
}

func (w *world) list(t tb) []messages.SessionSummary {
	t.Helper()
	r := testutil.AsListSessions(w.ask(t, &messages.ListSessions{}))
	if r.Err != nil {
		w.fatalf(t, "list_sessions: %v", r.Err)
	}
	return r.Sessions
}

// poll asks cond again until it holds; describe says what was last seen when it never does.
// Each try is a round trip through the tree, so the tree makes progress in between.
func (w *world) poll(t tb, what string, cond func() bool, describe func() string) {
	t.Helper()
	deadline := time.Now().Add(settleTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			w.fatalf(t, "%s never happened: %s", what, describe())
		}
		runtime.Gosched()
	}
}

// process finds the fake process with pid.
func (w *world) process(t tb, pid int) *process.FakeProcess {
	t.Helper()
	for _, p := range w.procs.Processes() {
		if p.PID() == pid {
			return p
		}
	}
	w.fatalf(t, "no fake process has pid %d", pid)
	return nil
}

// childInfo is what get_session shows of one child of a live session.
func (w *world) childInfo(t tb, sessionID, name string) messages.ChildInfo {
	t.Helper()
	r := w.get(t, sessionID)
	if r.Err != nil {
		w.fatalf(t, "get_session %s: %v", sessionID, r.Err)
	}
	for _, c := range r.Session.Children {
		if c.Name == name {
			return c
		}
	}
	w.fatalf(t, "session %s has no child %s: %+v", sessionID, name, r.Session.Children)
	return messages.ChildInfo{}
}

func wantCode(t tb, w *world, what string, err *messages.Error, want messages.Code) {
	t.Helper()
	var got messages.Code
	if err != nil {
		got = err.Code
	}
	if got != want {
		msg := ""
		if err != nil {
			msg = err.Message
		}
		w.fatalf(t, "%s: code %q (%s), want %q", what, got, msg, orOK(want))
	}
}

func orOK(c messages.Code) string {
	if c == "" {
		return "ok"
	}
	return string(c)
}

// fatalf fails the run. The details go to the log; the failure itself names the action and the
// kind of mismatch only (the format, verbs left out), so that rapid, which shrinks a failing run
// while its error stays the same, can shrink across runs whose details differ.
func (w *world) fatalf(t tb, format string, args ...any) {
	t.Helper()
	t.Logf("step %d (%s): %s", w.step, w.action, fmt.Sprintf(format, args...))
	t.Fatalf("%s: %s (details in the line above)", w.action, verb.ReplaceAllString(format, "…"))
}

// verb matches a formatting verb.
var verb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]`)
