package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/troupe-dev/troupe/internal/config"
)

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Print configuration snippets for MCP clients",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newClaudeDesktopCmd())
	return cmd
}

// mcpServer is one entry of the "mcpServers" object in claude_desktop_config.json.
type mcpServer struct {
	Command string            `json:"command"`
	Args    []string          `json:"args"`
	Env     map[string]string `json:"env"`
}

// desktopConfigHint says where Claude Desktop keeps its configuration on each system.
const desktopConfigHint = `Merge the %q entry into "mcpServers" in Claude Desktop's claude_desktop_config.json ` +
	`(Linux: ~/.config/Claude/claude_desktop_config.json; ` +
	`macOS: ~/Library/Application Support/Claude/claude_desktop_config.json; ` +
	`Windows: %%APPDATA%%\Claude\claude_desktop_config.json), then restart Claude Desktop.`

func newClaudeDesktopCmd() *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "claude-desktop",
		Short: "Print the claude_desktop_config.json entry that starts this troupe binary",
		Long: "Print the claude_desktop_config.json entry that starts this troupe binary with the same data dir\n" +
			"(and --config, when given). Merge it into the \"mcpServers\" object of Claude Desktop's file.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(name) == "" {
				return errors.New("--name is empty: give the key the server gets under mcpServers, e.g. --name troupe")
			}
			flag, _ := cmd.Flags().GetString("data-dir")
			dir, err := config.ResolveDataDir(flag)
			if err != nil {
				return err
			}
			exe, err := executablePath()
			if err != nil {
				return err
			}
			args := []string{"serve"}
			if cfgPath, _ := cmd.Flags().GetString("config"); cfgPath != "" {
				abs, err := filepath.Abs(cfgPath)
				if err != nil {
					return err
				}
				args = append(args, "--config", abs)
			}
			// Claude Desktop starts servers with a bare environment: the PATH of this shell lets
			// agent presets (claude, codex, aider, …) and Chromium be found as they are here.
			env := map[string]string{"TROUPE_DATA_DIR": dir}
			if path := os.Getenv("PATH"); path != "" {
				env["PATH"] = path
			}
			snippet := map[string]map[string]mcpServer{"mcpServers": {name: {
				Command: exe,
				Args:    args,
				Env:     env,
			}}}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(snippet); err != nil {
				return err
			}
			if w := goRunWarning(exe); w != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), w)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), desktopConfigHint+"\n", name)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "troupe", "key of the server under mcpServers")
	return cmd
}

// executablePath is the absolute path of the running binary with symlinks resolved, so that
// the snippet keeps working when a symlink (or its target) is replaced.
func executablePath() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find this binary's path (%w): write the path of troupe into \"command\" yourself", err)
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	return filepath.Abs(exe)
}

// goRunWarning returns a warning when exe is a `go run` build: it lives in Go's build cache
// or a temporary directory and can vanish (go clean, cache trimming), so Claude Desktop could
// not start it later.
func goRunWarning(exe string) string {
	if !strings.Contains(filepath.ToSlash(exe), "/go-build") {
		return ""
	}
	return "warning: " + exe + " is a `go run` build that can vanish from Go's build cache at any time; " +
		"run `make build` and then `bin/troupe config claude-desktop` instead."
}
