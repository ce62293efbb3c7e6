package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/troupe-dev/troupe/internal/testutil"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// troupeBinary builds the troupe binary once per test run.
func troupeBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "troupe-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "troupe")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = &buildError{out: string(out), err: err}
		}
	})
	if buildErr != nil {
		t.Fatalf("build troupe: %v", buildErr)
	}
	return binPath
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// troupeProc is a troupe binary serving stdio, driven by a real MCP client.
type troupeProc struct {
	t   *testing.T
	c   *client.Client
	cmd *exec.Cmd
}

// startServer runs `troupe serve` with the data dir and extra environment, and initializes an
// MCP client on it.
func startServer(t *testing.T, dataDir string, env ...string) *troupeProc {
	t.Helper()
	s := &troupeProc{t: t}
	full := append([]string{"TROUPE_DATA_DIR=" + dataDir, "HOME=" + dataDir, "TROUPE_WORKSPACE_ROOT=" + dataDir}, env...)
	c, err := client.NewStdioMCPClientWithOptions(troupeBinary(t), full, []string{"serve"},
		transport.WithCommandFunc(func(ctx context.Context, command string, env, args []string) (*exec.Cmd, error) {
			cmd := exec.CommandContext(ctx, command, args...)
			cmd.Env = append(os.Environ(), env...)
			s.cmd = cmd
			return cmd, nil
		}))
	if err != nil {
		t.Fatalf("start troupe: %v", err)
	}
	s.c = c
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// The transport is started already; Start (idempotent) installs the notification handlers.
	if err := c.Start(context.Background()); err != nil {
		t.Fatalf("start client: %v", err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "troupe-e2e", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	t.Cleanup(func() { s.stop() })
	return s
}

// stop closes stdin (EOF): an orderly shutdown. It reports a non-zero exit.
func (s *troupeProc) stop() {
	if s.c == nil {
		return
	}
	c := s.c
	s.c = nil
	if err := c.Close(); err != nil && !strings.Contains(err.Error(), "file already closed") {
		s.t.Errorf("troupe did not exit cleanly after EOF: %v", err)
	}
}

// kill9 kills the server with SIGKILL, as a crash would.
func (s *troupeProc) kill9() {
	s.t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		s.t.Fatalf("kill -9: %v", err)
	}
	_ = s.c.Close()
	s.c = nil
}

// call invokes a tool and returns the result; protocol errors fail the test.
func (s *troupeProc) call(tool string, args any) *mcp.CallToolResult {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name = tool
	req.Params.Arguments = args
	res, err := s.c.CallTool(ctx, req)
	if err != nil {
		s.t.Fatalf("%s: %v", tool, err)
	}
	return res
}

// ok invokes a tool that must succeed and returns its structured content.
func (s *troupeProc) ok(tool string, args any) map[string]any {
	s.t.Helper()
	res := s.call(tool, args)
	if res.IsError {
		s.t.Fatalf("%s(%v): tool error %s", tool, args, resultText(res))
	}
	data, _ := json.Marshal(res.StructuredContent)
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		s.t.Fatalf("%s: structured content %s: %v", tool, data, err)
	}
	return m
}

// fails invokes a tool that must answer a tool error and returns its text.
func (s *troupeProc) fails(tool string, args any) string {
	s.t.Helper()
	res := s.call(tool, args)
	if !res.IsError {
		s.t.Fatalf("%s(%v): got success, want a tool error", tool, args)
	}
	return resultText(res)
}

func resultText(r *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range r.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// eventually polls cond for up to timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, timeout, what, cond)
}
