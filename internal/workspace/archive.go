package workspace

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Archive writes the contents of dir into a gzip-compressed tar at destPath, every entry under
// the directory's base name (so that extracting it recreates one directory). Directories, regular
// files and symlinks (as links, never followed) are archived; sockets, FIFOs and devices are
// skipped and listed in Warnings. A file that cannot be read fails the archive: the caller removes
// the directory only after a successful Archive, so nothing is lost.
//
// The archive is written to a temporary file beside destPath, synced and renamed into place, mode
// 0600; missing parent directories are created 0700. An existing destPath is replaced, which is
// safe because the directory it was made from still exists.
func Archive(ctx context.Context, dir, destPath string) (Preserved, error) {
	src, err := filepath.Abs(dir)
	if err != nil {
		return Preserved{}, err
	}
	if info, err := os.Stat(src); err != nil || !info.IsDir() {
		return Preserved{}, fmt.Errorf("archiving %s: not an existing directory", dir)
	}
	dest, err := filepath.Abs(destPath)
	if err != nil {
		return Preserved{}, err
	}
	if within(src, dest) {
		return Preserved{}, fmt.Errorf("archiving %s: the archive %s would lie inside it; choose a path outside", dir, destPath)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
		return Preserved{}, fmt.Errorf("archiving %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp-*")
	if err != nil {
		return Preserved{}, fmt.Errorf("archiving %s: %w", dir, err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	done := Preserved{Kind: KindArchive, Archive: dest}
	err = writeTarGz(ctx, tmp, src, &done)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dest)
	}
	if err == nil {
		err = syncDir(filepath.Dir(dest))
	}
	if err != nil {
		return Preserved{}, fmt.Errorf("archiving %s into %s: %w", dir, destPath, err)
	}
	return done, nil
}

// writeTarGz streams the tree at src into w, counting files and noting skipped entries in p.
func writeTarGz(ctx context.Context, w io.Writer, src string, p *Preserved) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	base := filepath.Base(src)
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err // an unreadable directory: fail rather than archive part of it
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(filepath.Join(base, rel))
		return addEntry(tw, path, name, d, p)
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// addEntry writes one directory entry into tw.
func addEntry(tw *tar.Writer, path, name string, d fs.DirEntry, p *Preserved) error {
	switch t := d.Type(); {
	case t.IsDir():
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = name + "/"
		return tw.WriteHeader(hdr)
	case t&fs.ModeSymlink != 0:
		target, err := os.Readlink(path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, target)
		if err != nil {
			return err
		}
		hdr.Name = name
		p.Files++
		return tw.WriteHeader(hdr)
	case t.IsRegular():
		p.Files++
		return addFile(tw, path, name)
	default:
		p.Warnings = append(p.Warnings, fmt.Sprintf("skipped %s: not a regular file, directory or symlink (%v)", name, t))
		return nil
	}
}

// addFile writes one regular file. Its size is taken from the open file, and exactly that many
// bytes are written even when the file changes meanwhile (an agent may still be writing it).
func addFile(tw *tar.Writer, path, name string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	hdr, err := tar.FileInfoHeader(info, "")
	if err != nil {
		return err
	}
	hdr.Name = name
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	n, err := io.Copy(tw, io.LimitReader(f, info.Size()))
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if n < info.Size() { // the file shrank while being read: pad to the size announced
		_, err = io.CopyN(tw, zeros{}, info.Size()-n)
	}
	return err
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// syncDir fsyncs a directory so that a rename in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// within reports whether path is root or lies under it (both absolute and clean).
func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
