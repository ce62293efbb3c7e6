package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/troupe-dev/troupe/audit"
	"github.com/troupe-dev/troupe/messages"
)

func auditTools(d Deps) []Tool {
	return []Tool{{Family: "audit", ServerTool: server.ServerTool{Tool: auditQueryTool(), Handler: d.auditQuery}}}
}

func auditQueryTool() mcp.Tool {
	return newTool("audit_query", "Query the audit log: what troupe did, for whom and with what outcome, oldest first.",
		hints(true, false, true, false),
		mcp.WithString("session_id", mcp.Description("Only events of this session."), mcp.MaxLength(maxIDChars)),
		mcp.WithString("action", mcp.Description("Only this action, e.g. session.delete; \"session.*\" matches a prefix."), mcp.MaxLength(maxAuditActionChars)),
		mcp.WithString("since", mcp.Description("Only events since then: a duration back from now (\"15m\", \"2h\") or an RFC 3339 time."), mcp.MaxLength(maxSinceChars)),
		mcp.WithInteger("limit", mcp.Description("At most this many events, the most recent (default 100, at most 1000)."), mcp.Min(1), mcp.Max(1000)),
		mcp.WithBoolean("changes_only", mcp.Description("Leave out the calls of read-only tools (get_session, read_agent_output, …): what changed, and troupe's own events.")),
	)
}

// readOnlyTools names the tools that change nothing (for audit_query's changes_only); All sets
// it (the same names every time).
var readOnlyTools atomic.Pointer[map[string]bool]

// parseSince accepts a duration back from now or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("since %q: give a duration such as 15m or 2h, or an RFC 3339 time such as 2026-11-21T08:00:00Z", s)
	}
	return t, nil
}

func (d Deps) auditQuery(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a struct {
		SessionID string `json:"session_id"`
		Action    string `json:"action"`
		Since     string `json:"since"`
		Limit     int    `json:"limit"`
		Changes   bool   `json:"changes_only"`
	}
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	if d.Audit == nil {
		return toolError(messages.Errorf(messages.CodeUnavailable, "the audit log is off in this server")), nil
	}
	f := audit.Filter{Session: a.SessionID, Action: a.Action, Limit: a.Limit, Keep: d.auditVisibility(ctx)}
	if a.Changes {
		visible, reads := f.Keep, *readOnlyTools.Load()
		f.Keep = func(e *audit.Event) bool {
			if tool, _ := e.Details["tool"].(string); reads[tool] {
				return false
			}
			return visible == nil || visible(e)
		}
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	if f.Limit < 0 || f.Limit > 1000 {
		return toolError(messages.Errorf(messages.CodeInvalidArgument, "limit must be between 1 and 1000, got %d", a.Limit)), nil
	}
	if a.Since != "" {
		t, err := parseSince(a.Since, time.Now())
		if err != nil {
			return toolError(messages.Errorf(messages.CodeInvalidArgument, "%v", err)), nil
		}
		f.Since = t
	}
	events, err := audit.Query(d.Audit.Dir(), f)
	if err != nil {
		return nil, fmt.Errorf("%w: read the audit log: %v", errInternal, err)
	}
	if events == nil {
		events = []audit.Event{}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d event(s)", len(events))
	for _, e := range events {
		fmt.Fprintf(&b, "\n%s #%d %s %s %s %s %s", e.Time.Format(time.RFC3339), e.Seq, e.Action, e.Stage, e.Outcome, e.Session, e.Target)
	}
	return structured(map[string]any{"events": events}, b.String()), nil
}

// RecentEventsURI is the resource with the most recent audit events.
const RecentEventsURI = "troupe://audit/recent"

// addAuditResource registers the resource with the 100 most recent audit events.
func addAuditResource(s *server.MCPServer, d Deps) {
	res := mcp.NewResource(RecentEventsURI, "Recent audit events",
		mcp.WithResourceDescription("The 100 most recent events of troupe's audit log, oldest first, as JSON."),
		mcp.WithMIMEType("application/json"))
	s.AddResource(res, func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
		var events []audit.Event
		var err error
		if keep := d.auditVisibility(ctx); keep != nil {
			// A principal that sees only its own sessions gets the 100 most recent of those.
			events, err = audit.Query(d.Audit.Dir(), audit.Filter{Limit: 100, Keep: keep})
		} else {
			events, err = audit.Recent(d.Audit.Dir(), 100)
		}
		if err != nil {
			return nil, fmt.Errorf("read the audit log: %w", err)
		}
		if events == nil {
			events = []audit.Event{}
		}
		data, err := json.MarshalIndent(map[string]any{"events": events}, "", "  ")
		if err != nil {
			return nil, err
		}
		return []mcp.ResourceContents{mcp.TextResourceContents{URI: RecentEventsURI, MIMEType: "application/json", Text: string(data)}}, nil
	})
}
