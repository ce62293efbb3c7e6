package workspace

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPreserveWorkOwnedNonGitIsArchivedThenRemovable(t *testing.T) {
	data := t.TempDir()
	ws, err := Create(data, "s1")
	if err != nil {
		t.Fatal(err)
	}
	write(t, ws, "notes.md", "work")
	write(t, ws, "out/data.csv", "1,2")
	plan, err := Plan(ctxT(t), data, ws)
	if err != nil || plan.Kind != KindArchive || plan.Files != 2 {
		t.Fatalf("Plan: got %+v, %v; want an archive of 2 files", plan, err)
	}
	if _, err := os.Stat(filepath.Join(data, "archives")); !os.IsNotExist(err) {
		t.Errorf("Plan wrote into the archives dir: %v", err)
	}

	got, err := PreserveWork(ctxT(t), data, ws, "s1", "snap")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ArchivePath(data, "s1", "snap")
	if got.Kind != KindArchive || got.Archive != want || got.Files != 2 {
		t.Fatalf("got %+v, want an archive of 2 files at %s", got, want)
	}
	if _, err := os.Stat(filepath.Join(ws, "notes.md")); err != nil {
		t.Fatalf("PreserveWork removed the workspace (the caller removes it later): %v", err)
	}
	if entries := readTarGz(t, want); entries["s1/notes.md"].body != "work" {
		t.Errorf("archive holds %v", entries)
	}
	if err := RemoveOwned(data, ws); err != nil {
		t.Fatal(err)
	}
	// A second attempt after a crash finds the archive made by the first.
	again, err := PreserveWork(ctxT(t), data, ws, "s1", "snap")
	if err != nil || again.Kind != KindArchive || again.Archive != want {
		t.Errorf("after removal: got %+v, %v; want the existing archive", again, err)
	}
}

func TestPreserveWorkUserWorkspaces(t *testing.T) {
	data := t.TempDir()
	plain := t.TempDir()
	write(t, plain, "precious.txt", "x")
	for _, f := range []func() (Preserved, error){
		func() (Preserved, error) { return Plan(ctxT(t), data, plain) },
		func() (Preserved, error) { return PreserveWork(ctxT(t), data, plain, "s", "snap") },
	} {
		if got, err := f(); err != nil || got.Kind != KindNone {
			t.Errorf("user's non-git workspace: got %+v, %v; want Kind none", got, err)
		}
	}
	if entries, _ := os.ReadDir(plain); len(entries) != 1 {
		t.Errorf("the user's workspace changed: %v", entries)
	}
	if _, err := os.Stat(filepath.Join(data, "archives")); !os.IsNotExist(err) {
		t.Errorf("a user's workspace was archived: %v", err)
	}

	repo := newRepo(t, map[string]string{"a.txt": "v1\n"})
	if got, err := Plan(ctxT(t), data, repo); err != nil || got.Kind != KindNone {
		t.Errorf("Plan of a clean repository: got %+v, %v; want Kind none", got, err)
	}
	write(t, repo, "a.txt", "v2\n")
	write(t, repo, "u/one.txt", "1")
	write(t, repo, "u/two.txt", "2")
	if got, err := Plan(ctxT(t), data, repo); err != nil || got.Kind != KindGitRef || got.Files != 3 {
		t.Errorf("Plan of a dirty repository: got %+v, %v; want a git-ref of 3 files", got, err)
	}
	if refs := troupeRefs(t, repo); refs != "" {
		t.Errorf("Plan made refs %q", refs)
	}
	got, err := PreserveWork(ctxT(t), data, repo, "s", "snap")
	if err != nil || got.Kind != KindGitRef || got.Ref != "refs/troupe/preserved/s/snap" {
		t.Errorf("dirty repository: got %+v, %v; want a git-ref", got, err)
	}

	missing := filepath.Join(plain, "gone")
	if got, err := PreserveWork(ctxT(t), data, missing, "s", "snap"); err != nil || got.Kind != KindNone ||
		len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], "no longer exists") {
		t.Errorf("missing workspace: got %+v, %v; want Kind none with a warning", got, err)
	}
}

func TestPreserveWorkOwnedRepositories(t *testing.T) {
	// The data dir sits inside some outer repository: troupe's own workspace is archived, not
	// committed into that repository.
	outer := newRepo(t, map[string]string{"README": "outer\n"})
	data := filepath.Join(outer, "state")
	ws, err := Create(data, "inner")
	if err != nil {
		t.Fatal(err)
	}
	write(t, ws, "f.txt", "x")
	got, err := PreserveWork(ctxT(t), data, ws, "inner", "snap")
	if err != nil || got.Kind != KindArchive {
		t.Errorf("owned workspace inside an outer repository: got %+v, %v; want an archive", got, err)
	}
	if refs := troupeRefs(t, outer); refs != "" {
		t.Errorf("the outer repository got refs %q", refs)
	}

	// An agent ran `git init` in troupe's workspace: the work is committed there and the
	// workspace must stay.
	repoWS, err := Create(data, "with-git")
	if err != nil {
		t.Fatal(err)
	}
	gitT(t, repoWS, "init", "-q")
	write(t, repoWS, "g.txt", "y")
	got, err = PreserveWork(ctxT(t), data, repoWS, "with-git", "snap")
	if err != nil || got.Kind != KindGitRef || got.Repo != repoWS {
		t.Errorf("owned repository: got %+v, %v; want a git-ref in %s", got, err, repoWS)
	}
}

func TestPreserveWorkWithoutGit(t *testing.T) {
	data := t.TempDir()
	ws, err := Create(data, "s1")
	if err != nil {
		t.Fatal(err)
	}
	write(t, ws, "f.txt", "x")
	user := newRepo(t, map[string]string{"a.txt": "v1\n"})
	write(t, user, "a.txt", "v2\n")
	t.Setenv("PATH", t.TempDir())

	if _, err := Preserve(ctxT(t), user, "s", "snap"); !errors.Is(err, ErrGitMissing) {
		t.Errorf("Preserve: got %v, want ErrGitMissing", err)
	}
	if got, err := PreserveWork(ctxT(t), data, ws, "s1", "snap"); err != nil || got.Kind != KindArchive {
		t.Errorf("troupe's workspace: got %+v, %v; want an archive", got, err)
	}
	got, err := PreserveWork(ctxT(t), data, user, "s", "snap")
	if err != nil || got.Kind != KindNone || len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], "git is not installed") {
		t.Errorf("user's repository: got %+v, %v; want Kind none with a warning", got, err)
	}
	if got, err := Plan(ctxT(t), data, ws); err != nil || got.Kind != KindArchive {
		t.Errorf("Plan: got %+v, %v; want an archive", got, err)
	}
}
