package tokens

import (
	"io/fs"
	"syscall"
)

// keyOf describes the version of a file: a rename gives a new inode, and ctime catches a write
// that kept size and mtime.
func keyOf(fi fs.FileInfo) fileKey {
	k := fileKey{exists: true, size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		k.dev, k.ino = uint64(st.Dev), st.Ino
		k.ctime = st.Ctim.Nano()
	}
	return k
}
