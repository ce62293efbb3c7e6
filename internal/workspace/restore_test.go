package workspace

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRestoreBringsBackPreservedWork(t *testing.T) {
	dir := newRepo(t, map[string]string{"a.txt": "v1\n", "gone.txt": "x\n", "same.txt": "s\n"})
	write(t, dir, "a.txt", "v2\n")
	write(t, dir, "dir/new file.txt", "new\n")
	if err := os.Remove(filepath.Join(dir, "gone.txt")); err != nil {
		t.Fatal(err)
	}
	want := stateOf(t, dir)
	p, err := Preserve(ctxT(t), dir, "s", "snap")
	if err != nil {
		t.Fatal(err)
	}
	// The work is lost from the working tree (a fresh checkout, say).
	gitT(t, dir, "checkout", "-q", "--", ".")
	gitT(t, dir, "clean", "-qfd")
	if st := gitT(t, dir, "status", "--porcelain"); st != "" {
		t.Fatalf("setup: tree not clean: %s", st)
	}

	// The checkout above rewrote the index; from here on Restore must not touch it.
	want.index = stateOf(t, dir).index

	if err := Restore(ctxT(t), dir, p.Ref); err != nil {
		t.Fatal(err)
	}
	want.check(t, stateOf(t, dir))
	if b, err := os.ReadFile(filepath.Join(dir, "dir", "new file.txt")); err != nil || string(b) != "new\n" {
		t.Errorf("dir/new file.txt: got %q, %v", b, err)
	}
	// Restoring onto the work already there changes nothing.
	before := stateOf(t, dir)
	if err := Restore(ctxT(t), dir, p.Ref); err != nil {
		t.Errorf("second restore: %v", err)
	}
	before.check(t, stateOf(t, dir))
}

func TestRestoreInRepositoryWithoutCommits(t *testing.T) {
	dir := t.TempDir()
	gitT(t, dir, "init", "-q")
	write(t, dir, "f.txt", "only\n")
	p, err := Preserve(ctxT(t), dir, "s", "snap")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "f.txt")); err != nil {
		t.Fatal(err)
	}
	if err := Restore(ctxT(t), dir, p.Ref); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "f.txt")); err != nil || string(b) != "only\n" {
		t.Errorf("f.txt: got %q, %v", b, err)
	}
}

func TestRestoreRefusesToLoseWork(t *testing.T) {
	dir := newRepo(t, map[string]string{"a.txt": "v1\n"})
	write(t, dir, "a.txt", "preserved\n")
	p, err := Preserve(ctxT(t), dir, "s", "snap")
	if err != nil {
		t.Fatal(err)
	}

	write(t, dir, "a.txt", "newer work of the user\n")
	before := stateOf(t, dir)
	err = Restore(ctxT(t), dir, p.Ref)
	if !errors.Is(err, ErrRestoreConflict) || !strings.Contains(err.Error(), "git diff") {
		t.Errorf("dirty tree: got %v, want ErrRestoreConflict saying how to compare", err)
	}
	before.check(t, stateOf(t, dir))

	gitT(t, dir, "commit", "-qam", "user moved on")
	before = stateOf(t, dir)
	err = Restore(ctxT(t), dir, p.Ref)
	if !errors.Is(err, ErrRestoreConflict) || !strings.Contains(err.Error(), "cherry-pick --no-commit") {
		t.Errorf("HEAD moved: got %v, want ErrRestoreConflict saying how to cherry-pick", err)
	}
	before.check(t, stateOf(t, dir))

	if err := Restore(ctxT(t), dir, "refs/troupe/preserved/s/missing"); err == nil || !strings.Contains(err.Error(), "for-each-ref") {
		t.Errorf("missing ref: got %v, want an error saying how to list refs", err)
	}
}
