package process

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// The log file holds one record per chunk, readable by eye and exact for any bytes:
//
//	#<seq> <stream> <length> <time RFC 3339>\n<length bytes of data>\n

// maxRecordData refuses absurd lengths in a damaged header instead of allocating them.
const maxRecordData = 1 << 30

// errTorn says that the log ends inside a record: the server died in the middle of a write.
var errTorn = errors.New("the log ends inside a record")

// encodeRecord is the log record of c.
func encodeRecord(c Chunk) []byte {
	b := make([]byte, 0, len(c.Data)+64)
	b = fmt.Appendf(b, "#%d %s %d %s\n", c.Seq, c.Stream, len(c.Data), c.Time.Format(time.RFC3339Nano))
	b = append(b, c.Data...)
	return append(b, '\n')
}

// readRecord reads the next record and its length in bytes. It returns io.EOF at a clean end,
// errTorn (with what there was of the chunk) when the input ends inside a record, and another
// error when the input is not a record.
func readRecord(br *bufio.Reader) (Chunk, int64, error) {
	line, err := br.ReadSlice('\n')
	switch {
	case err == io.EOF && len(line) == 0:
		return Chunk{}, 0, io.EOF
	case err == io.EOF:
		return Chunk{}, 0, errTorn
	case err != nil:
		return Chunk{}, 0, fmt.Errorf("bad record header: %w", err)
	}
	f := strings.Fields(string(line))
	if len(f) != 4 || !strings.HasPrefix(f[0], "#") {
		return Chunk{}, 0, fmt.Errorf("bad record header %.80q", line)
	}
	seq, err1 := strconv.ParseUint(f[0][1:], 10, 64)
	n, err2 := strconv.Atoi(f[2])
	t, err3 := time.Parse(time.RFC3339Nano, f[3])
	if err1 != nil || err2 != nil || err3 != nil || n < 0 || n > maxRecordData {
		return Chunk{}, 0, fmt.Errorf("bad record header %.80q", line)
	}
	c := Chunk{Seq: seq, Stream: f[1], Time: t, Data: make([]byte, n)}
	size := int64(len(line)) + int64(n) + 1
	if got, err := io.ReadFull(br, c.Data); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			c.Data = c.Data[:got]
			return c, 0, errTorn
		}
		return Chunk{}, 0, err
	}
	switch nl, err := br.ReadByte(); {
	case err == io.EOF:
		return c, 0, errTorn
	case err != nil:
		return Chunk{}, 0, err
	case nl != '\n':
		return Chunk{}, 0, fmt.Errorf("record %d does not end with a newline", seq)
	}
	return c, size, nil
}

// readLogFile reads the records of f from byte offset up to byte size and passes those with
// after < seq <= until to yield, oldest first, until yield returns false.
func readLogFile(f *os.File, offset, size int64, after, until uint64, yield func(Chunk) bool) error {
	br := bufio.NewReaderSize(io.NewSectionReader(f, offset, size-offset), 64<<10)
	for {
		c, _, err := readRecord(br)
		if err != nil {
			if err == io.EOF {
				return fmt.Errorf("the log ends before chunk %d", after+1)
			}
			return err
		}
		if c.Seq <= after {
			continue
		}
		if c.Seq > until || !yield(c) {
			return nil
		}
		if c.Seq == until {
			return nil
		}
	}
}

// ReopenOutput opens an existing log after a server restart: its chunks are readable again (the
// newest ones in memory) and new chunks continue its sequence numbers. A log cut off in the middle
// of a record by a crash is repaired: the torn record is replaced by a complete one holding what
// there was of its data. A log damaged before its end is refused with ErrLogDamaged. Without a log
// it is NewOutput.
func ReopenOutput(logPath string, memLimit int) (*Output, error) {
	f, err := os.OpenFile(logPath, os.O_RDWR|os.O_APPEND, 0)
	if errors.Is(err, os.ErrNotExist) {
		return NewOutput(logPath, memLimit)
	}
	if err != nil {
		return nil, fmt.Errorf("reopen output log %s: %w", logPath, err)
	}
	o := newOutput(logPath, memLimit, f)
	o.reopenPrev()
	br := bufio.NewReaderSize(f, 64<<10)
	for {
		c, n, err := readRecord(br)
		if err == io.EOF {
			return o, nil
		}
		if errors.Is(err, errTorn) {
			if err := o.repairTail(c); err != nil {
				return nil, err
			}
			return o, nil
		}
		if err == nil && o.seq == 0 && o.cur.first == 0 && o.prev.first == 0 {
			o.seq, o.dropped = c.Seq-1, c.Seq-1 // the first file was dropped by a bounded log
		}
		if err == nil && c.Seq != o.seq+1 {
			err = fmt.Errorf("chunk %d follows chunk %d", c.Seq, o.seq)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("reopen output log %s at byte %d: %v: %w", logPath, o.cur.size, err, ErrLogDamaged)
		}
		o.seq = c.Seq
		o.noteLogged(c.Seq, n)
		o.remember(c)
	}
}

// repairTail cuts the torn record off the end of the log and appends what there was of its data
// as a complete record.
func (o *Output) repairTail(torn Chunk) error {
	if err := o.file.Truncate(o.cur.size); err != nil {
		o.file.Close()
		return fmt.Errorf("reopen output log %s: cut off its torn last record at byte %d: %w", o.path, o.cur.size, err)
	}
	if len(torn.Data) == 0 {
		return nil
	}
	o.seq++
	torn.Seq = o.seq
	o.log(torn)
	o.remember(torn)
	if o.logErr != nil {
		return fmt.Errorf("reopen output log %s: %w", o.path, o.logErr)
	}
	return nil
}

// reopenPrev indexes the log's previous file (path.1) when there is one; one that cannot be
// read is left out (its chunks read as dropped).
func (o *Output) reopenPrev() {
	f, err := os.Open(o.prevPath())
	if err != nil {
		return
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	var p logPart
	var last uint64
	for {
		c, n, err := readRecord(br)
		if err != nil {
			break
		}
		if p.first != 0 && c.Seq != last+1 {
			return
		}
		p.note(c.Seq, n)
		last = c.Seq
	}
	if p.first > 0 {
		o.prev, o.seq, o.logged, o.dropped = p, last, last, p.first-1
	}
}
