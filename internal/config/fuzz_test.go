package config

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

// durationKeys maps each duration setting of troupe.toml to its environment variable ("" when
// it has none) and its field.
var durationKeys = map[string]struct {
	env   string
	field func(*Config) Seconds
}{
	"session_timeout":    {"TROUPE_SESSION_TIMEOUT", func(c *Config) Seconds { return c.SessionTimeout }},
	"cleanup_interval":   {"TROUPE_CLEANUP_INTERVAL", func(c *Config) Seconds { return c.CleanupInterval }},
	"call_timeout":       {"TROUPE_CALL_TIMEOUT", func(c *Config) Seconds { return c.CallTimeout }},
	"navigation_timeout": {"TROUPE_NAVIGATION_TIMEOUT", func(c *Config) Seconds { return c.NavTimeout }},
	"snapshot_retention": {"", func(c *Config) Seconds { return c.SnapshotRetention }},
	"agent_stop_grace":   {"", func(c *Config) Seconds { return c.AgentStopGrace }},
	"daemon_idle_exit":   {"TROUPE_DAEMON_IDLE_EXIT", func(c *Config) Seconds { return c.DaemonIdleExit }},
}

// FuzzLoadConfig loads an arbitrary troupe.toml with one arbitrary environment variable set.
// Load must not panic; what it accepts must validate, with positive durations and limits, and
// numbers of seconds read as written (no overflow); what it refuses must say so in a message
// that names the file, the environment variable or the setting at fault.
func FuzzLoadConfig(f *testing.F) {
	for _, s := range []struct{ file, key, val string }{
		{"", "", ""},
		{"session_timeout = 120\nmax_sessions = 7\ncleanup_interval = \"2m\"\n", "TROUPE_MAX_SESSIONS", "9"},
		{"log_level = \"debug\"\nallow_hosts = [\"example.com\"]\nallow_any_command = true\n", "TROUPE_LOG_LEVEL", "warn"},
		{"[presets.reviewer]\ncommand = \"claude\"\nargs = [\"-p\", \"{message}\"]\nmode = \"per-message\"\nenv = { A = \"1\" }\n", "", ""},
		{"session_timeout = 0.5\nagent_stop_grace = 2\npage_content_max_bytes = 1000\n", "TROUPE_SESSION_TIMEOUT", "1h"},
		{"workspace_root = \"/srv/work\"\nbrowser = \"/usr/bin/chromium\"\n", "TROUPE_WORKSPACE_ROOT", "/tmp"},
		{"max_sesions = 3\n", "", ""},
		{"max_sessions = \n", "", ""},
		{"max_sessions = -1\n", "", ""},
		{"session_timeout = \"soon\"\n", "", ""},
		{"session_timeout = true\n", "", ""},
		{"[presets.x]\ncommand = \"sh\"\nmode = \"batch\"\n", "", ""},
		{"[presets.x]\nrestart = \"sometimes\"\n", "", ""},
		{"workspace_root = \"relative\"\n", "", ""},
		{"", "TROUPE_MAX_SESSIONS", "many"},
		{"", "TROUPE_CLEANUP_INTERVAL", "-1"},
		{"", "TROUPE_CALL_TIMEOUT", "1e300"},
		{"", "TROUPE_LOG_LEVEL", "loud"},
		{"[[presets]]\n", "", ""},
		{"a = [[[[[[[[[[1]]]]]]]]]]\n", "", ""},
	} {
		f.Add(s.file, s.key, s.val)
	}
	for _, k := range tomlKeys() { // a number for every setting, for the mutator to work on
		f.Add(k+" = 1\n", "", "")
	}
	f.Fuzz(func(t *testing.T, file, envKey, envVal string) {
		dir := t.TempDir()
		path := filepath.Join(dir, "troupe.toml")
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		getenv := func(k string) string {
			if k == envKey {
				return envVal
			}
			return ""
		}
		cfg, err := Load(LoadOptions{DataDir: dir, Getenv: getenv})
		if err != nil {
			checkRefusal(t, err, path, envKey)
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Load accepted a configuration that does not validate: %v", err)
		}
		if cfg.DataDir != dir || cfg.File != path {
			t.Fatalf("DataDir, File = %q, %q; want %q, %q", cfg.DataDir, cfg.File, dir, path)
		}
		for name, v := range map[string]int{"max_sessions": cfg.MaxSessions, "max_children": cfg.MaxChildren,
			"max_state_bytes": cfg.MaxStateBytes, "page_content_max_bytes": cfg.PageContentMax,
			"agent_output_bytes": cfg.AgentOutputBytes, "max_message_bytes": cfg.MaxMessageBytes} {
			if v <= 0 {
				t.Fatalf("accepted %s = %d; a limit must be positive", name, v)
			}
		}
		checkDurations(t, &cfg, file, envKey, envVal)
	})
}

// checkRefusal wants an error message that names where the problem is.
func checkRefusal(t *testing.T, err error, path, envKey string) {
	t.Helper()
	msg := err.Error()
	if strings.TrimSpace(msg) == "" {
		t.Fatal("refused with an empty message")
	}
	names := []string{path, "preset", "log level"}
	if strings.HasPrefix(envKey, "TROUPE_") {
		names = append(names, envKey)
	}
	names = append(names, tomlKeys()...)
	for _, n := range names {
		if strings.Contains(msg, n) {
			return
		}
	}
	t.Fatalf("refusal %q names neither the file, the variable nor a setting", msg)
}

// tomlKeys lists the settings troupe.toml has, from the struct tags.
func tomlKeys() []string {
	var keys []string
	typ := reflect.TypeFor[Config]()
	for i := range typ.NumField() {
		if tag := typ.Field(i).Tag.Get("toml"); tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	return keys
}

// checkDurations wants every duration positive, and a number of seconds written in the file (or
// the environment, which wins) read as that many seconds, not wrapped around or truncated to 0.
func checkDurations(t *testing.T, cfg *Config, file, envKey, envVal string) {
	t.Helper()
	var raw map[string]any
	_, _ = toml.Decode(file, &raw) // Load decoded it: it is valid TOML
	for key, d := range durationKeys {
		got := d.field(cfg).D()
		if got <= 0 {
			t.Fatalf("accepted %s = %v; a duration must be positive", key, got)
		}
		var want float64
		var from string
		switch v := raw[key].(type) {
		case int64:
			want, from = float64(v), "the file"
		case float64:
			want, from = v, "the file"
		}
		if d.env != "" && envKey == d.env && envVal != "" {
			want, from = 0, ""
			if f, err := strconv.ParseFloat(strings.TrimSpace(envVal), 64); err == nil {
				want, from = f, d.env
			}
		}
		if from == "" {
			continue
		}
		if diff := math.Abs(got.Seconds() - want); diff > 1e-9*math.Abs(want)+2*float64(time.Nanosecond)/float64(time.Second) {
			t.Fatalf("%s = %v seconds in %s was loaded as %v (%v s)", key, want, from, got, got.Seconds())
		}
	}
}
