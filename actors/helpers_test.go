package actors

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/messages"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, testutil.LeakOptions()...)
}

type harness struct {
	t     *testing.T
	sys   *System
	store *store.Memory
	clock *testutil.Clock
	procs *process.Fake
	opts  Options
}

func newHarness(t *testing.T, mod func(*Options)) *harness {
	t.Helper()
	h := &harness{t: t, store: store.NewMemory(), clock: testutil.NewClock(), procs: process.NewFake()}
	h.opts = Options{Store: h.store, Clock: h.clock, Logger: zerolog.Nop(), MaxSessions: 10, IdleTimeout: time.Hour,
		Processes: h.procs, DataDir: t.TempDir(), RestartBackoff: time.Millisecond, AgentStopGrace: 50 * time.Millisecond}
	if mod != nil {
		mod(&h.opts)
	}
	h.start()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) start() {
	h.t.Helper()
	sys, err := Start(h.opts)
	if err != nil {
		h.t.Fatalf("Start: %v", err)
	}
	h.sys = sys
}

func (h *harness) stop() {
	if h.sys != nil {
		_ = h.sys.Shutdown(context.Background())
		h.sys = nil
	}
}

// restart simulates a server restart on the same store.
func (h *harness) restart() {
	h.stop()
	h.start()
}

func (h *harness) ask(msg any) any {
	h.t.Helper()
	res, err := h.sys.Request(context.Background(), msg, 5*time.Second)
	if err != nil {
		h.t.Fatalf("Request(%T): %v", msg, err)
	}
	return res
}

func (h *harness) create(msg *messages.CreateSession) testutil.SessionReply {
	h.t.Helper()
	return testutil.AsSession(h.ask(msg))
}

func (h *harness) mustCreate(id string) *messages.SessionInfo {
	h.t.Helper()
	r := h.create(&messages.CreateSession{SessionID: id})
	if r.Err != nil {
		h.t.Fatalf("create %q: %v", id, r.Err)
	}
	return r.Session
}

func (h *harness) get(id string) testutil.SessionReply {
	h.t.Helper()
	return testutil.AsSession(h.ask(&messages.GetSession{SessionID: id}))
}

func wantCode(t *testing.T, err *messages.Error, code messages.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want code %s", code)
	}
	if err.Code != code {
		t.Fatalf("err = %s (%s), want code %s", err.Code, err.Message, code)
	}
}
