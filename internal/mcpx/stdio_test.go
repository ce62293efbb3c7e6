package mcpx

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"go.uber.org/goleak"

	"github.com/troupe-dev/troupe/internal/testutil"
)

// stepsServer is an MCP server with one tool, "steps", that reports three progress steps of
// four (the fourth, the final one, is not sent) and then answers, as delete_session does.
func stepsServer(p *Progress, endTimeout time.Duration) *server.MCPServer {
	srv := server.NewMCPServer("t", "1", server.WithToolCapabilities(false))
	srv.AddTool(mcp.NewTool("steps"), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var token any
		if req.Params.Meta != nil {
			token = req.Params.Meta.ProgressToken
		}
		call := p.Begin(ctx, server.ServerFromContext(ctx), token)
		defer call.End(endTimeout)
		for i := 1; i <= 4; i++ {
			p.Report(call.ID(), i, 4, fmt.Sprintf("step %d", i))
		}
		return mcp.NewToolResultText("done"), nil
	})
	return srv
}

// TestStdioAnswersFollowNotificationsAndEOFWaitsForAnswers serves a real mcp-go stdio server
// through Stdio, with more calls than mcp-go's 5 workers and the input closed right after them.
// Each workaround fails it if removed: without the gate the calls still queued at EOF get no
// answer; without Progress's Writer on the output (or if it stopped recognising mcp-go's
// notifications) every call waits out End's timeout; without End's wait an answer can overtake
// its notifications.
func TestStdioAnswersFollowNotificationsAndEOFWaitsForAnswers(t *testing.T) {
	defer goleak.VerifyNone(t, append(testutil.LeakOptions(), goleak.IgnoreCurrent())...)
	const calls = 12
	const endTimeout = 10 * time.Second
	p := NewProgress()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	lines := make(chan string, 1024)
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	start := time.Now()
	served := make(chan error, 1)
	go func() {
		served <- Stdio{In: inR, Out: outW, Drain: time.Minute}.Serve(context.Background(), stepsServer(p, endTimeout), p)
		outW.Close()
	}()
	// As a client does, wait for initialize's answer: mcp-go sends no notification before.
	initialize := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	if _, err := io.WriteString(inW, initialize+"\n"); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-lines; !ok {
		t.Fatal("no answer to initialize")
	}
	requests := []string{`{"jsonrpc":"2.0","method":"notifications/initialized"}`}
	for i := range calls {
		requests = append(requests, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"steps","arguments":{},"_meta":{"progressToken":"t%d"}}}`, 100+i, i))
	}
	// One write, then EOF: the calls are queued behind the workers when the input ends.
	if _, err := io.WriteString(inW, strings.Join(requests, "\n")+"\n"); err != nil {
		t.Fatal(err)
	}
	inW.Close()
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	var got []string
	for line := range lines {
		got = append(got, line)
	}
	if elapsed := time.Since(start); elapsed > endTimeout/2 {
		t.Errorf("served in %v: the calls waited out End's timeout (%v), so their notifications were not seen written", elapsed, endTimeout)
	}

	notes := map[string]int{} // progress notifications by token, before the call's answer
	answered := map[int]bool{1: true}
	for _, line := range got {
		var m struct {
			ID     *int   `json:"id"`
			Method string `json:"method"`
			Params struct {
				ProgressToken string `json:"progressToken"`
				Progress      int    `json:"progress"`
			} `json:"params"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("output line %q: %v", line, err)
		}
		switch {
		case m.Method == "notifications/progress":
			token := m.Params.ProgressToken
			var id int
			fmt.Sscanf(token, "t%d", &id)
			if answered[100+id] {
				t.Errorf("a notification of %s (step %d) came after its call's answer", token, m.Params.Progress)
			}
			if m.Params.Progress == 4 {
				t.Errorf("the final step of %s was sent; the answer carries it", token)
			}
			notes[token]++
		case m.ID != nil:
			answered[*m.ID] = true
		}
	}
	for i := range calls {
		if !answered[100+i] {
			t.Errorf("call %d got no answer (EOF came right after it)", 100+i)
		}
		if n := notes[fmt.Sprintf("t%d", i)]; n != 3 {
			t.Errorf("call %d: %d progress notifications before its answer, want 3", 100+i, n)
		}
	}
}
