package tools

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/actors"
	"github.com/troupe-dev/troupe/internal/browser"
	"github.com/troupe-dev/troupe/internal/config"
	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/store"
)

// An agent tool given a page's id, or a page tool given an agent's, answers at once with a tool
// error that says which tools fit; it used to hang until the call's timeout (defect 1).
func TestWrongKindOfChildIsAToolError(t *testing.T) {
	fake := browser.NewFake(browser.Policy{})
	fake.Serve("https://site.test/", browser.FakeDoc{Title: "Home", HTML: "<p>hi</p>"})
	t.Cleanup(func() { _ = fake.Close() })
	sys, err := actors.Start(actors.Options{Store: store.NewMemory(), Logger: zerolog.Nop(), Processes: process.NewFake(),
		Browser: fake, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(Deps{Actors: sys, Timeout: 5 * time.Second, Logger: zerolog.Nop(), Presets: config.BuiltinPresets()}, "test")
	c := connect(t, srv, "kinds-test")
	t.Cleanup(func() { _ = sys.Shutdown(context.Background()) })

	mustOK(t, call(t, c, "create_session", `{"session_id":"s"}`))
	mustOK(t, call(t, c, "create_agent", `{"session_id":"s","name":"a","preset":"cat"}`))
	mustOK(t, call(t, c, "open_page", `{"session_id":"s","name":"p","url":"https://site.test/"}`))
	tests := []struct{ tool, args, want, tools string }{
		{"send_to_agent", `{"agent_id":"s/p","message":"hi"}`, "s/p is a page, not an agent", "navigate_page"},
		{"read_agent_output", `{"agent_id":"s/p"}`, "s/p is a page, not an agent", "page_content"},
		{"delete_agent", `{"agent_id":"s/p"}`, "s/p is a page, not an agent", "close_page"},
		{"navigate_page", `{"page_id":"s/a","url":"https://site.test/"}`, "s/a is an agent, not a page", "send_to_agent"},
		{"page_content", `{"page_id":"s/a"}`, "s/a is an agent, not a page", "read_agent_output"},
		{"page_action", `{"page_id":"s/a","action":"click","selector":"p"}`, "s/a is an agent, not a page", "delete_agent"},
		{"screenshot_page", `{"page_id":"s/a"}`, "s/a is an agent, not a page", "send_to_agent"},
		{"close_page", `{"page_id":"s/a"}`, "s/a is an agent, not a page", "send_to_agent"},
	}
	for _, tt := range tests {
		t.Run(tt.tool, func(t *testing.T) {
			// The page tools add slack to the server's timeout: the test's own deadline is short.
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			req := mcp.CallToolRequest{}
			req.Params.Name, req.Params.Arguments = tt.tool, json.RawMessage(tt.args)
			res, err := c.CallTool(ctx, req)
			if err != nil {
				t.Fatalf("%s(%s): %v", tt.tool, tt.args, err)
			}
			mustFail(t, res, tt.want, tt.tools)
		})
	}
	// Both children are still there and work.
	mustOK(t, call(t, c, "send_to_agent", `{"agent_id":"s/a","message":"hi"}`))
	mustOK(t, call(t, c, "page_content", `{"page_id":"s/p"}`))
}
