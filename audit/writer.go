package audit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// DirName and KeyName are the audit directory and the redaction key file in the data directory.
const (
	DirName = "audit"
	KeyName = "audit.key"
)

// maxSpare is the largest batch buffer kept for reuse.
const maxSpare = 1 << 20

// Options configure Open. The zero value is ready to use.
type Options struct {
	// SegmentSize is the size past which a new segment starts (default DefaultSegmentSize).
	SegmentSize int64
	// Logger receives warnings (a torn tail, a failed write); the zero Logger discards them.
	Logger zerolog.Logger
	// Now is the clock for event times (default time.Now).
	Now func() time.Time
	// WrapFile, when set, wraps every segment file the writer opens; tests use it to inject
	// failing writes or fsyncs.
	WrapFile func(*os.File) File
	// RecordDelay is how long an event queued by Record may wait for a write to share before
	// it is written on its own (default 50 ms: events nothing waits on, written in batches, keep
	// the disk quiet for the calls that do wait). An Append in the meantime writes it at once.
	RecordDelay time.Duration
}

// Log is the one writer of an audit log: it owns the segment files, the sequence number and
// the previous hash. Its methods are safe for concurrent use.
type Log struct {
	dir string
	log zerolog.Logger
	now func() time.Time
	red redactor

	mu        sync.Mutex
	cond      sync.Cond // on mu: a flush finished
	enc       *encoder  // under mu
	seq       uint64    // last seq handed out
	prev      string    // hash of that line
	queued    []Event   // recorded events not yet encoded, in order: their Time set, Details theirs
	pending   []byte    // lines not yet written
	ends      []int     // end offsets of the lines in pending
	spare     []byte
	spareEnds []int
	durable   uint64 // last seq written and fsynced
	durableH  string // its hash
	flushing  bool   // a goroutine is writing a batch, without mu
	err       error  // sticky: ErrUnavailable or ErrClosed
	// asyncFlush: flushTimer will run flushQueued; flushers counts them for Close.
	asyncFlush  bool
	flushTimer  *time.Timer
	flushers    sync.WaitGroup
	recordDelay time.Duration

	closeOnce sync.Once
	closeErr  error

	// fsyncHook is the function SetFsyncHook set, read by the flushing goroutine.
	fsyncHook atomic.Pointer[func(time.Duration)]

	seg  segmentWriter // only the flushing goroutine touches the files
	head *headFile
	lock *os.File
}

// SetFsyncHook makes the writer call fn with the duration of every fsync of a segment (one per
// batch of events; the metrics' troupe_audit_fsync_seconds). fn runs on the writing goroutine,
// so it must be quick; nil removes the hook. It may be called at any time, from any goroutine.
func (l *Log) SetFsyncHook(fn func(time.Duration)) {
	if fn == nil {
		l.fsyncHook.Store(nil)
		return
	}
	l.fsyncHook.Store(&fn)
}

func (l *Log) observeFsync(d time.Duration) {
	if fn := l.fsyncHook.Load(); fn != nil {
		(*fn)(d)
	}
}

// DurableHead returns the last seq written and fsynced and its hash. troupe's store records it
// with its own writes, as the anchor `troupe audit verify` checks the log against.
func (l *Log) DurableHead() (seq uint64, hash string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.durable, l.durableH
}

// Dir returns the audit directory.
func (l *Log) Dir() string { return l.dir }

// Append records e and returns it as written, once it is durable (written and fsynced). The
// writer fills in Seq, Time, Prev and Hash and stores Details normalized and redacted (see
// normalizeDetails). Appends from many goroutines share fsyncs. ctx is checked before e is
// queued; once queued, Append waits for the fsync whatever ctx does, so that its answer is
// never ambiguous. After a failed write Append refuses every event with ErrUnavailable.
func (l *Log) Append(ctx context.Context, e Event) (Event, error) {
	if err := ctx.Err(); err != nil {
		return Event{}, fmt.Errorf("audit: event %s not recorded: %w", e.Action, err)
	}
	return l.add(e, true)
}

// Record queues e and returns without waiting for the fsync: the event is written with the next
// Append's batch, or on its own within RecordDelay. It is for events nothing waits on (read-only
// tool calls, the "completed" half of a call, internal events): a crash may lose the last
// RecordDelay of them. A write failure still closes the log for everything after. It returns
// the error that kept e from being queued, if any.
func (l *Log) Record(e Event) error {
	_, err := l.add(e, false)
	return err
}

// add encodes e into the pending batch; with wait it returns once e is durable, otherwise it
// makes sure a flush will run.
func (l *Log) add(e Event, wait bool) (Event, error) {
	if err := validate(&e); err != nil {
		return Event{}, err
	}
	if !wait {
		// Nothing waits on a recorded event: it is only copied here, and redacted, encoded and
		// chained by whoever writes the batch (encodeQueuedLocked), off the caller's path.
		if details, ok := deferrableCopy(e.Details); ok {
			e.Details = details
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.err != nil {
				return Event{}, l.err
			}
			e.Time = l.now().UTC()
			l.queued = append(l.queued, e)
			l.armFlushLocked()
			return e, nil
		}
	}
	details, raw, err := l.red.normalizeDetails(e.Details)
	if err != nil {
		return Event{}, err
	}
	e.Details = details

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return Event{}, l.err
	}
	l.encodeQueuedLocked()
	e.Seq, e.Time, e.Prev = l.seq+1, l.now().UTC(), l.prev
	buf, h, err := l.enc.appendLine(l.pending, &e, raw)
	if err != nil {
		return Event{}, err
	}
	e.Hash = h
	l.pending, l.ends = buf, append(l.ends, len(buf))
	l.seq, l.prev = e.Seq, h
	if !wait {
		l.armFlushLocked()
		return e, nil
	}
	for l.durable < e.Seq {
		switch {
		case l.err != nil:
			return Event{}, l.err
		case l.flushing:
			l.cond.Wait()
		default:
			l.flushLocked()
		}
	}
	return e, nil
}

// armFlushLocked makes sure a flush will run: it waits a little for an Append to share the
// fsync with (the "requested" event of the next call, typically), then writes on its own.
func (l *Log) armFlushLocked() {
	if !l.asyncFlush {
		l.asyncFlush = true
		l.flushers.Add(1)
		l.flushTimer = time.AfterFunc(l.recordDelay, l.flushQueued)
	}
}

// encodeQueuedLocked redacts, encodes and chains the recorded events, in the order they were
// recorded, into the pending batch. mu is held. An event that cannot be encoded (deferrableCopy
// keeps out what could fail) is logged and left out; the chain goes on without a gap.
func (l *Log) encodeQueuedLocked() {
	for i := range l.queued {
		e := &l.queued[i]
		var raw []byte
		var err error
		if e.Details != nil {
			l.red.walk(e.Details, redactNone)
			raw, err = encodeDetails(e.Details)
		}
		var buf []byte
		var h string
		if err == nil {
			e.Seq, e.Prev = l.seq+1, l.prev
			buf, h, err = l.enc.appendLine(l.pending, e, raw)
		}
		if err != nil {
			l.log.Error().Err(err).Str("action", e.Action).Msg("audit: a recorded event could not be encoded; left out")
			continue
		}
		l.pending, l.ends = buf, append(l.ends, len(buf))
		l.seq, l.prev = e.Seq, h
	}
	clear(l.queued)
	l.queued = l.queued[:0]
}

// flushQueued makes every queued event durable; Record starts it.
func (l *Log) flushQueued() {
	defer l.flushers.Done()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.asyncFlush = false
	for (l.durable < l.seq || len(l.queued) > 0) && l.err == nil {
		if l.flushing {
			l.cond.Wait()
			continue
		}
		l.flushLocked()
	}
}

// flushLocked writes and fsyncs every pending line. mu is held on entry and on return, and
// released during the I/O; flushing keeps a second goroutine out meanwhile.
func (l *Log) flushLocked() {
	l.encodeQueuedLocked()
	buf, ends := l.pending, l.ends
	last := headState{Seq: l.seq, Hash: l.prev}
	l.pending, l.ends = l.spare[:0], l.spareEnds[:0]
	l.spare, l.spareEnds = nil, nil
	l.flushing = true
	l.mu.Unlock()

	werr := l.seg.writeBatch(buf, ends)
	var herr error
	if werr == nil {
		herr = l.head.write(last, false)
	}

	l.mu.Lock()
	l.flushing = false
	if cap(buf) <= maxSpare {
		l.spare, l.spareEnds = buf[:0], ends[:0]
	}
	if werr == nil {
		l.durable, l.durableH = last.Seq, last.Hash // durable even if the head could not be rewritten
	}
	if err := errors.Join(werr, herr); err != nil {
		l.failLocked(err)
	}
	l.cond.Broadcast()
}

// failLocked makes the log refuse every further event.
func (l *Log) failLocked(cause error) {
	if l.err != nil {
		return
	}
	l.err = fmt.Errorf("%w (%v): troupe refuses changes it cannot record; fix the disk or the "+
		"permissions of %s and restart troupe", ErrUnavailable, cause, l.dir)
	l.log.Error().Err(cause).Str("dir", l.dir).Msg("audit log failed; refusing further events")
}

// Close records audit.close, writes every pending event and closes the files. Appends after
// Close return ErrClosed. Close may be called more than once.
func (l *Log) Close() error {
	l.closeOnce.Do(func() { l.closeErr = l.close() })
	return l.closeErr
}

func (l *Log) close() error {
	l.mu.Lock()
	failed := l.err != nil
	l.mu.Unlock()
	var err error
	if !failed {
		_, err = l.Append(context.Background(), Event{Action: ActionClose, Outcome: OutcomeOK})
	}

	l.mu.Lock()
	for l.flushing || ((len(l.ends) > 0 || len(l.queued) > 0) && l.err == nil) {
		if l.flushing {
			l.cond.Wait()
		} else {
			l.flushLocked()
		}
	}
	if l.err == nil {
		l.err = ErrClosed
		err = errors.Join(err, l.head.write(headState{Seq: l.durable, Hash: l.prev}, true))
	}
	if l.asyncFlush && l.flushTimer.Stop() {
		l.asyncFlush = false
		l.flushers.Done() // the timer will not run: everything was written above
	}
	l.cond.Broadcast()
	l.mu.Unlock()
	l.flushers.Wait()
	return errors.Join(err, l.release())
}

// release closes the files and the lock.
func (l *Log) release() error {
	err := l.seg.close()
	if l.head != nil {
		err = errors.Join(err, l.head.close())
	}
	if l.lock != nil {
		err = errors.Join(err, l.lock.Close())
	}
	return err
}
