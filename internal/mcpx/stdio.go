package mcpx

import (
	"context"
	"io"
	"log"
	"time"

	"github.com/mark3labs/mcp-go/server"
)

// stdioSessionID is the id of mcp-go's one stdio session (stdioSession.SessionID,
// server/stdio.go:130): every call over stdio has it, and Progress keys tokens by session.
const stdioSessionID = "stdio"

// Stdio serves MCP over a pair of streams, a client's stdin and stdout.
type Stdio struct {
	In  io.Reader
	Out io.Writer
	// Drain bounds how long the end of input waits for the answers of the requests read
	// before it (StdioGate); a SIGTERM (ctx) still stops at once.
	Drain time.Duration
	// ErrorLog receives mcp-go's transport errors; nil keeps mcp-go's own (stderr).
	ErrorLog *log.Logger
}

var _ Transport = Stdio{}

// Name is "stdio".
func (Stdio) Name() string { return stdioSessionID }

// Serve serves srv until EOF on In, once every request read is answered, or until ctx ends.
// Every notification and answer passes Progress and the gate as it is written to Out.
func (s Stdio) Serve(ctx context.Context, srv *server.MCPServer, progress *Progress) error {
	stdio := server.NewStdioServer(srv)
	if s.ErrorLog != nil {
		stdio.SetErrorLogger(s.ErrorLog)
	}
	gate := NewStdioGate()
	return stdio.Listen(ctx, gate.Reader(ctx, s.In, s.Drain), gate.Writer(progress.Writer(stdioSessionID, s.Out)))
}
