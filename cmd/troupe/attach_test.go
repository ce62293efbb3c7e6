package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/troupe-dev/troupe/internal/daemon"
	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/messages"
)

// fakeAttachment is an agent's terminal as the daemon hands it over: it records what is typed
// and the sizes, and shows what the test sends on out.
type fakeAttachment struct {
	mu     sync.Mutex
	typed  []byte
	sizes  [][2]int
	out    chan []byte
	closed chan struct{}
	once   sync.Once
	endOut sync.Once
}

func newFakeAttachment() *fakeAttachment {
	return &fakeAttachment{out: make(chan []byte, 16), closed: make(chan struct{})}
}

func (a *fakeAttachment) Repaint() []byte       { return []byte("SCREEN|") }
func (a *fakeAttachment) Output() <-chan []byte { return a.out }
func (a *fakeAttachment) Write(p []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.typed = append(a.typed, p...)
	return nil
}
func (a *fakeAttachment) Resize(rows, cols int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sizes = append(a.sizes, [2]int{rows, cols})
	return nil
}

// Close ends the output, as the interface says.
func (a *fakeAttachment) Close() {
	a.once.Do(func() { close(a.closed) })
	a.ended()
}

// ended is the agent's process ending: its output closes.
func (a *fakeAttachment) ended() { a.endOut.Do(func() { close(a.out) }) }

func (a *fakeAttachment) typedText() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return string(a.typed)
}

func (a *fakeAttachment) lastSize() [2]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.sizes) == 0 {
		return [2]int{}
	}
	return a.sizes[len(a.sizes)-1]
}

// attachDaemon runs a daemon (no actors) on a fresh data dir that attaches agent "s/a" to att,
// remembering what was asked; the test's end stops it.
func attachDaemon(t *testing.T, att *fakeAttachment, asked chan<- *messages.AttachAgent) string {
	t.Helper()
	dir := testutil.ShortDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- daemon.Serve(ctx, daemon.Options{DataDir: dir, MCP: http.NotFoundHandler(), Logger: zerolog.Nop(),
			Attach: func(_ context.Context, req *messages.AttachAgent) (messages.Attachment, *messages.Error) {
				if req.AgentID != "s/a" {
					return nil, messages.Errorf(messages.CodeNotFound, "session \"s\" has no child %q", req.AgentID)
				}
				asked <- req
				return att, nil
			}})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	})
	eventually(t, 5*time.Second, "the daemon answers", func() bool {
		_, err := daemon.GetStatus(context.Background(), daemon.HTTPClient(dir))
		return err == nil
	})
	return dir
}

// personsPTY is a person's terminal of rows×cols: attach runs on tty, the test types on ptmx and
// sees there what attach draws. It also returns tty's mode before attach.
func personsPTY(t *testing.T, rows, cols uint16) (ptmx, tty *os.File, seen *testutil.LockedBuffer, before *term.State) {
	t.Helper()
	blocking, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	if err := pty.Setsize(blocking, &pty.Winsize{Rows: rows, Cols: cols}); err != nil {
		t.Fatal(err)
	}
	// creack/pty's master is in blocking mode (Fd), where Close does not end a read: the reader
	// below and attach's would outlive the test (goleak in this package's other tests). A
	// non-blocking duplicate is served by the poller: closing it ends the reader, and the hang-up
	// ends attach's read of tty.
	fd, err := unix.FcntlInt(blocking.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	blocking.Close()
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		t.Fatal(err)
	}
	ptmx = os.NewFile(uintptr(fd), "/dev/ptmx")
	if before, err = term.GetState(int(tty.Fd())); err != nil {
		t.Fatal(err)
	}
	seen = &testutil.LockedBuffer{}
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(seen, ptmx); close(copied) }()
	t.Cleanup(func() {
		ptmx.Close()
		<-copied
		tty.Close()
	})
	return ptmx, tty, seen, before
}

// runAttach runs the command's side on tty; its error and what it said on stderr come on done.
func runAttach(dir, id string, tty *os.File) (done chan error, errOut *testutil.LockedBuffer) {
	done, errOut = make(chan error, 1), &testutil.LockedBuffer{}
	go func() { done <- attach(context.Background(), dir, id, tty, tty, errOut) }()
	return done, errOut
}

func waitAttach(t *testing.T, done chan error, what string) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: troupe attach returned %v", what, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: troupe attach did not return", what)
	}
}

func checkRestored(t *testing.T, tty *os.File, before *term.State) {
	t.Helper()
	after, err := term.GetState(int(tty.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Errorf("the terminal's mode was not restored:\nbefore %+v\nafter  %+v", before, after)
	}
}

func TestAttachTypesResizesAndDetachesOnCtrlBracket(t *testing.T) {
	att := newFakeAttachment()
	asked := make(chan *messages.AttachAgent, 1)
	dir := attachDaemon(t, att, asked)
	ptmx, tty, seen, before := personsPTY(t, 30, 100)
	done, errOut := runAttach(dir, "s/a", tty)

	if req := <-asked; req.Rows != 30 || req.Cols != 100 {
		t.Errorf("asked for %dx%d, want the window's 30x100", req.Rows, req.Cols)
	}
	eventually(t, 5*time.Second, "the repaint on the person's terminal", func() bool { return strings.Contains(seen.String(), "SCREEN|") })
	att.out <- []byte("from-the-agent")
	eventually(t, 5*time.Second, "the agent's output on the person's terminal", func() bool { return strings.Contains(seen.String(), "from-the-agent") })
	// Raw mode: "\r" reaches the agent as is (a cooked terminal would make it "\n"), and ^C is a key.
	if _, err := ptmx.Write([]byte("ls\r\x03")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the keys on the agent", func() bool { return att.typedText() == "ls\r\x03" })

	// The window is resized; the kernel signals only a terminal's foreground job, so the test
	// sends the SIGWINCH itself.
	if err := pty.Setsize(tty, &pty.Winsize{Rows: 35, Cols: 110}); err != nil { // the slave: ptmx stays non-blocking
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGWINCH); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the new size on the agent", func() bool { return att.lastSize() == [2]int{35, 110} })

	// Ctrl-] detaches and is not typed; what came before it in the same read is.
	if _, err := ptmx.Write([]byte("ab\x1dcd")); err != nil {
		t.Fatal(err)
	}
	waitAttach(t, done, "Ctrl-]")
	// The daemon may read the last frame after attach returned. "ab" and "cd" came in one
	// read, so a forwarded "cd" would be in the same frame and never match.
	eventually(t, 5*time.Second, "the keys before Ctrl-] on the agent, not those after", func() bool { return att.typedText() == "ls\r\x03ab" })
	if want := "detached from s/a; it keeps running (troupe attach s/a to come back)\n"; errOut.String() != want {
		t.Errorf("said %q, want %q", errOut.String(), want)
	}
	checkRestored(t, tty, before)
	select {
	case <-att.closed:
	case <-time.After(5 * time.Second):
		t.Error("the daemon did not close the attachment when the person detached")
	}
	eventually(t, 5*time.Second, "the alternate screen left", func() bool { return strings.Contains(seen.String(), "\x1b[?1049l") })
}

func TestAttachEndsWhenTheAgentsProcessEnds(t *testing.T) {
	att := newFakeAttachment()
	dir := attachDaemon(t, att, make(chan *messages.AttachAgent, 1))
	_, tty, seen, before := personsPTY(t, 24, 80)
	done, errOut := runAttach(dir, "s/a", tty)
	eventually(t, 5*time.Second, "the repaint", func() bool { return strings.Contains(seen.String(), "SCREEN|") })
	att.out <- []byte("bye")
	att.ended()
	waitAttach(t, done, "the end of the agent's output")
	if !strings.Contains(errOut.String(), "s/a's terminal closed: its program ended") {
		t.Errorf("said %q", errOut.String())
	}
	checkRestored(t, tty, before)
	eventually(t, 5*time.Second, "the last output", func() bool { return strings.Contains(seen.String(), "bye") })
}

func TestAttachRefusals(t *testing.T) {
	dir := attachDaemon(t, newFakeAttachment(), make(chan *messages.AttachAgent, 1))
	_, tty, _, before := personsPTY(t, 24, 80)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	for _, tc := range []struct {
		name, dir, id string
		in            *os.File
		want          string
	}{
		{"not a terminal", dir, "s/a", pr, "troupe attach needs a terminal: run it from your own shell"},
		{"unknown agent", dir, "s/none", tty, `session "s" has no child "s/none"`},
		{"no daemon", testutil.ShortDir(t), "s/a", tty, "no troupe daemon is running for"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := attach(context.Background(), tc.dir, tc.id, tc.in, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
	checkRestored(t, tty, before)
}

func TestAttachRestoresTheTerminalOnASignal(t *testing.T) {
	att := newFakeAttachment()
	dir := attachDaemon(t, att, make(chan *messages.AttachAgent, 1))
	_, tty, seen, before := personsPTY(t, 24, 80)
	done, errOut := runAttach(dir, "s/a", tty)
	// The repaint is drawn after attach listens for signals: SIGTERM cannot kill the test.
	eventually(t, 5*time.Second, "the repaint", func() bool { return strings.Contains(seen.String(), "SCREEN|") })
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitAttach(t, done, "SIGTERM")
	checkRestored(t, tty, before)
	if !strings.Contains(errOut.String(), "detached from s/a; it keeps running") {
		t.Errorf("said %q", errOut.String())
	}
	select {
	case <-att.closed:
	case <-time.After(5 * time.Second):
		t.Error("the attachment was not closed")
	}
}
