package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
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

// troupeProc is a `troupe serve` bridge driven by a real MCP client; the bridge reaches the data
// dir's daemon, starting one when none runs (DESIGN §11), as Claude Desktop's set-up does.
type troupeProc struct {
	t   *testing.T
	c   *client.Client
	cmd *exec.Cmd
	dir string
}

// startServer runs `troupe serve` with the data dir and extra environment, and initializes an
// MCP client on it. The data dir's daemon is stopped when the test ends.
func startServer(t *testing.T, dataDir string, env ...string) *troupeProc {
	t.Helper()
	return startClient(t, dataDir, "troupe-e2e", env...)
}

// startClient is startServer with the client's name (what the daemon and the audit log see).
func startClient(t *testing.T, dataDir, name string, env ...string) *troupeProc {
	t.Helper()
	return startCommand(t, dataDir, name, "", e2eEnv(dataDir, env...), troupeBinary(t), "serve")
}

// startCommand runs command with args (a troupe bridge for dataDir) in the directory cwd (""
// for the test's) with env added to the test's environment, and initializes an MCP client on it.
func startCommand(t *testing.T, dataDir, name, cwd string, env []string, command string, args ...string) *troupeProc {
	t.Helper()
	s := &troupeProc{t: t, dir: dataDir}
	c, err := client.NewStdioMCPClientWithOptions(command, env, args,
		transport.WithCommandFunc(func(ctx context.Context, command string, env, args []string) (*exec.Cmd, error) {
			cmd := exec.CommandContext(ctx, command, args...)
			cmd.Env = append(os.Environ(), env...)
			cmd.Dir = cwd
			s.cmd = cmd
			return cmd, nil
		}))
	if err != nil {
		t.Fatalf("start troupe: %v", err)
	}
	s.c = c
	// Registered before the first call so that the daemon the bridge starts is stopped even when
	// initialize fails; cleanups run last-in first-out, so the client goes first.
	t.Cleanup(func() { stopDaemon(t, dataDir) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The transport is started already; Start (idempotent) installs the notification handlers.
	if err := c.Start(context.Background()); err != nil {
		t.Fatalf("start client: %v", err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: name, Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	crashed.Delete(dataDir)
	t.Cleanup(func() { s.detach() })
	return s
}

// e2eEnv is the environment of a troupe process of the tests: the data dir, a home and workspace
// root inside it, and extra settings (inherited by a daemon the bridge starts).
func e2eEnv(dataDir string, env ...string) []string {
	return append([]string{"TROUPE_DATA_DIR=" + dataDir, "HOME=" + dataDir, "TROUPE_WORKSPACE_ROOT=" + dataDir}, env...)
}

// detach closes the bridge's stdin (EOF), as a client that quits does: the bridge exits, the
// daemon and everything in it keep running. It reports a non-zero exit of the bridge.
func (s *troupeProc) detach() {
	if s.c == nil {
		return
	}
	c := s.c
	s.c = nil
	if err := c.Close(); err != nil && !strings.Contains(err.Error(), "file already closed") {
		s.t.Errorf("troupe serve did not exit cleanly after EOF: %v", err)
	}
}

// stop is an orderly restart's first half: the client leaves and the daemon stops gracefully
// (`troupe daemon stop`), closing the store and the audit log.
func (s *troupeProc) stop() {
	s.detach()
	stopDaemon(s.t, s.dir)
}

// kill9 crashes troupe: the daemon and the bridge get SIGKILL.
func (s *troupeProc) kill9() {
	s.t.Helper()
	pids := daemonPIDs(s.dir)
	if len(pids) != 1 {
		s.t.Fatalf("want one daemon for %s, found %v", s.dir, pids)
	}
	killDaemon9(s.t, s.dir, pids[0])
	s.killBridge()
	eventually(s.t, 10*time.Second, "the killed daemon is gone", func() bool { return !alive(pids[0]) })
}

// crashed holds the data dirs whose last daemon was killed: a socket file left there is expected.
var crashed sync.Map

// killDaemon9 kills the daemon pid of dataDir with SIGKILL.
func killDaemon9(t testing.TB, dataDir string, pid int) {
	t.Helper()
	crashed.Store(dataDir, true)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 the daemon: %v", err)
	}
}

// killBridge kills the bridge alone with SIGKILL, as a client crashing with it would.
func (s *troupeProc) killBridge() {
	s.t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		s.t.Fatalf("kill -9 the bridge: %v", err)
	}
	_ = s.c.Close()
	s.c = nil
}

// daemonPIDs lists the live troupe daemons serving dataDir: processes of the test binary run as
// `troupe daemon --data-dir DIR`.
func daemonPIDs(dataDir string) []int {
	var pids []int
	eachProcess(func(pid int, args []string) {
		if !isDaemonCmdline(args) || !alive(pid) {
			return
		}
		for i, a := range args {
			if (a == "--data-dir" && i+1 < len(args) && args[i+1] == dataDir) || a == "--data-dir="+dataDir {
				pids = append(pids, pid)
				return
			}
		}
	})
	return pids
}

// eachProcess calls fn with the pid and command line of every process.
func eachProcess(fn func(pid int, args []string)) {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range procs {
		data, err := os.ReadFile(f)
		if err != nil || len(data) == 0 {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
		fn(pid, strings.Split(strings.TrimRight(string(data), "\x00"), "\x00"))
	}
}

// isDaemonCmdline reports whether a command line is the `daemon` command of a troupe binary of
// this test run: the e2e binary, or a copy of it unpacked beside it (an MCP bundle's, see
// unpackedBundle).
func isDaemonCmdline(args []string) bool {
	return binPath != "" && len(args) >= 2 && filepath.Base(args[0]) == "troupe" && args[1] == "daemon" &&
		strings.HasPrefix(args[0], filepath.Dir(binPath)+string(filepath.Separator))
}

// stopDaemon stops the data dir's daemon with `troupe daemon stop` when one runs, then checks
// that no daemon process and no socket is left.
func stopDaemon(t testing.TB, dataDir string) {
	t.Helper()
	if binPath == "" {
		return
	}
	if len(daemonPIDs(dataDir)) > 0 {
		cmd := exec.Command(binPath, "daemon", "stop", "--data-dir", dataDir)
		cmd.Env = append(os.Environ(), e2eEnv(dataDir)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("troupe daemon stop: %v: %s", err, out)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(daemonPIDs(dataDir)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if pids := daemonPIDs(dataDir); len(pids) > 0 {
		t.Errorf("daemon %v of %s still runs after troupe daemon stop; killing it", pids, dataDir)
		for _, p := range pids {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
	}
	if _, err := os.Stat(filepath.Join(dataDir, "troupe.sock")); err == nil && len(daemonPIDs(dataDir)) == 0 {
		// A socket left by a crashed (killed) daemon is expected; one left by a stopped daemon is not.
		if _, ok := crashed.Load(dataDir); !ok {
			t.Errorf("the daemon of %s stopped but left its socket behind", dataDir)
		}
	}
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
