//go:build linux

package bridge

import (
	"os"
	"testing"
	"time"
)

// TestWaitReadWaitsForTheClient: an answer after a progress notification waits until the client
// read the notification out of the pipe (the TypeScript SDK mishandles both in one read).
func TestWaitReadWaitsForTheClient(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	lw := &lineWriter{w: w}
	lw.write([]byte(`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}`))
	if n, ok := unread(w); !ok || n == 0 {
		t.Fatalf("unread = %d %v, want the line's bytes", n, ok)
	}
	read := make(chan time.Time, 1)
	go func() {
		time.Sleep(200 * time.Millisecond)
		buf := make([]byte, 4096)
		_, _ = r.Read(buf)
		read <- time.Now()
	}()
	lw.waitRead(10 * time.Second)
	done := time.Now()
	at := <-read
	if done.Before(at.Add(-50 * time.Millisecond)) {
		t.Fatalf("waitRead returned %v before the client read", at.Sub(done))
	}
	if n, _ := unread(w); n != 0 {
		t.Fatalf("unread after the read = %d", n)
	}
	// Not a pipe: nothing to wait for.
	(&lineWriter{w: &nopWriter{}}).waitRead(time.Hour)
}

type nopWriter struct{}

func (*nopWriter) Write(p []byte) (int, error) { return len(p), nil }
