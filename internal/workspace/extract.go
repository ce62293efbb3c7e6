package workspace

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Limits on what Extract unpacks, so that a damaged or hostile archive cannot fill the disk or
// the inode table.
const (
	maxExtractBytes   = 10 << 30
	maxExtractEntries = 1_000_000
)

// extractLimits bounds one extraction; tests pass small ones.
type extractLimits struct {
	bytes   int64
	entries int
}

// Extract unpacks an archive made by Archive into dest (created 0700 if missing; it must be empty
// or absent), so that restore_session brings back a troupe-created workspace that delete_session
// archived and removed. It returns the number of files and symlinks extracted, counted as
// Archive counts them.
//
// The archive's top-level directory name is stripped: an entry "name/a/b" lands at dest/a/b, and
// the mode of dest itself is left as it is. Regular files keep the permission bits of their
// header (masked with 0777) and their modification time; directories get theirs with at least
// 0700 added, so that troupe can always remove them; symlinks are recreated as they were,
// whatever they point at.
//
// A hostile archive cannot write outside dest: entries with absolute paths or "..", entries
// outside the top-level directory, entries beneath a symlink (symlinks are never followed while
// extracting), entries that would replace one already extracted, devices, FIFOs and hard links
// are refused, and so is an archive of more than 10 GiB or 1,000,000 entries. On any error,
// and when ctx is done (checked between entries and while copying), what was extracted is
// removed, dest too if Extract created it, and the error says what was wrong; the archive itself
// is only ever read.
func Extract(ctx context.Context, archivePath, dest string) (files int, err error) {
	return extract(ctx, archivePath, dest, extractLimits{bytes: maxExtractBytes, entries: maxExtractEntries})
}

// extract is Extract with the limits given.
func extract(ctx context.Context, archivePath, dest string, lim extractLimits) (int, error) {
	fail := func(err error) (int, error) {
		return 0, fmt.Errorf("extracting archive %s into %s: %w (the archive is left untouched)", archivePath, dest, err)
	}
	f, err := os.Open(archivePath)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	created, err := prepareDest(dest)
	if err != nil {
		return fail(err)
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		if created {
			_ = os.Remove(dest)
		}
		return fail(err)
	}
	x := &extractor{root: root, limits: lim, dirs: map[string]bool{}}
	err = x.run(ctx, f)
	if err != nil {
		if cerr := x.empty(); cerr != nil {
			err = fmt.Errorf("%w; removing what was extracted failed too (%v): remove %s by hand", err, cerr, dest)
		}
	}
	root.Close()
	if err != nil {
		if created {
			_ = os.Remove(dest) // empty now, unless emptying failed, which the error reports
		}
		return fail(err)
	}
	return x.files, nil
}

// prepareDest checks that dest is an empty directory or absent, creating it (and missing
// parents) 0700 when absent; created says whether it did.
func prepareDest(dest string) (created bool, err error) {
	if dest == "" {
		return false, errors.New("no destination directory given")
	}
	info, err := os.Stat(dest)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
			return false, err
		}
		if err := os.Mkdir(dest, 0o700); err != nil {
			return false, err
		}
		return true, nil
	case err != nil:
		return false, err
	case !info.IsDir():
		return false, fmt.Errorf("%s exists and is not a directory; move it away or choose another destination", dest)
	}
	entries, err := os.ReadDir(dest)
	if err != nil {
		return false, err
	}
	if len(entries) > 0 {
		return false, fmt.Errorf("%s is not empty (it holds %q and %d more); move its contents away or choose an empty or missing directory",
			dest, entries[0].Name(), len(entries)-1)
	}
	return false, nil
}

// extractor unpacks the entries of one archive under root.
type extractor struct {
	root   *os.Root
	limits extractLimits
	top    string          // the archive's top-level directory name, from its first entry
	dirs   map[string]bool // directories made or checked so far: never symlinks, never replaced
	times  []dirTime       // directory modification times, set once their contents are written
	files  int
	count  int   // entries seen
	bytes  int64 // file bytes extracted
}

// dirTime is a directory's modification time from its header.
type dirTime struct {
	rel string
	mod time.Time
}

// run reads the gzip-compressed tar in r and extracts every entry.
func (x *extractor) run(ctx context.Context, r io.Reader) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("it is not a gzip-compressed tar (%v); it may be damaged or not one troupe made", err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading it failed after %d entries: %w (it may be truncated or damaged)", x.count, err)
		}
		if err := x.entry(ctx, hdr, tr); err != nil {
			return fmt.Errorf("entry %q: %w", hdr.Name, err)
		}
	}
	if x.top == "" {
		return errors.New("it holds no entries, so it is not one Archive made")
	}
	// tar stops at its end marker; reading on to the end makes gzip verify its checksum.
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return fmt.Errorf("its end is damaged: %w", err)
	}
	for _, d := range x.times {
		if err := x.root.Chtimes(d.rel, time.Time{}, d.mod); err != nil {
			return err
		}
	}
	return nil
}

// entry extracts one entry, whose content r yields.
func (x *extractor) entry(ctx context.Context, hdr *tar.Header, r io.Reader) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil // PAX metadata for the whole archive, not a file
	}
	x.count++
	if x.count > x.limits.entries {
		return fmt.Errorf("the archive holds more than %d entries, the most troupe extracts; if it is genuine, extract it by hand with tar",
			x.limits.entries)
	}
	rel, err := x.local(hdr.Name)
	if err != nil {
		return err
	}
	if rel == "." {
		if hdr.Typeflag != tar.TypeDir {
			return errors.New("the archive's top-level entry is not a directory, so it is not one Archive made")
		}
		return nil // dest stands for it
	}
	switch hdr.Typeflag {
	case tar.TypeDir, tar.TypeReg, tar.TypeSymlink:
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return errors.New("it is a device or FIFO, which Archive never writes; refusing it")
	case tar.TypeLink:
		return errors.New("it is a hard link, which Archive never writes; refusing it")
	default:
		return fmt.Errorf("it has tar type %q, which Archive never writes; refusing it", hdr.Typeflag)
	}
	if err := x.parents(rel); err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return x.dir(rel, hdr)
	case tar.TypeReg:
		return x.file(ctx, rel, hdr, r)
	default:
		return x.symlink(rel, hdr)
	}
}

// local turns an entry name into a path relative to dest, with the top-level directory
// stripped ("." for the top-level directory itself), refusing any name that could escape.
func (x *extractor) local(name string) (string, error) {
	if strings.HasPrefix(name, "/") {
		return "", errors.New("it has an absolute path; refusing it")
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", errors.New(`it has ".." in its path; refusing it`)
		}
	}
	top, rest, _ := strings.Cut(path.Clean(name), "/")
	if x.top == "" {
		if top == "." {
			return "", errors.New("it names no top-level directory, so the archive is not one Archive made")
		}
		x.top = top
	}
	if top != x.top {
		return "", fmt.Errorf("it lies outside the archive's top-level directory %q; refusing it", x.top)
	}
	if rest == "" {
		return ".", nil
	}
	if !filepath.IsLocal(rest) { // unreachable after the checks above; kept as the last guard
		return "", errors.New("it would land outside the destination; refusing it")
	}
	return filepath.FromSlash(rest), nil
}

// parents makes sure every directory above rel is a real directory (never a symlink), creating
// missing ones 0700; an entry for such a directory, if it comes later, sets its mode.
func (x *extractor) parents(rel string) error {
	dir := filepath.Dir(rel)
	if dir == "." || x.dirs[dir] {
		return nil
	}
	p := ""
	for _, c := range strings.Split(dir, string(filepath.Separator)) {
		p = filepath.Join(p, c)
		if x.dirs[p] {
			continue
		}
		info, err := x.root.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := x.root.Mkdir(p, 0o700); err != nil {
				return err
			}
		case err != nil:
			return err
		case info.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("it lies beneath %s, a symlink extracted earlier, and extracting through a symlink could write outside the destination; refusing it",
				filepath.ToSlash(p))
		case !info.IsDir():
			return fmt.Errorf("it lies beneath %s, a file extracted earlier; refusing it", filepath.ToSlash(p))
		}
		x.dirs[p] = true
	}
	return nil
}

// dir makes (or keeps) a directory with the header's permissions plus 0700.
func (x *extractor) dir(rel string, hdr *tar.Header) error {
	if !x.dirs[rel] {
		info, err := x.root.Lstat(rel)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := x.root.Mkdir(rel, 0o700); err != nil {
				return err
			}
		case err != nil:
			return err
		case !info.IsDir():
			return errors.New("it would replace a file or symlink extracted earlier at the same path; refusing it")
		}
		x.dirs[rel] = true
	}
	if err := x.root.Chmod(rel, perm(hdr)|0o700); err != nil {
		return err
	}
	x.times = append(x.times, dirTime{rel: rel, mod: hdr.ModTime})
	return nil
}

// file writes a regular file, never over anything already there.
func (x *extractor) file(ctx context.Context, rel string, hdr *tar.Header, r io.Reader) error {
	if hdr.Size > x.limits.bytes-x.bytes {
		return fmt.Errorf("it would take the files extracted past %s, the most troupe extracts; if the archive is genuine, extract it by hand with tar",
			sizeText(x.limits.bytes))
	}
	x.bytes += hdr.Size
	f, err := x.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return errors.New("something was already extracted at the same path; refusing to overwrite it")
	}
	if err != nil {
		return err
	}
	_, err = io.Copy(f, ctxReader{ctx: ctx, r: r})
	if err == nil {
		err = f.Chmod(perm(hdr))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = x.root.Chtimes(rel, time.Time{}, hdr.ModTime)
	}
	if err != nil {
		return err
	}
	x.files++
	return nil
}

// symlink recreates a symlink as it was; it is never followed afterwards.
func (x *extractor) symlink(rel string, hdr *tar.Header) error {
	if err := x.root.Symlink(hdr.Linkname, rel); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return errors.New("something was already extracted at the same path; refusing to overwrite it")
		}
		return err
	}
	x.files++
	return nil
}

// empty removes everything under root, after a failed extraction.
func (x *extractor) empty() error {
	entries, err := fs.ReadDir(x.root.FS(), ".")
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		errs = append(errs, x.root.RemoveAll(e.Name()))
	}
	return errors.Join(errs...)
}

// perm is the header's permission bits, without setuid, setgid or sticky.
func perm(hdr *tar.Header) fs.FileMode {
	return fs.FileMode(hdr.Mode & 0o777)
}

// sizeText writes a byte count for people.
func sizeText(n int64) string {
	if n >= 1<<30 && n%(1<<30) == 0 {
		return fmt.Sprintf("%d GiB", n>>30)
	}
	return fmt.Sprintf("%d bytes", n)
}

// ctxReader stops reading once ctx is done, so that a huge file does not delay cancellation.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}
