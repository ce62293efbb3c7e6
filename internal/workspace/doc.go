// Package workspace manages the directories that sessions work in and preserves the work left in
// them when a session is deleted (DESIGN §4 step 5, §5).
//
// A workspace is either one troupe created itself, <data>/workspaces/<session> (see Create and
// Owned), or one the user supplied, which must lie under the workspace root (see
// ValidateUserWorkspace). A user's workspace is never removed.
//
// Work is preserved in one of two ways:
//
//   - In a git repository, Preserve commits the whole working tree, tracked changes and untracked
//     files alike, through a temporary index (GIT_INDEX_FILE), parented on HEAD, and stores the
//     commit under refs/troupe/preserved/<session>/<snapshot>. HEAD, the branches, the real index
//     and the working tree are left exactly as they were. Files that .gitignore (or
//     .git/info/exclude, core.excludesFile) ignores are NOT committed: those are build output and
//     caches a careful user would not want copied into the object store; untracked files that are
//     not ignored are. When the workspace is a subdirectory of a repository, the commit holds the
//     whole repository's tree, not only the subdirectory: a tree of the subdirectory alone could
//     not be parented on HEAD meaningfully, and work outside it would be missed. A clean tree
//     makes no ref. A submodule (or a repository nested in the tree) is recorded as the commit
//     its HEAD points at; uncommitted work inside it is not preserved.
//   - A workspace troupe created that is not a git repository is archived by Archive into a
//     tar.gz under <data>/archives/; the caller removes the directory afterwards (RemoveOwned).
//
// A user gets preserved git work back with Restore, or by hand with
// `git checkout refs/troupe/preserved/<session>/<snapshot> -- .` (which also stages it) or
// `git diff HEAD refs/troupe/preserved/<session>/<snapshot>`.
//
// git runs through os/exec with a fixed identity (troupe <troupe@localhost>) in its environment,
// so it works without any git configuration; the user's configuration is never changed.
package workspace
