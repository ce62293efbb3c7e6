package tools

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/audit"
)

// The closing event of a call keeps only the start of a huge error, as the requested event does
// with a huge argument (issue 11: thirty calls with a 10 MB id wrote 185 MB of audit).
func TestAuditShortensAHugeError(t *testing.T) {
	log, err := audit.Open(t.TempDir(), audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	huge := strings.Repeat("e", 10<<20)
	d := Deps{Audit: log, Logger: zerolog.Nop(), Transport: "test"}
	mw := auditMiddleware(d, All(d))
	for _, tc := range []struct {
		tool string
		next func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error)
	}{
		{"get_session", func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultError("no session " + huge), nil
		}},
		{"list_sessions", func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return nil, errors.New("internal error: " + huge)
		}},
	} {
		req := mcp.CallToolRequest{}
		req.Params.Name = tc.tool
		req.Params.Arguments = map[string]any{"session_id": "x"}
		_, _ = mw(tc.next)(context.Background(), req)
	}
	var evs []audit.Event
	waitUntil(t, func() bool {
		evs, _ = audit.Query(log.Dir(), audit.Filter{Stage: audit.StageFailed})
		return len(evs) == 2
	})
	for _, e := range evs {
		msg, _ := e.Details["error"].(string)
		if len(msg) > maxAuditString || !strings.Contains(msg, "10485") {
			t.Errorf("%s: error detail is %d bytes (%.80s…), want at most %d with the length", e.Action, len(msg), msg, maxAuditString)
		}
	}
}
