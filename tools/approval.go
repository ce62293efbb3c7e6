package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/troupe-dev/troupe/audit"
	"github.com/troupe-dev/troupe/internal/approval"
	"github.com/troupe-dev/troupe/internal/principal"
	"github.com/troupe-dev/troupe/messages"
)

// Approval the model cannot give itself (DESIGN §15). A tool named in require_approval runs
// only after a person said yes: through MCP elicitation when the client declares it (a
// multi-round-trip input request, which mcp-go turns into elicitation/create for clients before
// 2026-07-28), otherwise as a pending approval that `troupe approve ID` or the live view grants.
// No argument of the call can approve it: a `confirm` or `force` argument would be the model
// approving itself.

// Audit actions of approvals.
const (
	actionApprovalRequest = "approval.request"
	actionApprovalDecide  = "approval.decide"
)

// elicitationKey names the approval question in a multi-round-trip input request.
const elicitationKey = "approval"

// CheckRequireApproval returns an error naming the valid tools when names holds one that is
// not a tool (a typo would silently leave a destructive tool ungated).
func CheckRequireApproval(names []string) error {
	known := map[string]bool{}
	var all []string
	for _, t := range All(Deps{}) {
		known[t.Tool.Name] = true
		all = append(all, t.Tool.Name)
	}
	for _, n := range names {
		if !known[n] {
			sort.Strings(all)
			return fmt.Errorf("require_approval names %q, which is not a tool; the tools are: %s", n, strings.Join(all, ", "))
		}
	}
	return nil
}

// RecordDecision returns the function that makes an approval's decision durable in the audit
// log before it counts (approval.New's recorder): a decision troupe cannot record is refused.
func RecordDecision(log *audit.Log) func(approval.Request, approval.Decision) error {
	if log == nil {
		return nil
	}
	return func(r approval.Request, d approval.Decision) error {
		outcome := "denied"
		if d.Approve {
			outcome = "approved"
		}
		_, err := log.Append(context.Background(), audit.Event{Action: actionApprovalDecide, Stage: audit.StageCompleted,
			Principal: r.Principal, Session: r.SessionID, Outcome: outcome,
			Details: map[string]any{"approval_id": r.ID, "tool": r.Tool, "approver": d.Approver}})
		return err
	}
}

// approvalMiddleware holds the calls of require_approval's tools until a person decides. It
// runs inside the access middleware (a call its principal may not make is refused before anyone
// is asked) and the audit middleware (the waiting call is recorded).
func approvalMiddleware(d Deps) server.ToolHandlerMiddleware {
	need := map[string]bool{}
	for _, n := range d.RequireApproval {
		need[n] = true
	}
	return func(next server.ToolHandlerFunc) server.ToolHandlerFunc {
		return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			name := req.Params.Name
			if !need[name] || d.Approvals == nil {
				return next(ctx, req)
			}
			key := approvalKey(ctx, req)
			if state := req.Params.RequestState; state != "" {
				return d.elicited(ctx, req, key, state, next)
			}
			args := d.callArgs(ctx, req)
			if d.Audit != nil { // shown to people and sent to the client: redacted as the log writes it
				args = d.Audit.RedactDetails(map[string]any{"arguments": args})["arguments"]
			}
			session, _ := auditTargets(args)
			t := d.Approvals.Open(key, approval.Request{SessionID: session, Tool: name, Arguments: args, Principal: principal.From(ctx).Name})
			elicit := clientElicits(ctx)
			if t.New {
				if e := d.recordApprovalRequest(ctx, t, elicit); e != nil {
					t.Close()
					return toolError(e), nil
				}
			}
			if dec, ok := t.Decision(); ok {
				return d.decided(ctx, req, t, dec, next)
			}
			if elicit {
				return server.NewInputRequestBuilder(t.ID()).Elicit(elicitationKey, elicitationParams(t.Request())).ToolResult(), nil
			}
			dec, ok := t.Wait(ctx.Done(), d.maxWait())
			if !ok {
				return toolError(pendingError(t, d.Approvals.TTL())), nil
			}
			return d.decided(ctx, req, t, dec, next)
		}
	}
}

// elicited handles the call made again with the person's answer to the elicitation.
func (d Deps) elicited(ctx context.Context, req mcp.CallToolRequest, key, id string, next server.ToolHandlerFunc) (*mcp.CallToolResult, error) {
	t, ok := d.Approvals.Find(id, key)
	if !ok {
		return toolError(messages.Errorf(messages.CodeApprovalPending,
			"the approval this answer is for is gone (it expired after %s, was used, or the daemon restarted); nothing changed: call %s again to be asked again",
			d.Approvals.TTL(), req.Params.Name)), nil
	}
	if dec, ok := t.Decision(); ok { // decided meanwhile, by troupe approve or the live view
		return d.decided(ctx, req, t, dec, next)
	}
	res := server.ElicitationResponse(req.Params.InputResponses, elicitationKey)
	if res == nil || res.Action == mcp.ElicitationResponseActionCancel {
		// Dismissed: nobody decided. The approval stays open for troupe approve.
		return toolError(pendingError(t, d.Approvals.TTL())), nil
	}
	approve := false
	if res.Action == mcp.ElicitationResponseActionAccept {
		content, _ := res.Content.(map[string]any)
		approve, _ = content["approve"].(bool)
	}
	dec := approval.Decision{Approve: approve, Approver: "elicitation:" + clientName(ctx)}
	if _, err := d.Approvals.Decide(t.ID(), dec); err != nil {
		if got, ok := t.Decision(); ok { // someone else was first
			return d.decided(ctx, req, t, got, next)
		}
		return toolError(messages.Errorf(messages.CodeUnavailable, "%v; nothing changed", err)), nil
	}
	got, _ := t.Decision()
	return d.decided(ctx, req, t, got, next)
}

// decided acts on a decision once: it runs the call, or answers the refusal.
func (d Deps) decided(ctx context.Context, req mcp.CallToolRequest, t approval.Ticket, dec approval.Decision, next server.ToolHandlerFunc) (*mcp.CallToolResult, error) {
	t.Close()
	if !dec.Approve {
		return toolError(messages.Errorf(messages.CodeApprovalDenied,
			"%s was refused by %s (approval %s); nothing changed. Ask the person before trying again",
			req.Params.Name, dec.Approver, t.ID())), nil
	}
	// The call itself runs without the multi-round-trip fields the approval used.
	req.Params.MultiRoundTripParams = mcp.MultiRoundTripParams{}
	return next(ctx, req)
}

func pendingError(t approval.Ticket, ttl time.Duration) *messages.Error {
	r := t.Request()
	return messages.Errorf(messages.CodeApprovalPending,
		"%s waits for a person's approval %s; nothing has changed. On the daemon's machine run `troupe approve %s` (or `troupe approve --deny %s`; `troupe approvals` lists what waits), or use the live view; then call %s again with the same arguments. The approval stays open for %s",
		r.Tool, r.ID, r.ID, r.ID, r.Tool, ttl)
}

// recordApprovalRequest records that a call waits for a person; a mutating call whose wait
// cannot be recorded is not asked about (fail closed, as every mutating call).
func (d Deps) recordApprovalRequest(ctx context.Context, t approval.Ticket, elicit bool) *messages.Error {
	if d.Audit == nil {
		return nil
	}
	r := t.Request()
	via := "troupe approve"
	if elicit {
		via = "elicitation"
	}
	ev := audit.Event{Action: actionApprovalRequest, Stage: audit.StageRequested, Actor: clientIdentity(ctx, d.Transport),
		Principal: r.Principal, Session: r.SessionID,
		Details: map[string]any{"approval_id": r.ID, "tool": r.Tool, "arguments": r.Arguments, "via": via}}
	if _, err := d.Audit.Append(context.WithoutCancel(ctx), ev); err != nil {
		return messages.Errorf(messages.CodeUnavailable, "the audit log could not record the approval request, so nothing was asked and nothing ran: %v", err)
	}
	return nil
}

// approvalKey identifies a call: who asks, which tool, which arguments (the same call made
// again finds its approval; another call does not).
func approvalKey(ctx context.Context, req mcp.CallToolRequest) string {
	args, err := json.Marshal(req.Params.Arguments) // maps marshal with sorted keys
	if err != nil {
		args = []byte(fmt.Sprint(req.Params.Arguments))
	}
	return principal.From(ctx).Name + "\x00" + req.Params.Name + "\x00" + string(args)
}

// clientElicits reports whether the client of ctx declared elicitation (in form mode).
func clientElicits(ctx context.Context) bool {
	if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.Modern {
		c := info.ClientCapabilities
		return c != nil && c.Elicitation != nil && (c.Elicitation.Form != nil || c.Elicitation.URL == nil)
	}
	s := server.ClientSessionFromContext(ctx)
	ci, ok := s.(interface{ GetClientCapabilities() mcp.ClientCapabilities })
	if !ok {
		return false
	}
	c := ci.GetClientCapabilities()
	return c.Elicitation != nil && (c.Elicitation.Form != nil || c.Elicitation.URL == nil)
}

// clientName names the client of ctx for the audit log ("unknown client" when it did not say).
func clientName(ctx context.Context) string {
	a := clientIdentity(ctx, "")
	if a.ClientName == "" {
		return "unknown client"
	}
	return a.ClientName
}

// elicitationParams is the question the client shows the person.
func elicitationParams(r approval.Request) mcp.ElicitationParams {
	args, _ := json.Marshal(r.Arguments)
	msg := fmt.Sprintf("troupe: %s asks to run %s", r.Principal, r.Tool)
	if r.SessionID != "" {
		msg += " on session " + r.SessionID
	}
	msg += " with " + messages.Shorten(string(args), 600) + ". Approve it? (approval " + r.ID + "; declining changes nothing)"
	return mcp.ElicitationParams{Message: msg, RequestedSchema: map[string]any{
		"type": "object",
		"properties": map[string]any{
			"approve": map[string]any{"type": "boolean", "title": "Approve " + r.Tool,
				"description": "Yes runs the call; no refuses it and nothing changes.", "default": false},
		},
		"required": []string{"approve"},
	}}
}
