package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"os/user"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/troupe-dev/troupe/internal/approval"
)

// approvalEnv makes delete_session and delete_agent wait for a person, at most 20 s per call.
var approvalEnv = []string{"TROUPE_REQUIRE_APPROVAL=delete_session,delete_agent", "TROUPE_MAX_WAIT_SECONDS=20"}

// troupeCLI runs the troupe binary with args on dir and returns its output and exit code.
func troupeCLI(t testing.TB, dir string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(troupeBinary(t), append([]string{"--data-dir", dir}, args...)...)
	cmd.Env = append(os.Environ(), e2eEnv(dir)...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("troupe %v: %v", args, err)
	}
	return string(out), code
}

// pendingApproval waits until `troupe approvals --json` lists exactly one call and returns it.
func pendingApproval(t *testing.T, dir string) approval.Request {
	t.Helper()
	var got []approval.Request
	eventually(t, 15*time.Second, "a call waiting for approval", func() bool {
		out, code := troupeCLI(t, dir, "approvals", "--json")
		if code != 0 {
			t.Fatalf("troupe approvals --json: exit %d: %s", code, out)
		}
		got = nil
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("troupe approvals --json printed %q: %v", out, err)
		}
		return len(got) == 1
	})
	return got[0]
}

// callInBackground makes a call whose answer comes later.
func callInBackground(s *troupeProc, tool string, args map[string]any) <-chan *mcp.CallToolResult {
	done := make(chan *mcp.CallToolResult, 1)
	go func() {
		req := mcp.CallToolRequest{}
		req.Params.Name, req.Params.Arguments = tool, args
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		r, err := s.c.CallTool(ctx, req)
		if err != nil {
			r = mcp.NewToolResultError("protocol error: " + err.Error())
		}
		done <- r
	}()
	return done
}

func answered(t *testing.T, done <-chan *mcp.CallToolResult) *mcp.CallToolResult {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("the waiting call did not answer after the decision")
		return nil
	}
}

// TestE2EApprovalByTheCLI: with require_approval, delete_session waits; troupe approve --deny
// leaves the session whole, troupe approve lets it run; troupe approve typed inside one of
// troupe's own agents is refused; the audit log names who decided.
func TestE2EApprovalByTheCLI(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, approvalEnv...)
	s.ok("create_session", map[string]any{"session_id": "ap"})
	s.ok("create_agent", map[string]any{"session_id": "ap", "preset": "bash", "name": "sh"})

	if out, code := troupeCLI(t, dir, "approvals"); code != 0 || !strings.Contains(out, "no call waits") {
		t.Fatalf("troupe approvals with none: %d %s", code, out)
	}

	// Denied while it waits: the call answers the refusal, the session keeps its agent.
	done := callInBackground(s, "delete_session", map[string]any{"session_id": "ap"})
	req := pendingApproval(t, dir)
	if req.Tool != "delete_session" || req.SessionID != "ap" || req.Principal != "local" || req.RequestedAt.IsZero() ||
		!strings.HasPrefix(req.ID, "apr_") || req.Arguments.(map[string]any)["session_id"] != "ap" {
		t.Fatalf("the pending approval: %+v", req)
	}
	if out, code := troupeCLI(t, dir, "approvals"); code != 0 || !strings.Contains(out, req.ID) || !strings.Contains(out, "delete_session") {
		t.Fatalf("troupe approvals: %d %s", code, out)
	}
	if out, code := troupeCLI(t, dir, "approve", "--deny", req.ID); code != 0 || !strings.Contains(out, "refused "+req.ID) {
		t.Fatalf("troupe approve --deny: %d %s", code, out)
	}
	r := answered(t, done)
	me, _ := user.Current()
	if !r.IsError || !strings.Contains(resultText(r), "refused by cli:"+me.Username) {
		t.Fatalf("the denied call answered %s", resultText(r))
	}
	got := s.ok("get_session", map[string]any{"session_id": "ap"})
	if n := len(got["children"].([]any)); n != 1 {
		t.Fatalf("after a refusal the session has %d children, want its agent", n)
	}
	if out, code := troupeCLI(t, dir, "approve", req.ID); code != 1 || !strings.Contains(out, "no approval") {
		t.Fatalf("deciding a used approval: %d %s", code, out)
	}

	// Typed inside troupe's own bash agent, troupe approve is refused: the model types there.
	done = callInBackground(s, "delete_session", map[string]any{"session_id": "ap"})
	req = pendingApproval(t, dir)
	line := troupeBinary(t) + " --data-dir " + dir + " approve " + req.ID + "; echo EXIT=$?"
	s.ok("send_keys", map[string]any{"agent_id": "ap/sh", "text": line, "keys": []string{"Enter"},
		"wait_for": "^EXIT=[0-9]", "wait_seconds": 15})
	var rows []string
	for _, l := range s.ok("read_agent_screen", map[string]any{"agent_id": "ap/sh"})["screen"].([]any) {
		rows = append(rows, l.(string))
	}
	screen := strings.Join(rows, "\n")
	if !strings.Contains(screen, "EXIT=1") || !strings.Contains(screen, "own agents") {
		t.Fatalf("troupe approve inside an agent:\n%s", screen)
	}
	if _, code := troupeCLI(t, dir, "approve", "nope"); code != 1 {
		t.Fatalf("an unknown id: exit %d", code)
	}

	// Approved while it waits: the delete runs.
	if out, code := troupeCLI(t, dir, "approve", req.ID); code != 0 || !strings.Contains(out, "approved "+req.ID) {
		t.Fatalf("troupe approve: %d %s", code, out)
	}
	r = answered(t, done)
	if r.IsError {
		t.Fatalf("the approved delete failed: %s", resultText(r))
	}
	if msg := s.fails("get_session", map[string]any{"session_id": "ap"}); !strings.Contains(msg, "was deleted") {
		t.Fatalf("after the approved delete: %s", msg)
	}

	q := s.ok("audit_query", map[string]any{"action": "approval.decide", "since": "1h"})
	var decisions []string
	for _, e := range q["events"].([]any) {
		ev := e.(map[string]any)
		decisions = append(decisions, ev["outcome"].(string)+" by "+ev["details"].(map[string]any)["approver"].(string))
	}
	want := "denied by cli:" + me.Username + ", approved by cli:" + me.Username
	if strings.Join(decisions, ", ") != want {
		t.Fatalf("the audit log's decisions: %v, want %s", decisions, want)
	}
}

// elicitingClient runs `troupe serve` with an MCP client that declares elicitation and answers
// it with answer(), speaking the protocol version given.
func elicitingClient(t *testing.T, dir, version string, answer func() *mcp.ElicitationResult) *client.Client {
	t.Helper()
	tr := transport.NewStdioWithOptions(troupeBinary(t), e2eEnv(dir, approvalEnv...), []string{"serve"})
	if err := tr.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := client.NewClient(tr, client.WithElicitationHandler(elicitAnswer(answer)))
	t.Cleanup(func() { stopDaemon(t, dir) })
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = version
	init.Params.ClientInfo = mcp.Implementation{Name: "person-at-the-desk", Version: "1"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	return c
}

type elicitAnswer func() *mcp.ElicitationResult

func (f elicitAnswer) Elicit(context.Context, mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	return f(), nil
}

// TestE2EApprovalByElicitation: a client that declares elicitation is asked, through the bridge,
// in both protocol eras (a multi-round-trip input request from 2026-07-28, elicitation/create
// before), and its answer decides.
func TestE2EApprovalByElicitation(t *testing.T) {
	for _, version := range []string{mcp.LATEST_PROTOCOL_VERSION, "2025-06-18"} {
		t.Run(version, func(t *testing.T) {
			dir := t.TempDir()
			var approve atomic.Bool
			var asked atomic.Int32
			c := elicitingClient(t, dir, version, func() *mcp.ElicitationResult {
				asked.Add(1)
				return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{
					Action: mcp.ElicitationResponseActionAccept, Content: map[string]any{"approve": approve.Load()}}}
			})
			s := &troupeProc{t: t, c: c, dir: dir}
			s.ok("create_session", map[string]any{"session_id": "el"})
			if msg := s.fails("delete_session", map[string]any{"session_id": "el"}); !strings.Contains(msg, "refused by elicitation:person-at-the-desk") {
				t.Fatalf("a no: %s", msg)
			}
			s.ok("get_session", map[string]any{"session_id": "el"})
			approve.Store(true)
			s.ok("delete_session", map[string]any{"session_id": "el"})
			if n := asked.Load(); n != 2 {
				t.Fatalf("the person was asked %d times, want 2", n)
			}
			q := s.ok("audit_query", map[string]any{"action": "approval.decide", "since": "1h"})
			if evs := q["events"].([]any); len(evs) != 2 ||
				evs[1].(map[string]any)["details"].(map[string]any)["approver"] != "elicitation:person-at-the-desk" {
				t.Fatalf("decisions in the audit log: %v", evs)
			}
			s.c = nil // closed by the cleanup
		})
	}
}
