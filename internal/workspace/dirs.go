package workspace

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// workspacesDir is where troupe creates workspaces, under the data dir (DESIGN §5).
const workspacesDir = "workspaces"

// Create makes the workspace troupe owns for a session, <dataDir>/workspaces/<sessionID>, mode
// 0700, and returns its absolute path. An existing directory is reused: a session restored under
// the same id finds its files again.
func Create(dataDir, sessionID string) (string, error) {
	if err := checkID("session id", sessionID); err != nil {
		return "", err
	}
	root, err := filepath.Abs(filepath.Join(dataDir, workspacesDir))
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", fmt.Errorf("creating the workspaces directory: %w", err)
	}
	dir := filepath.Join(root, sessionID)
	if err := os.Mkdir(dir, 0o700); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("creating workspace for session %s: %w", sessionID, err)
		}
		if info, err := os.Lstat(dir); err != nil || !info.IsDir() {
			return "", fmt.Errorf("creating workspace for session %s: %s exists and is not a directory; move it away", sessionID, dir)
		}
	}
	return dir, nil
}

// ValidateUserWorkspace checks a workspace the user supplied and returns it with symlinks
// resolved. It must be an absolute path (or start with ~/), exist, be a directory, and lie under
// root once symlinks are resolved on both sides; it must not lie inside troupe's data dir, whose
// workspaces troupe removes (dataDir may be empty to skip that check). Errors wrap
// ErrInvalidWorkspace and say what to do.
func ValidateUserWorkspace(path, root, dataDir string) (string, error) {
	bad := func(format string, args ...any) (string, error) {
		return "", fmt.Errorf("workspace %q: %w: %s", path, ErrInvalidWorkspace, fmt.Sprintf(format, args...))
	}
	p := path
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return bad("cannot expand ~ (%v); give an absolute path", err)
		}
		p = filepath.Join(home, p[1:])
	}
	if !filepath.IsAbs(p) {
		return bad("give an absolute path (or one starting with ~/)")
	}
	resolved, err := filepath.EvalSymlinks(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return bad("it does not exist; create it first, or omit workspace to let troupe create one")
		}
		return bad("%v", err)
	}
	if info, err := os.Stat(resolved); err != nil || !info.IsDir() {
		return bad("it is not a directory")
	}
	rootResolved, err := filepath.EvalSymlinks(root)
	if err != nil {
		return bad("the workspace root %s cannot be used (%v); set TROUPE_WORKSPACE_ROOT to an existing directory", root, err)
	}
	if !within(rootResolved, resolved) {
		return bad("it resolves to %s, outside the workspace root %s; choose a directory under the root or change TROUPE_WORKSPACE_ROOT",
			resolved, rootResolved)
	}
	if dataDir != "" {
		if d, err := resolve(dataDir); err == nil && within(d, resolved) {
			return bad("it lies inside troupe's data dir %s; omit workspace to let troupe create one", d)
		}
	}
	return resolved, nil
}

// Owned reports whether path is a workspace troupe created: a directory directly under
// <dataDir>/workspaces, symlinks resolved (so a symlink placed there that points elsewhere is
// not owned). The path need not exist.
func Owned(dataDir, path string) bool {
	root, err := resolve(filepath.Join(dataDir, workspacesDir))
	if err != nil {
		return false
	}
	p, err := resolve(path)
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != "." && !strings.ContainsRune(rel, filepath.Separator) && checkID("workspace", rel) == nil
}

// RemoveOwned removes a workspace troupe created, once its work has been preserved. It refuses,
// with an error wrapping ErrNotOwned, anything Owned does not accept, and with ErrHoldsRepository
// a workspace that is itself a git repository (its preserved refs live in it). A missing
// workspace is not an error.
func RemoveOwned(dataDir, path string) error {
	if !Owned(dataDir, path) {
		return fmt.Errorf("refusing to remove %s: %w (only directories under %s are removed)",
			path, ErrNotOwned, filepath.Join(dataDir, workspacesDir))
	}
	p, err := resolve(path)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(filepath.Join(p, ".git")); err == nil {
		return fmt.Errorf("refusing to remove %s: %w whose refs hold the preserved work; archive it or remove it by hand", p, ErrHoldsRepository)
	}
	if err := os.RemoveAll(p); err != nil {
		// Read-only directories (a Go module cache, say) cannot be emptied: make them writable
		// and try once more.
		makeWritable(p)
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("removing workspace %s: %w", p, err)
		}
	}
	return nil
}

// makeWritable adds owner write and execute permission to every directory under dir.
func makeWritable(dir string) {
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			if info, err := d.Info(); err == nil {
				_ = os.Chmod(path, info.Mode().Perm()|0o700)
			}
		}
		return nil
	})
}

// resolve makes path absolute and resolves its symlinks; for a path that does not exist, the
// longest existing prefix is resolved and the rest appended.
func resolve(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	r, err := filepath.EvalSymlinks(abs)
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	parent := filepath.Dir(abs)
	if parent == abs {
		return abs, nil
	}
	rp, err := resolve(parent)
	if err != nil {
		return "", err
	}
	return filepath.Join(rp, filepath.Base(abs)), nil
}
