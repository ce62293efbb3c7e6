package workspace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Restore brings preserved work (a ref made by Preserve) back into the working tree of the
// repository holding dir: changed and added files get their preserved content, files the work
// had deleted are deleted again. HEAD and the real index are not changed, so the work shows up
// as uncommitted changes once more, as it did before it was preserved (what had been staged is
// not told apart). Only the paths that differ from HEAD are written.
//
// Restore refuses with an error wrapping ErrRestoreConflict when it could lose something: when
// HEAD is no longer the commit the work was preserved on, or when the working tree has changes
// of its own. The error says how to get the work back by hand. A working tree that already holds
// exactly the preserved work is left alone.
func Restore(ctx context.Context, dir, ref string) error {
	r, err := openRepo(ctx, dir)
	if err != nil {
		return err
	}
	g := gitCmd{dir: r.top}
	commit, err := g.line(ctx, "rev-parse", "-q", "--verify", ref+"^{commit}")
	if err != nil {
		if exitCode(err) == 1 {
			return fmt.Errorf("no preserved work %s in %s; list what there is with `git -C %s for-each-ref %s`",
				ref, r.top, r.top, RefPrefix)
		}
		return err
	}
	base, err := g.line(ctx, "rev-parse", "-q", "--verify", commit+"^1")
	if err != nil && exitCode(err) != 1 {
		return err
	}
	if base != r.head {
		return fmt.Errorf("restoring %s in %s: %w: HEAD has moved since the work was preserved on %s; "+
			"bring it back by hand with `git cherry-pick --no-commit %s`, or look at it with `git diff HEAD %s`",
			ref, r.top, ErrRestoreConflict, orNone(base), ref, ref)
	}
	want, err := g.line(ctx, "rev-parse", commit+"^{tree}")
	if err != nil {
		return err
	}
	current, _, err := snapshotTree(ctx, r)
	if err != nil {
		return err
	}
	if current == want {
		return nil
	}
	if n, err := changedFiles(ctx, r, r.head, current); err != nil {
		return err
	} else if n > 0 {
		return fmt.Errorf("restoring %s in %s: %w: the working tree has %d changed files of its own; "+
			"commit or stash them first, or compare with `git diff %s`", ref, r.top, ErrRestoreConflict, n, ref)
	}
	return applyTree(ctx, r, want)
}

// applyTree writes into r's working tree the paths where tree differs from HEAD, through a
// temporary index holding tree.
func applyTree(ctx context.Context, r repo, tree string) error {
	g := gitCmd{dir: r.top}
	var write, remove []string
	if r.head == "" {
		out, err := g.run(ctx, "ls-tree", "-r", "-z", "--name-only", tree)
		if err != nil {
			return err
		}
		write = splitZ(out)
	} else {
		out, err := g.run(ctx, "diff-tree", "-r", "-z", "--name-status", "--no-renames", r.head, tree)
		if err != nil {
			return err
		}
		f := splitZ(out)
		for i := 0; i+1 < len(f); i += 2 {
			if f[i] == "D" {
				remove = append(remove, f[i+1])
			} else {
				write = append(write, f[i+1])
			}
		}
	}
	for _, p := range remove {
		if err := os.Remove(filepath.Join(r.top, filepath.FromSlash(p))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("restoring: removing %s: %w", p, err)
		}
	}
	if len(write) == 0 {
		return nil
	}
	tmp, err := os.MkdirTemp("", "troupe-index-")
	if err != nil {
		return fmt.Errorf("temporary index: %w", err)
	}
	defer os.RemoveAll(tmp)
	t := gitCmd{dir: r.top, env: []string{"GIT_INDEX_FILE=" + filepath.Join(tmp, "index")}}
	if _, err := t.run(ctx, "read-tree", tree); err != nil {
		return err
	}
	t.stdin = strings.NewReader(strings.Join(write, "\x00") + "\x00")
	_, err = t.run(ctx, "checkout-index", "-f", "-z", "--stdin")
	return err
}

// splitZ splits NUL-terminated git output.
func splitZ(out []byte) []string {
	var f []string
	for _, b := range bytes.Split(out, []byte{0}) {
		if len(b) > 0 {
			f = append(f, string(b))
		}
	}
	return f
}

func orNone(commit string) string {
	if commit == "" {
		return "no commit (an empty repository)"
	}
	return commit
}
