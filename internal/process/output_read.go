package process

import (
	"fmt"
	"os"
)

// Read returns the chunks with sequence numbers above after, oldest first, at most maxBytes of
// data (DefaultReadBytes when maxBytes <= 0, never more than MaxReadBytes) but always at least
// one chunk when there is one. Chunks that have left memory are read back from the log file
// (FromLog), starting near the first one wanted (an index every 64 chunks), so a read costs
// about what it returns; those that cannot be — dropped from a bounded log, or lost to a log
// problem — are counted in Missing with the reason in Problem.
func (o *Output) Read(after uint64, maxBytes int) ReadResult {
	if maxBytes <= 0 {
		maxBytes = DefaultReadBytes
	}
	maxBytes = min(maxBytes, MaxReadBytes)
	res := ReadResult{Next: after}
	used := 0
	// take adds c unless it would go over maxBytes.
	take := func(c Chunk) bool {
		if len(res.Chunks) > 0 && used+len(c.Data) > maxBytes {
			return false
		}
		res.Chunks = append(res.Chunks, c)
		res.Next = c.Seq
		used += len(c.Data)
		return true
	}

	o.mu.Lock()
	res.LastSeq = o.seq
	if o.logErr != nil {
		res.Problem = o.logErr.Error()
	}
	firstMem := o.seq + 1 - uint64(len(o.mem))
	// A copy of the chunk headers that may be needed (their data is never modified).
	var mem []Chunk
	memUsed := 0
	for i := max(after+1, firstMem) - firstMem; i < uint64(len(o.mem)) && memUsed <= maxBytes; i++ {
		mem = append(mem, o.mem[i])
		memUsed += len(o.mem[i].Data)
	}
	logged, dropped, logCap := o.logged, o.dropped, o.logCap
	var files []openPart
	if after+1 < firstMem {
		// Opened under the lock: a rotation may rename the files while they are read, and an
		// open file keeps its content (the bytes below a part's size never change).
		files = o.openParts(after)
	}
	o.mu.Unlock()
	defer func() {
		for _, f := range files {
			f.f.Close()
		}
	}()

	if after+1 < firstMem {
		until := firstMem - 1
		if after < dropped {
			last := min(dropped, until)
			res.Problem = fmt.Sprintf("chunks %d to %d were dropped from the log, which keeps only about the newest %d bytes (agent_log_bytes)", after+1, last, logCap)
			res.Missing, res.Next, after = last-after, last, last
		}
		full := false
		var err error
		for i, p := range files {
			end := logged
			if i+1 < len(files) {
				end = files[i+1].part.first - 1
			}
			readable := min(until, end)
			if after >= readable || p.f == nil {
				continue
			}
			err = readLogFile(p.f, p.part.offsetOf(after), p.part.size, after, readable, func(c Chunk) bool {
				full = !take(c)
				return !full
			})
			res.FromLog = res.FromLog || len(res.Chunks) > 0
			if full {
				res.More = true
				return res
			}
			if err != nil {
				break
			}
			after = res.Next
		}
		if res.Next < until {
			why := "the log file stops before them"
			if err != nil {
				why = err.Error()
			} else if res.Problem != "" && res.Missing == 0 {
				why = res.Problem
			}
			msg := fmt.Sprintf("chunks %d to %d had left memory and could not be read back from %s: %s", res.Next+1, until, o.path, why)
			if res.Missing > 0 {
				msg = res.Problem + "; " + msg
			}
			res.Problem = msg
			res.Missing += until - res.Next
			res.Next = until
		}
	}
	for _, c := range mem {
		if !take(c) {
			break
		}
	}
	res.More = res.Next < res.LastSeq
	return res
}

// openPart is a file of the log opened for a read, with what is known of it.
type openPart struct {
	f    *os.File // nil when it could not be opened
	part logPart
}

// openParts opens the files of the log that may hold chunks after seq after, oldest first.
// mu is held.
func (o *Output) openParts(after uint64) []openPart {
	var out []openPart
	if o.prev.first > 0 && after+1 < o.cur.first {
		f, _ := os.Open(o.prevPath())
		out = append(out, openPart{f: f, part: o.prev})
	}
	if o.cur.first > 0 {
		f, _ := os.Open(o.path)
		out = append(out, openPart{f: f, part: o.cur})
	}
	return out
}
