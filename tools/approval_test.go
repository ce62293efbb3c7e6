package tools

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/actors"
	"github.com/troupe-dev/troupe/audit"
	"github.com/troupe-dev/troupe/internal/approval"
	"github.com/troupe-dev/troupe/internal/config"
	"github.com/troupe-dev/troupe/internal/principal"
	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/messages"
)

// approvalServer is an audited server whose delete_session and delete_agent wait for a person,
// at most wait; elicit, when set, is the client's answer to elicitation (nil: the client does not
// declare elicitation).
func approvalServer(t *testing.T, wait time.Duration, elicit func(mcp.ElicitationRequest) *mcp.ElicitationResult) (*client.Client, *approval.Broker, *audit.Log) {
	t.Helper()
	return approvalServerFor(t, wait, elicit, "delete_session", "delete_agent")
}

func approvalServerFor(t *testing.T, wait time.Duration, elicit func(mcp.ElicitationRequest) *mcp.ElicitationResult, gated ...string) (*client.Client, *approval.Broker, *audit.Log) {
	t.Helper()
	dir := t.TempDir()
	log, err := audit.Open(dir, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sys, err := actors.Start(actors.Options{Store: store.NewMemory(), Logger: zerolog.Nop(), Processes: process.NewFake(),
		DataDir: dir, Events: EventSink{Log: log}})
	if err != nil {
		t.Fatal(err)
	}
	broker := approval.New(0, RecordDecision(log))
	presets := config.BuiltinPresets()
	presets["cat-env"] = config.Preset{Command: "cat", Mode: "interactive", Restart: "never", AllowEnv: []string{"*"}}
	srv := NewServer(Deps{Actors: sys, Timeout: 5 * time.Second, Logger: zerolog.Nop(), Audit: log, Transport: "test", Presets: presets,
		MaxWait: wait, RequireApproval: gated, Approvals: broker}, "test")
	var c *client.Client
	if elicit == nil {
		c = connect(t, srv, "approval-test")
	} else {
		c, err = client.NewInProcessClientWithOptions(srv, client.WithElicitationHandler(elicitFunc(elicit)))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		init := mcp.InitializeRequest{}
		init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
		init.Params.ClientInfo = mcp.Implementation{Name: "eliciting-client", Version: "1.0"}
		init.Params.Capabilities.Elicitation = &mcp.ElicitationCapability{}
		if _, err := c.Initialize(context.Background(), init); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		c.Close()
		sys.Shutdown(context.Background())
		log.Close()
	})
	return c, broker, log
}

type elicitFunc func(mcp.ElicitationRequest) *mcp.ElicitationResult

func (f elicitFunc) Elicit(_ context.Context, r mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	return f(r), nil
}

// approvalID returns the approval id a pending answer names, failing when it is not one.
func approvalID(t *testing.T, r *mcp.CallToolResult) string {
	t.Helper()
	mustFail(t, r, "troupe approve apr_", "nothing has changed")
	e, _ := object(t, r)["error"].(map[string]any)
	if e["code"] != string(messages.CodeApprovalPending) {
		t.Fatalf("code %v, want approval_pending", e["code"])
	}
	for _, f := range strings.Fields(resultText(r)) {
		if strings.HasPrefix(f, "apr_") {
			return strings.Trim(f, "`.;,")
		}
	}
	t.Fatalf("no approval id in %q", resultText(r))
	return ""
}

func TestApprovalPendingThenGranted(t *testing.T) {
	c, broker, log := approvalServer(t, 100*time.Millisecond, nil)
	mustOK(t, call(t, c, "create_session", `{"session_id":"keep"}`))
	id := approvalID(t, call(t, c, "delete_session", `{"session_id":"keep"}`))
	mustOK(t, call(t, c, "get_session", `{"session_id":"keep"}`)) // nothing changed
	// The same call made again waits on the same approval; another call asks anew.
	if again := approvalID(t, call(t, c, "delete_session", `{"session_id":"keep"}`)); again != id {
		t.Fatalf("the same call made again got approval %s, want %s", again, id)
	}
	if other := approvalID(t, call(t, c, "delete_session", `{"session_id":"keep","force":true}`)); other == id {
		t.Fatal("different arguments shared an approval")
	}
	pending := broker.Pending(nil)
	if len(pending) != 2 || pending[0].ID != id || pending[0].Tool != "delete_session" || pending[0].SessionID != "keep" || pending[0].Principal != principal.LocalName {
		t.Fatalf("pending: %+v", pending)
	}
	if _, err := broker.Decide(id, approval.Decision{Approve: true, Approver: "cli:alice"}); err != nil {
		t.Fatal(err)
	}
	mustOK(t, call(t, c, "delete_session", `{"session_id":"keep"}`))
	mustFail(t, call(t, c, "get_session", `{"session_id":"keep"}`), "was deleted")
	// A decision is used once.
	if _, _, ok := broker.Get(id); ok {
		t.Fatal("a used approval is still open")
	}
	evs, err := audit.Query(log.Dir(), audit.Filter{Action: "approval.*"})
	if err != nil {
		t.Fatal(err)
	}
	var decided *audit.Event
	for i, e := range evs {
		if e.Action == actionApprovalDecide {
			decided = &evs[i]
		}
	}
	if decided == nil || decided.Details["approver"] != "cli:alice" || decided.Outcome != "approved" || decided.Session != "keep" {
		t.Fatalf("the decision's audit event: %+v (all: %+v)", decided, evs)
	}
}

func TestApprovalDeniedChangesNothing(t *testing.T) {
	c, broker, _ := approvalServer(t, 50*time.Millisecond, nil)
	mustOK(t, call(t, c, "create_session", `{"session_id":"whole"}`))
	mustOK(t, call(t, c, "create_agent", `{"session_id":"whole","preset":"cat"}`))
	id := approvalID(t, call(t, c, "delete_session", `{"session_id":"whole"}`))
	if _, err := broker.Decide(id, approval.Decision{Approve: false, Approver: "cli:bob"}); err != nil {
		t.Fatal(err)
	}
	r := call(t, c, "delete_session", `{"session_id":"whole"}`)
	mustFail(t, r, "refused by cli:bob", "nothing changed")
	if code := object(t, r)["error"].(map[string]any)["code"]; code != string(messages.CodeApprovalDenied) {
		t.Fatalf("code %v", code)
	}
	s := mustOK(t, call(t, c, "get_session", `{"session_id":"whole"}`))
	if n := len(s["children"].([]any)); n != 1 {
		t.Fatalf("the session lost its agent: %d children", n)
	}
	// The refusal was used: the call made once more asks again.
	if again := approvalID(t, call(t, c, "delete_session", `{"session_id":"whole"}`)); again == id {
		t.Fatal("a refusal was reused")
	}
}

func TestAWaitingCallRunsWhenApproved(t *testing.T) {
	c, broker, _ := approvalServer(t, 20*time.Second, nil)
	mustOK(t, call(t, c, "create_session", `{"session_id":"w"}`))
	done := make(chan *mcp.CallToolResult, 1)
	go func() {
		req := mcp.CallToolRequest{}
		req.Params.Name = "delete_session"
		req.Params.Arguments = map[string]any{"session_id": "w"}
		r, err := c.CallTool(context.Background(), req)
		if err != nil {
			r = mcp.NewToolResultError(err.Error())
		}
		done <- r
	}()
	var id string
	waitUntil(t, func() bool {
		p := broker.Pending(nil)
		if len(p) == 1 {
			id = p[0].ID
		}
		return id != ""
	})
	select {
	case r := <-done:
		t.Fatalf("the call answered before a decision: %s", resultText(r))
	case <-time.After(50 * time.Millisecond):
	}
	if _, err := broker.Decide(id, approval.Decision{Approve: true, Approver: "view:root"}); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		mustOK(t, r)
	case <-time.After(10 * time.Second):
		t.Fatal("the approved call did not run")
	}
	mustFail(t, call(t, c, "get_session", `{"session_id":"w"}`), "was deleted")
}

func TestElicitationDecides(t *testing.T) {
	var asked atomic.Int32
	var answer atomic.Value
	answer.Store("accept-no")
	c, broker, log := approvalServer(t, 50*time.Millisecond, func(r mcp.ElicitationRequest) *mcp.ElicitationResult {
		asked.Add(1)
		if !strings.Contains(r.Params.Message, "delete_session") || !strings.Contains(r.Params.Message, "on session el") {
			t.Errorf("the question does not say what is asked: %q", r.Params.Message)
		}
		res := &mcp.ElicitationResult{}
		switch answer.Load() {
		case "accept-yes":
			res.Action, res.Content = mcp.ElicitationResponseActionAccept, map[string]any{"approve": true}
		case "accept-no":
			res.Action, res.Content = mcp.ElicitationResponseActionAccept, map[string]any{"approve": false}
		case "decline":
			res.Action = mcp.ElicitationResponseActionDecline
		case "cancel":
			res.Action = mcp.ElicitationResponseActionCancel
		}
		return res
	})
	mustOK(t, call(t, c, "create_session", `{"session_id":"el"}`))
	mustFail(t, call(t, c, "delete_session", `{"session_id":"el"}`), "refused by elicitation:eliciting-client")
	answer.Store("decline")
	mustFail(t, call(t, c, "delete_session", `{"session_id":"el"}`), "refused by elicitation:eliciting-client")
	answer.Store("cancel")
	id := approvalID(t, call(t, c, "delete_session", `{"session_id":"el"}`)) // dismissed: still open for troupe approve
	mustOK(t, call(t, c, "get_session", `{"session_id":"el"}`))
	if p := broker.Pending(nil); len(p) != 1 || p[0].ID != id {
		t.Fatalf("a dismissed question should leave its approval open: %+v", p)
	}
	answer.Store("accept-yes")
	mustOK(t, call(t, c, "delete_session", `{"session_id":"el"}`))
	mustFail(t, call(t, c, "get_session", `{"session_id":"el"}`), "was deleted")
	if n := asked.Load(); n != 4 {
		t.Fatalf("the client was asked %d times, want 4", n)
	}
	evs, _ := audit.Query(log.Dir(), audit.Filter{Action: actionApprovalDecide})
	var got []string
	for _, e := range evs {
		got = append(got, e.Outcome+":"+e.Details["approver"].(string))
	}
	want := "denied:elicitation:eliciting-client denied:elicitation:eliciting-client approved:elicitation:eliciting-client"
	if strings.Join(got, " ") != want {
		t.Fatalf("decisions in the audit log: %v, want %s", got, want)
	}
}

func TestApprovalAfterAccessAndOnlyForNamedTools(t *testing.T) {
	c, broker, _ := approvalServer(t, 50*time.Millisecond, nil)
	reader := principal.Principal{Name: "reader", Scope: principal.Read}
	mustFail(t, callAs(t, c, reader, "delete_session", `{"session_id":"x"}`), "scope read")
	if p := broker.Pending(nil); len(p) != 0 {
		t.Fatalf("a call its principal may not make was put to a person: %+v", p)
	}
	mustOK(t, call(t, c, "create_session", `{"session_id":"free"}`)) // not in require_approval
	// No argument approves a call: force, confirm and the like are the model approving itself.
	approvalID(t, call(t, c, "delete_session", `{"session_id":"free","force":true}`))
	mustFail(t, call(t, c, "delete_session", `{"session_id":"free","approval_id":"apr_0"}`))
	mustOK(t, call(t, c, "get_session", `{"session_id":"free"}`))
}

func TestCheckRequireApproval(t *testing.T) {
	if err := CheckRequireApproval([]string{"delete_session", "delete_agent"}); err != nil {
		t.Fatal(err)
	}
	err := CheckRequireApproval([]string{"delete_sesion"})
	if err == nil || !strings.Contains(err.Error(), `"delete_sesion"`) || !strings.Contains(err.Error(), "delete_session") {
		t.Fatalf("a typo should be refused naming the tools: %v", err)
	}
}

func TestAWaitingCallShowsNoSecret(t *testing.T) {
	c, broker, _ := approvalServerFor(t, 10*time.Millisecond, nil, "create_agent")
	mustOK(t, call(t, c, "create_session", `{"session_id":"sec"}`))
	approvalID(t, call(t, c, "create_agent", `{"session_id":"sec","preset":"cat-env","env":{"API_TOKEN":"supersecret-value"}}`))
	p := broker.Pending(nil)
	if len(p) != 1 {
		t.Fatalf("pending: %+v", p)
	}
	shown, _ := json.Marshal(p[0].Arguments)
	if strings.Contains(string(shown), "supersecret") || !strings.Contains(string(shown), "API_TOKEN") {
		t.Fatalf("a waiting call shows %s", shown)
	}
}
