package workspace

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// node is one path of a directory tree as the extraction tests compare it.
type node struct {
	kind string // "dir", "file" or "link"
	perm fs.FileMode
	body string // content, or link target
	mod  time.Time
}

// treeOf reads the tree under dir, keyed by slash-separated relative path. With dirBits, every
// directory's permissions get those bits added (what Extract guarantees). Directory times are
// left out: they change whenever the tree under them is read back or written.
func treeOf(t *testing.T, dir string, dirBits fs.FileMode) map[string]node {
	t.Helper()
	got := map[string]node{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		n := node{perm: info.Mode().Perm()}
		switch {
		case d.IsDir():
			n.kind, n.perm = "dir", n.perm|dirBits
		case d.Type()&fs.ModeSymlink != 0:
			n.kind, n.perm = "link", 0
			n.body, err = os.Readlink(p)
		default:
			n.kind, n.mod = "file", info.ModTime().Round(time.Second) // as tar records it
			var b []byte
			b, err = os.ReadFile(p)
			n.body = string(b)
		}
		got[filepath.ToSlash(rel)] = n
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestExtractRoundTrip(t *testing.T) {
	src := filepath.Join(t.TempDir(), "ws")
	write(t, src, "a.txt", "alpha")
	write(t, src, "sub/dïr/b ✓.txt", "beta")
	write(t, src, "deep/er/still/c", "")
	write(t, src, "run.sh", "#!/bin/sh\n")
	write(t, src, "locked/secret", "s")
	for _, d := range []string{"empty", "empty with space"} {
		if err := os.Mkdir(filepath.Join(src, d), 0o750); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"link": "a.txt", "sub/up": "../a.txt", "abs": "/etc/passwd", "dangling": "nowhere"} {
		if err := os.Symlink(target, filepath.Join(src, link)); err != nil {
			t.Fatal(err)
		}
	}
	chmod(t, filepath.Join(src, "run.sh"), 0o755)
	chmod(t, filepath.Join(src, "locked/secret"), 0o400)
	chmod(t, filepath.Join(src, "locked"), 0o500) // read-only directory: comes back 0700
	t.Cleanup(func() { _ = os.Chmod(filepath.Join(src, "locked"), 0o700) })
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(src, "a.txt"), old, old); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "ws.tar.gz")
	p, err := Archive(ctxT(t), src, archive)
	if err != nil {
		t.Fatal(err)
	}
	want := treeOf(t, src, 0o700)

	for name, dest := range map[string]string{
		"missing dest":        filepath.Join(t.TempDir(), "missing", "parent", "ws"),
		"existing empty dest": t.TempDir(),
	} {
		files, err := Extract(ctxT(t), archive, dest)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if files != p.Files {
			t.Errorf("%s: got %d files, want %d (as Archive counted)", name, files, p.Files)
		}
		if got := treeOf(t, dest, 0); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: extracted tree differs\ngot  %v\nwant %v", name, got, want)
		}
		if got := treeOf(t, dest, 0)["a.txt"].mod; !got.Equal(old) {
			t.Errorf("%s: a.txt modified at %v, want %v", name, got, old)
		}
	}
	dest := filepath.Join(t.TempDir(), "fresh")
	if _, err := Extract(ctxT(t), archive, dest); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(dest); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("created dest: %v, %v; want a directory with mode 0700", info, err)
	}
}

func chmod(t *testing.T, p string, mode fs.FileMode) {
	t.Helper()
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func TestExtractRefusesUnusableDest(t *testing.T) {
	src := filepath.Join(t.TempDir(), "ws")
	write(t, src, "a.txt", "alpha")
	archive := filepath.Join(t.TempDir(), "ws.tar.gz")
	if _, err := Archive(ctxT(t), src, archive); err != nil {
		t.Fatal(err)
	}
	full := t.TempDir()
	write(t, full, "mine.txt", "keep me")
	file := filepath.Join(t.TempDir(), "file")
	write(t, filepath.Dir(file), "file", "a file")
	for name, tc := range map[string]struct{ dest, want string }{
		"not empty":   {full, "not empty"},
		"a file":      {file, "not a directory"},
		"no archive":  {t.TempDir(), "no such file"},
		"no dest set": {"", "no destination"},
	} {
		a := archive
		if name == "no archive" {
			a = filepath.Join(t.TempDir(), "missing.tar.gz")
		}
		_, err := Extract(ctxT(t), a, tc.dest)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got error %v, want one saying %q", name, err, tc.want)
		}
	}
	if got := treeOf(t, full, 0); len(got) != 1 || got["mine.txt"].body != "keep me" {
		t.Errorf("the non-empty dest was changed: %v", got)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "a file" {
		t.Errorf("the file dest was changed: %q, %v", b, err)
	}
}

// tarEntry is one entry of a hand-made archive.
type tarEntry struct {
	name string
	typ  byte
	body string // content, or link target
}

// makeArchive writes a tar.gz of entries, in order, and returns its path.
func makeArchive(t *testing.T, entries ...tarEntry) string {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, ModTime: time.Now()}
		switch e.typ {
		case tar.TypeReg:
			hdr.Size = int64(len(e.body))
		case tar.TypeSymlink, tar.TypeLink:
			hdr.Linkname = e.body
		case tar.TypeDir:
			hdr.Mode = 0o755
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "hostile.tar.gz")
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkRefused extracts archive into a missing and into an empty dest and checks that both are
// refused with an error naming the archive and saying want, leaving nothing behind and the
// archive as it was.
func checkRefused(t *testing.T, name, archive, want string, extractFn func(ctx context.Context, archive, dest string) (int, error)) {
	t.Helper()
	before, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "ws")
	empty := t.TempDir()
	for _, dest := range []string{missing, empty} {
		files, err := extractFn(ctxT(t), archive, dest)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), archive) {
			t.Errorf("%s: got %d files and error %v, want one naming the archive and saying %q", name, files, err, want)
		}
	}
	if _, err := os.Lstat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s: the dest Extract created was left behind (%v)", name, err)
	}
	if got := treeOf(t, empty, 0); len(got) != 0 {
		t.Errorf("%s: left behind in the empty dest: %v", name, got)
	}
	if after, err := os.ReadFile(archive); err != nil || !bytes.Equal(before, after) {
		t.Errorf("%s: the archive changed (%v)", name, err)
	}
}

func TestExtractRefusesHostileArchives(t *testing.T) {
	outside := t.TempDir()
	ok := []tarEntry{{"ws/", tar.TypeDir, ""}, {"ws/ok.txt", tar.TypeReg, "fine"}, {"ws/d/", tar.TypeDir, ""}}
	cases := map[string]struct {
		last []tarEntry
		want string
	}{
		"dot-dot entry":        {[]tarEntry{{"ws/../evil", tar.TypeReg, "x"}}, `".."`},
		"dot-dot inside":       {[]tarEntry{{"ws/d/../../evil", tar.TypeReg, "x"}}, `".."`},
		"absolute path":        {[]tarEntry{{filepath.Join(outside, "evil"), tar.TypeReg, "x"}}, "absolute"},
		"outside the top":      {[]tarEntry{{"other/evil", tar.TypeReg, "x"}}, "outside the archive's top-level"},
		"through abs symlink":  {[]tarEntry{{"ws/l", tar.TypeSymlink, outside}, {"ws/l/evil", tar.TypeReg, "x"}}, "symlink"},
		"through rel symlink":  {[]tarEntry{{"ws/d/l", tar.TypeSymlink, "../.."}, {"ws/d/l/evil", tar.TypeReg, "x"}}, "symlink"},
		"through symlink dir":  {[]tarEntry{{"ws/l", tar.TypeSymlink, outside}, {"ws/l/sub/", tar.TypeDir, ""}}, "symlink"},
		"over symlink":         {[]tarEntry{{"ws/l", tar.TypeSymlink, filepath.Join(outside, "evil")}, {"ws/l", tar.TypeReg, "x"}}, "already extracted"},
		"dir over symlink":     {[]tarEntry{{"ws/l", tar.TypeSymlink, outside}, {"ws/l/", tar.TypeDir, ""}}, "would replace"},
		"over a file":          {[]tarEntry{{"ws/ok.txt", tar.TypeReg, "again"}}, "already extracted"},
		"beneath a file":       {[]tarEntry{{"ws/ok.txt/x", tar.TypeReg, "x"}}, "beneath"},
		"character device":     {[]tarEntry{{"ws/null", tar.TypeChar, ""}}, "device or FIFO"},
		"block device":         {[]tarEntry{{"ws/sda", tar.TypeBlock, ""}}, "device or FIFO"},
		"fifo":                 {[]tarEntry{{"ws/pipe", tar.TypeFifo, ""}}, "device or FIFO"},
		"hard link":            {[]tarEntry{{"ws/h", tar.TypeLink, "ws/ok.txt"}}, "hard link"},
		"top-level is a file":  {nil, "not a directory"},
		"first entry escapes":  {nil, `".."`},
		"first entry absolute": {nil, "absolute"},
	}
	for name, tc := range cases {
		entries := append(append([]tarEntry{}, ok...), tc.last...)
		switch name {
		case "top-level is a file":
			entries = []tarEntry{{"ws", tar.TypeReg, "x"}}
		case "first entry escapes":
			entries = []tarEntry{{"../evil", tar.TypeReg, "x"}}
		case "first entry absolute":
			entries = []tarEntry{{filepath.Join(outside, "evil"), tar.TypeReg, "x"}}
		}
		checkRefused(t, name, makeArchive(t, entries...), tc.want, Extract)
	}
	if got := treeOf(t, outside, 0); len(got) != 0 {
		t.Errorf("written outside the destination: %v", got)
	}
	checkRefused(t, "no entries", makeArchive(t), "no entries", Extract)
}

func TestExtractLimits(t *testing.T) {
	archive := makeArchive(t, tarEntry{"ws/", tar.TypeDir, ""},
		tarEntry{"ws/a", tar.TypeReg, strings.Repeat("a", 600)},
		tarEntry{"ws/b", tar.TypeReg, strings.Repeat("b", 600)})
	small := func(lim extractLimits) func(context.Context, string, string) (int, error) {
		return func(ctx context.Context, archive, dest string) (int, error) { return extract(ctx, archive, dest, lim) }
	}
	checkRefused(t, "size", archive, "past 1000 bytes", small(extractLimits{bytes: 1000, entries: 10}))
	checkRefused(t, "entries", archive, "more than 2 entries", small(extractLimits{bytes: 1 << 20, entries: 2}))
	if n, err := extract(ctxT(t), archive, t.TempDir(), extractLimits{bytes: 1200, entries: 3}); err != nil || n != 2 {
		t.Errorf("at the limits exactly: got %d files, %v; want 2 and no error", n, err)
	}
	if got := sizeText(maxExtractBytes); got != "10 GiB" {
		t.Errorf("the size limit reads %q, want 10 GiB", got)
	}
}

func TestExtractDamagedArchives(t *testing.T) {
	src := filepath.Join(t.TempDir(), "ws")
	write(t, src, "a.txt", strings.Repeat("alpha ", 1000))
	write(t, src, "b.txt", "beta")
	good := filepath.Join(t.TempDir(), "ws.tar.gz")
	if _, err := Archive(ctxT(t), src, good); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(data)
	flipped[len(flipped)-6] ^= 0xff // inside the gzip trailer's CRC-32
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"not gzip":  {[]byte("this is not an archive at all"), "not a gzip-compressed tar"},
		"empty":     {nil, "not a gzip-compressed tar"},
		"truncated": {data[:len(data)/2], "truncated or damaged"},
		"bad crc":   {flipped, "damaged"},
	} {
		p := filepath.Join(t.TempDir(), name+".tar.gz")
		if err := os.WriteFile(p, tc.data, 0o600); err != nil {
			t.Fatal(err)
		}
		checkRefused(t, name, p, tc.want, Extract)
	}
}

func TestExtractCancelled(t *testing.T) {
	src := filepath.Join(t.TempDir(), "ws")
	write(t, src, "a.txt", "alpha")
	archive := filepath.Join(t.TempDir(), "ws.tar.gz")
	if _, err := Archive(ctxT(t), src, archive); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctxT(t))
	cancel()
	dest := filepath.Join(t.TempDir(), "ws")
	if _, err := Extract(ctx, archive, dest); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if _, err := os.Lstat(dest); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("dest left behind after cancellation (%v)", err)
	}
}
