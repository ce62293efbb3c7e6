package bridge

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/internal/mcpx"
)

func TestReadSSE(t *testing.T) {
	stream := ": comment\nevent: message\nid: 1\ndata: {\"a\":1}\n\ndata: {\"b\":\ndata: 2}\r\n\r\ndata: {\"c\":3}"
	var got []string
	if err := readSSE(strings.NewReader(stream), func(d []byte) { got = append(got, string(d)) }); err != nil {
		t.Fatal(err)
	}
	want := []string{`{"a":1}`, "{\"b\":\n2}", `{"c":3}`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("events %q, want %q", got, want)
	}
}

// A call's answer is written at least MinGap after its last progress notification, and each
// message is one compact line.
func TestAnswerFollowsProgressByTheGap(t *testing.T) {
	var out bytes.Buffer
	b := &bridge{o: Options{Logger: zerolog.Nop()}, out: &lineWriter{w: &out}, progress: map[string]time.Time{}}
	var env envelope
	if err := json.Unmarshal([]byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"_meta":{"progressToken":"t1"}}}`), &env); err != nil {
		t.Fatal(err)
	}
	if b.relayMessage(env, []byte(`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t1","progress":1,"total":3}}`)) {
		t.Fatal("a notification taken for the answer")
	}
	start := time.Now()
	if !b.relayMessage(env, []byte("{\"jsonrpc\":\"2.0\",\n \"id\":7,\"result\":{}}")) {
		t.Fatal("the answer not recognised")
	}
	if gap := time.Since(start); gap < mcpx.MinGap-time.Millisecond {
		t.Fatalf("answer written %v after the progress, want ≥ %v", gap, mcpx.MinGap)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "notifications/progress") || lines[1] != `{"jsonrpc":"2.0","id":7,"result":{}}` {
		t.Fatalf("stdout %q", out.String())
	}
}

// A bad line is answered with a parse error on stdout, and the bridge goes on.
func TestParseErrorIsAnswered(t *testing.T) {
	var out bytes.Buffer
	b := &bridge{o: Options{Logger: zerolog.Nop()}, out: &lineWriter{w: &out}, progress: map[string]time.Time{}}
	b.handle(t.Context(), []byte("not json"))
	var m struct {
		Error struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(out.Bytes(), &m); err != nil || m.Error.Code != -32700 {
		t.Fatalf("answer %q", out.String())
	}
}
