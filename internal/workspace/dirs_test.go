package workspace

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCreate(t *testing.T) {
	data := t.TempDir()
	dir, err := Create(data, "research")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(data, "workspaces", "research"); dir != want {
		t.Errorf("got %s, want %s", dir, want)
	}
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() || info.Mode().Perm() != 0o700 {
		t.Fatalf("workspace %s: %v, %v; want a 0700 directory", dir, info, err)
	}
	write(t, dir, "kept.txt", "x")
	again, err := Create(data, "research")
	if err != nil || again != dir {
		t.Errorf("second Create: got %s, %v; want %s reused", again, err, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "kept.txt")); err != nil {
		t.Errorf("reusing the workspace lost a file: %v", err)
	}
	for _, id := range []string{"", "../escape", "a/b", ".hidden", "x.lock"} {
		if _, err := Create(data, id); !errors.Is(err, ErrInvalidID) {
			t.Errorf("Create(%q): got %v, want ErrInvalidID", id, err)
		}
	}
	write(t, data, "workspaces/file-in-the-way", "x")
	if _, err := Create(data, "file-in-the-way"); err == nil || !strings.Contains(err.Error(), "move it away") {
		t.Errorf("a file in the way: got %v", err)
	}
}

func TestOwned(t *testing.T) {
	data := t.TempDir()
	ws, err := Create(data, "s1")
	if err != nil {
		t.Fatal(err)
	}
	user := t.TempDir()
	if err := os.Symlink(user, filepath.Join(data, "workspaces", "sneaky")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want bool
	}{
		{ws, true},
		{filepath.Join(data, "workspaces", "not-yet-created"), true},
		{filepath.Join(data, "workspaces"), false},
		{filepath.Join(ws, "nested"), false},
		{filepath.Join(data, "workspaces", "..", "archives"), false},
		{filepath.Join(data, "workspaces", "sneaky"), false},
		{user, false},
		{data, false},
	} {
		if got := Owned(data, tc.path); got != tc.want {
			t.Errorf("Owned(%s) = %v, want %v", tc.path, got, tc.want)
		}
	}
}

func TestRemoveOwned(t *testing.T) {
	data := t.TempDir()
	ws, err := Create(data, "s1")
	if err != nil {
		t.Fatal(err)
	}
	write(t, ws, "deep/readonly/f.txt", "x")
	if err := os.Chmod(filepath.Join(ws, "deep", "readonly"), 0o500); err != nil {
		t.Fatal(err)
	}
	if err := RemoveOwned(data, ws); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ws); !os.IsNotExist(err) {
		t.Errorf("workspace still there: %v", err)
	}
	if err := RemoveOwned(data, ws); err != nil {
		t.Errorf("removing it again: got %v, want nil", err)
	}

	user := t.TempDir()
	write(t, user, "precious.txt", "x")
	link := filepath.Join(data, "workspaces", "link")
	if err := os.Symlink(user, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{user, link, filepath.Join(data, "workspaces"), data} {
		if err := RemoveOwned(data, p); !errors.Is(err, ErrNotOwned) {
			t.Errorf("RemoveOwned(%s): got %v, want ErrNotOwned", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(user, "precious.txt")); err != nil {
		t.Errorf("the user's workspace was touched: %v", err)
	}

	repo, err := Create(data, "has-repo")
	if err != nil {
		t.Fatal(err)
	}
	gitT(t, repo, "init", "-q")
	if err := RemoveOwned(data, repo); !errors.Is(err, ErrHoldsRepository) {
		t.Errorf("a workspace holding a repository: got %v, want ErrHoldsRepository", err)
	}
	if _, err := os.Stat(filepath.Join(repo, ".git")); err != nil {
		t.Errorf("the repository was touched: %v", err)
	}
}

func TestValidateUserWorkspace(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "home")
	outside := filepath.Join(base, "elsewhere")
	data := filepath.Join(root, ".local", "state", "troupe")
	for _, d := range []string{root, outside, filepath.Join(root, "proj ✓"), filepath.Join(data, "workspaces", "s1")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(t, root, "file.txt", "x")
	mustLink := func(target, link string) {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	mustLink(outside, filepath.Join(root, "escape"))
	mustLink(filepath.Join(root, "proj ✓"), filepath.Join(root, "alias"))
	t.Setenv("HOME", root)

	for _, tc := range []struct {
		path, want, errHas string
	}{
		{path: filepath.Join(root, "proj ✓"), want: filepath.Join(root, "proj ✓")},
		{path: root, want: root},
		{path: filepath.Join(root, "alias"), want: filepath.Join(root, "proj ✓")},
		{path: "~/proj ✓", want: filepath.Join(root, "proj ✓")},
		{path: "proj", errHas: "absolute path"},
		{path: "", errHas: "absolute path"},
		{path: filepath.Join(root, "missing"), errHas: "does not exist"},
		{path: filepath.Join(root, "file.txt"), errHas: "not a directory"},
		{path: outside, errHas: "outside the workspace root"},
		{path: filepath.Join(root, "..", "elsewhere"), errHas: "outside the workspace root"},
		{path: filepath.Join(root, "escape"), errHas: "resolves to " + outside},
		{path: filepath.Join(data, "workspaces", "s1"), errHas: "data dir"},
	} {
		got, err := ValidateUserWorkspace(tc.path, root, data)
		switch {
		case tc.errHas == "" && (err != nil || got != tc.want):
			t.Errorf("ValidateUserWorkspace(%q): got %q, %v; want %q", tc.path, got, err, tc.want)
		case tc.errHas != "" && (!errors.Is(err, ErrInvalidWorkspace) || !strings.Contains(err.Error(), tc.errHas)):
			t.Errorf("ValidateUserWorkspace(%q): got %q, %v; want an error saying %q", tc.path, got, err, tc.errHas)
		}
	}
	if _, err := ValidateUserWorkspace(root, filepath.Join(base, "no-root"), ""); err == nil ||
		!strings.Contains(err.Error(), "TROUPE_WORKSPACE_ROOT") {
		t.Errorf("missing root: got %v, want an error naming TROUPE_WORKSPACE_ROOT", err)
	}
}
