package tools

import (
	"context"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/internal/view"
)

// viewClient is an in-process client of a server with no actors (nothing here calls a tool),
// initialized with protocolVersion; it returns the initialize result too.
func viewClient(t *testing.T, protocolVersion string) (*client.Client, *mcp.InitializeResult) {
	t.Helper()
	c, err := client.NewInProcessClient(NewServer(Deps{Logger: zerolog.Nop()}, "test"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = protocolVersion
	init.Params.ClientInfo = mcp.Implementation{Name: "view-test", Version: "1"}
	res, err := c.Initialize(context.Background(), init)
	if err != nil {
		t.Fatal(err)
	}
	return c, res
}

// checkUIMeta checks a resource's _meta.ui: no origin for connections or resources, and a border.
func checkUIMeta(t *testing.T, where string, m map[string]any) {
	t.Helper()
	meta, _ := m["_meta"].(map[string]any)
	ui, _ := meta["ui"].(map[string]any)
	csp, _ := ui["csp"].(map[string]any)
	if csp == nil || ui["prefersBorder"] != true {
		t.Fatalf("%s: _meta = %v, want ui.csp and ui.prefersBorder true", where, meta)
	}
	for _, k := range []string{"connectDomains", "resourceDomains"} {
		if d, ok := csp[k].([]any); !ok || len(d) != 0 {
			t.Errorf("%s: _meta.ui.csp.%s = %v, want [] (the view reaches nothing of its own)", where, k, csp[k])
		}
	}
}

// The server declares the MCP Apps extension, whatever protocol version the client speaks
// (Claude Desktop speaks 2025-06-18 and 2025-11-25).
func TestViewExtensionIsDeclared(t *testing.T) {
	for _, version := range []string{"2025-06-18", mcp.LATEST_PROTOCOL_VERSION} {
		_, res := viewClient(t, version)
		caps := wire(t, res.Capabilities)
		ext, _ := caps["extensions"].(map[string]any)
		ui, _ := ext[UIExtension].(map[string]any)
		types, _ := ui["mimeTypes"].([]any)
		if len(types) != 1 || types[0] != view.MIME {
			t.Errorf("protocol %s: capabilities.extensions = %v, want %s: {mimeTypes: [%s]}", version, caps["extensions"], UIExtension, view.MIME)
		}
		if caps["resources"] == nil {
			t.Errorf("protocol %s: capabilities %v declare no resources", version, caps)
		}
	}
}

func TestViewResourceIsListedAndRead(t *testing.T) {
	c, _ := viewClient(t, mcp.LATEST_PROTOCOL_VERSION)
	ctx := context.Background()
	list, err := c.ListResources(ctx, mcp.ListResourcesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var listed map[string]any
	for _, r := range list.Resources {
		if r.URI == view.URI {
			listed = wire(t, r)
		}
	}
	if listed == nil {
		t.Fatalf("resources/list has no %s: %v", view.URI, list.Resources)
	}
	if listed["mimeType"] != view.MIME {
		t.Errorf("listed mimeType = %v, want %s", listed["mimeType"], view.MIME)
	}
	checkUIMeta(t, "resources/list", listed)

	req := mcp.ReadResourceRequest{}
	req.Params.URI = view.URI
	read, err := c.ReadResource(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(read.Contents) != 1 {
		t.Fatalf("resources/read answered %d contents, want 1", len(read.Contents))
	}
	got := wire(t, read.Contents[0])
	if got["uri"] != view.URI || got["mimeType"] != view.MIME {
		t.Errorf("read content uri %v mimeType %v, want %s %s", got["uri"], got["mimeType"], view.URI, view.MIME)
	}
	if got["text"] != string(view.HTML()) {
		t.Errorf("read content text is not the view's HTML (%d characters, want %d)", len(got["text"].(string)), len(view.HTML()))
	}
	checkUIMeta(t, "resources/read", got)
}

// get_session and list_sessions link to the view; no other tool does (a host would render the
// session view for a screenshot or a delete).
func TestSessionToolsLinkTheView(t *testing.T) {
	c, _ := viewClient(t, mcp.LATEST_PROTOCOL_VERSION)
	tools, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	linked := map[string]bool{}
	for _, tl := range tools.Tools {
		meta, _ := wire(t, tl)["_meta"].(map[string]any)
		ui, _ := meta["ui"].(map[string]any)
		if ui["resourceUri"] == view.URI {
			linked[tl.Name] = true
			if meta["ui/resourceUri"] != view.URI {
				t.Errorf("%s: _meta = %v, want the deprecated ui/resourceUri too (older hosts)", tl.Name, meta)
			}
		} else if meta != nil {
			t.Errorf("%s: _meta = %v, want none", tl.Name, meta)
		}
	}
	if len(linked) != 2 || !linked["get_session"] || !linked["list_sessions"] {
		t.Errorf("tools linked to %s: %v, want get_session and list_sessions", view.URI, linked)
	}
}
