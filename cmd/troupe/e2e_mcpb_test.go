package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/tools"
)

// mcpbCLI is Node 22 and the official MCP bundle CLI (@anthropic-ai/mcpb), installed by
// scripts/deps.sh.
func mcpbCLI(t *testing.T) (node, cli string) {
	t.Helper()
	return nodeModuleFile(t, "the MCP bundle CLI (@anthropic-ai/mcpb)", "@anthropic-ai", "mcpb", "dist", "cli", "cli.js")
}

// runNode runs node with args and returns its output and whether it exited 0.
func runNode(t *testing.T, node string, args ...string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, args...)
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

// unpackedBundle packs the e2e binary with `troupe mcpb pack` and unpacks the bundle with the
// official CLI, as Claude Desktop installs it, in a directory beside the e2e binary (so that
// isDaemonCmdline knows the daemons its copy starts). It returns the .mcpb file and the
// bundle's directory.
func unpackedBundle(t *testing.T) (bundle, dir string) {
	t.Helper()
	node, cli := mcpbCLI(t)
	bin := troupeBinary(t)
	bundle = filepath.Join(t.TempDir(), "troupe.mcpb")
	if out, err := exec.Command(bin, "mcpb", "pack", "--out", bundle).CombinedOutput(); err != nil {
		t.Fatalf("troupe mcpb pack: %v\n%s", err, out)
	}
	dir, err := os.MkdirTemp(filepath.Dir(bin), "bundle-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if out, ok := runNode(t, node, cli, "unpack", bundle, dir); !ok {
		t.Fatalf("mcpb unpack: %s", out)
	}
	return bundle, dir
}

// TestE2EMcpbBundleValidatesWithTheOfficialCLI: `troupe mcpb pack` writes a zip with
// manifest.json at its root, the binary (executable once the official CLI unpacks it) and a
// PNG icon; `mcpb validate` accepts the manifest (and refuses a broken one, so the check
// means something), whose tools are the registry's.
func TestE2EMcpbBundleValidatesWithTheOfficialCLI(t *testing.T) {
	bundle, dir := unpackedBundle(t)
	zr, err := zip.OpenReader(bundle)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Name == mcpbEntryPoint && f.Mode().Perm() != 0o755 {
			t.Errorf("%s has mode %v in the zip, want 0755", f.Name, f.Mode())
		}
	}
	if want := []string{"manifest.json", mcpbEntryPoint, mcpbIcon}; !slices.Equal(names, want) {
		t.Errorf("the bundle holds %q, want %q", names, want)
	}
	st, err := os.Stat(filepath.Join(dir, mcpbEntryPoint))
	if err != nil || st.Mode().Perm()&0o111 == 0 {
		t.Fatalf("the unpacked binary: %v, mode %v; want an executable", err, st)
	}
	if fileSum(t, filepath.Join(dir, mcpbEntryPoint)) != fileSum(t, troupeBinary(t)) {
		t.Error("the bundled binary differs from the one packed")
	}
	node, cli := mcpbCLI(t)
	manifest := filepath.Join(dir, "manifest.json")
	out, ok := runNode(t, node, cli, "validate", manifest)
	if !ok || !strings.Contains(out, "Manifest schema validation passes!") || strings.Contains(out, "ERROR") {
		t.Fatalf("mcpb validate refused the manifest:\n%s", out)
	}
	var m struct {
		Tools  []mcpbTool `json:"tools"`
		Server struct {
			MCPConfig mcpbMCPConfig `json:"mcp_config"`
		} `json:"server"`
	}
	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, tl := range m.Tools {
		got = append(got, tl.Name)
	}
	for _, tl := range tools.All(tools.Deps{}) {
		want = append(want, tl.Tool.Name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("the bundle's tools are %q, want the registry's %q", got, want)
	}
	// A manifest the schema refuses must fail validation: the check above is not vacuous.
	broken := filepath.Join(t.TempDir(), "manifest.json")
	if err := os.WriteFile(broken, bytes.Replace(data, []byte(`"type": "binary"`), []byte(`"type": "exe"`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, ok := runNode(t, node, cli, "validate", broken); ok {
		t.Fatalf("mcpb validate accepted a server of type exe:\n%s", out)
	}
}

func fileSum(t *testing.T, path string) [sha256.Size]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

// hostConfig is the command and arguments the official loader (getMcpConfigForManifest, what
// Claude Desktop runs) makes of the bundle in dir with the user's settings.
func hostConfig(t *testing.T, dir string, settings map[string]string) (string, []string) {
	t.Helper()
	node, dirNode := nodeClients(t)
	user, err := json.Marshal(settings)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "mcpbconfig.mjs", filepath.Join(dir, "manifest.json"), dir, string(user))
	cmd.Dir = dirNode
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mcpbconfig.mjs: %v\n%s", err, out)
	}
	var c struct {
		Command string   `json:"command"`
		Args    []string `json:"args"`
	}
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatalf("mcpbconfig.mjs: %v: %s", err, out)
	}
	return c.Command, c.Args
}

// bundleEnv is the environment of a bundle's bridge: no TROUPE_* setting, so that only its
// arguments choose, and a home and state dir of the test's (decoy) where defaults would go.
func bundleEnv(decoy string) []string {
	return []string{"TROUPE_DATA_DIR=", "TROUPE_WORKSPACE_ROOT=", "TROUPE_BROWSER=", "TROUPE_LOG_LEVEL=warn",
		"HOME=" + decoy, "XDG_STATE_HOME=" + decoy}
}

// TestE2EMcpbSettingsReachTheDaemon: Claude Desktop's settings, turned into arguments by the
// official loader, reach the daemon the bundle's bridge starts: the data dir is used, a
// workspace outside the workspace root is refused, an agent command is found on the extra
// PATH, and pages use the Chromium path. Settings left without a value keep troupe's defaults.
func TestE2EMcpbSettingsReachTheDaemon(t *testing.T) {
	_, dir := unpackedBundle(t)
	t.Run("set", func(t *testing.T) {
		data, decoy, root, extra := testutil.ShortDir(t), testutil.ShortDir(t), t.TempDir(), t.TempDir()
		probe := "#!/bin/sh\necho probe-found\n"
		if err := os.WriteFile(filepath.Join(extra, "troupe-mcpb-probe"), []byte(probe), 0o755); err != nil {
			t.Fatal(err)
		}
		presets := "[presets.probe]\ncommand = \"troupe-mcpb-probe\"\n"
		if err := os.WriteFile(filepath.Join(data, "troupe.toml"), []byte(presets), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(filepath.Join(root, "proj"), 0o700); err != nil {
			t.Fatal(err)
		}
		chromium := "/nonexistent/troupe-test/chromium"
		command, args := hostConfig(t, dir, map[string]string{"data_dir": data, "workspace_root": root,
			"extra_path": extra, "chromium_path": chromium})
		s := startCommand(t, data, "claude-desktop", t.TempDir(), bundleEnv(decoy), command, args...)
		s.ok("create_session", map[string]any{"session_id": "in", "workspace": filepath.Join(root, "proj")})
		if msg := s.fails("create_session", map[string]any{"session_id": "out", "workspace": t.TempDir()}); !strings.Contains(msg, root) {
			t.Errorf("a workspace outside the root: %q, want it refused naming %s", msg, root)
		}
		agent := s.ok("create_agent", map[string]any{"session_id": "in", "preset": "probe"})
		outputText(s, agent["agent_id"].(string), "probe-found")
		if msg := s.fails("open_page", map[string]any{"session_id": "in"}); !strings.Contains(msg, chromium) {
			t.Errorf("open_page: %q, want the configured Chromium %s named", msg, chromium)
		}
		if _, err := os.Stat(filepath.Join(data, "troupe.db")); err != nil {
			t.Errorf("the data dir setting was not used: %v", err)
		}
		if _, err := os.Stat(filepath.Join(decoy, "troupe")); err == nil {
			t.Error("the default data dir was used too")
		}
	})
	t.Run("left empty", func(t *testing.T) {
		decoy, cwd := testutil.ShortDir(t), t.TempDir()
		command, args := hostConfig(t, dir, map[string]string{"extra_path": ""})
		if !slices.Contains(args, "--data-dir=${user_config.data_dir}") || !slices.Contains(args, "--extra-path=") {
			t.Fatalf("the loader's arguments %q: want a placeholder kept and an empty value (what troupe reads as unset)", args)
		}
		data := filepath.Join(decoy, "troupe") // $XDG_STATE_HOME/troupe: the default
		s := startCommand(t, data, "claude-desktop", cwd, bundleEnv(decoy), command, args...)
		s.ok("create_session", map[string]any{"session_id": "default"})
		if _, err := os.Stat(filepath.Join(data, "troupe.db")); err != nil {
			t.Errorf("the default data dir was not used: %v", err)
		}
		if entries, _ := os.ReadDir(cwd); len(entries) > 0 {
			t.Errorf("the bridge's directory got %s: a placeholder was taken for a path", entries[0].Name())
		}
	})
}
