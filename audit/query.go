package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Filter selects events for Query. Zero fields match everything.
type Filter struct {
	Session   string
	Principal string
	Action    string // exact, or a prefix when it ends with "*" ("session.*")
	Stage     string
	Outcome   string
	Since     time.Time // events at or after
	Until     time.Time // events before
	Limit     int       // keep only the most recent Limit events (0: all)
	// Keep, when set, is asked last about each event that matched the rest (before Limit).
	Keep func(*Event) bool
}

func (f Filter) match(e *Event) bool {
	if f.Session != "" && e.Session != f.Session ||
		f.Principal != "" && e.Principal != f.Principal ||
		f.Stage != "" && e.Stage != f.Stage ||
		f.Outcome != "" && e.Outcome != f.Outcome ||
		!f.Since.IsZero() && e.Time.Before(f.Since) ||
		!f.Until.IsZero() && !e.Time.Before(f.Until) {
		return false
	}
	if prefix, ok := strings.CutSuffix(f.Action, "*"); ok {
		if !strings.HasPrefix(e.Action, prefix) {
			return false
		}
	} else if f.Action != "" && e.Action != f.Action {
		return false
	}
	return f.Keep == nil || f.Keep(e)
}

// DamageError is returned, together with the events that could be read, when some lines could
// not be parsed. Queries do not check hashes: Verify does.
type DamageError struct {
	Segment string // the first damaged line's segment
	Line    int    // and line number (1-based)
	Reason  string
	Skipped int // damaged lines skipped in all
}

// Error implements error.
func (e *DamageError) Error() string {
	return fmt.Sprintf("audit: %d damaged lines skipped, the first at %s line %d (%s); run "+
		"`troupe audit verify`", e.Skipped, e.Segment, e.Line, e.Reason)
}

// Query returns the events in auditDir (<data>/audit) that match f, oldest first. A line still
// being written is skipped; unreadable lines are skipped and reported by a *DamageError
// returned with the events.
func Query(auditDir string, f Filter) ([]Event, error) {
	segs, err := listSegments(auditDir)
	if err != nil {
		return nil, err
	}
	var out []Event
	var damage *DamageError
	for _, n := range segs {
		err := readSegment(auditDir, n, &damage, func(e Event) {
			if !f.match(&e) {
				return
			}
			out = append(out, e)
			if f.Limit > 0 && len(out) >= 2*f.Limit {
				out = append(out[:0], out[len(out)-f.Limit:]...)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[len(out)-f.Limit:]
	}
	if damage != nil {
		return out, damage
	}
	return out, nil
}

// Recent returns the last n events in auditDir, oldest first, reading only the segments it
// needs. Damage is reported as by Query.
func Recent(auditDir string, n int) ([]Event, error) {
	segs, err := listSegments(auditDir)
	if err != nil || n <= 0 {
		return nil, err
	}
	var out []Event
	var damage *DamageError
	for i := len(segs) - 1; i >= 0 && len(out) < n; i-- {
		var seg []Event
		if err := readSegment(auditDir, segs[i], &damage, func(e Event) { seg = append(seg, e) }); err != nil {
			return nil, err
		}
		out = append(seg, out...)
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	if damage != nil {
		return out, damage
	}
	return out, nil
}

// readSegment parses every complete line of segment n, calling fn for each event and noting
// damaged lines in *damage.
func readSegment(dir string, n int, damage **DamageError, fn func(Event)) error {
	name := SegmentName(n)
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	lineNo := 0
	err = forEachLine(f, func(line []byte, complete bool) error {
		lineNo++
		if !complete {
			return nil // being written, or torn: troupe moves it aside at its next start
		}
		e, err := parseEvent(line)
		if err != nil {
			if *damage == nil {
				*damage = &DamageError{Segment: name, Line: lineNo, Reason: err.Error()}
			}
			(*damage).Skipped++
			return nil
		}
		fn(e)
		return nil
	})
	if err != nil {
		return fmt.Errorf("audit: reading %s: %w", name, err)
	}
	return nil
}
