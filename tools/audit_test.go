package tools

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/actors"
	"github.com/troupe-dev/troupe/audit"
	"github.com/troupe-dev/troupe/internal/config"
	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/internal/testutil"
)

// syncFailer is a segment file whose fsync fails while fail is set.
type syncFailer struct {
	*os.File
	fail *atomic.Bool
}

func (f syncFailer) Sync() error {
	if f.fail.Load() {
		return syscall.EIO
	}
	return f.File.Sync()
}

// auditedClient starts an actor tree (fake processes), an audit log in dir and an in-process
// client whose calls are audited.
func auditedClient(t *testing.T, dir string, failSync *atomic.Bool) (*client.Client, *audit.Log) {
	t.Helper()
	opts := audit.Options{}
	if failSync != nil {
		opts.WrapFile = func(f *os.File) audit.File { return syncFailer{File: f, fail: failSync} }
	}
	log, err := audit.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	sys, err := actors.Start(actors.Options{Store: store.NewMemory(), Logger: zerolog.Nop(), Processes: process.NewFake(),
		DataDir: dir, Events: EventSink{Log: log}})
	if err != nil {
		t.Fatal(err)
	}
	presets := config.BuiltinPresets()
	presets["cat-env"] = config.Preset{Command: "cat", Mode: "interactive", Restart: "never", AllowEnv: []string{"*"}}
	srv := NewServer(Deps{Actors: sys, Timeout: 5 * time.Second, Logger: zerolog.Nop(), Audit: log, Transport: "test",
		Presets: presets}, "test")
	c := connect(t, srv, "audit-test-client")
	t.Cleanup(func() {
		c.Close()
		sys.Shutdown(context.Background())
		log.Close()
	})
	return c, log
}

func TestEveryCallIsAuditedWithTheClient(t *testing.T) {
	dir := t.TempDir()
	c, log := auditedClient(t, dir, nil)
	mustOK(t, call(t, c, "create_session", `{"session_id":"au"}`))
	mustOK(t, call(t, c, "get_session", `{"session_id":"au"}`))
	mustFail(t, call(t, c, "get_session", `{"session_id":"nobody"}`))
	mustOK(t, call(t, c, "delete_session", `{"session_id":"au"}`))
	waitUntil(t, func() bool {
		evs, _ := audit.Query(log.Dir(), audit.Filter{Session: "au"})
		return len(evs) >= 6
	})
	evs, err := audit.Query(log.Dir(), audit.Filter{Session: "au"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, e.Action+"/"+e.Stage+"/"+e.Outcome)
		if e.Stage != "" && (e.Actor == nil || e.Actor.ClientName != "audit-test-client" || e.Actor.ClientVersion != "9.9" || e.Actor.Transport != "test") {
			t.Errorf("event %s lacks the client identity: %+v", e.Action, e.Actor)
		}
	}
	// The session's own events (snapshot, deleted) interleave with the call's closing event.
	want := "session.create/requested/ session.create/completed/ok session.get/requested/ session.get/completed/ok session.delete/requested/ session.delete/completed/ok session.deleted//ok session.snapshot//ok"
	if len(got) > 4 {
		sort.Strings(got[4:])
	}
	wantSorted := strings.Fields(want)
	sort.Strings(wantSorted[4:])
	if strings.Join(got, " ") != strings.Join(wantSorted, " ") {
		t.Fatalf("events:\n got %s\nwant %s", strings.Join(got, " "), strings.Join(wantSorted, " "))
	}
	failed, _ := audit.Query(log.Dir(), audit.Filter{Session: "nobody"})
	if len(failed) != 2 || failed[1].Stage != audit.StageFailed || failed[1].Outcome != audit.OutcomeError {
		t.Fatalf("a refused call should end failed/error: %+v", failed)
	}
	// The audit_query tool and the resource show the same log.
	q := mustOK(t, call(t, c, "audit_query", `{"session_id":"au","action":"session.*","since":"1h"}`))
	if n := len(q["events"].([]any)); n < 6 {
		t.Fatalf("audit_query returned %d events", n)
	}
	mustFail(t, call(t, c, "audit_query", `{"since":"yesterday"}`), "duration")
	mustFail(t, call(t, c, "audit_query", `{"limit":5000}`), "between 1 and 1000")
	rr := mcp.ReadResourceRequest{}
	rr.Params.URI = RecentEventsURI
	res, err := c.ReadResource(context.Background(), rr)
	if err != nil || len(res.Contents) != 1 || !strings.Contains(res.Contents[0].(mcp.TextResourceContents).Text, "session.create") {
		t.Fatalf("resource: %v %+v", err, res)
	}
	if rep, err := audit.Verify(log.Dir()); err != nil || !rep.OK {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

func TestMutatingCallsFailClosedReadsGoOn(t *testing.T) {
	dir := t.TempDir()
	var fail atomic.Bool
	c, _ := auditedClient(t, dir, &fail)
	mustOK(t, call(t, c, "create_session", `{"session_id":"before"}`))
	fail.Store(true)
	mustFail(t, call(t, c, "create_session", `{"session_id":"after"}`), "audit log could not record this call, so it was not run")
	fail.Store(false)
	// Read-only calls keep answering; the mutation did not happen.
	mustFail(t, call(t, c, "get_session", `{"session_id":"after"}`), "no session")
	mustOK(t, call(t, c, "get_session", `{"session_id":"before"}`))
	// The log stays closed until a restart: mutations keep being refused.
	mustFail(t, call(t, c, "update_session_state", `{"session_id":"before","set":{"a":1}}`), "not run")
	if st := mustOK(t, call(t, c, "get_session", `{"session_id":"before"}`))["state"].(map[string]any); len(st) != 0 {
		t.Fatalf("state changed by a refused call: %v", st)
	}
}

func TestSecretsAreNotInTheAuditLog(t *testing.T) {
	dir := t.TempDir()
	c, log := auditedClient(t, dir, nil)
	mustOK(t, call(t, c, "create_session", `{"session_id":"sec","cookies":[{"name":"sid","value":"cookie-secret-value-1","domain":"example.test"}]}`))
	mustOK(t, call(t, c, "create_agent", `{"session_id":"sec","preset":"cat-env","env":{"API_TOKEN":"token-secret-value-2","DB_PASSWORD":"pw-secret-value-3","PLAIN":"visible-value"}}`))
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.Contains(path, string(filepath.Separator)+audit.DirName+string(filepath.Separator)) {
			data, _ := os.ReadFile(path)
			all.Write(data)
		}
		return nil
	})
	for _, secret := range []string{"cookie-secret-value-1", "token-secret-value-2", "pw-secret-value-3"} {
		if strings.Contains(all.String(), secret) {
			t.Errorf("secret %q is in the audit log in clear", secret)
		}
	}
	if !strings.Contains(all.String(), "visible-value") || !strings.Contains(all.String(), "hmac-sha256:") {
		t.Fatal("the audit log should keep plain values and show secrets as HMACs")
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, 5*time.Second, "condition", cond)
}

func TestAuditQueryChangesOnly(t *testing.T) {
	c, _ := auditedClient(t, t.TempDir(), nil)
	mustOK(t, call(t, c, "create_session", `{"session_id":"ch"}`))
	for i := 0; i < 3; i++ {
		mustOK(t, call(t, c, "get_session", `{"session_id":"ch"}`))
	}
	mustOK(t, call(t, c, "update_session_state", `{"session_id":"ch","set":{"k":1}}`))
	actions := func(args string) string {
		var got []string
		for _, e := range mustOK(t, call(t, c, "audit_query", args))["events"].([]any) {
			m := e.(map[string]any)
			got = append(got, m["action"].(string)+"/"+fmt.Sprint(m["stage"]))
		}
		return strings.Join(got, " ")
	}
	var all, changes string
	waitUntil(t, func() bool {
		all = actions(`{"session_id":"ch"}`)
		return strings.Count(all, "session.get/") == 6 && strings.Contains(all, "session_state.update/completed")
	})
	changes = actions(`{"session_id":"ch","changes_only":true}`)
	if strings.Contains(changes, "session.get") || !strings.Contains(changes, "session.create/requested") ||
		!strings.Contains(changes, "session_state.update/completed") {
		t.Fatalf("changes_only: %s (all: %s)", changes, all)
	}
	mustFail(t, call(t, c, "audit_query", `{"changes_only":"yes"}`))
}
