package workspace

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestPreserveCommitsTrackedAndUntrackedNotIgnored(t *testing.T) {
	dir := newRepo(t, map[string]string{
		"a.txt": "one\n", "b.txt": "two\n", "keep.txt": "same\n", ".gitignore": "build/\n*.log\n",
	})
	write(t, dir, "a.txt", "one, changed\n")
	if err := os.Remove(filepath.Join(dir, "b.txt")); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "new.txt", "untracked\n")
	write(t, dir, "deep/er/sub.txt", "untracked too\n")
	write(t, dir, "staged.txt", "staged\n")
	gitT(t, dir, "add", "staged.txt") // the real index differs from HEAD and from the tree
	write(t, dir, "build/out.bin", "ignored build output")
	write(t, dir, "trace.log", "ignored log")
	before := stateOf(t, dir)
	head := before.head

	got, err := Preserve(ctxT(t), dir, "research", "snap-1")
	if err != nil {
		t.Fatal(err)
	}
	before.check(t, stateOf(t, dir))

	want := Preserved{Kind: KindGitRef, Ref: "refs/troupe/preserved/research/snap-1", Commit: got.Commit, Repo: dir, Files: 5}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if c := gitT(t, dir, "rev-parse", got.Ref); c != got.Commit {
		t.Errorf("ref points at %s, want %s", c, got.Commit)
	}
	if p := gitT(t, dir, "rev-parse", got.Ref+"^@"); p != head {
		t.Errorf("parents %q, want HEAD %s", p, head)
	}
	files := treeFiles(t, dir, got.Ref)
	wantFiles := []string{".gitignore", "a.txt", "deep/er/sub.txt", "keep.txt", "new.txt", "staged.txt"}
	if !reflect.DeepEqual(files, wantFiles) {
		t.Errorf("preserved tree holds %q, want %q", files, wantFiles)
	}
	if c := gitT(t, dir, "show", got.Ref+":a.txt"); c != "one, changed" {
		t.Errorf("a.txt preserved as %q, want the working-tree content", c)
	}
	if who := gitT(t, dir, "log", "-1", "--format=%an <%ae> / %cn <%ce>", got.Ref); who != "troupe <troupe@localhost> / troupe <troupe@localhost>" {
		t.Errorf("identity %q, want troupe <troupe@localhost>", who)
	}
	if msg := gitT(t, dir, "log", "-1", "--format=%B", got.Ref); !strings.Contains(msg, "session research at snapshot snap-1") {
		t.Errorf("message %q does not name the session and snapshot", msg)
	}
	if refs := troupeRefs(t, dir); refs != got.Ref {
		t.Errorf("refs under refs/troupe: %q, want only %s", refs, got.Ref)
	}
}

func TestPreserveCleanTreeMakesNoRef(t *testing.T) {
	dir := newRepo(t, map[string]string{"a.txt": "one\n", ".gitignore": "*.log\n"})
	write(t, dir, "only-ignored.log", "ignored")
	before := stateOf(t, dir)
	got, err := Preserve(ctxT(t), dir, "s", "snap")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, Preserved{Kind: KindNone}) {
		t.Errorf("got %+v, want Kind none", got)
	}
	if refs := troupeRefs(t, dir); refs != "" {
		t.Errorf("a clean tree made refs %q", refs)
	}
	before.check(t, stateOf(t, dir))
}

func TestPreserveRepositoryWithoutCommits(t *testing.T) {
	dir := t.TempDir()
	gitT(t, dir, "init", "-q")
	if got, err := Preserve(ctxT(t), dir, "s", "empty"); err != nil || got.Kind != KindNone {
		t.Fatalf("empty repository: got %+v, %v; want Kind none", got, err)
	}
	write(t, dir, "staged.txt", "staged\n")
	gitT(t, dir, "add", "staged.txt")
	write(t, dir, "loose.txt", "untracked\n")
	before := stateOf(t, dir)

	got, err := Preserve(ctxT(t), dir, "s", "snap")
	if err != nil {
		t.Fatal(err)
	}
	before.check(t, stateOf(t, dir))
	if got.Kind != KindGitRef || got.Files != 2 {
		t.Fatalf("got %+v, want a git-ref of 2 files", got)
	}
	if line := gitT(t, dir, "rev-list", "--parents", "-n1", got.Ref); line != got.Commit {
		t.Errorf("rev-list --parents gives %q, want a root commit %s", line, got.Commit)
	}
	if files := treeFiles(t, dir, got.Ref); !reflect.DeepEqual(files, []string{"loose.txt", "staged.txt"}) {
		t.Errorf("tree holds %q", files)
	}
	if _, err := gitTry(dir, "rev-parse", "-q", "--verify", "HEAD"); err == nil {
		t.Error("HEAD exists after preserving in a repository without commits")
	}
}

func TestPreserveDetachedHEAD(t *testing.T) {
	dir := newRepo(t, map[string]string{"a.txt": "v1\n"})
	first := gitT(t, dir, "rev-parse", "HEAD")
	write(t, dir, "a.txt", "v2\n")
	gitT(t, dir, "commit", "-qam", "second")
	gitT(t, dir, "checkout", "-q", "--detach", first)
	write(t, dir, "a.txt", "v1, edited while detached\n")
	before := stateOf(t, dir)

	got, err := Preserve(ctxT(t), dir, "s", "snap")
	if err != nil {
		t.Fatal(err)
	}
	before.check(t, stateOf(t, dir))
	if p := gitT(t, dir, "rev-parse", got.Ref+"^@"); p != first {
		t.Errorf("parent %s, want the detached HEAD %s", p, first)
	}
	if _, err := gitTry(dir, "symbolic-ref", "-q", "HEAD"); err == nil {
		t.Error("HEAD is no longer detached")
	}
}

func TestPreserveFromSubdirectoryKeepsWholeRepository(t *testing.T) {
	top := newRepo(t, map[string]string{"root.txt": "r\n", "ws/in.txt": "i\n"})
	write(t, top, "root.txt", "changed outside the workspace\n")
	write(t, top, "ws/new.txt", "new inside\n")
	got, err := Preserve(ctxT(t), filepath.Join(top, "ws"), "s", "snap")
	if err != nil {
		t.Fatal(err)
	}
	if got.Repo != top || got.Files != 2 {
		t.Errorf("got %+v, want Repo %s and 2 files", got, top)
	}
	if c := gitT(t, top, "show", got.Ref+":root.txt"); c != "changed outside the workspace" {
		t.Errorf("root.txt preserved as %q", c)
	}
}

func TestPreserveTwice(t *testing.T) {
	dir := newRepo(t, map[string]string{"a.txt": "v1\n"})
	head := gitT(t, dir, "rev-parse", "HEAD")
	write(t, dir, "a.txt", "v2\n")
	first, err := Preserve(ctxT(t), dir, "s", "snap")
	if err != nil {
		t.Fatal(err)
	}
	again, err := Preserve(ctxT(t), dir, "s", "snap")
	if err != nil || again.Commit != first.Commit {
		t.Fatalf("same work again: got %+v, %v; want the same commit %s", again, err, first.Commit)
	}
	write(t, dir, "a.txt", "v3\n")
	third, err := Preserve(ctxT(t), dir, "s", "snap")
	if err != nil {
		t.Fatal(err)
	}
	if p := gitT(t, dir, "rev-parse", third.Ref+"^@"); p != head+"\n"+first.Commit {
		t.Errorf("parents %q, want HEAD then the earlier preserved commit", p)
	}
	if c := gitT(t, dir, "show", third.Ref+":a.txt"); c != "v3" {
		t.Errorf("a.txt preserved as %q, want v3", c)
	}
}

func TestPreserveSpacesAndUnicode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my work ✓ dir")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	gitT(t, dir, "init", "-q")
	write(t, dir, "naïve file.txt", "x\n")
	write(t, dir, "日本語/ファイル 1.md", "y\n")
	got, err := Preserve(ctxT(t), dir, "s", "snap")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"naïve file.txt", "日本語/ファイル 1.md"}
	if files := treeFiles(t, dir, got.Ref); !reflect.DeepEqual(files, want) {
		t.Errorf("tree holds %q, want %q", files, want)
	}
}

func TestPreserveInWorktree(t *testing.T) {
	main := newRepo(t, map[string]string{"a.txt": "v1\n"})
	wt := filepath.Join(t.TempDir(), "wt")
	gitT(t, main, "worktree", "add", "-q", "-b", "side", wt)
	write(t, wt, "a.txt", "edited in the worktree\n")
	mainBefore, wtBefore := stateOf(t, main), stateOf(t, wt)
	got, err := Preserve(ctxT(t), wt, "s", "snap")
	if err != nil {
		t.Fatal(err)
	}
	mainBefore.check(t, stateOf(t, main))
	wtBefore.check(t, stateOf(t, wt))
	if c := gitT(t, main, "show", got.Ref+":a.txt"); c != "edited in the worktree" {
		t.Errorf("a.txt preserved as %q", c)
	}
}

func TestPreserveIgnoresInheritedGitEnvironment(t *testing.T) {
	dir := newRepo(t, map[string]string{"a.txt": "v1\n"})
	other := newRepo(t, map[string]string{"o.txt": "other\n"})
	t.Setenv("GIT_DIR", filepath.Join(other, ".git"))
	t.Setenv("GIT_WORK_TREE", other)
	t.Setenv("GIT_INDEX_FILE", filepath.Join(other, ".git", "index"))
	write(t, dir, "a.txt", "v2\n")
	got, err := Preserve(ctxT(t), dir, "s", "snap")
	if err != nil {
		t.Fatal(err)
	}
	if got.Repo != dir {
		t.Errorf("preserved in %s, want %s", got.Repo, dir)
	}
}

func TestPreserveFailsCleanlyWhenGitCannotAdd(t *testing.T) {
	dir := newRepo(t, map[string]string{".gitattributes": "*.bad filter=broken\n"})
	gitT(t, dir, "config", "filter.broken.clean", "false")
	gitT(t, dir, "config", "filter.broken.required", "true")
	write(t, dir, "x.bad", "cannot be cleaned\n")
	before := stateOf(t, dir)
	_, err := Preserve(ctxT(t), dir, "s", "snap")
	if err == nil || !strings.Contains(err.Error(), "x.bad") {
		t.Errorf("got %v, want an error naming x.bad", err)
	}
	if refs := troupeRefs(t, dir); refs != "" {
		t.Errorf("a failed preservation made refs %q", refs)
	}
	before.check(t, stateOf(t, dir))
}

func TestPreserveRefusesBadInput(t *testing.T) {
	repo := newRepo(t, nil)
	for _, tc := range []struct{ session, snapshot string }{
		{"", "snap"}, {"s", ""}, {"a..b", "snap"}, {"s", "x.lock"}, {"s", "ends."},
		{"a/b", "snap"}, {"-x", "snap"}, {"s", "2026-01-01T00:00:00Z"}, {"s p", "snap"},
	} {
		if _, err := Preserve(ctxT(t), repo, tc.session, tc.snapshot); !errors.Is(err, ErrInvalidID) {
			t.Errorf("Preserve(%q, %q): got %v, want ErrInvalidID", tc.session, tc.snapshot, err)
		}
	}
	plain := t.TempDir()
	if _, err := Preserve(ctxT(t), plain, "s", "snap"); !errors.Is(err, ErrNotGitRepo) {
		t.Errorf("plain directory: got %v, want ErrNotGitRepo", err)
	}
	if _, err := Preserve(ctxT(t), filepath.Join(plain, "missing"), "s", "snap"); err == nil {
		t.Error("missing directory: got no error")
	}
}

func TestIsGitRepo(t *testing.T) {
	repo := newRepo(t, map[string]string{"sub/f": "x"})
	for _, tc := range []struct {
		dir  string
		want bool
	}{
		{repo, true}, {filepath.Join(repo, "sub"), true}, {filepath.Join(repo, ".git"), false},
		{t.TempDir(), false}, {filepath.Join(repo, "missing"), false},
	} {
		if got := IsGitRepo(ctxT(t), tc.dir); got != tc.want {
			t.Errorf("IsGitRepo(%s) = %v, want %v", tc.dir, got, tc.want)
		}
	}
}

// TestPreserveSeesASameSizeChangeRightAfterTheIndex: a file changed in the same clock tick the
// index was written, keeping its size, is "racily clean" to git; the temporary index must keep
// git's means of telling (the index file's mtime), or the change is left out of the commit.
func TestPreserveSeesASameSizeChangeRightAfterTheIndex(t *testing.T) {
	dir := newRepo(t, map[string]string{"a.txt": "v0\n"})
	for i := range 60 {
		write(t, dir, "a.txt", fmt.Sprintf("a%d\n", i%10))
		gitT(t, dir, "add", "a.txt") // the index now records a.txt as it is…
		want := fmt.Sprintf("b%d", i%10)
		write(t, dir, "a.txt", want+"\n") // …and it changes at once, same size
		p, err := Preserve(ctxT(t), dir, "s", fmt.Sprintf("snap%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if got := gitT(t, dir, "show", p.Ref+":a.txt"); got != want {
			t.Fatalf("run %d: preserved a.txt = %q, want %q", i, got, want)
		}
	}
}
