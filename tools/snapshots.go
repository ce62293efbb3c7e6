package tools

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/troupe-dev/troupe/messages"
)

func snapshotTools(d Deps) []Tool {
	return []Tool{
		{Family: "snapshots", ServerTool: server.ServerTool{Tool: restoreSessionTool(), Handler: d.restoreSession}},
		{Family: "snapshots", ServerTool: server.ServerTool{Tool: listSnapshotsTool(), Handler: d.listSnapshots}},
	}
}

func restoreSessionTool() mcp.Tool {
	return newTool("restore_session",
		"Bring a deleted or expired session back from its snapshot: its state, cookies and workspace, agents re-started from their specs and pages re-opened at their URLs.",
		hints(false, false, false, true),
		mcp.WithString("snapshot_id", mcp.Required(), mcp.Description("The snapshot, as delete_session, list_snapshots or the expiry message name it."), mcp.MaxLength(maxIDChars)),
		mcp.WithString("session_id", mcp.Description("Restore under this id instead of the snapshot's own (needed when that id is taken again). "+sessionIDDesc), mcp.MaxLength(maxIDChars)),
	)
}

func (d Deps) restoreSession(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a struct {
		SnapshotID string `json:"snapshot_id"`
		SessionID  string `json:"session_id"`
	}
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	if e := required("snapshot_id", a.SnapshotID); e != nil {
		return toolError(e), nil
	}
	res, e := ask[*messages.SessionResult](ctx, d, &messages.RestoreSession{SnapshotID: a.SnapshotID, SessionID: a.SessionID})
	if r, err := d.answer(ctx, "restore_session", e); r != nil || err != nil {
		return r, err
	}
	s := res.Session
	return structured(s, fmt.Sprintf("Restored session %s from %s with %d child(ren).", s.SessionID, a.SnapshotID, len(s.Children))), nil
}

func listSnapshotsTool() mcp.Tool {
	return newTool("list_snapshots", "List the snapshots kept after deletes and expiries, oldest first, with what each can restore.",
		hints(true, false, true, false),
		mcp.WithString("session_id", mcp.Description("Only this session's snapshots."), mcp.MaxLength(maxIDChars)),
	)
}

func (d Deps) listSnapshots(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a struct {
		SessionID string `json:"session_id"`
	}
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	res, e := ask[*messages.ListSnapshotsResult](ctx, d, &messages.ListSnapshots{SessionID: a.SessionID, Owner: ownerFilter(ctx)})
	if r, err := d.answer(ctx, "list_snapshots", e); r != nil || err != nil {
		return r, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d snapshot(s)", len(res.Snapshots))
	for _, s := range res.Snapshots {
		fmt.Fprintf(&b, "\n- %s: session %s, %s at %s, %d child(ren)", s.SnapshotID, s.SessionID, s.Reason, s.CreatedAt.Format(time.RFC3339), len(s.Children))
	}
	snaps := res.Snapshots
	if snaps == nil {
		snaps = []messages.SnapshotInfo{}
	}
	return structured(map[string]any{"snapshots": snaps}, b.String()), nil
}
