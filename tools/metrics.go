package tools

import (
	"context"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/troupe-dev/troupe/internal/metrics"
)

// metricsMiddleware counts every call by tool and outcome, and times it (/metrics,
// DESIGN §12). The observers of the tools are resolved here, once, so that a call only looks
// its tool up in a map. It sits outside the audit middleware: the time a call takes is what
// its client waits, the audit's fsync included.
func metricsMiddleware(m *metrics.Metrics, all []Tool) server.ToolHandlerMiddleware {
	names := make([]string, len(all))
	for i, t := range all {
		names[i] = t.Tool.Name
	}
	tools := m.Tools(names)
	return func(next server.ToolHandlerFunc) server.ToolHandlerFunc {
		return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			obs, start := tools.Lookup(req.Params.Name), time.Now()
			// A panic leaves outcome a fault on its way to mcp-go's recovery, which answers it.
			outcome := metrics.OutcomeFault
			defer func() { obs.Observe(outcome, time.Since(start)) }()
			res, err := next(ctx, req)
			switch {
			case err != nil:
			case res != nil && res.IsError:
				outcome = metrics.OutcomeError
			default:
				outcome = metrics.OutcomeOK
			}
			return res, err
		}
	}
}
