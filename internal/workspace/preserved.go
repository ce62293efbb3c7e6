package workspace

// Kinds of Preserved.
const (
	// KindGitRef means the work was committed under a ref in the workspace's repository.
	KindGitRef = "git-ref"
	// KindArchive means the workspace was archived into a tar.gz.
	KindArchive = "archive"
	// KindNone means there was nothing to preserve (a clean tree, or a user's non-git workspace).
	KindNone = "none"
)

// Preserved says where a workspace's work was kept. It is part of delete_session's answer.
type Preserved struct {
	// Kind is KindGitRef, KindArchive or KindNone.
	Kind string `json:"kind"`
	// Ref is the full ref name, for KindGitRef.
	Ref string `json:"ref,omitempty"`
	// Commit is the preserved commit's id, for KindGitRef.
	Commit string `json:"commit,omitempty"`
	// Repo is the repository's top-level directory, for KindGitRef (it may be an ancestor of the
	// workspace).
	Repo string `json:"repo,omitempty"`
	// Archive is the tar.gz path, for KindArchive.
	Archive string `json:"archive,omitempty"`
	// Files counts, for KindGitRef, the files added, modified or deleted relative to HEAD; for
	// KindArchive, the regular files and symlinks in the archive.
	Files int `json:"files"`
	// Warnings lists what could not be preserved (unreadable files, special files skipped).
	Warnings []string `json:"warnings,omitempty"`
}
