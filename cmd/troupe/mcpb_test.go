package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"slices"
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/tools"
)

// TestMcpbManifestToolsAreTheRegistry: the bundle's tool list is generated from the registry,
// as the README's table is: every tool, in order, with its description.
func TestMcpbManifestToolsAreTheRegistry(t *testing.T) {
	m := buildManifest("linux", "v1.2.3")
	all := tools.All(tools.Deps{})
	if len(m.Tools) != len(all) {
		t.Fatalf("the manifest lists %d tools, the registry has %d", len(m.Tools), len(all))
	}
	for i, tl := range all {
		if m.Tools[i].Name != tl.Tool.Name || m.Tools[i].Description != tl.Tool.Description {
			t.Errorf("manifest tool %d = %q (%q), want %q (%q)", i, m.Tools[i].Name, m.Tools[i].Description, tl.Tool.Name, tl.Tool.Description)
		}
	}
	if m.Version != "1.2.3" || !slices.Equal(m.Compatibility.Platforms, []string{"linux"}) {
		t.Errorf("version %q, platforms %q; want 1.2.3, [linux]", m.Version, m.Compatibility.Platforms)
	}
}

// TestMcpbSettingsAreServeFlagsThatReachTheDaemon: each user_config setting becomes one
// argument "--flag=${user_config.KEY}" of `troupe serve`, naming a flag serve has and passes on
// to the daemon it starts; user_config is written in the settings' order.
func TestMcpbSettingsAreServeFlagsThatReachTheDaemon(t *testing.T) {
	m := buildManifest("darwin", "dev")
	serve, _, err := newRootCmd().Find([]string{"serve"})
	if err != nil {
		t.Fatal(err)
	}
	args := m.Server.MCPConfig.Args
	if len(args) != len(mcpbSettings)+1 || args[0] != "serve" {
		t.Fatalf("args = %q, want serve and one argument per setting", args)
	}
	for i, s := range mcpbSettings {
		if want := "--" + s.Flag + "=${user_config." + s.Key + "}"; args[i+1] != want {
			t.Errorf("argument %d = %q, want %q", i+1, args[i+1], want)
		}
		if serve.Flags().Lookup(s.Flag) == nil && serve.InheritedFlags().Lookup(s.Flag) == nil {
			t.Errorf("setting %s: troupe serve has no --%s", s.Key, s.Flag)
		}
		if s.Flag != "data-dir" && !slices.Contains(settingFlagNames, s.Flag) {
			t.Errorf("setting %s: a bridge does not pass --%s on to its daemon (settingFlagNames)", s.Key, s.Flag)
		}
		if s.Required {
			t.Errorf("setting %s is required: every setting has a default", s.Key)
		}
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	last := -1
	for _, s := range mcpbSettings {
		i := strings.Index(string(data), `"`+s.Key+`":{"type":`)
		if i < 0 || i < last {
			t.Fatalf("user_config: %s missing or out of order in %s", s.Key, data)
		}
		last = i
	}
}

func TestMcpbVersionIsSemantic(t *testing.T) {
	for v, want := range map[string]string{
		"v1.2.3":             "1.2.3",
		"v1.2.3-4-gabcdef0":  "1.2.3-4-gabcdef0",
		"dev":                "0.0.0-dev",
		"":                   "0.0.0-dev",
		"2d48d57-dirty":      "0.0.0-dev+2d48d57-dirty",
		"dev-0123456789ab":   "0.0.0-dev+dev-0123456789ab",
		"feature/x@2d48d57!": "0.0.0-dev+feature.x.2d48d57",
	} {
		if got := mcpbVersion(v); got != want {
			t.Errorf("mcpbVersion(%q) = %q, want %q", v, got, want)
		}
	}
}

func TestMcpbIconIsA512PNG(t *testing.T) {
	img, err := png.Decode(bytes.NewReader(mcpbIconPNG()))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != mcpbIconSize || b.Dy() != mcpbIconSize {
		t.Fatalf("icon is %v, want %d×%d", b, mcpbIconSize, mcpbIconSize)
	}
	if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
		t.Errorf("the icon's corner is not transparent (alpha %d)", a)
	}
}

func TestMcpbRefusesOtherSystems(t *testing.T) {
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"mcpb", "manifest", "--os", "windows"})
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "linux and darwin") {
		t.Fatalf("err = %v, want the system refused", err)
	}
}
