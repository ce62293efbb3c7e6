//go:build !unix

package tokens

import "os"

// lockFile does not lock on systems without flock: change tokens from one process at a time.
func lockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}
