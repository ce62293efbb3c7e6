package tools

import (
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/internal/config"
)

// TestPresetsBoundWhatACallAdds: with allow_any_command off, a call adds to a preset only the
// arguments and environment variables the preset declares, and never a variable that changes
// what code runs (issue 11, item 2).
func TestPresetsBoundWhatACallAdds(t *testing.T) {
	presets := config.BuiltinPresets()
	presets["grep"] = config.Preset{Command: "grep", Mode: "interactive", Restart: "never", AllowArgs: true, AllowEnv: []string{"GREP_COLORS", "MY_*"}}
	d := Deps{Presets: presets}
	for _, tc := range []struct {
		name string
		a    createAgentArgs
		want string // "" for success
	}{
		{"cat reads a file outside the workspace", createAgentArgs{Preset: "cat", Args: []string{"/outside/secret.txt"}}, "takes no extra args"},
		{"LD_PRELOAD", createAgentArgs{Preset: "grep", Env: map[string]string{"LD_PRELOAD": "/tmp/x.so"}}, "changes what code a program loads"},
		{"LD_LIBRARY_PATH", createAgentArgs{Preset: "grep", Env: map[string]string{"LD_LIBRARY_PATH": "/tmp"}}, "changes what code"},
		{"BASH_ENV", createAgentArgs{Preset: "shell", Env: map[string]string{"BASH_ENV": "/tmp/x"}}, "changes what code"},
		{"ENV", createAgentArgs{Preset: "shell", Env: map[string]string{"ENV": "/tmp/x"}}, "changes what code"},
		{"NODE_OPTIONS", createAgentArgs{Preset: "claude", Env: map[string]string{"NODE_OPTIONS": "--require /tmp/x.js"}}, "changes what code"},
		{"lower-case ld_preload", createAgentArgs{Preset: "grep", Env: map[string]string{"ld_preload": "/tmp/x.so"}}, "changes what code"},
		{"PATH", createAgentArgs{Preset: "grep", Env: map[string]string{"PATH": "/tmp"}}, "changes what code"},
		{"a variable the preset does not name", createAgentArgs{Preset: "grep", Env: map[string]string{"OTHER": "1"}}, "does not let a call set OTHER (it allows: GREP_COLORS, MY_*)"},
		{"env on a built-in preset", createAgentArgs{Preset: "cat", Env: map[string]string{"DEBUG": "1"}}, "(it allows: none)"},
		{"args a preset allows", createAgentArgs{Preset: "grep", Args: []string{"-n", "x"}}, ""},
		{"env a preset names", createAgentArgs{Preset: "grep", Env: map[string]string{"GREP_COLORS": "mt=01", "MY_FLAG": "1"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, e := d.agentSpec(tc.a)
			switch {
			case tc.want == "" && e != nil:
				t.Fatalf("got %v, want it accepted", e)
			case tc.want != "" && (e == nil || !strings.Contains(e.Message, tc.want)):
				t.Fatalf("got %v, want an error saying %q", e, tc.want)
			case e != nil && e.Code != "invalid_argument":
				t.Fatalf("code %s, want invalid_argument (the user can fix it)", e.Code)
			}
		})
	}
	// allow_any_command: anything can run anyway, so a preset's additions are not bounded.
	d.AllowAnyCommand = true
	if _, e := d.agentSpec(createAgentArgs{Preset: "cat", Args: []string{"x"}, Env: map[string]string{"LD_PRELOAD": "y"}}); e != nil {
		t.Fatalf("with allow_any_command: %v, want it accepted", e)
	}
}

// TestReadAgentOutputBoundsMaxBytes: max_bytes of 100 MB took 174 s and 2.4 GB (issue 11,
// item 8); it is refused with what to do, before anything is read.
func TestReadAgentOutputBoundsMaxBytes(t *testing.T) {
	c := newClient(t, nil)
	mustFail(t, call(t, c, "read_agent_output", `{"agent_id":"s/a","max_bytes":100000000}`), "over the most one read returns", "next")
}
