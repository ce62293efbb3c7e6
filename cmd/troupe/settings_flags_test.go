package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/troupe-dev/troupe/internal/config"
)

// parseSettings runs a command that has the root's flags and the setting flags with args, and
// returns what loadConfig made of them and the arguments a bridge would give its daemon.
func parseSettings(t *testing.T, args ...string) (config.Config, []string, error) {
	t.Helper()
	for _, name := range []string{"TROUPE_DATA_DIR", "TROUPE_WORKSPACE_ROOT", "TROUPE_BROWSER", "XDG_STATE_HOME"} {
		t.Setenv(name, "")
	}
	t.Setenv("HOME", t.TempDir())
	var f serveFlags
	var cfg config.Config
	var daemon []string
	var loadErr error
	cmd := &cobra.Command{Use: "settings", RunE: func(cmd *cobra.Command, _ []string) error {
		cfg, loadErr = loadConfig(cmd, f)
		daemon = daemonArgs(cmd)
		return nil
	}}
	addSettingFlags(cmd, &f)
	root := newRootCmd()
	root.AddCommand(cmd)
	root.SetArgs(append([]string{"settings"}, args...))
	if err := root.Execute(); err != nil {
		t.Fatalf("settings %s: %v", strings.Join(args, " "), err)
	}
	return cfg, daemon, loadErr
}

// TestSettingFlagsReachTheConfigAndTheDaemon: --workspace-root, --browser and --extra-path set
// their settings, and a bridge passes them on to the daemon it starts.
func TestSettingFlagsReachTheConfigAndTheDaemon(t *testing.T) {
	cfg, daemon, err := parseSettings(t, "--data-dir=/tmp/troupe-d", "--workspace-root=/srv/work",
		"--browser=/opt/chromium/chrome", "--extra-path=/opt/homebrew/bin::/usr/local/bin")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "/tmp/troupe-d" || cfg.WorkspaceRoot != "/srv/work" || cfg.Browser != "/opt/chromium/chrome" ||
		!reflect.DeepEqual(cfg.ExtraPath, []string{"/opt/homebrew/bin", "/usr/local/bin"}) {
		t.Errorf("config: data dir %q, workspace root %q, browser %q, extra path %q", cfg.DataDir, cfg.WorkspaceRoot, cfg.Browser, cfg.ExtraPath)
	}
	want := []string{"--workspace-root", "/srv/work", "--browser", "/opt/chromium/chrome", "--extra-path", "/opt/homebrew/bin::/usr/local/bin"}
	if !reflect.DeepEqual(daemon, want) {
		t.Errorf("daemon args = %q, want %q", daemon, want)
	}
}

// TestEmptyOrUnexpandedSettingFlagsAreUnset: what an MCP bundle's host passes for a setting
// left empty ("--flag=") or without a value (the placeholder kept, as the official mcpb loader
// does) leaves the setting at its default, and reaches no daemon.
func TestEmptyOrUnexpandedSettingFlagsAreUnset(t *testing.T) {
	defaults, _, err := parseSettings(t)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--data-dir=", "--workspace-root=", "--browser=", "--extra-path="},
		{"--data-dir=${user_config.data_dir}", "--workspace-root=${user_config.workspace_root}",
			"--browser=${user_config.chromium_path}", "--extra-path=${user_config.extra_path}"},
	} {
		cfg, daemon, err := parseSettings(t, args...)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		home := os.Getenv("HOME") // parseSettings gives each call a home of its own
		if cfg.DataDir != filepath.Join(home, ".local", "state", "troupe") || cfg.WorkspaceRoot != home ||
			cfg.Browser != defaults.Browser || cfg.ExtraPath != nil {
			t.Errorf("%q: data dir %q, workspace root %q, browser %q, extra path %q; want the defaults", args,
				cfg.DataDir, cfg.WorkspaceRoot, cfg.Browser, cfg.ExtraPath)
		}
		if len(daemon) != 0 {
			t.Errorf("%q: daemon args %q, want none", args, daemon)
		}
	}
}

func TestRelativeExtraPathIsRefused(t *testing.T) {
	if _, _, err := parseSettings(t, "--extra-path=bin"); err == nil || !strings.Contains(err.Error(), "must be an absolute path") {
		t.Fatalf("err = %v, want extra_path refused", err)
	}
}
