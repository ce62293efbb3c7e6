package mcpx

import (
	"context"

	"github.com/mark3labs/mcp-go/server"
)

// Transport serves an MCP server over one kind of connection: stdio now, HTTP with the daemon.
// Each transport owns what its connection needs beyond mcp-go (for stdio, the gate and telling
// Progress when a notification is written), so the server and the tools do not depend on it.
type Transport interface {
	// Name is the transport's name in logs and audit events ("stdio", "http").
	Name() string
	// Serve serves srv until ctx ends or the connection does. progress may be nil.
	Serve(ctx context.Context, srv *server.MCPServer, progress *Progress) error
}
