package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// tailState is where the log ends, found at start-up.
type tailState struct {
	seg      int    // last segment number
	seq      uint64 // last good seq (0: empty log)
	hash     string // its hash (genesisHash for an empty log)
	goodSize int64  // bytes of the last segment up to and including its last "\n"
	torn     []byte // bytes after the last "\n" of the last segment
}

// scanTail finds the last complete line of the log in dir and checks it. segs is not empty.
func scanTail(dir string, segs []int, enc *encoder) (tailState, error) {
	t := tailState{seg: segs[len(segs)-1], hash: genesisHash}
	for i := len(segs) - 1; i >= 0; i-- {
		last, lineNo, size, torn, err := lastLine(filepath.Join(dir, SegmentName(segs[i])))
		if err != nil {
			return t, err
		}
		if i == len(segs)-1 {
			t.goodSize, t.torn = size, torn
		} else if torn != nil {
			return t, damaged(SegmentName(segs[i]), lineNo+1, "a line without its newline before the last segment")
		}
		if last == nil {
			continue // an empty segment: the last line is in an earlier one
		}
		f, h, err := enc.checkLine(last)
		if err != nil {
			return t, damaged(SegmentName(segs[i]), lineNo, err.Error())
		}
		t.seq, t.hash = f.Seq, h
		return t, nil
	}
	return t, nil
}

// lastLine returns a copy of the last complete line of the file at path, its line number, the
// size up to its end, and the bytes after it when the file does not end with "\n".
func lastLine(path string) (last []byte, lineNo int, size int64, torn []byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, nil, fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	err = forEachLine(f, func(line []byte, complete bool) error {
		if !complete {
			torn = append([]byte(nil), line...)
			return nil
		}
		last = append(last[:0], line...)
		lineNo++
		size += int64(len(line)) + 1
		return nil
	})
	if err != nil {
		return nil, 0, 0, nil, fmt.Errorf("audit: reading %s: %w", path, err)
	}
	return last, lineNo, size, torn, nil
}

// damaged is the error Open returns for a log it cannot continue.
func damaged(segment string, line int, reason string) error {
	return fmt.Errorf("audit: %s line %d is damaged (%s); troupe will not continue a chain it "+
		"cannot trust: run `troupe audit verify` and restore the segment from a backup, or move "+
		"the audit directory aside to start a new log", segment, line, reason)
}

// moveTornAside saves the torn bytes next to their segment (as <segment>.torn.N), then cuts the
// segment back to its last complete line. It returns the new file's name and details for the
// audit.torn_tail event.
func moveTornAside(dir string, t tailState) (map[string]any, error) {
	seg := filepath.Join(dir, SegmentName(t.seg))
	var name string
	for i := 1; ; i++ {
		name = fmt.Sprintf("%s.torn.%d", SegmentName(t.seg), i)
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("audit: saving the torn tail of %s: %w", seg, err)
		}
		_, werr := f.Write(t.torn)
		serr := f.Sync()
		if err := errors.Join(werr, serr, f.Close(), syncDir(dir)); err != nil {
			return nil, fmt.Errorf("audit: saving the torn tail of %s to %s: %w", seg, name, err)
		}
		break
	}
	f, err := os.OpenFile(seg, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("audit: cutting the torn tail of %s: %w", seg, err)
	}
	terr := f.Truncate(t.goodSize)
	serr := f.Sync()
	if err := errors.Join(terr, serr, f.Close()); err != nil {
		return nil, fmt.Errorf("audit: cutting the torn tail of %s (saved in %s): %w", seg, name, err)
	}
	sum := sha256.Sum256(t.torn)
	return map[string]any{
		"segment":   SegmentName(t.seg),
		"offset":    t.goodSize,
		"bytes":     len(t.torn),
		"moved_to":  name,
		"sha256":    hex.EncodeToString(sum[:]),
		"after_seq": t.seq,
	}, nil
}

// start recovers the end of the log, opens the files and returns the events to record.
func (l *Log) start() ([]Event, error) {
	segs, err := listSegments(l.dir)
	if err != nil {
		return nil, err
	}
	old, headExists, headErr := readHead(l.dir)
	t := tailState{seg: 1, hash: genesisHash}
	var events []Event
	if len(segs) == 0 {
		err = l.seg.open(1, true)
	} else {
		if t, err = scanTail(l.dir, segs, l.enc); err != nil {
			return nil, err
		}
		if len(t.torn) > 0 {
			details, err := moveTornAside(l.dir, t)
			if err != nil {
				return nil, err
			}
			l.log.Warn().Fields(details).Msg("audit: torn last line moved aside")
			events = append(events, Event{Action: ActionTornTail, Outcome: OutcomeOK, Details: details})
		}
		err = l.seg.open(t.seg, false)
	}
	if err != nil {
		return nil, err
	}
	if problem := headProblem(old, headExists, headErr, t); problem != "" {
		l.log.Warn().Str("problem", problem).Msg("audit: head file does not match the log")
		events = append(events, Event{Action: ActionHeadMismatch, Outcome: OutcomeError, Details: map[string]any{
			"problem": problem, "head_seq": old.Seq, "head_hash": old.Hash, "log_seq": t.seq, "log_hash": t.hash,
		}})
	}
	if l.head, err = openHeadFile(l.dir); err != nil {
		return nil, err
	}
	if err := l.head.write(headState{t.seq, t.hash}, true); err != nil {
		return nil, err
	}
	l.seq, l.prev, l.durable, l.durableH = t.seq, t.hash, t.seq, t.hash
	return append(events, Event{Action: ActionOpen, Outcome: OutcomeOK, Details: map[string]any{
		"pid": os.Getpid(), "segment": SegmentName(l.seg.n), "last_seq": t.seq,
	}}), nil
}

// headProblem says how the head file disagrees with the end of the log t, or "".
func headProblem(h headState, exists bool, err error, t tailState) string {
	switch {
	case err != nil:
		return err.Error()
	case !exists && t.seq > 0:
		return HeadName + " is missing: lines may have been removed from the end of the log"
	case exists && h.Seq > t.seq:
		return fmt.Sprintf("the log ends at seq %d but %s records seq %d: lines were removed from the end", t.seq, HeadName, h.Seq)
	case exists && h.Seq == t.seq && h.Hash != t.hash:
		return fmt.Sprintf("the hash of seq %d differs from the one %s records: the end of the log was rewritten", t.seq, HeadName)
	}
	return ""
}
