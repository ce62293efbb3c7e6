package tools

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/actors"
	"github.com/troupe-dev/troupe/audit"
	"github.com/troupe-dev/troupe/internal/store"
)

// BenchmarkGetSessionCall is the per-call cost of a tools/call get_session inside the server,
// as the stdio transport drives it: the request's bytes through MCPServer.HandleMessage (the
// middlewares, the handler, the actor round trip) to the answer's bytes, audited on a durable
// store. Run it with -cpuprofile to see where a call's time goes.
func BenchmarkGetSessionCall(b *testing.B) {
	dir := b.TempDir()
	st, err := store.Open(filepath.Join(dir, "troupe.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	l, err := audit.Open(dir, audit.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	sys, err := actors.Start(actors.Options{Store: st, Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sys.Shutdown(context.Background()) })
	srv := NewServer(Deps{Actors: sys, Timeout: 10 * time.Second, Logger: zerolog.Nop(), Transport: "stdio", Audit: l}, "bench")
	ctx := context.Background()
	handle := func(msg string) []byte {
		out, err := json.Marshal(srv.HandleMessage(ctx, json.RawMessage(msg)))
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	handle(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}`)
	handle(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"create_session","arguments":{"session_id":"bench"}}}`)
	get := `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_session","arguments":{"session_id":"bench"}}}`
	if out := handle(get); len(out) == 0 || json.Valid(out) == false {
		b.Fatalf("get_session: %s", out)
	}
	b.ReportAllocs()
	for b.Loop() {
		handle(get)
	}
}
