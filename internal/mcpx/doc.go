// Package mcpx holds troupe's plumbing around mcp-go's transports: what a transport needs that
// mcp-go does not do itself, each piece naming the upstream behaviour it works around. A
// Transport serves the MCP server over one kind of connection; Stdio is the first (the daemon's
// HTTP will sit beside it). Over stdio, StdioGate keeps the end of input from dropping queued
// calls, and Progress makes a call's answer follow its own progress notifications.
package mcpx
