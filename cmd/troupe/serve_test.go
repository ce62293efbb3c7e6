package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/troupe-dev/troupe/internal/config"
	"github.com/troupe-dev/troupe/internal/testutil"
)

// TestServeStdioShutsDownInOrderOnEOF serves in-process: every request written before EOF is
// answered, serveStdio returns, the store and the audit log are closed (a second server opens
// the same data dir at once), and no goroutine is left behind.
func TestServeStdioShutsDownInOrderOnEOF(t *testing.T) {
	defer goleak.VerifyNone(t, append(testutil.LeakOptions(), goleak.IgnoreCurrent())...)
	dir := t.TempDir()
	cfg, err := config.Load(config.LoadOptions{DataDir: dir, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	cfg.LogLevel = "error"
	requests := []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
	}
	for i := range 8 {
		requests = append(requests, `{"jsonrpc":"2.0","id":`+strconv.Itoa(10+i)+`,"method":"tools/call","params":{"name":"create_session","arguments":{"session_id":"s`+strconv.Itoa(i)+`"}}}`)
	}
	for run := range 2 {
		in := strings.NewReader(strings.Join(requests, "\n") + "\n")
		out, w := io.Pipe()
		answers := make(chan map[float64]bool, 1)
		go func() {
			got := map[float64]bool{}
			sc := bufio.NewScanner(out)
			sc.Buffer(make([]byte, 1<<20), 1<<22)
			for sc.Scan() {
				var m struct {
					ID     any             `json:"id"`
					Result json.RawMessage `json:"result"`
				}
				if json.Unmarshal(sc.Bytes(), &m) == nil && m.ID != nil {
					got[m.ID.(float64)] = true
				}
			}
			answers <- got
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		err := serveStdio(ctx, cfg, in, w, io.Discard)
		cancel()
		w.Close()
		if err != nil {
			t.Fatalf("run %d: serveStdio: %v", run, err)
		}
		got := <-answers
		if len(got) != 9 {
			t.Fatalf("run %d: %d answers, want 9 (initialize and 8 calls, all before EOF): %v", run, len(got), got)
		}
	}
}
