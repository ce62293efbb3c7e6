package mcpx

import (
	"context"

	"github.com/mark3labs/mcp-go/server"
)

// Transport serves an MCP server over one kind of connection: stdio (Stdio) for the standalone
// server. The daemon serves Streamable HTTP with mcp-go's StreamableHTTPServer as an
// http.Handler wrapped by HTTPHandler, inside internal/daemon's HTTP server. Each transport owns
// what its connection needs beyond mcp-go (for stdio, the gate; for both, telling Progress when
// a notification is written: Progress.Writer, HTTPHandler), so the server and the tools do not
// depend on it.
type Transport interface {
	// Name is the transport's name in logs and audit events ("stdio", "http").
	Name() string
	// Serve serves srv until ctx ends or the connection does. progress may be nil.
	Serve(ctx context.Context, srv *server.MCPServer, progress *Progress) error
}
