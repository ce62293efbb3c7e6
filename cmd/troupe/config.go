package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/troupe-dev/troupe/internal/config"
)

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Print configuration snippets for MCP clients",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newClaudeDesktopCmd(), newClaudeCodeCmd())
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

// serverEntry is the mcpServers entry that starts this binary with the data dir (and --config)
// of cmd, and the binary's path.
func serverEntry(cmd *cobra.Command) (mcpServer, error) {
	flag, _ := cmd.Flags().GetString("data-dir")
	dir, err := config.ResolveDataDir(flag)
	if err != nil {
		return mcpServer{}, err
	}
	exe, err := executablePath()
	if err != nil {
		return mcpServer{}, err
	}
	args := []string{"serve"}
	if cfgPath, _ := cmd.Flags().GetString("config"); cfgPath != "" {
		abs, err := filepath.Abs(cfgPath)
		if err != nil {
			return mcpServer{}, err
		}
		args = append(args, "--config", abs)
	}
	// Clients start servers with a bare environment: the PATH of this shell lets agent presets
	// (claude, codex, aider, …) and Chromium be found as they are here.
	env := map[string]string{"TROUPE_DATA_DIR": dir}
	if path := os.Getenv("PATH"); path != "" {
		env["PATH"] = path
	}
	return mcpServer{Command: exe, Args: args, Env: env}, nil
}

func newClaudeDesktopCmd() *cobra.Command {
	var name, file string
	var write bool
	cmd := &cobra.Command{
		Use:   "claude-desktop",
		Short: "Print (or --write) the claude_desktop_config.json entry that starts this troupe binary",
		Long: "Print the claude_desktop_config.json entry that starts this troupe binary with the same data dir\n" +
			"(and --config, when given). Merge it into the \"mcpServers\" object of Claude Desktop's file, or let\n" +
			"--write do it: the file's other servers and settings are kept, a backup is written beside it first,\n" +
			"and running it again changes nothing.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(name) == "" {
				return errors.New("--name is empty: give the key the server gets under mcpServers, e.g. --name troupe")
			}
			entry, err := serverEntry(cmd)
			if err != nil {
				return err
			}
			if write {
				if file == "" {
					if file, err = desktopConfigPath(); err != nil {
						return err
					}
				}
				msg, err := mergeDesktopConfig(file, name, entry, time.Now())
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), msg)
				if w := goRunWarning(entry.Command); w != "" {
					fmt.Fprintln(cmd.ErrOrStderr(), w)
				}
				return nil
			}
			exe := entry.Command
			snippet := map[string]map[string]mcpServer{"mcpServers": {name: entry}}
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
	cmd.Flags().BoolVar(&write, "write", false, "merge the entry into Claude Desktop's config file (a backup first)")
	cmd.Flags().StringVar(&file, "file", "", "the config file --write changes (default: Claude Desktop's, for this system)")
	return cmd
}

// desktopConfigPath is where Claude Desktop keeps its configuration on this system.
func desktopConfigPath() (string, error) {
	switch runtime.GOOS {
	case "darwin":
		home, err := os.UserHomeDir()
		return filepath.Join(home, "Library", "Application Support", "Claude", "claude_desktop_config.json"), err
	case "windows":
		return filepath.Join(os.Getenv("APPDATA"), "Claude", "claude_desktop_config.json"), nil
	}
	dir, err := os.UserConfigDir() // $XDG_CONFIG_HOME or ~/.config
	if err != nil {
		return "", fmt.Errorf("cannot tell where Claude Desktop's config is (%w): pass --file", err)
	}
	return filepath.Join(dir, "Claude", "claude_desktop_config.json"), nil
}

// mergeDesktopConfig puts entry under mcpServers[name] in file, keeping everything else in it as
// it is (other servers, other settings, their order within each object is JSON's); a backup of
// the old file is written beside it first. An entry already equal changes nothing.
func mergeDesktopConfig(file, name string, entry mcpServer, now time.Time) (string, error) {
	top := map[string]json.RawMessage{}
	old, err := os.ReadFile(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		old = nil
	case err != nil:
		return "", fmt.Errorf("read %s: %w", file, err)
	case len(strings.TrimSpace(string(old))) > 0:
		if err := json.Unmarshal(old, &top); err != nil {
			return "", fmt.Errorf("%s is not a JSON object (%v); nothing was changed: fix it, or move it away and run again", file, err)
		}
	}
	servers := map[string]json.RawMessage{}
	if raw, ok := top["mcpServers"]; ok {
		if err := json.Unmarshal(raw, &servers); err != nil {
			return "", fmt.Errorf("%s: \"mcpServers\" is not an object (%v); nothing was changed", file, err)
		}
	}
	want, _ := json.Marshal(entry)
	if have, ok := servers[name]; ok {
		var a, b any
		if json.Unmarshal(have, &a) == nil && json.Unmarshal(want, &b) == nil && reflect.DeepEqual(a, b) {
			return fmt.Sprintf("%s already has mcpServers.%s as it should be; nothing changed", file, name), nil
		}
	}
	servers[name] = want
	top["mcpServers"], _ = json.Marshal(servers)
	out, err := json.MarshalIndent(top, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return "", err
	}
	mode := os.FileMode(0o600)
	backup := ""
	if old != nil {
		if st, err := os.Stat(file); err == nil {
			mode = st.Mode().Perm()
		}
		backup = fmt.Sprintf("%s.%s.bak", file, now.UTC().Format("20060102T150405"))
		if err := os.WriteFile(backup, old, mode); err != nil {
			return "", fmt.Errorf("back up %s: %w; nothing was changed", file, err)
		}
	}
	tmp := file + ".troupe-tmp"
	if err := os.WriteFile(tmp, append(out, '\n'), mode); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, file); err != nil {
		os.Remove(tmp)
		return "", err
	}
	msg := fmt.Sprintf("wrote mcpServers.%s into %s; restart Claude Desktop to start it", name, file)
	if backup != "" {
		msg += " (the file before: " + backup + ")"
	}
	return msg, nil
}

func newClaudeCodeCmd() *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "claude-code",
		Short: "Print the `claude mcp add` command that adds this troupe binary to Claude Code",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(name) == "" {
				return errors.New("--name is empty: give the server a name, e.g. --name troupe")
			}
			entry, err := serverEntry(cmd)
			if err != nil {
				return err
			}
			parts := []string{"claude", "mcp", "add", shellQuote(name), "--scope", "user", "-e", shellQuote("TROUPE_DATA_DIR=" + entry.Env["TROUPE_DATA_DIR"])}
			parts = append(parts, "--", shellQuote(entry.Command))
			for _, a := range entry.Args {
				parts = append(parts, shellQuote(a))
			}
			fmt.Fprintln(cmd.OutOrStdout(), strings.Join(parts, " "))
			fmt.Fprintln(cmd.ErrOrStderr(), "Run it in your shell; Claude Code then starts troupe over stdio (`claude mcp list` shows it).")
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "troupe", "the server's name in Claude Code")
	return cmd
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '/' || r == '.' || r == '=' || r == ':' || r == '+' || r == ',' || r == '@' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
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
