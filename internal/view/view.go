// Package view holds troupe's live view (DESIGN §15): one self-contained HTML page showing a
// session — its children with their screens, output and screenshots, its snapshots and its audit
// timeline. The same page has two hosts: an MCP Apps client (Claude Desktop) renders it as the UI
// resource URI, calling tools through the client; the daemon's TCP listener serves it at "/",
// where it speaks MCP over HTTP to same-origin /mcp itself.
package view

import _ "embed"

const (
	// URI is the page's MCP Apps UI resource (the ui:// scheme the extension reserves).
	URI = "ui://troupe/session"
	// MIME is the MIME type of an MCP Apps HTML resource.
	MIME = "text/html;profile=mcp-app"
)

//go:embed session.html
var page []byte

// HTML returns the page: HTML, CSS and JavaScript in one file, with no external URL. Callers
// must not modify it.
func HTML() []byte { return page }
