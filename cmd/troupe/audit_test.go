package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/troupe-dev/troupe/audit"
)

// syncBuffer is a bytes.Buffer safe to read while a command writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// runAudit runs the CLI in-process with ctx and returns stdout, stderr and the exit code.
func runAudit(ctx context.Context, stdout, stderr *syncBuffer, args ...string) int {
	root := newRootCmd()
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	default:
		stderr.Write([]byte(err.Error()))
		return 1
	}
}

func auditCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb syncBuffer
	code := runAudit(context.Background(), &out, &errb, args...)
	return out.String(), errb.String(), code
}

// auditData writes a small audit log (audit.open, 4 events, audit.close) and returns the data dir.
func auditData(t *testing.T) string {
	t.Helper()
	data := t.TempDir()
	l, err := audit.Open(data, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	actor := &audit.Actor{Transport: "stdio", ClientName: "claude-ai", ClientVersion: "0.1.0"}
	for _, e := range []audit.Event{
		{Action: "session.create", Stage: audit.StageRequested, Session: "research", Actor: actor},
		{Action: "session.create", Stage: audit.StageCompleted, Session: "research", Outcome: "ok", DurationMS: 3.5, Actor: actor},
		{Action: "agent.create", Stage: audit.StageRequested, Session: "research", Target: "research/writer", Actor: actor,
			Details: map[string]any{"env": l.RedactEnv(map[string]string{"API_TOKEN": "hunter2"})}},
		{Action: "agent.create", Stage: audit.StageFailed, Session: "research", Target: "research/writer", Outcome: "error", Actor: actor,
			Principal: "ci-bot"},
	} {
		if _, err := l.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return data
}

func TestAuditVerify(t *testing.T) {
	defer goleak.VerifyNone(t)
	data := auditData(t)
	out, _, code := auditCLI(t, "audit", "verify", "--data-dir", data)
	if code != 0 || !strings.Contains(out, "intact: 6 events in 1 segments") {
		t.Fatalf("intact log: exit %d, output %q; want 0 and a summary", code, out)
	}

	seg := filepath.Join(data, audit.DirName, audit.SegmentName(1))
	b, _ := os.ReadFile(seg)
	os.WriteFile(seg, bytes.Replace(b, []byte(`"research/writer"`), []byte(`"research/reader"`), 1), 0o600)
	out, _, code = auditCLI(t, "audit", "verify", "--data-dir", data)
	if code != 1 || !strings.Contains(out, "audit-000001.jsonl line 4") || !strings.Contains(out, "edited") {
		t.Fatalf("edited log: exit %d, output %q; want 1 naming segment and line", code, out)
	}
	out, _, _ = auditCLI(t, "audit", "verify", "--json", "--data-dir", data)
	var r audit.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.OK || r.Line != 4 {
		t.Fatalf("--json: %q, %v; want a report naming line 4", out, err)
	}

	_, errOut, code := auditCLI(t, "audit", "verify", "--data-dir", t.TempDir())
	if code != 2 || !strings.Contains(errOut, "--data-dir") {
		t.Fatalf("no log: exit %d, stderr %q; want 2 and a hint about --data-dir", code, errOut)
	}
}

func TestAuditQuery(t *testing.T) {
	defer goleak.VerifyNone(t)
	data := auditData(t)
	out, _, code := auditCLI(t, "audit", "query", "--data-dir", data, "--session", "research", "--action", "agent.*")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "SEQ") ||
		!strings.Contains(lines[1], "research/writer") || !strings.Contains(lines[2], "failed") ||
		!strings.Contains(lines[1], "stdio claude-ai/0.1.0") {
		t.Fatalf("table: exit %d\n%s\nwant a header and the two agent.create rows", code, out)
	}
	if strings.Contains(out, "hunter2") {
		t.Fatal("a secret is shown in clear")
	}

	out, _, code = auditCLI(t, "audit", "query", "--data-dir", data, "--json", "--outcome", "ok", "--since", "1h")
	var evs []audit.Event
	for _, ln := range strings.Split(strings.TrimSpace(out), "\n") {
		var e audit.Event
		if err := json.Unmarshal([]byte(ln), &e); err != nil {
			t.Fatalf("--json line %q: %v", ln, err)
		}
		evs = append(evs, e)
	}
	if code != 0 || len(evs) != 3 || evs[1].Action != "session.create" || evs[1].DurationMS != 3.5 {
		t.Fatalf("--json --outcome ok: %d events %+v; want audit.open, session.create, audit.close", len(evs), evs)
	}

	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	out, errOut, code := auditCLI(t, "audit", "query", "--data-dir", data, "--since", future)
	if code != 0 || out != "" || !strings.Contains(errOut, "no matching events") {
		t.Fatalf("--since in the future: exit %d, out %q, err %q", code, out, errOut)
	}
	out, _, _ = auditCLI(t, "audit", "query", "--data-dir", data, "--limit", "1", "--json")
	if !strings.Contains(out, `"action":"audit.close"`) || strings.Count(out, "\n") != 1 {
		t.Fatalf("--limit 1: %q; want only the last event", out)
	}
	_, errOut, code = auditCLI(t, "audit", "query", "--data-dir", data, "--since", "yesterday")
	if code != 1 || !strings.Contains(errOut, "RFC 3339") {
		t.Fatalf("bad --since: exit %d, err %q; want 1 and the accepted forms", code, errOut)
	}
}

func TestAuditTail(t *testing.T) {
	defer goleak.VerifyNone(t)
	data := auditData(t)
	out, _, code := auditCLI(t, "audit", "tail", "-n", "2", "--json", "--data-dir", data)
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, `"seq":6`) {
		t.Fatalf("tail -n 2: exit %d, %q; want seq 5 and 6", code, out)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- runAudit(ctx, &stdout, &stderr, "audit", "tail", "-f", "-n", "1", "--data-dir", data) }()
	waitForOutput(t, &stdout, "audit.close")

	l, err := audit.Open(data, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(context.Background(), audit.Event{Action: "session.delete", Session: "followed"}); err != nil {
		t.Fatal(err)
	}
	waitForOutput(t, &stdout, "followed")
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("tail -f: exit %d, stderr %q", code, stderr.String())
	}
	l.Close()
	if out := stdout.String(); strings.Count(out, "SEQ") != 1 || !strings.Contains(out, "audit.close") {
		t.Fatalf("tail -f output:\n%s\nwant one header, the last old event, then the new ones", out)
	}
}

// waitForOutput polls until out contains want, failing after a generous deadline.
func waitForOutput(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("output never showed %q:\n%s", want, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAuditQueryByPrincipal(t *testing.T) {
	data := auditData(t)
	out, _, code := auditCLI(t, "audit", "query", "--data-dir", data, "--principal", "ci-bot", "--json")
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.Contains(out, `"principal":"ci-bot"`) {
		t.Fatalf("--principal ci-bot: exit %d, output %q; want exactly its one event", code, out)
	}
	out, _, _ = auditCLI(t, "audit", "query", "--data-dir", data, "--principal", "troupe")
	if !strings.Contains(out, "PRINCIPAL") || !strings.Contains(out, "audit.open") || strings.Contains(out, "ci-bot") {
		t.Fatalf("--principal troupe: output %q; want the table with troupe's events (audit.open) and not ci-bot's", out)
	}
}
