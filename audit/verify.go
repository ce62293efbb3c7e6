package audit

import (
	"errors"
	"fmt"
	"io/fs"
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
	// Keyed: the chain was checked with the data directory's key (audit.key); Legacy counts the
	// lines at the start of the log written before troupe keyed its chain.
	Keyed  bool   `json:"keyed"`
	Legacy uint64 `json:"legacy_events,omitempty"`
	// Anchor is what the caller's own record (troupe's store) says the log reached, when given.
	Anchor *Anchor `json:"anchor,omitempty"`
}

// Anchor is a point the log is known to have reached, recorded outside the audit directory
// (troupe's store keeps the last seq and hash it saw durable): a log that ends before it, or
// whose line at that seq has another hash, was cut or rewritten.
type Anchor struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// VerifyOptions are the optional inputs of VerifyWith.
type VerifyOptions struct {
	// KeyPath is the audit key; default <auditDir>/../audit.key.
	KeyPath string
	// Anchor, when set, is checked as described on Anchor.
	Anchor *Anchor
	// AnchorSource names where Anchor was recorded, in the reasons given for a mismatch
	// (default "troupe's store"; in a cluster, the head the node published to etcd).
	AnchorSource string
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
	enc    *encoder
	seq    uint64
	prev   string
	keyed  bool   // a keyed line was seen: legacy lines may no longer follow
	legacy uint64 // legacy lines seen
	// keyedFrom is the seq from which lines must be keyed (0: not known, an old key file).
	keyedFrom uint64
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
	case f.Legacy && (c.keyed || c.keyedFrom > 0 && f.Seq >= c.keyedFrom):
		return "an unkeyed line where the chain is keyed: the line was rewritten by someone without the chain key"
	}
	if f.Legacy {
		c.legacy++
	} else if c.enc.legacy != nil {
		c.keyed = true
	}
	c.seq, c.prev = f.Seq, h
	return ""
}

// Verify checks the whole audit log in auditDir (<data>/audit) with the data directory's key;
// see VerifyWith.
func Verify(auditDir string) (Report, error) { return VerifyWith(auditDir, VerifyOptions{}) }

// VerifyWith checks the whole audit log in auditDir: every segment in order, every line's
// keyed hash, the chain of prev hashes and seq numbers across segments, a torn last line, that
// the log reaches the seq and hash its head file records and, when given, the anchor; and that
// a data directory whose key exists has a log at all (every log starts with audit.open, so an
// emptied or removed log is damage, not "0 events"). Damage is reported in the Report, not as
// an error; the error is for a log that cannot be read at all.
func VerifyWith(auditDir string, opts VerifyOptions) (Report, error) {
	keyPath := opts.KeyPath
	if keyPath == "" {
		keyPath = filepath.Join(filepath.Dir(auditDir), KeyName)
	}
	source := opts.AnchorSource
	if source == "" {
		source = "troupe's store"
	}
	kf, keyErr := readKeyFile(keyPath)
	if keyErr != nil && !errors.Is(keyErr, fs.ErrNotExist) {
		return Report{}, keyErr
	}
	key := kf.key
	head, headExists, headErr := readHead(auditDir) // before the segments: the head never runs ahead
	segs, err := listSegments(auditDir)
	if err != nil && !(errors.Is(err, ErrNoLog) && (key != nil || opts.Anchor != nil)) {
		return Report{}, err
	}
	r := Report{Segments: len(segs), LastHash: genesisHash, TornFiles: tornFiles(auditDir), Anchor: opts.Anchor}
	c := newChainChecker()
	if key != nil {
		c.enc, c.keyedFrom, r.Keyed = newKeyedEncoder(key), kf.keyedFrom, true
	}
	seenHash, anchorHash := "", "" // the hashes of the lines whose seq the head and the anchor record
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
			if opts.Anchor != nil && c.seq == opts.Anchor.Seq {
				anchorHash = c.prev
			}
			return nil
		})
		f.Close()
		if err != nil && err != errStop {
			return r, fmt.Errorf("audit: reading %s: %w", name, err)
		}
		r.LastSeq, r.LastHash, r.Legacy = c.seq, c.prev, c.legacy
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
	case opts.Anchor != nil && opts.Anchor.Seq > r.LastSeq:
		return r.fail(last, 0, fmt.Sprintf("the log ends at seq %d but %s recorded seq %d as "+
			"written: the log was cut or removed", r.LastSeq, source, opts.Anchor.Seq)), nil
	case opts.Anchor != nil && opts.Anchor.Seq > 0 && anchorHash != opts.Anchor.Hash:
		return r.fail(last, 0, fmt.Sprintf("the hash of seq %d differs from the one %s "+
			"recorded: the log was rewritten", opts.Anchor.Seq, source)), nil
	case key != nil && r.Events == 0:
		return r.fail(last, 0, "the log is empty or gone, but this data directory's audit key exists: "+
			"a log always starts with audit.open, so it was emptied or removed"), nil
	case len(segs) == 0:
		return r.fail(last, 0, "no audit log in "+auditDir), nil
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
