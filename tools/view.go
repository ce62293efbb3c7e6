package tools

import (
	"context"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/troupe-dev/troupe/internal/view"
)

// The live view as an MCP App (DESIGN §15; the MCP Apps extension, SEP-1865, stable 2026-01-26,
// modelcontextprotocol/ext-apps specification/2026-01-26/apps.mdx).

// UIExtension is the MCP Apps extension's identifier in capabilities.extensions.
const UIExtension = "io.modelcontextprotocol/ui"

// uiExtension is what troupe declares under capabilities.extensions: the spec defines the
// client's settings only ({"mimeTypes": [...]}); the server says the same, the one type it serves.
func uiExtension() server.ServerOption {
	return server.WithExtensions(map[string]any{UIExtension: map[string]any{"mimeTypes": []string{view.MIME}}})
}

// viewMeta is the resource's _meta.ui: no origin at all for the view's own connections or
// resources (it gets everything through the host), and a border from the host around it.
func viewMeta() map[string]any {
	return map[string]any{"ui": map[string]any{
		"csp":           map[string]any{"connectDomains": []string{}, "resourceDomains": []string{}},
		"prefersBorder": true,
	}}
}

// addViewResource registers the live view's HTML as the resource view.URI. Its _meta.ui is on
// the resources/list entry (what a host reviews at connection time) and on the content that
// resources/read answers (which the spec says takes precedence).
func addViewResource(s *server.MCPServer) {
	res := mcp.NewResource(view.URI, "troupe session view",
		mcp.WithResourceDescription("A live view of one session: its agents' screens and output, its pages' screenshots, "+
			"its snapshots and its audit timeline (or, with no session, the list of sessions)."),
		mcp.WithMIMEType(view.MIME))
	res.Meta = &mcp.Meta{AdditionalFields: viewMeta()}
	text := string(view.HTML())
	s.AddResource(res, func(context.Context, mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
		return []mcp.ResourceContents{mcp.TextResourceContents{URI: view.URI, MIMEType: view.MIME, Text: text, Meta: viewMeta()}}, nil
	})
}

// withView links a tool to the live view: a host that supports MCP Apps renders the tool's
// result in it. The spec's key is _meta.ui.resourceUri; the flat "ui/resourceUri" is its
// deprecated form, which the official server helper still sets for older hosts
// (ext-apps src/server/index.ts, registerAppTool). The result needs nothing: the host passes
// the call's arguments and result to the view (ui/notifications/tool-input, tool-result).
func withView() mcp.ToolOption {
	return func(t *mcp.Tool) {
		t.Meta = &mcp.Meta{AdditionalFields: map[string]any{
			"ui":             map[string]any{"resourceUri": view.URI},
			"ui/resourceUri": view.URI,
		}}
	}
}
