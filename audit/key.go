package audit

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rs/zerolog"
)

// keyLen is the size of the HMAC key in bytes; the file holds it hex-encoded.
const keyLen = 32

// keyedFromPrefix starts the key file's second line: the seq of the first line chained under
// the key. Lines before it were written before troupe keyed its chain (plain SHA-256); lines
// from it on must be keyed, so that rewriting them as "old" unkeyed lines is caught.
const keyedFromPrefix = "chain-keyed-from "

// keyFile is the data directory's audit key (<data>/audit.key, outside the audit directory):
// it keys the hash chain and the redaction HMACs.
type keyFile struct {
	key []byte
	// keyedFrom is the seq of the first keyed line; 0 in a key file written before the chain
	// was keyed (Open sets it at its first start).
	keyedFrom uint64
}

// loadOrCreateKey reads the key file at path, creating it (0600) when it does not exist.
func loadOrCreateKey(path string, log zerolog.Logger) (keyFile, error) {
	kf, err := readKey(path, log)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return kf, err
	}
	kf = keyFile{key: make([]byte, keyLen), keyedFrom: 1}
	if _, err := rand.Read(kf.key); err != nil {
		return kf, fmt.Errorf("audit: generating the key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readKey(path, log) // another process created it first
	}
	if err != nil {
		return kf, fmt.Errorf("audit: creating the key: %w", err)
	}
	_, werr := f.WriteString(kf.encode())
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr, syncDir(filepath.Dir(path))); err != nil {
		return kf, fmt.Errorf("audit: writing the key %s: %w", path, err)
	}
	return kf, nil
}

func (kf keyFile) encode() string {
	s := hex.EncodeToString(kf.key) + "\n"
	if kf.keyedFrom > 0 {
		s += keyedFromPrefix + strconv.FormatUint(kf.keyedFrom, 10) + "\n"
	}
	return s
}

// setKeyedFrom records, in a key file written before the chain was keyed, the seq from which
// the chain is keyed. It replaces the file atomically (the key itself is unchanged).
func setKeyedFrom(path string, kf keyFile, seq uint64) (keyFile, error) {
	kf.keyedFrom = seq
	tmp := path + ".new"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return kf, fmt.Errorf("audit: updating the key %s: %w", path, err)
	}
	_, werr := f.WriteString(kf.encode())
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return kf, fmt.Errorf("audit: updating the key %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return kf, fmt.Errorf("audit: updating the key %s: %w", path, err)
	}
	return kf, syncDir(filepath.Dir(path))
}

func readKey(path string, log zerolog.Logger) (keyFile, error) {
	kf, err := readKeyFile(path)
	if err != nil {
		return kf, err
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		log.Warn().Str("path", path).Str("mode", st.Mode().Perm().String()).
			Msg("audit key readable by others; setting mode 0600")
		if err := os.Chmod(path, 0o600); err != nil {
			return kf, fmt.Errorf("audit: the key %s is readable by others and cannot be "+
				"restricted to 0600: %w", path, err)
		}
	}
	return kf, nil
}

// readKeyFile reads the key file at path (fs.ErrNotExist when there is none).
func readKeyFile(path string) (keyFile, error) {
	var kf keyFile
	b, err := os.ReadFile(path)
	if err != nil {
		return kf, err
	}
	damaged := fmt.Errorf("audit: the key %s is damaged (want %d hex-encoded bytes, then "+
		"optionally %q and a number); restore it from a backup: it keys the log's hash chain and "+
		"its redactions, and a log written under it cannot be verified without it", path, keyLen, keyedFromPrefix)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	key, herr := hex.DecodeString(strings.TrimSpace(lines[0]))
	if herr != nil || len(key) != keyLen || len(lines) > 2 {
		return kf, damaged
	}
	kf.key = key
	if len(lines) == 2 {
		n, ok := strings.CutPrefix(strings.TrimSpace(lines[1]), keyedFromPrefix)
		if kf.keyedFrom, err = strconv.ParseUint(n, 10, 64); !ok || err != nil || kf.keyedFrom == 0 {
			return kf, damaged
		}
	}
	return kf, nil
}
