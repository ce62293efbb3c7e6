package audit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Open opens the audit log of the data directory dataDir, creating <dataDir>/audit (0700) and
// the redaction key <dataDir>/audit.key (0600) when needed; see OpenAt.
func Open(dataDir string, opts Options) (*Log, error) {
	if dataDir == "" {
		return nil, errors.New("audit: no data directory given")
	}
	return OpenAt(filepath.Join(dataDir, DirName), filepath.Join(dataDir, KeyName), opts)
}

// OpenAt opens the audit log in dir, keyed with the key file at keyPath, creating dir (0700) and
// the key (0600, in a directory created 0700 when missing) when needed. keyPath should be
// outside dir: whoever may read the log need not hold its key. It moves a torn last line aside
// (recording audit.torn_tail), continues the chain from the last good line and records
// audit.open. A log whose last complete line is damaged is refused with an error that says
// what to do.
func OpenAt(dir, keyPath string, opts Options) (*Log, error) {
	if dir == "" || keyPath == "" {
		return nil, errors.New("audit: no audit directory or key file given")
	}
	for _, d := range []string{dir, filepath.Dir(keyPath)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("audit: creating %s: %w", d, err)
		}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit: setting the mode of %s to 0700: %w", dir, err)
	}
	kf, err := loadOrCreateKey(keyPath, opts.Logger)
	if err != nil {
		return nil, err
	}
	key := kf.key
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	l := &Log{dir: dir, log: opts.Logger, now: opts.Now, red: redactor{key: key}, enc: newKeyedEncoder(key), lock: lock}
	l.cond.L = &l.mu
	l.recordDelay = opts.RecordDelay
	if l.recordDelay <= 0 {
		l.recordDelay = 50 * time.Millisecond
	}
	if l.now == nil {
		l.now = time.Now
	}
	l.seg = segmentWriter{dir: dir, max: opts.SegmentSize, wrap: opts.WrapFile, onNew: func(n int) {
		l.log.Info().Str("segment", SegmentName(n)).Msg("audit segment started")
	}, onSync: l.observeFsync}
	if l.seg.max <= 0 {
		l.seg.max = DefaultSegmentSize
	}
	events, err := l.start()
	if err == nil && kf.keyedFrom == 0 {
		// A log written before the chain was keyed: its lines stay as they are, and every line
		// from here on is keyed, which the key file now says.
		_, err = setKeyedFrom(keyPath, kf, l.seq+1)
	}
	if err == nil {
		for _, e := range events {
			if _, err = l.Append(context.Background(), e); err != nil {
				break
			}
		}
	}
	if err != nil {
		l.release()
		return nil, err
	}
	return l, nil
}
