package workspace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// archivesDir is where archives of troupe-created workspaces go, under the data dir (DESIGN §5).
const archivesDir = "archives"

// ArchivePath returns where the archive of a session's workspace at a snapshot goes:
// <dataDir>/archives/<session>/<snapshot>.tar.gz.
func ArchivePath(dataDir, sessionID, snapshotID string) (string, error) {
	if err := checkID("session id", sessionID); err != nil {
		return "", err
	}
	if err := checkID("snapshot id", snapshotID); err != nil {
		return "", err
	}
	return filepath.Join(dataDir, archivesDir, sessionID, snapshotID+".tar.gz"), nil
}

// PreserveWork is DESIGN §4 step 5 for one workspace:
//   - in a git working tree → Preserve (for a workspace troupe created, only when it is the
//     repository's top level: one that merely sits inside some outer repository is archived);
//   - a workspace troupe created that is not a repository → Archive into ArchivePath;
//   - a user's workspace that is not a repository → KindNone.
//
// Without git installed, troupe's own workspace is archived and a user's gets KindNone with a
// warning (it is never removed, so nothing is lost).
//
// It never removes anything: call RemoveOwned after the children have stopped and the cascade
// can no longer roll back, and only when the result's Kind is KindArchive. A workspace that no
// longer exists gives KindNone with a warning, or the archive made by an earlier attempt.
func PreserveWork(ctx context.Context, dataDir, dir, sessionID, snapshotID string) (Preserved, error) {
	owned := Owned(dataDir, dir)
	archive, err := ArchivePath(dataDir, sessionID, snapshotID)
	if err != nil {
		return Preserved{}, err
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(archive); owned && err == nil {
			return Preserved{Kind: KindArchive, Archive: archive}, nil
		}
		return Preserved{Kind: KindNone, Warnings: []string{fmt.Sprintf("workspace %s no longer exists", dir)}}, nil
	}
	if owned && !hasGitDir(dir) {
		// troupe's own workspace counts as a repository only at its top level: without a .git
		// there, no git process is needed to know it is archived.
		return Archive(ctx, dir, archive)
	}
	r, err := openRepo(ctx, dir)
	switch {
	case errors.Is(err, ErrGitMissing):
		return withoutGit(ctx, owned, dir, archive)
	case err == nil && (!owned || isTop(r, dir)):
		ref, err := PreservedRef(sessionID, snapshotID)
		if err != nil {
			return Preserved{}, err
		}
		return preserveIn(ctx, r, dir, ref, sessionID, snapshotID)
	case err == nil || errors.Is(err, ErrNotGitRepo):
		if owned {
			return Archive(ctx, dir, archive)
		}
		return Preserved{Kind: KindNone}, nil
	default:
		return Preserved{}, err
	}
}

// withoutGit preserves what it can when git is missing: troupe's own workspace is archived
// whole (a .git in it included), a user's workspace is left as it is, with a warning.
func withoutGit(ctx context.Context, owned bool, dir, archive string) (Preserved, error) {
	if owned {
		return Archive(ctx, dir, archive)
	}
	return Preserved{Kind: KindNone, Warnings: []string{fmt.Sprintf(
		"git is not installed, so uncommitted work in %s was not preserved (the workspace itself is kept)", dir)}}, nil
}

// Plan says what PreserveWork would do, changing nothing (for delete_session's dry_run): the
// Kind, Repo, and Files (for a repository, the paths `git status` reports, untracked files
// listed one by one; for an archive, the files that would go in it). Ref and Archive are empty:
// they depend on the snapshot.
func Plan(ctx context.Context, dataDir, dir string) (Preserved, error) {
	owned := Owned(dataDir, dir)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return Preserved{Kind: KindNone, Warnings: []string{fmt.Sprintf("workspace %s no longer exists", dir)}}, nil
	}
	var r repo
	err := ErrNotGitRepo
	if !owned || hasGitDir(dir) {
		r, err = openRepo(ctx, dir)
	}
	if errors.Is(err, ErrGitMissing) {
		err = ErrNotGitRepo // what withoutGit does: archive troupe's workspace, keep a user's
	}
	switch {
	case err == nil && (!owned || isTop(r, dir)):
		out, err := gitCmd{dir: r.top}.run(ctx, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames")
		if err != nil {
			return Preserved{}, err
		}
		n := bytes.Count(out, []byte{0})
		if n == 0 {
			return Preserved{Kind: KindNone}, nil
		}
		return Preserved{Kind: KindGitRef, Repo: r.top, Files: n}, nil
	case err == nil || errors.Is(err, ErrNotGitRepo):
		if !owned {
			return Preserved{Kind: KindNone}, nil
		}
		p := Preserved{Kind: KindArchive}
		err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && (d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0) {
				p.Files++
			}
			return err
		})
		return p, err
	default:
		return Preserved{}, err
	}
}

// isTop reports whether dir is the top level of r's working tree.
func isTop(r repo, dir string) bool {
	d, err := resolve(dir)
	if err != nil {
		return false
	}
	t, err := resolve(r.top)
	return err == nil && t == d
}

// hasGitDir reports whether dir has a .git entry (a directory, or a file for a worktree).
func hasGitDir(dir string) bool {
	_, err := os.Lstat(filepath.Join(dir, ".git"))
	return err == nil
}
