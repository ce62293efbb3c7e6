package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Report is the result of Verify. When OK is false, Segment, Line and Reason name the first bad
// line (Segment is HeadName for a problem with the head file; Line is 0 when no single line is
// at fault).
type Report struct {
	OK        bool     `json:"ok"`
	Segments  int      `json:"segments"`
	Events    uint64   `json:"events"` // lines verified before the first bad one
	Bytes     int64    `json:"bytes"`
	LastSeq   uint64   `json:"last_seq"`
	LastHash  string   `json:"last_hash"`
	Segment   string   `json:"segment,omitempty"`
	Line      int      `json:"line,omitempty"`
	Reason    string   `json:"reason,omitempty"`
	TornFiles []string `json:"torn_files,omitempty"` // torn tails moved aside at start-ups
}

// String renders the report in one line for people.
func (r Report) String() string {
	if r.OK {
		return fmt.Sprintf("audit log intact: %d events in %d segments, last seq %d, last hash %s",
			r.Events, r.Segments, r.LastSeq, r.LastHash)
	}
	where := r.Segment
	if r.Line > 0 {
		where = fmt.Sprintf("%s line %d", r.Segment, r.Line)
	}
	return fmt.Sprintf("audit log damaged: %s: %s (%d events verified before it)", where, r.Reason, r.Events)
}

// chainChecker verifies lines in order.
type chainChecker struct {
	enc  *encoder
	seq  uint64
	prev string
}

func newChainChecker() *chainChecker { return &chainChecker{enc: newEncoder(), prev: genesisHash} }

// check verifies the next complete line (without "\n") and returns why it is bad, or "".
func (c *chainChecker) check(line []byte) string {
	f, h, err := c.enc.checkLine(line)
	switch {
	case err != nil:
		return err.Error()
	case f.Seq <= c.seq:
		return fmt.Sprintf("seq %d after seq %d: lines were reordered or duplicated", f.Seq, c.seq)
	case f.Seq != c.seq+1:
		return fmt.Sprintf("seq %d after seq %d: a gap, lines were removed or moved", f.Seq, c.seq)
	case f.Prev != c.prev:
		return "prev is not the hash of the line before: the chain is broken"
	}
	c.seq, c.prev = f.Seq, h
	return ""
}

// Verify checks the whole audit log in auditDir (<data>/audit): every segment in order, every
// line's hash, the chain of prev hashes and seq numbers across segments, a torn last line, and
// that the log reaches the seq and hash its head file records. Damage is reported in the
// Report, not as an error; the error is for a log that cannot be read at all.
func Verify(auditDir string) (Report, error) {
	head, headExists, headErr := readHead(auditDir) // before the segments: the head never runs ahead
	segs, err := listSegments(auditDir)
	if err != nil {
		return Report{}, err
	}
	r := Report{Segments: len(segs), LastHash: genesisHash, TornFiles: tornFiles(auditDir)}
	c := newChainChecker()
	seenHash := "" // the hash of the line whose seq the head records
	for i, n := range segs {
		if n != i+1 {
			return r.fail(SegmentName(i+1), 0, "segment missing: part of the log was removed"), nil
		}
		name := SegmentName(n)
		f, err := os.Open(filepath.Join(auditDir, name))
		if err != nil {
			return r, fmt.Errorf("audit: %w", err)
		}
		lineNo, bad := 0, ""
		err = forEachLine(f, func(line []byte, complete bool) error {
			lineNo++
			switch {
			case !complete && i == len(segs)-1:
				bad = fmt.Sprintf("torn last line (%d bytes without a newline; troupe moves it aside "+
					"at its next start)", len(line))
			case !complete:
				bad = "a line without its newline before the last segment"
			default:
				bad = c.check(line)
			}
			if bad != "" {
				return errStop
			}
			r.Events++
			r.Bytes += int64(len(line)) + 1
			if headExists && c.seq == head.Seq {
				seenHash = c.prev
			}
			return nil
		})
		f.Close()
		if err != nil && err != errStop {
			return r, fmt.Errorf("audit: reading %s: %w", name, err)
		}
		r.LastSeq, r.LastHash = c.seq, c.prev
		if bad != "" {
			return r.fail(name, lineNo, bad), nil
		}
	}
	last := SegmentName(max(len(segs), 1))
	switch {
	case headErr != nil:
		return r.fail(HeadName, 0, headErr.Error()), nil
	case !headExists && r.Events > 0:
		return r.fail(HeadName, 0, "missing: lines removed from the end of the log would go unnoticed"), nil
	case headExists && head.Seq > r.LastSeq:
		return r.fail(last, 0, fmt.Sprintf("the log ends at seq %d but %s records seq %d: lines were "+
			"removed from the end", r.LastSeq, HeadName, head.Seq)), nil
	case headExists && head.Seq == 0 && head.Hash != genesisHash,
		headExists && head.Seq > 0 && seenHash != head.Hash:
		return r.fail(HeadName, 0, fmt.Sprintf("the hash of seq %d differs from the one %s records: "+
			"the log was rewritten", head.Seq, HeadName)), nil
	}
	r.OK = true
	return r, nil
}

// errStop ends a scan early.
var errStop = fmt.Errorf("stop")

func (r Report) fail(segment string, line int, reason string) Report {
	r.OK, r.Segment, r.Line, r.Reason = false, segment, line, reason
	return r
}

// tornFiles lists the torn tails moved aside in dir.
func tornFiles(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, e := range entries {
		if strings.Contains(e.Name(), ".jsonl.torn.") {
			out = append(out, e.Name())
		}
	}
	return out
}
