package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// DefaultMemLimit is the default bound of an Output's memory: 1 MiB of chunk data.
const DefaultMemLimit = 1 << 20

// DefaultReadBytes is what Read returns at most when asked for maxBytes <= 0.
const DefaultReadBytes = 64 << 10

// MaxReadBytes bounds what one Read returns, whatever it is asked for: a read costs what it
// returns, and a client reads on with Next.
const MaxReadBytes = 1 << 20

// maxChunk splits larger writes, so that no single chunk dwarfs the memory bound or a read.
const maxChunk = 32 << 10

// indexEvery is how many records apart the log offsets are remembered (for reading back chunks
// that left memory without scanning the whole log).
const indexEvery = 64

// Chunk is one write of one stream, with its sequence number (1, 2, 3, … across both streams).
type Chunk struct {
	Seq    uint64    `json:"seq"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
	Data   []byte    `json:"data"`
}

// ReadResult is what Read returns.
type ReadResult struct {
	// Chunks are the chunks after the requested sequence number, oldest first.
	Chunks []Chunk
	// Next is the sequence number to pass as after to read on: the last chunk returned (or
	// skipped as Missing), or after itself when nothing was returned.
	Next uint64
	// LastSeq is the newest sequence number written so far.
	LastSeq uint64
	// More says that chunks after Next exist (maxBytes was reached).
	More bool
	// FromLog says that some chunks had left memory and were read back from the log file.
	FromLog bool
	// Missing counts chunks that had left memory and could not be read back from the log;
	// Problem says why. They are skipped: Next moves past them.
	Missing uint64
	// Problem describes what went wrong with the log file (reading it back, or writing it: then
	// the log is incomplete from some sequence number on), or is empty.
	Problem string
}

// Output keeps a process's output: every chunk gets the next sequence number, the newest chunks
// stay in memory up to a byte limit, and all of them go to a log file. It is safe for concurrent
// use; an agent's Output outlives its processes (one per message in per-message mode).
type Output struct {
	path  string
	limit int

	mu       sync.Mutex
	file     *os.File // append-only log; nil after a write error or Close
	seq      uint64   // last sequence number given out
	logged   uint64   // last sequence number written to the log completely
	mem      []Chunk  // newest chunks, oldest first, consecutive sequence numbers ending at seq
	memBytes int
	changed  chan struct{} // closed and replaced at every new chunk and at Close
	closed   bool
	logErr   error // why the log stopped at logged

	// The log is two files when it is bounded (LimitLog): path, being written, and path.1, the
	// one before. When path reaches half the bound it replaces path.1, whose chunks are dropped.
	cur, prev logPart
	logCap    int64  // bound of both files together; 0: unbounded
	dropped   uint64 // chunks up to this seq were dropped from the log
}

// logPart is one file of the log.
type logPart struct {
	first uint64  // seq of its first record; 0 while it has none
	size  int64   // bytes of complete records
	index []int64 // index[k] = offset of the record of seq first+k*indexEvery
}

// offsetOf returns where to start reading the part for the chunk after seq after.
func (p logPart) offsetOf(after uint64) int64 {
	if after < p.first {
		return 0
	}
	if k := (after + 1 - p.first) / indexEvery; k < uint64(len(p.index)) {
		return p.index[k]
	}
	return 0
}

// NewOutput creates the log file (mode 0600, its directories 0700) and an empty Output keeping at
// most memLimit bytes of chunk data in memory (DefaultMemLimit when <= 0). An existing log is not
// touched: that is ErrLogExists (use ReopenOutput).
func NewOutput(logPath string, memLimit int) (*Output, error) {
	if err := os.MkdirAll(filepath.Dir(logPath), 0o700); err != nil {
		return nil, fmt.Errorf("create the directory of output log %s: %w", logPath, err)
	}
	f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("create output log %s: %w", logPath, ErrLogExists)
	}
	if err != nil {
		return nil, fmt.Errorf("create output log %s: %w", logPath, err)
	}
	return newOutput(logPath, memLimit, f), nil
}

// newOutput returns an empty Output that appends to f.
func newOutput(path string, memLimit int, f *os.File) *Output {
	if memLimit <= 0 {
		memLimit = DefaultMemLimit
	}
	return &Output{path: path, limit: memLimit, file: f, changed: make(chan struct{})}
}

// Path is the log file's path.
func (o *Output) Path() string { return o.path }

// prevPath is the path of the log's previous file.
func (o *Output) prevPath() string { return o.path + ".1" }

// LimitLog bounds the log files to about maxBytes together, keeping the newest chunks (a
// program writing without end, `yes`, must not fill the disk); 0 leaves the log unbounded. The
// chunks dropped are reported by Read.
func (o *Output) LimitLog(maxBytes int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.logCap = maxBytes
}

// Writer returns the writer for one stream ("stdout", "stderr"; a name without spaces). Each
// Write becomes one chunk (or several, for writes over 32 KiB) and never fails because of the log
// file: a log problem is reported by Read. It fails with ErrClosed after Close.
func (o *Output) Writer(stream string) io.Writer {
	return streamWriter{o: o, stream: stream}
}

// streamWriter is the io.Writer of one stream of an Output.
type streamWriter struct {
	o      *Output
	stream string
}

// Write implements io.Writer.
func (w streamWriter) Write(p []byte) (int, error) {
	if w.stream == "" || strings.ContainsAny(w.stream, " \t\r\n") {
		return 0, fmt.Errorf("output stream name %q: use a name without spaces such as stdout", w.stream)
	}
	for off := 0; off < len(p); off += maxChunk {
		if err := w.o.add(w.stream, p[off:min(off+maxChunk, len(p))]); err != nil {
			return off, err
		}
	}
	return len(p), nil
}

// add appends one chunk (a copy of data).
func (o *Output) add(stream string, data []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return fmt.Errorf("write to output %s: %w", o.path, ErrClosed)
	}
	o.seq++
	c := Chunk{Seq: o.seq, Stream: stream, Time: time.Now().UTC(), Data: append([]byte(nil), data...)}
	o.log(c)
	o.remember(c)
	close(o.changed)
	o.changed = make(chan struct{})
	return nil
}

// log appends c to the log file. After the first failure the log is left as it is (it would
// otherwise hold a torn record in its middle) and the failure is reported by Read.
func (o *Output) log(c Chunk) {
	if o.file == nil {
		return
	}
	rec := encodeRecord(c)
	if o.logCap > 0 && o.cur.size > 0 && o.cur.size+int64(len(rec)) > o.logCap/2 {
		if err := o.rotate(); err != nil {
			o.logErr = fmt.Errorf("output log %s is incomplete after chunk %d: %w", o.path, o.logged, err)
			return
		}
	}
	if _, err := o.file.Write(rec); err != nil {
		o.logErr = fmt.Errorf("output log %s is incomplete after chunk %d: %w", o.path, o.logged, err)
		o.file.Close()
		o.file = nil
		return
	}
	o.noteLogged(c.Seq, int64(len(rec)))
}

// rotate makes the file being written the previous one (dropping the one before) and starts a
// new file.
func (o *Output) rotate() error {
	if err := o.file.Close(); err != nil {
		o.file = nil
		return err
	}
	o.file = nil
	if err := os.Rename(o.path, o.prevPath()); err != nil {
		return err
	}
	f, err := os.OpenFile(o.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if o.prev.first > 0 {
		o.dropped = o.cur.first - 1
	}
	o.file, o.prev, o.cur = f, o.cur, logPart{}
	return nil
}

// noteLogged records that the record of seq, n bytes long, ends the log.
func (o *Output) noteLogged(seq uint64, n int64) {
	o.cur.note(seq, n)
	o.logged = seq
}

// note records that the record of seq, n bytes long, ends the part.
func (p *logPart) note(seq uint64, n int64) {
	if p.first == 0 {
		p.first = seq
	}
	if (seq-p.first)%indexEvery == 0 && uint64(len(p.index)) == (seq-p.first)/indexEvery {
		p.index = append(p.index, p.size)
	}
	p.size += n
}

// remember keeps c in memory and drops the oldest chunks beyond the limit.
func (o *Output) remember(c Chunk) {
	o.mem = append(o.mem, c)
	o.memBytes += len(c.Data)
	drop := 0
	for o.memBytes > o.limit && drop < len(o.mem) {
		o.memBytes -= len(o.mem[drop].Data)
		drop++
	}
	if drop > 0 {
		clear(o.mem[:drop]) // let the data go
		o.mem = o.mem[drop:]
	}
}

// LastSeq is the newest sequence number written so far (0 before the first chunk).
func (o *Output) LastSeq() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.seq
}

// Wait blocks until a chunk with a sequence number above after exists (nil), the Output is closed
// with nothing newer (ErrClosed), or ctx ends (its error).
func (o *Output) Wait(ctx context.Context, after uint64) error {
	for {
		o.mu.Lock()
		seq, closed, changed := o.seq, o.closed, o.changed
		o.mu.Unlock()
		switch {
		case seq > after:
			return nil
		case closed:
			return ErrClosed
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close flushes and closes the log file and wakes every Wait. Read keeps working. Close the
// Output only once no process writes to it any more. Closing twice is harmless.
func (o *Output) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil
	}
	o.closed = true
	close(o.changed)
	if o.file == nil {
		return nil
	}
	f := o.file
	o.file = nil
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close output log %s: %w", o.path, err)
	}
	return nil
}
