package browser

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// pipeTransport carries CDP over the pipes Chromium opens with --remote-debugging-pipe: it
// reads commands on its fd 3 and writes answers and events on its fd 4, each message one JSON
// text ended by a NUL byte. There is no TCP port, so no page can reach the browser's control
// channel (issue 11 item 1: a page that knew the DevTools port could list and drive every
// session's tabs). It implements cdp.WebSocketable, the transport go-rod's cdp.Client takes
// (lib/cdp/client.go:38 in go-rod v0.116.2).
//
// The transport knows when it has died, whoever ended it: Chromium exiting closes its end of
// the pipes (Read fails), close closes ours (and Chromium exits when it reads EOF).
type pipeTransport struct {
	wmu sync.Mutex
	w   *os.File // our end of Chromium's fd 3
	rf  *os.File // our end of Chromium's fd 4
	r   *bufio.Reader

	once sync.Once
	lost chan struct{}
}

// errPipe marks a message that could not be carried: the browser's pipe is gone.
var errPipe = errors.New("the pipe to chromium is closed")

// maxMessage bounds one CDP message read from Chromium (a full-page screenshot is the largest
// thing it sends): a message past it ends the connection rather than eat the memory.
const maxMessage = 512 << 20

// newPipes makes the two pipes: the files to hand Chromium as its fd 3 and fd 4
// (exec.Cmd.ExtraFiles), which the caller closes once Chromium has started, and our ends.
func newPipes() (child [2]*os.File, t *pipeTransport, err error) {
	inR, inW, err := os.Pipe() // we write commands, Chromium reads them on fd 3
	if err != nil {
		return child, nil, err
	}
	outR, outW, err := os.Pipe() // Chromium writes on fd 4, we read
	if err != nil {
		_ = inR.Close()
		_ = inW.Close()
		return child, nil, err
	}
	t = &pipeTransport{w: inW, rf: outR, r: bufio.NewReaderSize(outR, 64*1024), lost: make(chan struct{})}
	return [2]*os.File{inR, outW}, t, nil
}

// Send implements cdp.WebSocketable. The cdp.Client sends from its callers' goroutines: one
// message is written whole before the next.
func (t *pipeTransport) Send(b []byte) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if t.dead() {
		return errPipe
	}
	msg := make([]byte, len(b)+1)
	copy(msg, b) // the NUL ends the message
	if _, err := t.w.Write(msg); err != nil {
		t.drop()
		return fmt.Errorf("%w: %v", errPipe, err)
	}
	return nil
}

// Read implements cdp.WebSocketable; the cdp.Client reads from one goroutine.
func (t *pipeTransport) Read() ([]byte, error) {
	var msg []byte
	for {
		chunk, err := t.r.ReadSlice(0)
		msg = append(msg, chunk...)
		switch {
		case err == nil:
			return msg[:len(msg)-1], nil
		case errors.Is(err, bufio.ErrBufferFull) && len(msg) < maxMessage:
			continue
		case errors.Is(err, bufio.ErrBufferFull):
			err = fmt.Errorf("a message from chromium is larger than %d bytes", maxMessage)
		case errors.Is(err, io.EOF):
			err = io.EOF
		}
		t.drop()
		return nil, fmt.Errorf("%w: %v", errPipe, err)
	}
}

func (t *pipeTransport) drop() { t.once.Do(func() { close(t.lost) }) }

// close ends the connection: Chromium reads EOF on its fd 3 and exits.
func (t *pipeTransport) close() {
	t.drop()
	// Not under wmu: a Write blocked on a full pipe (a hung browser) would hold it. Closing
	// an os pipe unblocks the Read or Write in progress (they are pollable).
	_ = t.w.Close()
	_ = t.rf.Close()
}

func (t *pipeTransport) dead() bool {
	select {
	case <-t.lost:
		return true
	default:
		return false
	}
}
