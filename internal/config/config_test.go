package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadPrecedenceEnvOverFileOverDefaults(t *testing.T) {
	dir := t.TempDir()
	file := `session_timeout = 120
max_sessions = 7
cleanup_interval = "2m"
[presets.reviewer]
command = "claude"
args = ["-p", "{message}"]
mode = "per-message"
`
	if err := os.WriteFile(filepath.Join(dir, "troupe.toml"), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(LoadOptions{DataDir: dir, Getenv: env(map[string]string{"TROUPE_MAX_SESSIONS": "9"})})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxSessions != 9 {
		t.Errorf("MaxSessions = %d, want 9 (env over file)", cfg.MaxSessions)
	}
	if cfg.SessionTimeout.D() != 120*time.Second || cfg.CleanupInterval.D() != 2*time.Minute {
		t.Errorf("timeouts = %v, %v; want 2m, 2m from the file", cfg.SessionTimeout.D(), cfg.CleanupInterval.D())
	}
	if cfg.MaxChildren != 64 {
		t.Errorf("MaxChildren = %d, want the default 64", cfg.MaxChildren)
	}
	if p, ok := cfg.Presets["reviewer"]; !ok || p.Restart != "never" || p.Mode != "per-message" {
		t.Errorf("preset reviewer = %+v, want per-message with restart defaulted to never", p)
	}
	if _, ok := cfg.Presets["shell"]; !ok {
		t.Error("built-in presets lost when the file defines its own")
	}
	if cfg.File == "" || cfg.DataDir != dir {
		t.Errorf("File = %q, DataDir = %q", cfg.File, cfg.DataDir)
	}
}

func TestLoadRefusesBadInputWithTheFix(t *testing.T) {
	cases := []struct {
		name, file string
		env        map[string]string
		want       string
	}{
		{"unknown key", "max_sesions = 3\n", nil, "unknown keys max_sesions"},
		{"bad toml", "max_sessions = \n", nil, "troupe.toml"},
		{"bad env int", "", map[string]string{"TROUPE_MAX_SESSIONS": "many"}, "TROUPE_MAX_SESSIONS"},
		{"zero env int", "", map[string]string{"TROUPE_MAX_SESSIONS": "0"}, "positive whole number"},
		{"bad env duration", "", map[string]string{"TROUPE_SESSION_TIMEOUT": "soon"}, "TROUPE_SESSION_TIMEOUT"},
		{"negative env duration", "", map[string]string{"TROUPE_CLEANUP_INTERVAL": "-1"}, "positive"},
		{"bad preset mode", "[presets.x]\ncommand = \"sh\"\nmode = \"batch\"\n", nil, `preset "x": mode "batch"`},
		{"preset without command", "[presets.x]\nmode = \"interactive\"\n", nil, `preset "x": command is empty`},
		{"bad restart", "[presets.x]\ncommand = \"sh\"\nrestart = \"sometimes\"\n", nil, "restart"},
		{"relative workspace root", "workspace_root = \"work\"\n", nil, "absolute path"},
		{"bad log level", "log_level = \"loud\"\n", nil, "log_level"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.file != "" {
				if err := os.WriteFile(filepath.Join(dir, "troupe.toml"), []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Load(LoadOptions{DataDir: dir, Getenv: env(tc.env)})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestSecondsAcceptsNumbersAndDurations(t *testing.T) {
	for in, want := range map[string]time.Duration{"90": 90 * time.Second, "0.5": 500 * time.Millisecond, "1h": time.Hour} {
		got, err := parseSeconds(in)
		if err != nil || got != want {
			t.Errorf("parseSeconds(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

func TestResolveDataDirOrder(t *testing.T) {
	t.Setenv("TROUPE_DATA_DIR", "")
	t.Setenv("XDG_STATE_HOME", "/x/state")
	if got, _ := ResolveDataDir(""); got != "/x/state/troupe" {
		t.Errorf("with XDG_STATE_HOME: %q", got)
	}
	t.Setenv("TROUPE_DATA_DIR", "/d")
	if got, _ := ResolveDataDir(""); got != "/d" {
		t.Errorf("with TROUPE_DATA_DIR: %q", got)
	}
	if got, _ := ResolveDataDir("/flag"); got != "/flag" {
		t.Errorf("with the flag: %q", got)
	}
	t.Setenv("TROUPE_DATA_DIR", "")
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/home/u")
	if got, _ := ResolveDataDir(""); got != "/home/u/.local/state/troupe" {
		t.Errorf("default: %q", got)
	}
}

func TestPresetsCanBeDisabledAndDeclareWhatACallAdds(t *testing.T) {
	dir := t.TempDir()
	file := `[presets.shell]
disabled = true
[presets.grep]
command = "grep"
allow_args = true
allow_env = ["GREP_COLORS", "MY_*"]
`
	if err := os.WriteFile(filepath.Join(dir, "troupe.toml"), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(LoadOptions{DataDir: dir, Getenv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg.Presets["shell"]; ok {
		t.Error("the built-in preset shell is still there after disabled = true")
	}
	g := cfg.Presets["grep"]
	if !g.AllowArgs || !g.AllowsEnv("GREP_COLORS") || !g.AllowsEnv("MY_X") || g.AllowsEnv("OTHER") || g.AllowsEnv("MY") {
		t.Errorf("preset grep = %+v: want args allowed, GREP_COLORS and MY_* only", g)
	}
	for name, want := range map[string]bool{"LD_PRELOAD": true, "ld_audit": true, "DYLD_INSERT_LIBRARIES": true, "BASH_ENV": true,
		"ENV": true, "NODE_OPTIONS": true, "PYTHONPATH": true, "GIT_CONFIG_GLOBAL": true, "PATH": true, "DEBUG": false, "LANG": false} {
		if got := IsLoaderVar(name); got != want {
			t.Errorf("IsLoaderVar(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestAllowedOriginsAndHostsFromFileAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	file := "allowed_origins = [\"https://app.example\"]\nallowed_hosts = [\"troupe.example:443\", \"box\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "troupe.toml"), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(LoadOptions{DataDir: dir, Getenv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.AllowedOrigins, "|"); got != "https://app.example" {
		t.Errorf("AllowedOrigins from the file = %q, want https://app.example", got)
	}
	if got := strings.Join(cfg.AllowedHosts, "|"); got != "troupe.example:443|box" {
		t.Errorf("AllowedHosts from the file = %q, want troupe.example:443|box", got)
	}
	cfg, err = Load(LoadOptions{DataDir: dir, Getenv: env(map[string]string{
		"TROUPE_ALLOWED_ORIGINS": " http://a.example , ,https://b.example",
		"TROUPE_ALLOWED_HOSTS":   "c.example:8443",
	})})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.AllowedOrigins, "|"); got != "http://a.example|https://b.example" {
		t.Errorf("AllowedOrigins from the environment = %q, want http://a.example|https://b.example (env over file, blanks dropped)", got)
	}
	if got := strings.Join(cfg.AllowedHosts, "|"); got != "c.example:8443" {
		t.Errorf("AllowedHosts from the environment = %q, want c.example:8443", got)
	}
}

func TestClusterTable(t *testing.T) {
	dir := t.TempDir()
	good := "[cluster]\nnode = \"a\"\nadvertise = \"127.0.0.1:7801\"\netcd = [\"http://127.0.0.1:2379\"]\nblob_dir = \"" + dir + "\"\n"
	cfg, err := loadTOML(t, dir, good)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Clustered() || cfg.Cluster.Node != "a" || cfg.Cluster.Etcd[0] != "http://127.0.0.1:2379" {
		t.Fatalf("cluster = %+v", cfg.Cluster)
	}
	_, err = loadTOML(t, t.TempDir(), "[cluster]\nnode = \"a\"\n")
	if err == nil || !strings.Contains(err.Error(), "cluster.etcd is empty") || !strings.Contains(err.Error(), "cluster.blob_dir") {
		t.Fatalf("a half cluster table: %v", err)
	}
	if none, err := loadTOML(t, t.TempDir(), ""); err != nil || none.Clustered() {
		t.Fatalf("no table, yet clustered (%v)", err)
	}
}

// loadTOML loads a data dir whose troupe.toml is file.
func loadTOML(t *testing.T, dir, file string) (Config, error) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "troupe.toml"), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	return Load(LoadOptions{DataDir: dir, Getenv: env(nil)})
}
