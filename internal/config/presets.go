package config

import "strings"

// Preset is a named agent command (DESIGN §8). Unless the server allows any command, a call
// adds to a preset only what the preset declares: extra arguments with AllowArgs, environment
// variables named in AllowEnv.
type Preset struct {
	Command string            `toml:"command" json:"command"`
	Args    []string          `toml:"args" json:"args,omitempty"`
	Mode    string            `toml:"mode" json:"mode"`
	Env     map[string]string `toml:"env" json:"env,omitempty"`
	Restart string            `toml:"restart" json:"restart"`
	// AllowArgs lets create_agent append arguments to the preset's.
	AllowArgs bool `toml:"allow_args" json:"allow_args,omitempty"`
	// AllowEnv names the environment variables create_agent may set: names, or prefixes
	// ending in "*" ("MY_APP_*"). Variables that change how programs load (LD_*, BASH_ENV,
	// NODE_OPTIONS, …) are refused whatever this says, unless allow_any_command is set.
	AllowEnv []string `toml:"allow_env" json:"allow_env,omitempty"`
	// Disabled removes the preset (a built-in one too) from the server.
	Disabled bool `toml:"disabled" json:"-"`
}

// AllowsEnv reports whether the preset lets a call set the variable name.
func (p Preset) AllowsEnv(name string) bool {
	for _, pat := range p.AllowEnv {
		if prefix, ok := strings.CutSuffix(pat, "*"); ok && strings.HasPrefix(name, prefix) || pat == name {
			return true
		}
	}
	return false
}

// loaderVars are environment variables that make a program load or run other code than the
// preset says (a library, a start-up file, interpreter options, where programs are found).
var loaderVars = map[string]bool{
	"BASH_ENV": true, "ENV": true, "PROMPT_COMMAND": true, "SHELLOPTS": true, "BASHOPTS": true, "IFS": true,
	"PS4": true, "PATH": true, "HOME": true, "XDG_CONFIG_HOME": true, "ZDOTDIR": true,
	"PERL5OPT": true, "PERL5LIB": true, "PERLLIB": true, "RUBYOPT": true, "RUBYLIB": true,
	"JAVA_TOOL_OPTIONS": true, "_JAVA_OPTIONS": true, "JDK_JAVA_OPTIONS": true, "CLASSPATH": true,
	"GIT_EXEC_PATH": true, "GIT_SSH": true, "GIT_SSH_COMMAND": true, "GIT_ASKPASS": true, "SSH_ASKPASS": true,
	"EDITOR": true, "VISUAL": true, "PAGER": true, "GCONV_PATH": true, "LOCPATH": true, "MALLOC_CONF": true,
}

// loaderPrefixes are the prefixes of such variables: the dynamic loaders', git's configuration,
// Node's and Python's (NODE_OPTIONS, PYTHONPATH, PYTHONSTARTUP, …), troupe's own.
var loaderPrefixes = []string{"LD_", "DYLD_", "GIT_CONFIG", "NODE_", "PYTHON", "TROUPE_"}

// IsLoaderVar reports whether an environment variable changes what code a program loads or
// runs; a call may set one only where the server allows any command.
func IsLoaderVar(name string) bool {
	up := strings.ToUpper(name)
	if loaderVars[up] {
		return true
	}
	for _, p := range loaderPrefixes {
		if strings.HasPrefix(up, p) {
			return true
		}
	}
	return false
}

// BuiltinPresets are the agent presets available without any configuration.
func BuiltinPresets() map[string]Preset {
	return map[string]Preset{
		"shell": {Command: "sh", Mode: "interactive", Restart: "never"},
		"cat":   {Command: "cat", Mode: "interactive", Restart: "never"},
		// On a terminal (DESIGN §13): read_agent_screen, send_keys, troupe attach.
		"bash":   {Command: "bash", Mode: "terminal", Restart: "never"},
		"python": {Command: "python3", Mode: "terminal", Restart: "never"},
		// Claude Code's own interactive interface, beside the per-message "claude".
		"claude-tui": {Command: "claude", Mode: "terminal", Restart: "never"},
		// "--" before the message, or the message bound to its option: a message that starts
		// with "-" is never read as an option (process.CheckMessage).
		"claude": {Command: "claude", Args: []string{"-p", "--", "{message}"}, Mode: "per-message", Restart: "never"},
		"codex":  {Command: "codex", Args: []string{"exec", "--", "{message}"}, Mode: "per-message", Restart: "never"},
		"aider":  {Command: "aider", Args: []string{"--yes", "--message={message}"}, Mode: "per-message", Restart: "never"},
	}
}
