package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/troupe-dev/troupe/tools"
)

// mcpbManifestVersion is the bundle manifest's spec version: 0.2, what the official CLI's
// `mcpb init` writes (DEFAULT_MANIFEST_VERSION in @anthropic-ai/mcpb) and what Claude Desktop
// loads (it refused 0.3 for a while: modelcontextprotocol/mcpb#143). troupe uses nothing that
// 0.3 and 0.4 add (localized strings, themed icons, _meta, uv).
const mcpbManifestVersion = "0.2"

// mcpbClaudeDesktop is the Claude Desktop versions the bundle asks for: 1.0.211 is the first
// known to install a manifest_version 0.2 bundle (modelcontextprotocol/mcpb#143).
const mcpbClaudeDesktop = ">=1.0.211"

// mcpbEntryPoint is the binary's path inside the bundle.
const mcpbEntryPoint = "server/troupe"

// mcpbIcon is the icon's path inside the bundle.
const mcpbIcon = "icon.png"

// mcpbManifest is an MCP bundle's manifest.json (https://github.com/modelcontextprotocol/mcpb,
// MANIFEST.md), in the order its fields are written.
type mcpbManifest struct {
	ManifestVersion string            `json:"manifest_version"`
	Name            string            `json:"name"`
	DisplayName     string            `json:"display_name"`
	Version         string            `json:"version"`
	Description     string            `json:"description"`
	LongDescription string            `json:"long_description"`
	Author          mcpbAuthor        `json:"author"`
	Icon            string            `json:"icon"`
	Server          mcpbServer        `json:"server"`
	Tools           []mcpbTool        `json:"tools"`
	Keywords        []string          `json:"keywords"`
	Compatibility   mcpbCompatibility `json:"compatibility"`
	UserConfig      mcpbUserConfig    `json:"user_config"`
}

type mcpbAuthor struct {
	Name string `json:"name"`
}

type mcpbServer struct {
	Type       string        `json:"type"`
	EntryPoint string        `json:"entry_point"`
	MCPConfig  mcpbMCPConfig `json:"mcp_config"`
}

type mcpbMCPConfig struct {
	Command string   `json:"command"`
	Args    []string `json:"args"`
}

type mcpbTool struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type mcpbCompatibility struct {
	ClaudeDesktop string   `json:"claude_desktop"`
	Platforms     []string `json:"platforms"`
}

// mcpbSetting is one setting the host asks the user for at install: a user_config option and
// the `troupe serve` flag it becomes.
type mcpbSetting struct {
	Key         string `json:"-"`
	Flag        string `json:"-"`
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Required    bool   `json:"required"`
}

// mcpbUserConfig is the user_config object, written in the order of its settings (the order
// the host shows them in).
type mcpbUserConfig []mcpbSetting

// MarshalJSON writes the settings as one object keyed by Key, in order.
func (u mcpbUserConfig) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, s := range u {
		if i > 0 {
			b.WriteByte(',')
		}
		key, err := json.Marshal(s.Key)
		if err != nil {
			return nil, err
		}
		val, err := json.Marshal(s)
		if err != nil {
			return nil, err
		}
		b.Write(key)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// mcpbSettings are the bundle's settings. Each is optional and passed as one argument,
// "--flag=${user_config.KEY}": left empty it arrives as "--flag=" or unexpanded, which troupe
// reads as not given (optionalString).
var mcpbSettings = mcpbUserConfig{
	{Key: "data_dir", Flag: "data-dir", Type: "directory", Title: "Data directory",
		Description: "Where troupe keeps sessions, snapshots, the audit log and its daemon's socket. " +
			"Empty: ~/.local/state/troupe, shared with the troupe you run in a terminal."},
	{Key: "workspace_root", Flag: "workspace-root", Type: "directory", Title: "Workspace root",
		Description: "A session may work in a directory of yours only under this one. Empty: your home directory."},
	{Key: "extra_path", Flag: "extra-path", Type: "string", Title: "Extra PATH",
		Description: "Directories searched before PATH for agent commands (claude, codex, aider), git and Chromium, " +
			"separated by ':' (Claude Desktop starts troupe with a short PATH), e.g. /opt/homebrew/bin:/Users/you/.local/bin. " +
			"Empty: PATH alone."},
	{Key: "chromium_path", Flag: "browser", Type: "file", Title: "Chromium",
		Description: "The Chromium or Google Chrome binary that opens pages. " +
			"Empty: chromium, chromium-browser or google-chrome found on PATH."},
}

// buildManifest is the manifest of a bundle of troupe for goos, its tools those of the registry.
func buildManifest(goos, ver string) mcpbManifest {
	args := []string{"serve"}
	for _, s := range mcpbSettings {
		args = append(args, "--"+s.Flag+"=${user_config."+s.Key+"}")
	}
	all := tools.All(tools.Deps{})
	list := make([]mcpbTool, len(all))
	for i, t := range all {
		list[i] = mcpbTool{Name: t.Tool.Name, Description: t.Tool.Description}
	}
	return mcpbManifest{
		ManifestVersion: mcpbManifestVersion,
		Name:            "troupe",
		DisplayName:     "troupe",
		Version:         mcpbVersion(ver),
		Description:     newRootCmd().Short,
		LongDescription: "troupe keeps long-lived sessions for AI clients: a workspace directory, key/value state, " +
			"browser cookies, agents (coding-agent CLIs, shells, terminal programs) and Chromium pages. Sessions " +
			"survive client restarts, expire when idle, and are deleted through a cascade that keeps a snapshot you " +
			"can restore; every action is written to a tamper-evident audit log. The bundle runs `troupe serve`, " +
			"which starts the data directory's troupe daemon: agents keep running when Claude Desktop quits.",
		Author: mcpbAuthor{Name: "The troupe authors"},
		Icon:   mcpbIcon,
		Server: mcpbServer{Type: "binary", EntryPoint: mcpbEntryPoint,
			MCPConfig: mcpbMCPConfig{Command: "${__dirname}/" + mcpbEntryPoint, Args: args}},
		Tools:         list,
		Keywords:      []string{"sessions", "agents", "browser", "terminal", "audit"},
		Compatibility: mcpbCompatibility{ClaudeDesktop: mcpbClaudeDesktop, Platforms: []string{goos}},
		UserConfig:    mcpbSettings,
	}
}

// semver is a semantic version without a leading "v" (semver.org's grammar, loosely: numeric
// parts without leading zeros are not checked).
var semver = regexp.MustCompile(`^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// mcpbVersion turns troupe's version (a tag such as v1.2.0, or `git describe` of an untagged
// commit, or "dev") into the semantic version a manifest wants: a tag loses its "v"; anything
// else is 0.0.0-dev with the version as build metadata.
func mcpbVersion(v string) string {
	if s := strings.TrimPrefix(v, "v"); semver.MatchString(s) {
		return s
	}
	meta := strings.Trim(regexp.MustCompile(`[^0-9A-Za-z-]+`).ReplaceAllString(v, "."), ".")
	if meta == "" || meta == "dev" {
		return "0.0.0-dev"
	}
	return fmt.Sprintf("0.0.0-dev+%s", meta)
}
