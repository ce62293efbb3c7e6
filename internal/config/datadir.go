package config

import (
	"errors"
	"os"
	"path/filepath"
)

// ResolveDataDir returns the data directory: the flag value when set, else $TROUPE_DATA_DIR,
// else $XDG_STATE_HOME/troupe, else ~/.local/state/troupe. The path is made absolute; the
// directory is not created (see EnsureDataDir).
func ResolveDataDir(flagValue string) (string, error) {
	dir := flagValue
	if dir == "" {
		dir = os.Getenv("TROUPE_DATA_DIR")
	}
	if dir == "" {
		if x := os.Getenv("XDG_STATE_HOME"); x != "" {
			dir = filepath.Join(x, "troupe")
		}
	}
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil || home == "" {
			return "", errors.New("cannot find a data directory: set TROUPE_DATA_DIR or pass --data-dir")
		}
		dir = filepath.Join(home, ".local", "state", "troupe")
	}
	return filepath.Abs(dir)
}

// EnsureDataDir creates dir (mode 0700) if it does not exist.
func EnsureDataDir(dir string) error {
	return os.MkdirAll(dir, 0o700)
}
