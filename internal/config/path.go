package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SplitPath reads a list of directories written as PATH is (separated by ':'), dropping empty
// entries.
func SplitPath(list string) []string {
	var dirs []string
	for _, d := range filepath.SplitList(list) {
		if d = strings.TrimSpace(d); d != "" {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// WithExtraPath returns path (a PATH value) with extra's directories first, in their order; a
// directory already on path moves to the front instead of appearing twice, so that applying
// the same extra again (a daemon started by a bridge that applied it) changes nothing.
func WithExtraPath(path string, extra []string) string {
	if len(extra) == 0 {
		return path
	}
	seen := map[string]bool{}
	var out []string
	for _, d := range append(append([]string{}, extra...), filepath.SplitList(path)...) {
		if d != "" && !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return strings.Join(out, string(os.PathListSeparator))
}

// checkExtraPath refuses a relative directory: it would be looked up from wherever the
// process happens to run.
func checkExtraPath(dirs []string) []error {
	var errs []error
	for _, d := range dirs {
		if !filepath.IsAbs(d) {
			errs = append(errs, fmt.Errorf("extra_path %q must be an absolute path", d))
		}
	}
	return errs
}
