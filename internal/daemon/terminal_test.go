package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/messages"
)

// echoAttachment sends back what is typed, and records sizes and its closing.
type echoAttachment struct {
	mu     sync.Mutex
	out    chan []byte
	sizes  []string
	closed chan struct{}
	once   sync.Once
}

func newEchoAttachment() *echoAttachment {
	return &echoAttachment{out: make(chan []byte, 16), closed: make(chan struct{})}
}

func (a *echoAttachment) Repaint() []byte       { return []byte("SCREEN|") }
func (a *echoAttachment) Output() <-chan []byte { return a.out }
func (a *echoAttachment) Write(p []byte) error {
	select {
	case a.out <- append([]byte("echo:"), p...):
	case <-a.closed:
		return io.ErrClosedPipe
	}
	return nil
}
func (a *echoAttachment) Resize(rows, cols int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sizes = append(a.sizes, fmt.Sprintf("%03dx%d", rows, cols))
	return nil
}
func (a *echoAttachment) Close() { a.once.Do(func() { close(a.closed); close(a.out) }) }

func TestTerminalAttachCarriesKeysOutputAndResizes(t *testing.T) {
	att := newEchoAttachment()
	var asked *messages.AttachAgent
	d := startTCP(t, Options{Attach: func(_ context.Context, req *messages.AttachAgent) (messages.Attachment, *messages.Error) {
		if req.AgentID != "s/a" {
			return nil, messages.Errorf(messages.CodeNotFound, "session \"s\" has no child %q", req.AgentID)
		}
		asked = req
		return att, nil
	}})
	term, err := DialTerminal(context.Background(), d.dir, "s/a", 30, 100)
	if err != nil {
		t.Fatal(err)
	}
	if asked.Rows != 30 || asked.Cols != 100 {
		t.Errorf("the window size asked for: %+v", asked)
	}
	if err := term.Type([]byte("ls\r")); err != nil {
		t.Fatal(err)
	}
	if err := term.Resize(40, 120); err != nil {
		t.Fatal(err)
	}
	want := "SCREEN|echo:ls\r"
	buf := make([]byte, len(want))
	if _, err := io.ReadFull(term, buf); err != nil || string(buf) != want {
		t.Fatalf("read %q, %v; want %q", buf, err, want)
	}
	testutil.Eventually(t, 5*time.Second, "the resize", func() bool {
		att.mu.Lock()
		defer att.mu.Unlock()
		return len(att.sizes) == 1 && att.sizes[0] == "040x120"
	})
	// The person detaches: the attachment is closed.
	term.Close()
	select {
	case <-att.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the attachment was not closed when the client went")
	}

	// Refusals come before the upgrade, as JSON the CLI prints.
	if _, err := DialTerminal(context.Background(), d.dir, "s/none", 24, 80); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), `no child "s/none"`) {
		t.Errorf("an unknown agent: %v", err)
	}
	// Not over TCP: the endpoint is the socket's only.
	code, _, _ := call(t, http.DefaultClient, http.MethodGet, d.url+TerminalPath+"?agent=s/a", map[string]string{"Authorization": "Bearer " + d.token(t, "admin", "admin"), "Upgrade": terminalUpgrade, "Connection": "Upgrade"})
	if code != http.StatusNotFound {
		t.Errorf("attach over TCP: HTTP %d, want 404", code)
	}
}

func TestTerminalAttachEndsWhenTheDaemonStops(t *testing.T) {
	att := newEchoAttachment()
	r := startDaemon(t, Options{Attach: func(context.Context, *messages.AttachAgent) (messages.Attachment, *messages.Error) { return att, nil }})
	term, err := DialTerminal(context.Background(), r.dir, "s/a", 24, 80)
	if err != nil {
		t.Fatal(err)
	}
	defer term.Close()
	if err := RequestStop(context.Background(), HTTPClient(r.dir)); err != nil {
		t.Fatal(err)
	}
	if err := r.wait(t, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	// Closed by the time Serve returns: its caller closes the actors next.
	select {
	case <-att.closed:
	default:
		t.Fatal("the daemon stopped without closing the attachment")
	}
	if _, err := io.ReadAll(term); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Logf("the person's side ends with %v", err)
	}
}
