package workspace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Identity troupe commits with, so that preservation works without any git configuration.
const (
	committerName  = "troupe"
	committerEmail = "troupe@localhost"
)

// gitConfig is passed as -c options to every git command: no hooks (our internal refs and
// temporary indexes are nobody's business), no fsmonitor daemon spawned from a server, a whole
// (not split) temporary index, and no advice on stderr.
var gitConfig = []string{
	"-c", "core.hooksPath=/dev/null",
	"-c", "core.fsmonitor=false",
	"-c", "core.splitIndex=false",
	"-c", "advice.addEmbeddedRepo=false",
}

// keptGitEnv lists the GIT_* variables inherited from troupe's environment; every other GIT_*
// variable (GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE, GIT_CONFIG_PARAMETERS, …) would point git at
// another repository or index than the workspace's and is dropped.
var keptGitEnv = []string{
	"GIT_CONFIG_GLOBAL=", "GIT_CONFIG_SYSTEM=", "GIT_CONFIG_NOSYSTEM=", "GIT_CEILING_DIRECTORIES=",
	"GIT_DISCOVERY_ACROSS_FILESYSTEM=", "GIT_EXEC_PATH=", "GIT_TRACE",
}

// gitEnv returns the environment for a git command: the inherited one without repository-locating
// variables, plus the fixed identity, no prompts, no optional index refreshes, C messages (which
// openRepo reads), and extra.
func gitEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GIT_") && !keptGit(kv) {
			continue
		}
		if strings.HasPrefix(kv, "LC_ALL=") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"GIT_AUTHOR_NAME="+committerName, "GIT_AUTHOR_EMAIL="+committerEmail,
		"GIT_COMMITTER_NAME="+committerName, "GIT_COMMITTER_EMAIL="+committerEmail,
		"GIT_TERMINAL_PROMPT=0", "GIT_OPTIONAL_LOCKS=0", "LC_ALL=C")
	return append(env, extra...)
}

func keptGit(kv string) bool {
	for _, p := range keptGitEnv {
		if strings.HasPrefix(kv, p) {
			return true
		}
	}
	return false
}

// gitError is a git command that failed: which one, where, and what git said.
type gitError struct {
	args   []string
	dir    string
	code   int
	stderr string
}

func (e *gitError) Error() string {
	msg := strings.TrimSpace(e.stderr)
	if msg == "" {
		msg = fmt.Sprintf("exit status %d", e.code)
	}
	return fmt.Sprintf("git %s (in %s): %s", strings.Join(e.args, " "), e.dir, msg)
}

// gitCmd is one git invocation.
type gitCmd struct {
	dir   string
	env   []string // extra environment, e.g. GIT_INDEX_FILE
	stdin io.Reader
}

// run runs git with args in c.dir and returns its standard output.
func (c gitCmd) run(ctx context.Context, args ...string) ([]byte, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return nil, ErrGitMissing
	}
	cmd := exec.CommandContext(ctx, "git", append(append([]string{}, gitConfig...), args...)...)
	cmd.Dir = c.dir
	cmd.Env = gitEnv(c.env...)
	cmd.Stdin = c.stdin
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("git %s (in %s): %w", strings.Join(args, " "), c.dir, ctx.Err())
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return stdout.Bytes(), &gitError{args: args, dir: c.dir, code: exit.ExitCode(), stderr: stderr.String()}
		}
		return nil, fmt.Errorf("git %s (in %s): %w", strings.Join(args, " "), c.dir, err)
	}
	return stdout.Bytes(), nil
}

// line runs git and returns its output without the trailing newline.
func (c gitCmd) line(ctx context.Context, args ...string) (string, error) {
	out, err := c.run(ctx, args...)
	return strings.TrimRight(string(out), "\n"), err
}

// exitCode returns git's exit code from err, or -1 when err is not a git exit.
func exitCode(err error) int {
	var ge *gitError
	if errors.As(err, &ge) {
		return ge.code
	}
	return -1
}

// repo is the working tree a directory belongs to.
type repo struct {
	top   string // top-level directory of the working tree
	index string // the real index file (per worktree)
	head  string // HEAD's commit, "" in a repository without commits
}

// openRepo finds the git working tree that holds dir. It returns an error wrapping
// ErrNotGitRepo when there is none, and a plain error when git cannot answer (git missing,
// a repository git refuses to use, …): those must not be mistaken for "not a repository".
func openRepo(ctx context.Context, dir string) (repo, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return repo{}, fmt.Errorf("workspace %s: %w", dir, err)
	}
	if !info.IsDir() {
		return repo{}, fmt.Errorf("workspace %s is not a directory", dir)
	}
	g := gitCmd{dir: dir}
	out, err := g.line(ctx, "rev-parse", "--is-inside-work-tree", "--show-toplevel", "--git-path", "index")
	if err != nil {
		var ge *gitError
		if !errors.As(err, &ge) {
			return repo{}, err
		}
		// Inside a .git directory, rev-parse says "false" and then fails on --show-toplevel.
		if strings.Contains(ge.stderr, "not a git repository") || strings.Contains(ge.stderr, "must be run in a work tree") {
			return repo{}, fmt.Errorf("%s: %w", dir, ErrNotGitRepo)
		}
		if strings.Contains(ge.stderr, "dubious ownership") {
			return repo{}, fmt.Errorf("git refuses the repository holding %s because another user owns it; "+
				"run troupe as that user, or mark it safe yourself with `git config --global --add safe.directory <repo>`: %w", dir, err)
		}
		return repo{}, err
	}
	lines := strings.Split(out, "\n")
	if len(lines) != 3 || lines[0] != "true" {
		return repo{}, fmt.Errorf("%s: %w", dir, ErrNotGitRepo)
	}
	r := repo{top: lines[1], index: lines[2]}
	if !filepath.IsAbs(r.index) {
		r.index = filepath.Join(dir, r.index)
	}
	r.head, err = gitCmd{dir: r.top}.line(ctx, "rev-parse", "-q", "--verify", "HEAD^{commit}")
	if err != nil {
		if exitCode(err) != 1 {
			return repo{}, err
		}
		r.head = "" // a repository without commits yet
	}
	return r, nil
}

// IsGitRepo reports whether dir lies inside a git working tree (not a bare repository, not the
// .git directory). It is false when git is missing or refuses the repository; Preserve returns
// the reason in those cases.
func IsGitRepo(ctx context.Context, dir string) bool {
	_, err := openRepo(ctx, dir)
	return err == nil
}
