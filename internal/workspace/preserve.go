package workspace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/troupe-dev/troupe/internal/ids"
)

// RefPrefix is where preserved work is stored in a repository.
const RefPrefix = "refs/troupe/preserved/"

// checkID refuses an id that cannot be a path element and a git ref component: the id rule
// (internal/ids, which includes git's rules for a ref component; snapshot ids follow it too).
func checkID(what, id string) error {
	if !ids.Valid(id) {
		return fmt.Errorf("%s %q: %w: use %s", what, id, ErrInvalidID, ids.Rule)
	}
	return nil
}

// PreservedRef returns the ref that holds the work preserved for a session at a snapshot:
// refs/troupe/preserved/<session>/<snapshot>.
func PreservedRef(sessionID, snapshotID string) (string, error) {
	if err := checkID("session id", sessionID); err != nil {
		return "", err
	}
	if err := checkID("snapshot id", snapshotID); err != nil {
		return "", err
	}
	return RefPrefix + sessionID + "/" + snapshotID, nil
}

// Preserve commits the whole working tree of the repository holding dir — tracked changes and
// untracked files, not ignored ones — through a temporary index, parented on HEAD (no parent in a
// repository without commits; a detached HEAD is fine), and stores the commit under
// PreservedRef(sessionID, snapshotID). HEAD, branches, the real index and the working tree are not
// touched. A tree equal to HEAD's makes no ref and returns Kind KindNone.
//
// Preserve is idempotent: when the ref already holds the same tree it is returned as it is; when
// it holds a different tree (the work changed between two attempts), the new commit gets the
// earlier one as its second parent, so both stay reachable from the ref.
//
// Files git cannot read are skipped and listed in Warnings rather than failing the whole
// preservation. A dir outside any working tree returns an error wrapping ErrNotGitRepo.
func Preserve(ctx context.Context, dir, sessionID, snapshotID string) (Preserved, error) {
	ref, err := PreservedRef(sessionID, snapshotID)
	if err != nil {
		return Preserved{}, err
	}
	r, err := openRepo(ctx, dir)
	if err != nil {
		return Preserved{}, err
	}
	return preserveIn(ctx, r, dir, ref, sessionID, snapshotID)
}

// preserveIn is Preserve once the repository is known.
func preserveIn(ctx context.Context, r repo, dir, ref, sessionID, snapshotID string) (Preserved, error) {
	tree, warnings, err := snapshotTree(ctx, r)
	if err != nil {
		return Preserved{}, err
	}
	changed, err := changedFiles(ctx, r, r.head, tree)
	if err != nil {
		return Preserved{}, err
	}
	if changed == 0 {
		return Preserved{Kind: KindNone, Warnings: warnings}, nil
	}
	done := Preserved{Kind: KindGitRef, Ref: ref, Repo: r.top, Files: changed, Warnings: warnings}
	g := gitCmd{dir: r.top}
	var parents []string
	if r.head != "" {
		parents = append(parents, "-p", r.head)
	}
	prev, err := g.line(ctx, "rev-parse", "-q", "--verify", ref+"^{commit}")
	switch {
	case err == nil:
		prevTree, err := g.line(ctx, "rev-parse", prev+"^{tree}")
		if err != nil {
			return Preserved{}, err
		}
		if prevTree == tree {
			done.Commit = prev
			return done, nil
		}
		parents = append(parents, "-p", prev)
	case exitCode(err) == 1:
		prev = "" // update-ref below then insists that the ref does not exist yet
	default:
		return Preserved{}, err
	}
	msg := commitMessage(r, dir, ref, sessionID, snapshotID)
	args := append(append([]string{"commit-tree", "--no-gpg-sign"}, parents...), "-m", msg, tree)
	if done.Commit, err = g.line(ctx, args...); err != nil {
		return Preserved{}, err
	}
	if _, err := g.run(ctx, "update-ref", "-m", "troupe: preserve work", ref, done.Commit, prev); err != nil {
		return Preserved{}, fmt.Errorf("storing preserved work %s as %s: %w", done.Commit, ref, err)
	}
	return done, nil
}

func commitMessage(r repo, dir, ref, sessionID, snapshotID string) string {
	return fmt.Sprintf("troupe: work of session %s at snapshot %s\n\n"+
		"troupe preserved the whole working tree of %s when the session was deleted,\n"+
		"untracked files included (ignored files are not), parented on HEAD. HEAD, the\n"+
		"index and the working tree were left as they were.\n\n"+
		"Workspace: %s\nSee it:    git diff HEAD %s\nRestore:   git checkout %s -- .\n",
		sessionID, snapshotID, r.top, dir, ref, ref)
}

// snapshotTree writes the working tree of r as a tree object through a temporary index and
// returns its id. The temporary index starts as a copy of the real one, so that unchanged files
// are not hashed again and sparse-checkout entries are not mistaken for deletions.
func snapshotTree(ctx context.Context, r repo) (tree string, warnings []string, err error) {
	tmp, err := os.MkdirTemp("", "troupe-index-")
	if err != nil {
		return "", nil, fmt.Errorf("temporary index: %w", err)
	}
	defer os.RemoveAll(tmp)
	index := filepath.Join(tmp, "index")
	if err := copyFile(r.index, index); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", nil, fmt.Errorf("copying the index %s: %w", r.index, err)
	}
	g := gitCmd{dir: r.top, env: []string{"GIT_INDEX_FILE=" + index}}
	_, addErr := g.run(ctx, "add", "--all", "--ignore-errors")
	// With --ignore-errors, files git could not read make it exit 1 after adding all the others;
	// anything else (a fatal error, exit 128) means the index was not written at all.
	var ge *gitError
	if addErr != nil && (!errors.As(addErr, &ge) || ge.code != 1) {
		return "", nil, fmt.Errorf("preserving the working tree of %s: %w", r.top, addErr)
	}
	if addErr != nil {
		warnings = append(warnings, "some files could not be preserved: "+strings.TrimSpace(ge.stderr))
	}
	if tree, err = g.line(ctx, "write-tree"); err != nil {
		return "", nil, fmt.Errorf("preserving the working tree of %s: %w", r.top, err)
	}
	return tree, warnings, nil
}

// changedFiles counts the paths that differ between commit base ("" for none) and tree.
func changedFiles(ctx context.Context, r repo, base, tree string) (int, error) {
	g := gitCmd{dir: r.top}
	var out []byte
	var err error
	if base == "" {
		out, err = g.run(ctx, "ls-tree", "-r", "-z", "--name-only", tree)
	} else {
		out, err = g.run(ctx, "diff-tree", "-r", "-z", "--name-only", "--no-renames", base, tree)
	}
	if err != nil {
		return 0, err
	}
	return bytes.Count(out, []byte{0}), nil
}

// copyFile copies the index src to dst (created 0600) and gives the copy src's modification
// time. Git decides whether an entry is "racily clean" (a file changed in the same second the
// index was written, with the same size) by comparing with the index file's mtime: a copy with
// a fresh mtime would make such a change look clean, and it would be left out of the commit.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chtimes(dst, st.ModTime(), st.ModTime())
}
