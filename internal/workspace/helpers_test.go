package workspace

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// Keep the machine's git configuration out of the tests, and prove that preservation needs
	// none (no user.name, no user.email anywhere).
	os.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	os.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	goleak.VerifyTestMain(m)
}

// gitT runs git in dir for a test and returns its trimmed output; it fails the test on error.
func gitT(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := gitTry(dir, args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// gitTry runs git in dir as a user would, with a test identity.
func gitTry(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=Test User", "GIT_AUTHOR_EMAIL=user@example.com",
		"GIT_COMMITTER_NAME=Test User", "GIT_COMMITTER_EMAIL=user@example.com")
	out, err := cmd.CombinedOutput()
	return strings.TrimRight(string(out), "\n"), err
}

// write creates the file rel under dir with content, making parent directories.
func write(t testing.TB, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// newRepo makes a repository in a fresh directory with files committed on main.
func newRepo(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	gitT(t, dir, "init", "-q")
	for rel, content := range files {
		write(t, dir, rel, content)
	}
	gitT(t, dir, "add", "-A")
	gitT(t, dir, "commit", "-q", "--allow-empty", "-m", "initial")
	return dir
}

// repoState is what Preserve must leave untouched.
type repoState struct {
	status, head, branch string
	index                []byte
}

// stateOf reads the repository's state; its `git status` runs without optional locks, so that
// it never refreshes (rewrites) the index itself.
func stateOf(t testing.TB, dir string) repoState {
	t.Helper()
	index, err := os.ReadFile(filepath.Join(gitT(t, dir, "rev-parse", "--absolute-git-dir"), "index"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	head, _ := gitTry(dir, "rev-parse", "-q", "--verify", "HEAD")
	branch, _ := gitTry(dir, "symbolic-ref", "-q", "HEAD")
	return repoState{
		index:  index,
		head:   head,
		branch: branch,
		status: gitT(t, dir, "--no-optional-locks", "-c", "core.quotePath=false", "status", "--porcelain", "--untracked-files=all"),
	}
}

func (s repoState) check(t testing.TB, after repoState) {
	t.Helper()
	if !bytes.Equal(s.index, after.index) {
		t.Errorf("the real index changed (%d bytes before, %d after)", len(s.index), len(after.index))
	}
	if s.status != after.status {
		t.Errorf("git status changed:\nbefore:\n%s\nafter:\n%s", s.status, after.status)
	}
	if s.head != after.head || s.branch != after.branch {
		t.Errorf("HEAD changed: got %s (%s), want %s (%s)", after.head, after.branch, s.head, s.branch)
	}
}

// treeFiles lists the paths in a commit's tree, sorted.
func treeFiles(t testing.TB, dir, commit string) []string {
	t.Helper()
	out := gitT(t, dir, "ls-tree", "-r", "-z", "--name-only", commit)
	files := splitZ([]byte(out))
	sort.Strings(files)
	return files
}

// troupeRefs lists the refs under refs/troupe/.
func troupeRefs(t testing.TB, dir string) string {
	t.Helper()
	return gitT(t, dir, "for-each-ref", "--format=%(refname)", "refs/troupe/")
}

func ctxT(t testing.TB) context.Context { return t.Context() }
