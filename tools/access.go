package tools

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/troupe-dev/troupe/audit"
	"github.com/troupe-dev/troupe/internal/principal"
	"github.com/troupe-dev/troupe/messages"
)

// Ownership and scopes (DESIGN §12). Every call runs for a principal (principal.From: a token's
// name and scope over TCP, local on the unix socket and stdio). A principal with scope
// read or write sees and uses only its own sessions, audit sees every session and changes
// nothing, admin does everything. A session, agent, page or snapshot of someone else answers
// exactly as a missing one does, so ids do not leak who else is there.

// newSessionArg lists the tools whose session_id names a session to create (or a filter that the
// handler applies by owner), not one to check.
var newSessionArg = map[string]bool{
	"create_session": true, "restore_session": true, "list_snapshots": true, "audit_query": true,
}

// accessMiddleware refuses a call its principal's scope does not allow and answers a call naming
// someone else's session or snapshot as not found. It runs inside the audit middleware, so that
// refused calls are recorded too.
func accessMiddleware(d Deps, all []Tool) server.ToolHandlerMiddleware {
	mutating := mutatingTools(all)
	return func(next server.ToolHandlerFunc) server.ToolHandlerFunc {
		return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			p := principal.From(ctx)
			name := req.Params.Name
			if p.ChangesAll() {
				return next(ctx, req)
			}
			if mutating[name] && !p.MayChange() {
				return toolError(messages.Errorf(messages.CodePermissionDenied,
					"%s changes sessions, and %q has scope %s (%s); use a token with scope write or admin (troupe token create NAME --scope write)",
					name, p.Name, p.Scope, permissionText(p.Scope))), nil
			}
			if p.SeesAll() {
				return next(ctx, req)
			}
			args, _ := req.Params.Arguments.(map[string]any)
			check := &messages.CheckAccess{Principal: p.Name}
			if s, _ := args["session_id"].(string); s != "" && !newSessionArg[name] {
				check.SessionID = s
			}
			for _, k := range []string{"agent_id", "page_id"} {
				if id, _ := args[k].(string); id != "" {
					if sid, _, ok := strings.Cut(id, "/"); ok && check.SessionID == "" {
						check.SessionID = sid
					}
				}
			}
			if s, _ := args["snapshot_id"].(string); s != "" {
				check.SnapshotID = s
			}
			if check.SessionID == "" && check.SnapshotID == "" {
				return next(ctx, req)
			}
			res, e := ask[*messages.CheckAccessResult](ctx, d, check)
			if e != nil {
				return d.answer(ctx, name, e)
			}
			if res.Err != nil {
				return toolError(res.Err), nil
			}
			return next(ctx, req)
		}
	}
}

// ownerFilter is the owner to filter lists by for the principal of ctx: "" (everything) for
// principals that see every session.
func ownerFilter(ctx context.Context) string {
	if p := principal.From(ctx); !p.SeesAll() {
		return p.Name
	}
	return ""
}

// auditVisibility keeps, for a principal that sees only its own sessions, the events it caused
// and those of sessions it owns (live, deleted or expired); nil (everything) for the others.
func (d Deps) auditVisibility(ctx context.Context) func(*audit.Event) bool {
	p := principal.From(ctx)
	if p.SeesAll() {
		return nil
	}
	var mu sync.Mutex
	owned := map[string]bool{}
	return func(e *audit.Event) bool {
		if e.Principal == p.Name {
			return true
		}
		if e.Session == "" {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		mine, seen := owned[e.Session]
		if !seen {
			res, err := ask[*messages.CheckAccessResult](ctx, d, &messages.CheckAccess{Principal: p.Name, SessionID: e.Session, Strict: true})
			mine = err == nil && res.Err == nil
			owned[e.Session] = mine
		}
		return mine
	}
}

// permissionText explains a scope in a sentence, for errors and help.
func permissionText(s principal.Scope) string {
	switch s {
	case principal.Read:
		return "read-only tools on its own sessions"
	case principal.Write:
		return "every tool on its own sessions"
	case principal.Audit:
		return "read-only tools and audit_query on every session"
	case principal.Admin:
		return "everything"
	}
	return fmt.Sprintf("nothing (unknown scope %q)", s)
}
