package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/troupe-dev/troupe/internal/cluster"
)

// Config is troupe's whole configuration after flags, environment, file and defaults are merged.
type Config struct {
	DataDir           string   `toml:"-"`
	File              string   `toml:"-"`
	LogLevel          string   `toml:"log_level"`
	SessionTimeout    Seconds  `toml:"session_timeout"`
	CleanupInterval   Seconds  `toml:"cleanup_interval"`
	MaxSessions       int      `toml:"max_sessions"`
	MaxChildren       int      `toml:"max_children"`
	MaxStateBytes     int      `toml:"max_state_bytes"`
	SnapshotRetention Seconds  `toml:"snapshot_retention"`
	CallTimeout       Seconds  `toml:"call_timeout"`
	WorkspaceRoot     string   `toml:"workspace_root"`
	Browser           string   `toml:"browser"`
	NavTimeout        Seconds  `toml:"navigation_timeout"`
	PageContentMax    int      `toml:"page_content_max_bytes"`
	AllowHosts        []string `toml:"allow_hosts"`
	DenyHosts         []string `toml:"deny_hosts"`
	AllowAnyCommand   bool     `toml:"allow_any_command"`
	AgentOutputBytes  int      `toml:"agent_output_bytes"`
	AgentLogBytes     int64    `toml:"agent_log_bytes"`
	MaxMessageBytes   int      `toml:"max_message_bytes"`
	AgentStopGrace    Seconds  `toml:"agent_stop_grace"`
	// MaxWait caps every wait of a call (wait_seconds of the agent tools): clients drop answers
	// after about 60 s (DESIGN §13).
	MaxWait Seconds `toml:"max_wait_seconds"`
	// ExtraPath are directories searched before PATH for agent commands, git and Chromium:
	// Claude Desktop starts servers with a short PATH.
	ExtraPath []string `toml:"extra_path"`
	// DaemonIdleExit is how long the daemon waits with no client connected and no running child
	// before it exits by itself (DESIGN §11).
	DaemonIdleExit Seconds `toml:"daemon_idle_exit"`
	// AllowedOrigins and AllowedHosts add to what the daemon's TCP listener accepts in the Origin
	// and Host headers beyond its own address (DNS-rebinding protection, DESIGN §12): origins as
	// scheme://host[:port], hosts as host[:port] (a host without a port matches any port).
	AllowedOrigins []string `toml:"allowed_origins"`
	AllowedHosts   []string `toml:"allowed_hosts"`
	// RequireApproval names the tools that wait for a person before they run (DESIGN §15):
	// e.g. ["delete_session", "delete_agent"]. The daemon refuses a name that is not a tool.
	RequireApproval []string          `toml:"require_approval"`
	Presets         map[string]Preset `toml:"presets"`
	// Cluster joins this daemon to others on etcd (DESIGN §16); the zero value: one machine.
	Cluster cluster.Config `toml:"cluster"`
}

// Clustered reports whether the [cluster] table is set: the daemon then joins others on etcd.
func (c *Config) Clustered() bool {
	k := c.Cluster
	return k.Node != "" || k.Advertise != "" || len(k.Etcd) > 0 || k.BlobDir != "" || k.LeaseSeconds != 0
}

// Seconds is a duration written in troupe.toml and the environment as a number of seconds.
type Seconds time.Duration

// D returns the duration.
func (s Seconds) D() time.Duration { return time.Duration(s) }

// maxSeconds bounds every duration setting (a hundred years), well inside time.Duration.
const maxSeconds = 100 * 365 * 24 * 3600

// UnmarshalTOML accepts an integer or float number of seconds, or a Go duration string ("90s").
func (s *Seconds) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case int64:
		if x <= 0 || x > maxSeconds {
			return fmt.Errorf("%d: want a positive number of seconds up to %d", x, maxSeconds)
		}
		*s = Seconds(time.Duration(x) * time.Second)
	case float64:
		if !(x > 0 && x <= maxSeconds) {
			return fmt.Errorf("%v: want a positive number of seconds up to %d", x, maxSeconds)
		}
		*s = Seconds(time.Duration(x * float64(time.Second)))
	case string:
		d, err := parseSeconds(x)
		if err != nil {
			return err
		}
		*s = Seconds(d)
	default:
		return fmt.Errorf("want a number of seconds, got %T", v)
	}
	return nil
}

func parseSeconds(v string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
		if !(f > 0 && f <= maxSeconds) {
			return 0, fmt.Errorf("%q: want a positive number of seconds up to %d", v, maxSeconds)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d <= 0 || d > maxSeconds*time.Second {
		return 0, fmt.Errorf("%q: want a positive number of seconds (e.g. 3600) or a duration (e.g. 1h)", v)
	}
	return d, nil
}

// Defaults returns the built-in configuration.
func Defaults() Config {
	home, _ := os.UserHomeDir()
	return Config{
		LogLevel:          "info",
		SessionTimeout:    Seconds(time.Hour),
		CleanupInterval:   Seconds(time.Minute),
		MaxSessions:       100,
		MaxChildren:       64,
		MaxStateBytes:     1 << 20,
		SnapshotRetention: Seconds(7 * 24 * time.Hour),
		CallTimeout:       Seconds(60 * time.Second),
		WorkspaceRoot:     home,
		NavTimeout:        Seconds(30 * time.Second),
		PageContentMax:    200_000,
		AgentOutputBytes:  1 << 20,
		AgentLogBytes:     64 << 20,
		MaxMessageBytes:   256 << 10,
		AgentStopGrace:    Seconds(5 * time.Second),
		MaxWait:           Seconds(45 * time.Second),
		DaemonIdleExit:    Seconds(900 * time.Second),
		Presets:           BuiltinPresets(),
	}
}

// LoadOptions says where Load looks.
type LoadOptions struct {
	DataDir    string              // --data-dir, may be empty
	ConfigPath string              // --config, may be empty (then <data>/troupe.toml if present)
	Getenv     func(string) string // os.Getenv when nil
}

// Load merges environment > troupe.toml > defaults. Flags are applied by the caller afterwards.
func Load(o LoadOptions) (Config, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg := Defaults()
	dataDir := o.DataDir
	if dataDir == "" {
		dataDir = getenv("TROUPE_DATA_DIR")
	}
	dir, err := ResolveDataDir(dataDir)
	if err != nil {
		return cfg, err
	}
	cfg.DataDir = dir
	path := o.ConfigPath
	if path == "" {
		candidate := filepath.Join(dir, "troupe.toml")
		if _, err := os.Stat(candidate); err == nil {
			path = candidate
		}
	}
	if path != "" {
		if err := cfg.loadFile(path); err != nil {
			return cfg, err
		}
	}
	if err := cfg.applyEnv(getenv); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func (c *Config) loadFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config %s: %w", path, err)
	}
	builtin := c.Presets
	c.Presets = nil
	md, err := toml.Decode(string(data), c)
	if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return fmt.Errorf("config %s: unknown keys %s; see README.md for the settings troupe knows", path, strings.Join(keys, ", "))
	}
	merged := builtin
	for name, p := range c.Presets {
		merged[name] = p
	}
	c.Presets = merged
	c.File = path
	return nil
}

func (c *Config) applyEnv(getenv func(string) string) error {
	durations := map[string]*Seconds{
		"TROUPE_SESSION_TIMEOUT":    &c.SessionTimeout,
		"TROUPE_CLEANUP_INTERVAL":   &c.CleanupInterval,
		"TROUPE_CALL_TIMEOUT":       &c.CallTimeout,
		"TROUPE_MAX_WAIT_SECONDS":   &c.MaxWait,
		"TROUPE_NAVIGATION_TIMEOUT": &c.NavTimeout,
		"TROUPE_DAEMON_IDLE_EXIT":   &c.DaemonIdleExit,
	}
	for _, name := range sortedKeys(durations) {
		if v := getenv(name); v != "" {
			d, err := parseSeconds(v)
			if err != nil {
				return fmt.Errorf("%s=%s", name, err)
			}
			*durations[name] = Seconds(d)
		}
	}
	ints := map[string]*int{"TROUPE_MAX_SESSIONS": &c.MaxSessions, "TROUPE_MAX_CHILDREN": &c.MaxChildren}
	for _, name := range sortedKeys(ints) {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n <= 0 {
				return fmt.Errorf("%s=%q: want a positive whole number", name, v)
			}
			*ints[name] = n
		}
	}
	if v := getenv("TROUPE_BROWSER"); v != "" {
		c.Browser = v
	}
	if v := getenv("TROUPE_WORKSPACE_ROOT"); v != "" {
		c.WorkspaceRoot = v
	}
	if v := getenv("TROUPE_LOG_LEVEL"); v != "" {
		c.LogLevel = v
	}
	lists := map[string]*[]string{"TROUPE_ALLOWED_ORIGINS": &c.AllowedOrigins, "TROUPE_ALLOWED_HOSTS": &c.AllowedHosts,
		"TROUPE_REQUIRE_APPROVAL": &c.RequireApproval}
	for _, name := range sortedKeys(lists) {
		if v := getenv(name); v != "" {
			*lists[name] = splitList(v)
		}
	}
	return nil
}

// splitList reads a comma-separated environment list, dropping blanks around and between items.
func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Validate checks the merged configuration and says what to fix.
func (c *Config) Validate() error {
	var errs []error
	if c.Clustered() {
		if err := c.Cluster.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.MaxSessions <= 0 {
		errs = append(errs, errors.New("max_sessions must be positive"))
	}
	if c.MaxChildren <= 0 {
		errs = append(errs, errors.New("max_children must be positive"))
	}
	if c.AgentLogBytes < 64<<10 {
		errs = append(errs, fmt.Errorf("agent_log_bytes must be at least 65536 (64 KiB), got %d", c.AgentLogBytes))
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"max_state_bytes", c.MaxStateBytes}, {"page_content_max_bytes", c.PageContentMax},
		{"agent_output_bytes", c.AgentOutputBytes}, {"max_message_bytes", c.MaxMessageBytes}} {
		if n.v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be a positive number of bytes, got %d", n.name, n.v))
		}
	}
	for _, d := range []struct {
		name string
		v    Seconds
	}{{"session_timeout", c.SessionTimeout}, {"cleanup_interval", c.CleanupInterval}, {"call_timeout", c.CallTimeout}, {"max_wait_seconds", c.MaxWait},
		{"navigation_timeout", c.NavTimeout}, {"snapshot_retention", c.SnapshotRetention}, {"agent_stop_grace", c.AgentStopGrace},
		{"daemon_idle_exit", c.DaemonIdleExit}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be a positive number of seconds", d.name))
		}
	}
	switch strings.ToLower(c.LogLevel) {
	case "trace", "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log_level %q: want trace, debug, info, warn or error", c.LogLevel))
	}
	if c.WorkspaceRoot != "" && !filepath.IsAbs(c.WorkspaceRoot) {
		errs = append(errs, fmt.Errorf("workspace_root %q must be an absolute path", c.WorkspaceRoot))
	}
	errs = append(errs, checkExtraPath(c.ExtraPath)...)
	for _, name := range sortedKeys(c.Presets) {
		p := c.Presets[name]
		if p.Disabled {
			delete(c.Presets, name)
			continue
		}
		if p.Command == "" {
			errs = append(errs, fmt.Errorf("preset %q: command is empty", name))
		}
		if p.Mode == "" {
			p.Mode = "interactive"
		}
		if p.Mode != "interactive" && p.Mode != "per-message" && p.Mode != "terminal" {
			errs = append(errs, fmt.Errorf("preset %q: mode %q, want interactive, per-message or terminal", name, p.Mode))
		}
		if p.Restart == "" {
			p.Restart = "never"
		}
		if p.Restart != "never" && p.Restart != "on-failure" && p.Restart != "always" {
			errs = append(errs, fmt.Errorf("preset %q: restart %q, want never, on-failure or always", name, p.Restart))
		}
		c.Presets[name] = p
	}
	return errors.Join(errs...)
}
