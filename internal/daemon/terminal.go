package daemon

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/troupe-dev/troupe/messages"
)

// A person attached to a terminal agent (`troupe attach`, DESIGN §13), over the unix socket only.
//
// The client asks GET TerminalPath?agent=ID&rows=R&cols=C with "Connection: Upgrade" and
// "Upgrade: troupe-attach". A refusal is an HTTP status with a JSON body {"error", "code"}. On
// 101 the connection carries, from the daemon, the terminal's output as it is (first a repaint of
// the screen); from the client, frames: one type byte, then
//   - 'd', a uint32 big-endian length and that many bytes typed;
//   - 'r', uint16 big-endian rows and columns: the person's window was resized.
// Either side closing ends the attachment; the agent runs on.

// TerminalPath is the attach endpoint.
const TerminalPath = "/daemon/terminal"

// terminalUpgrade is the protocol named in the Upgrade header.
const terminalUpgrade = "troupe-attach"

// Frame types from the client.
const (
	frameData   = 'd'
	frameResize = 'r'
)

// maxFrame bounds one data frame.
const maxFrame = 1 << 20

// AttachFunc gives a person a hold on a terminal agent.
type AttachFunc func(ctx context.Context, req *messages.AttachAgent) (messages.Attachment, *messages.Error)

func (d *server) serveTerminal(w http.ResponseWriter, r *http.Request) {
	refuse := func(status int, e *messages.Error) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": e.Message, "code": e.Code})
	}
	switch {
	case d.o.Attach == nil:
		refuse(http.StatusNotFound, messages.Errorf(messages.CodeUnavailable, "this daemon cannot attach to terminals"))
		return
	case d.draining.Load():
		refuse(http.StatusServiceUnavailable, messages.Errorf(messages.CodeUnavailable, "%s", stoppingMessage))
		return
	case !strings.EqualFold(r.Header.Get("Upgrade"), terminalUpgrade):
		refuse(http.StatusBadRequest, messages.Errorf(messages.CodeInvalidArgument, "attach with `troupe attach AGENT_ID` (the request must upgrade to %s)", terminalUpgrade))
		return
	}
	q := r.URL.Query()
	rows, _ := strconv.Atoi(q.Get("rows"))
	cols, _ := strconv.Atoi(q.Get("cols"))
	// Counted from before the ask, so that Serve does not return while an attachment it could
	// not see yet is still to be closed (its caller closes the actors next).
	d.terminals.Add(1)
	defer d.terminals.Add(-1)
	// A stop ends the ask too: the drain does not wait a call timeout for an agent to answer.
	ask, cancelAsk := context.WithCancel(r.Context())
	defer cancelAsk()
	stopAsk := context.AfterFunc(d.streams, cancelAsk)
	att, e := d.o.Attach(ask, &messages.AttachAgent{AgentID: q.Get("agent"), Rows: rows, Cols: cols})
	stopAsk()
	if e == nil && d.draining.Load() {
		att.Close()
		att, e = nil, messages.Errorf(messages.CodeUnavailable, "%s", stoppingMessage)
	}
	if e != nil {
		refuse(httpStatus(e.Code), e)
		return
	}
	defer att.Close()
	hj, ok := w.(http.Hijacker)
	if !ok {
		refuse(http.StatusInternalServerError, messages.Errorf(messages.CodeInternal, "this connection cannot be taken over"))
		return
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	done := d.clients.enter(r) // a person attached is a client: the daemon does not exit idle
	defer done()
	// The daemon stopping closes the connection (also while a write to a person who does not
	// read blocks): the frames end, the attachment closes. Registered before the first write.
	stopAfter := context.AfterFunc(d.streams, func() { conn.Close() })
	defer stopAfter()
	if _, err := io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: "+terminalUpgrade+"\r\nConnection: Upgrade\r\n\r\n"); err != nil {
		return
	}
	if _, err := conn.Write(att.Repaint()); err != nil {
		return
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer att.Close() // the client went: detach, which ends Output and the copy below
		readFrames(brw.Reader, att)
	}()
	for b := range att.Output() {
		if _, err := conn.Write(b); err != nil {
			break
		}
	}
	conn.Close()
	wg.Wait()
}

// readFrames hands the client's frames to att until the connection or a frame ends badly.
func readFrames(r *bufio.Reader, att messages.Attachment) {
	for {
		kind, err := r.ReadByte()
		if err != nil {
			return
		}
		switch kind {
		case frameData:
			var n uint32
			if binary.Read(r, binary.BigEndian, &n) != nil || n > maxFrame {
				return
			}
			buf := make([]byte, n)
			if _, err := io.ReadFull(r, buf); err != nil || att.Write(buf) != nil {
				return
			}
		case frameResize:
			var size [2]uint16
			if binary.Read(r, binary.BigEndian, &size) != nil {
				return
			}
			_ = att.Resize(int(size[0]), int(size[1])) // an impossible size is ignored
		default:
			return
		}
	}
}

// httpStatus is the HTTP status of a refusal.
func httpStatus(c messages.Code) int {
	switch c {
	case messages.CodeNotFound:
		return http.StatusNotFound
	case messages.CodeInvalidArgument:
		return http.StatusBadRequest
	case messages.CodePermissionDenied:
		return http.StatusForbidden
	case messages.CodeUnavailable, messages.CodeDeleting, messages.CodeBusy:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// Terminal is a client's side of an attachment: Read gives the terminal's output, Type and
// Resize send frames, Close detaches.
type Terminal struct {
	rwc io.ReadWriteCloser
	mu  sync.Mutex
}

// ErrRefused wraps the daemon's refusal of an attach (its message says what to do).
var ErrRefused = errors.New("the daemon refused to attach")

// DialTerminal attaches to a terminal agent through the data dir's daemon with the person's
// window size.
func DialTerminal(ctx context.Context, dataDir, agentID string, rows, cols int) (*Terminal, error) {
	q := url.Values{"agent": {agentID}, "rows": {strconv.Itoa(rows)}, "cols": {strconv.Itoa(cols)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, BaseURL+TerminalPath+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", terminalUpgrade)
	resp, err := HTTPClient(dataDir).Do(req)
	if err != nil {
		if IsNotRunning(err) {
			return nil, ErrNotRunning
		}
		return nil, fmt.Errorf("attach to %s: %w", agentID, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer resp.Body.Close()
		var body struct {
			Error string `json:"error"`
		}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(raw, &body) != nil || body.Error == "" {
			body.Error = fmt.Sprintf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(raw)))
		}
		return nil, fmt.Errorf("%w: %s", ErrRefused, body.Error)
	}
	rwc, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		resp.Body.Close()
		return nil, fmt.Errorf("attach to %s: the daemon's answer cannot carry a terminal", agentID)
	}
	return &Terminal{rwc: rwc}, nil
}

// Read reads the terminal's output.
func (t *Terminal) Read(p []byte) (int, error) { return t.rwc.Read(p) }

// Type sends keystrokes.
func (t *Terminal) Type(p []byte) error {
	for len(p) > 0 {
		n := min(len(p), maxFrame)
		frame := make([]byte, 5, 5+n)
		frame[0] = frameData
		binary.BigEndian.PutUint32(frame[1:], uint32(n))
		if err := t.write(append(frame, p[:n]...)); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// Resize tells the daemon the person's window size.
func (t *Terminal) Resize(rows, cols int) error {
	frame := []byte{frameResize, 0, 0, 0, 0}
	binary.BigEndian.PutUint16(frame[1:], uint16(rows))
	binary.BigEndian.PutUint16(frame[3:], uint16(cols))
	return t.write(frame)
}

func (t *Terminal) write(b []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, err := t.rwc.Write(b)
	return err
}

// Close detaches.
func (t *Terminal) Close() error { return t.rwc.Close() }
