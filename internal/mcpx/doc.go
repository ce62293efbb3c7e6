// Package mcpx holds troupe's plumbing around mcp-go's transports: what a transport needs that
// mcp-go does not do itself, each piece naming the upstream behaviour it works around. Over
// stdio, StdioGate keeps the end of input from dropping queued calls, and Progress makes a
// call's answer follow its own progress notifications.
package mcpx
