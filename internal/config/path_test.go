package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestWithExtraPathPutsTheDirectoriesFirstOnce(t *testing.T) {
	cases := []struct {
		path  string
		extra []string
		want  string
	}{
		{"/usr/bin:/bin", nil, "/usr/bin:/bin"},
		{"/usr/bin:/bin", []string{"/opt/a", "/opt/b"}, "/opt/a:/opt/b:/usr/bin:/bin"},
		// Already there: moved to the front, not repeated; applying twice changes nothing.
		{"/opt/a:/usr/bin:/opt/b", []string{"/opt/a", "/opt/b"}, "/opt/a:/opt/b:/usr/bin"},
		{"/opt/a:/opt/b:/usr/bin", []string{"/opt/a", "/opt/b"}, "/opt/a:/opt/b:/usr/bin"},
		{"", []string{"/opt/a"}, "/opt/a"},
	}
	for _, c := range cases {
		if got := WithExtraPath(c.path, c.extra); got != c.want {
			t.Errorf("WithExtraPath(%q, %q) = %q, want %q", c.path, c.extra, got, c.want)
		}
	}
}

func TestSplitPathDropsEmptyEntries(t *testing.T) {
	got := SplitPath(" /opt/a::/opt/b: ")
	if want := []string{"/opt/a", "/opt/b"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("SplitPath = %q, want %q", got, want)
	}
	if got := SplitPath(""); got != nil {
		t.Fatalf("SplitPath(\"\") = %q, want nil", got)
	}
}

func TestExtraPathFromTheFileMustBeAbsolute(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(dir, "troupe.toml"), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("extra_path = [\"/opt/homebrew/bin\", \"/usr/local/bin\"]\n")
	cfg, err := Load(LoadOptions{DataDir: dir, Getenv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/opt/homebrew/bin", "/usr/local/bin"}; !reflect.DeepEqual(cfg.ExtraPath, want) {
		t.Fatalf("extra_path = %q, want %q", cfg.ExtraPath, want)
	}
	write("extra_path = [\"bin\"]\n")
	if _, err := Load(LoadOptions{DataDir: dir, Getenv: env(nil)}); err == nil || !strings.Contains(err.Error(), `extra_path "bin" must be an absolute path`) {
		t.Fatalf("a relative extra_path: err = %v", err)
	}
}
