package tools

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/actors"
	"github.com/troupe-dev/troupe/internal/config"
	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/store"
)

// argvClient starts real processes with a preset per way of passing the message: "stub" prints
// its arguments one per line and is found on PATH.
func argvClient(t *testing.T) *client.Client {
	t.Helper()
	bin := t.TempDir()
	stub := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n"
	if err := os.WriteFile(filepath.Join(bin, "stub"), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	sys, err := actors.Start(actors.Options{Store: store.NewMemory(), Logger: zerolog.Nop(), Processes: process.Real(), DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	presets := map[string]config.Preset{
		"bare":   {Command: "stub", Args: []string{"-p", "{message}"}, Mode: "per-message", Restart: "never"},
		"dashed": {Command: "stub", Args: []string{"-p", "--", "{message}"}, Mode: "per-message", Restart: "never"},
		"stdin":  {Command: "stub", Args: []string{"-p"}, Mode: "per-message", Restart: "never"},
	}
	c := connect(t, NewServer(Deps{Actors: sys, Timeout: 10 * time.Second, Logger: zerolog.Nop(), Presets: presets}, "test"), "argv-test")
	t.Cleanup(func() { _ = sys.Shutdown(context.Background()) })
	return c
}

// A message a per-message agent would read as an option, or that holds a NUL no argument can
// carry, is refused when sent, before anything is queued or run (issue 11: a NUL answered OK
// with "the process did not start"; "--dangerously-skip-permissions" became an option). A
// preset with "--" before {message} passes it as a plain argument.
func TestPerMessageAgentRefusesOptionsAndNUL(t *testing.T) {
	c := argvClient(t)
	mustOK(t, call(t, c, "create_session", `{"session_id":"m"}`))
	for _, p := range []string{"bare", "dashed", "stdin"} {
		mustOK(t, call(t, c, "create_agent", `{"session_id":"m","name":"`+p+`","preset":"`+p+`"}`))
	}
	for _, tc := range []struct{ agent, message, want string }{
		{"m/bare", "--dangerously-skip-permissions", `starts with "-"`},
		{"m/bare", "-x", `put "--" before {message}`},
		{"m/bare", "hello\u0000world", "NUL"},
		{"m/dashed", "a\u0000b", "NUL"},
	} {
		r := call(t, c, "send_to_agent", `{"agent_id":"`+tc.agent+`","message":`+jsonString(tc.message)+`,"wait_seconds":5}`)
		mustFail(t, r, "cannot take this message", tc.want)
		if code := object(t, r)["error"].(map[string]any)["code"]; code != "invalid_argument" {
			t.Errorf("%s %q: code %v, want invalid_argument", tc.agent, tc.message, code)
		}
	}
	out := mustOK(t, call(t, c, "read_agent_output", `{"agent_id":"m/bare"}`))
	if chunks, _ := out["chunks"].([]any); len(chunks) != 0 {
		t.Fatalf("a refused message ran: output %v", out)
	}
	for _, tc := range []struct{ agent, message, want string }{
		{"m/dashed", "--dangerously-skip-permissions", "-p\n--\n--dangerously-skip-permissions\n"},
		{"m/bare", "plain words", "-p\nplain words\n"},
		{"m/stdin", "-x\u0000y", "-p\n"}, // on stdin, a NUL and a leading "-" are just bytes
	} {
		r := mustOK(t, call(t, c, "send_to_agent", `{"agent_id":"`+tc.agent+`","message":`+jsonString(tc.message)+`,"wait_seconds":10}`))
		if got := chunksText(r["output"]); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s %q: output %q, want it to start with %q", tc.agent, tc.message, got, tc.want)
		}
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// chunksText joins the text of an answer's output chunks.
func chunksText(output any) string {
	var b strings.Builder
	o, _ := output.(map[string]any)
	chunks, _ := o["chunks"].([]any)
	for _, c := range chunks {
		text, _ := c.(map[string]any)["text"].(string)
		b.WriteString(text)
	}
	return b.String()
}
