package audit

import (
	"fmt"
	"os"
	"path/filepath"
)

// HashAt returns the hash the line with the given seq in auditDir carries, and false when the
// log has no such line. It reads only the segment that would hold it and checks nothing (Verify
// does): it is for asking cheaply whether a head recorded elsewhere (an etcd-published head, at
// start-up) is still part of this log.
func HashAt(auditDir string, seq uint64) (string, bool, error) {
	segs, err := listSegments(auditDir)
	if err != nil || seq == 0 {
		return "", false, err
	}
	for i := len(segs) - 1; i >= 0; i-- {
		first, ok := firstSeq(auditDir, segs[i])
		if !ok || first > seq {
			continue
		}
		return hashIn(auditDir, segs[i], seq)
	}
	return "", false, nil
}

// hashIn scans segment n for the line with seq.
func hashIn(dir string, n int, seq uint64) (string, bool, error) {
	f, err := os.Open(filepath.Join(dir, SegmentName(n)))
	if err != nil {
		return "", false, fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	hash, found := "", false
	err = forEachLine(f, func(line []byte, complete bool) error {
		e, perr := parseEvent(line)
		if !complete || perr != nil || e.Seq != seq {
			return nil
		}
		hash, found = e.Hash, true
		return errStop
	})
	if err != nil && err != errStop {
		return "", false, fmt.Errorf("audit: reading %s: %w", SegmentName(n), err)
	}
	return hash, found, nil
}
