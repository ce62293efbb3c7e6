package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// writeBundle writes the .mcpb file out: a zip with manifest.json at its root, the troupe
// binary at the manifest's entry point (mode 0755, which the official unpacker restores) and
// the icon. It is written beside out and renamed, so a failed pack leaves no half bundle.
func writeBundle(out string, m mcpbManifest, binary string) (err error) {
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	bin, err := os.Open(binary)
	if err != nil {
		return fmt.Errorf("the binary to bundle: %w", err)
	}
	defer bin.Close()
	st, err := bin.Stat()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".troupe-mcpb-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	zw := zip.NewWriter(tmp)
	entries := []struct {
		name string
		mode os.FileMode
		body io.Reader
	}{
		{"manifest.json", 0o644, bytes.NewReader(append(manifest, '\n'))},
		{m.Server.EntryPoint, 0o755, bin},
		{m.Icon, 0o644, bytes.NewReader(mcpbIconPNG())},
	}
	for _, e := range entries {
		if err = addToZip(zw, e.name, e.mode, st.ModTime(), e.body); err != nil {
			return errors.Join(err, zw.Close(), tmp.Close())
		}
	}
	if err = errors.Join(zw.Close(), tmp.Close()); err != nil {
		return err
	}
	if err = os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

// addToZip adds one compressed file with its Unix mode and time.
func addToZip(zw *zip.Writer, name string, mode os.FileMode, mod time.Time, body io.Reader) error {
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: mod}
	h.SetMode(mode)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, body)
	return err
}
