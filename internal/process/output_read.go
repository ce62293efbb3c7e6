package process

import "fmt"

// Read returns the chunks with sequence numbers above after, oldest first, at most maxBytes of
// data (DefaultReadBytes when maxBytes <= 0) but always at least one chunk when there is one.
// Chunks that have left memory are read back from the log file (FromLog); those that cannot be
// are counted in Missing with the reason in Problem.
func (o *Output) Read(after uint64, maxBytes int) ReadResult {
	if maxBytes <= 0 {
		maxBytes = DefaultReadBytes
	}
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
	logged, size, path := o.logged, o.size, o.path
	var offset int64
	if k := after / indexEvery; k < uint64(len(o.index)) {
		offset = o.index[k]
	}
	o.mu.Unlock()

	if after+1 < firstMem {
		// The log file is append-only: the bytes below size do not change while it is read.
		until := firstMem - 1
		full := false
		var err error
		if readable := min(until, logged); after < readable {
			err = readLog(path, offset, size, after, readable, func(c Chunk) bool {
				full = !take(c)
				return !full
			})
			res.FromLog = len(res.Chunks) > 0
		}
		if full {
			res.More = true
			return res
		}
		if res.Next < until {
			why := "the log file stops before them"
			if err != nil {
				why = err.Error()
			} else if res.Problem != "" {
				why = res.Problem
			}
			res.Problem = fmt.Sprintf("chunks %d to %d had left memory and could not be read back from %s: %s", res.Next+1, until, path, why)
			res.Missing = until - res.Next
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
