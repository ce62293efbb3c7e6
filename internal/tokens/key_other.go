//go:build !linux

package tokens

import "io/fs"

// keyOf describes the version of a file by size and mtime (inode and ctime are read on Linux
// only; troupe's writes change the size or mtime anyway).
func keyOf(fi fs.FileInfo) fileKey {
	return fileKey{exists: true, size: fi.Size(), mtime: fi.ModTime().UnixNano()}
}
