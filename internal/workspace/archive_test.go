package workspace

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

// entry is one tar entry as the tests see it.
type entry struct {
	typ  byte
	body string // content, or link target
}

func readTarGz(t *testing.T, path string) map[string]entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	got := map[string]entry{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		e := entry{typ: hdr.Typeflag, body: hdr.Linkname}
		if hdr.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			e.body = string(b)
		}
		got[hdr.Name] = e
	}
}

func TestArchive(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ws one")
	write(t, dir, "a.txt", "alpha")
	write(t, dir, "sub/dïr/b ✓.txt", "beta")
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.txt", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "outside")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o600); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "archives", "s", "snap.tar.gz")

	got, err := Archive(ctxT(t), dir, dest)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != KindArchive || got.Archive != dest || got.Files != 4 {
		t.Errorf("got %+v, want an archive at %s of 4 files", got, dest)
	}
	if len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], "pipe") {
		t.Errorf("warnings %q, want one about the FIFO", got.Warnings)
	}
	info, err := os.Stat(dest)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("archive mode %v, want 0600", perm)
	}
	want := map[string]entry{
		"ws one/":                {typ: tar.TypeDir},
		"ws one/a.txt":           {typ: tar.TypeReg, body: "alpha"},
		"ws one/empty/":          {typ: tar.TypeDir},
		"ws one/link":            {typ: tar.TypeSymlink, body: "a.txt"},
		"ws one/outside":         {typ: tar.TypeSymlink, body: "/etc/passwd"},
		"ws one/sub/":            {typ: tar.TypeDir},
		"ws one/sub/dïr/":        {typ: tar.TypeDir},
		"ws one/sub/dïr/b ✓.txt": {typ: tar.TypeReg, body: "beta"},
	}
	if entries := readTarGz(t, dest); !reflect.DeepEqual(entries, want) {
		t.Errorf("archive holds\n%v\nwant\n%v", entries, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.txt")); err != nil {
		t.Errorf("Archive touched the directory: %v", err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(dest), ".*tmp*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %q", leftovers)
	}
}

func TestArchiveRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "f", "x")
	for name, tc := range map[string]struct{ dir, dest string }{
		"missing directory":     {filepath.Join(dir, "missing"), filepath.Join(t.TempDir(), "a.tar.gz")},
		"a file":                {filepath.Join(dir, "f"), filepath.Join(t.TempDir(), "a.tar.gz")},
		"archive inside itself": {dir, filepath.Join(dir, "self.tar.gz")},
	} {
		if _, err := Archive(ctxT(t), tc.dir, tc.dest); err == nil {
			t.Errorf("%s: got no error", name)
		}
		if _, err := os.Stat(tc.dest); err == nil {
			t.Errorf("%s: an archive was written", name)
		}
	}
}
