package tools

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/actors"
	"github.com/troupe-dev/troupe/internal/config"
	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/store"
)

// agentClient is an MCP client on an actor tree that runs real processes, with presets.
func agentClient(t *testing.T, presets map[string]config.Preset) *client.Client {
	t.Helper()
	sys, err := actors.Start(actors.Options{Store: store.NewMemory(), Logger: zerolog.Nop(), MaxSessions: 10,
		Processes: process.Real(), DataDir: t.TempDir(), AgentStopGrace: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c := connect(t, NewServer(Deps{Actors: sys, Timeout: 10 * time.Second, Logger: zerolog.Nop(), Presets: presets}, "test"), "tools-test")
	t.Cleanup(func() {
		_ = c.Close()
		_ = sys.Shutdown(context.Background())
	})
	return c
}

// A preset whose command is not on PATH is a tool error naming the command and the fix, in
// both modes, instead of an agent with pid 0 (issue 10, defect 4).
func TestCreateAgentWithAMissingCommandIsAToolError(t *testing.T) {
	const missing = "troupe-no-such-command-xyz"
	c := agentClient(t, map[string]config.Preset{
		"gone-interactive": {Command: missing, Mode: "interactive", Restart: "never"},
		"gone-per-message": {Command: missing, Args: []string{"{message}"}, Mode: "per-message", Restart: "never"},
	})
	mustOK(t, call(t, c, "create_session", `{"session_id":"s"}`))
	for _, tc := range []struct{ preset string }{{"gone-interactive"}, {"gone-per-message"}} {
		t.Run(tc.preset, func(t *testing.T) {
			r := call(t, c, "create_agent", `{"session_id":"s","name":"a","preset":"`+tc.preset+`"}`)
			mustFail(t, r, missing, "PATH", "[presets."+tc.preset+"]", "install it")
			if got := object(t, call(t, c, "get_session", `{"session_id":"s"}`))["children"]; got != nil && len(got.([]any)) != 0 {
				t.Fatalf("children after the refused create = %v, want none", got)
			}
		})
	}
}

// A per-message agent whose command disappeared after it was created answers send_to_agent
// with a tool error naming the command, not a success saying the process did not start.
func TestSendToAgentWhoseCommandDisappearedIsAToolError(t *testing.T) {
	bin := t.TempDir()
	tool := filepath.Join(bin, "troupe-test-echo")
	if err := os.WriteFile(tool, []byte("#!/bin/sh\necho \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	c := agentClient(t, map[string]config.Preset{
		"echo": {Command: "troupe-test-echo", Args: []string{"{message}"}, Mode: "per-message", Restart: "never"},
	})
	mustOK(t, call(t, c, "create_session", `{"session_id":"s"}`))
	mustOK(t, call(t, c, "create_agent", `{"session_id":"s","name":"e","preset":"echo"}`))
	mustOK(t, call(t, c, "send_to_agent", `{"agent_id":"s/e","message":"hi","wait_seconds":5}`))
	if err := os.Remove(tool); err != nil {
		t.Fatal(err)
	}
	for _, args := range []string{`{"agent_id":"s/e","message":"again"}`, `{"agent_id":"s/e","message":"again","wait_seconds":2}`} {
		mustFail(t, call(t, c, "send_to_agent", args), "troupe-test-echo", "PATH", "[presets.echo]")
	}
}
