// Package mcpx holds troupe's plumbing around mcp-go's transports: what a transport needs that
// mcp-go does not do itself, each piece naming the upstream behaviour it works around. A
// Transport serves the MCP server over one kind of connection; Stdio is one, and the daemon's
// Streamable HTTP is mcp-go's handler wrapped by HTTPHandler. Over stdio, StdioGate keeps the end
// of input from dropping queued calls. Over both, Progress makes a call's answer follow its own
// progress notifications: Progress.Writer (stdio) and HTTPHandler (HTTP, every stream of a
// session) tell it when one is written.
package mcpx
