package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/actors"
	"github.com/troupe-dev/troupe/internal/config"
	"github.com/troupe-dev/troupe/internal/store"
)

// fuzzRebuildEvery bounds the sessions fuzz inputs leave behind: the actor tree is rebuilt on a
// fresh store after this many inputs.
const fuzzRebuildEvery = 2000

// fuzzCallTimeout is generous: nothing here waits on a process or a browser, so a call that
// runs into it means an actor never answered.
const fuzzCallTimeout = 30 * time.Second

// fuzzServer is one actor tree and MCP server shared by every input of a fuzz target; inputs are
// sent to it as raw JSON-RPC messages (srv.HandleMessage), as a client's would arrive.
type fuzzServer struct {
	sys     *actors.System
	srv     *server.MCPServer
	tools   []Tool
	schemas map[string]map[string]any // tool name → input schema, as tools/list shows it
	inputs  int
	calls   int
}

func newFuzzServer(f *testing.F) *fuzzServer {
	fs := &fuzzServer{}
	fs.start(f)
	f.Cleanup(fs.stop)
	return fs
}

func (fs *fuzzServer) start(tb testing.TB) {
	sys, err := actors.Start(actors.Options{Store: store.NewMemory(), Logger: zerolog.Nop(),
		MaxSessions: 1 << 20, MaxChildren: 1 << 10, MaxStateBytes: 1 << 16})
	if err != nil {
		tb.Fatal(err)
	}
	// No process or browser driver: agent and page tools check their arguments, then answer
	// that agents or pages are not available, a tool error like any other.
	deps := Deps{Actors: sys, Timeout: fuzzCallTimeout, Logger: zerolog.Nop(), Presets: config.BuiltinPresets(), MaxMessageBytes: 1 << 16}
	fs.sys, fs.srv, fs.tools = sys, NewServer(deps, "fuzz"), All(deps)
	fs.schemas = make(map[string]map[string]any, len(fs.tools))
	for _, t := range fs.tools {
		data, err := json.Marshal(t.Tool)
		if err != nil {
			tb.Fatal(err)
		}
		var decl struct {
			InputSchema map[string]any `json:"inputSchema"`
		}
		if err := json.Unmarshal(data, &decl); err != nil {
			tb.Fatal(err)
		}
		fs.schemas[t.Tool.Name] = decl.InputSchema
	}
}

// next starts an input, on a fresh actor tree every fuzzRebuildEvery inputs.
func (fs *fuzzServer) next(t *testing.T) {
	if fs.inputs++; fs.inputs%fuzzRebuildEvery == 0 {
		fs.stop()
		fs.start(t)
	}
}

func (fs *fuzzServer) stop() {
	if fs.sys != nil {
		_ = fs.sys.Shutdown(context.Background())
		fs.sys = nil
	}
}

// pick returns the tool named name, or for any other string the tool at a stable index derived
// from it, so that seeds stay readable and every input reaches some tool as the list grows.
func (fs *fuzzServer) pick(name string) string {
	for _, t := range fs.tools {
		if t.Tool.Name == name {
			return name
		}
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return fs.tools[int(h.Sum32()%uint32(len(fs.tools)))].Tool.Name
}

// rpcResponse is a JSON-RPC response as a client reads it.
type rpcResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// toolResult is a tools/call result as a client reads it.
type toolResult struct {
	IsError bool `json:"isError"`
	Content []struct {
		Text string `json:"text"`
	} `json:"content"`
	StructuredContent json.RawMessage `json:"structuredContent"`
}

func (r toolResult) text() string {
	var b strings.Builder
	for _, c := range r.Content {
		b.WriteString(c.Text)
	}
	return b.String()
}

// call sends a tools/call message whose "arguments" value is args verbatim (args must be valid
// JSON) and checks that the answer is a well-formed JSON-RPC response to it.
func (fs *fuzzServer) call(t *testing.T, tool string, args []byte) (rpcResponse, *toolResult) {
	t.Helper()
	fs.calls++
	name, _ := json.Marshal(tool)
	id := fs.calls
	msg := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%s,"arguments":%s}}`, id, name, args)
	raw, err := json.Marshal(fs.srv.HandleMessage(context.Background(), json.RawMessage(msg)))
	if err != nil {
		t.Fatalf("%s(%s): the response does not marshal: %v", tool, args, err)
	}
	var resp rpcResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		t.Fatalf("%s(%s): response %s is not a JSON-RPC response: %v", tool, args, raw, err)
	}
	if resp.JSONRPC != "2.0" || string(resp.ID) != strconv.Itoa(id) || (resp.Error == nil) == (resp.Result == nil) {
		t.Fatalf("%s(%s): response %s: want jsonrpc 2.0, id %d and exactly one of result and error", tool, args, raw, id)
	}
	if resp.Error != nil {
		return resp, nil
	}
	var res toolResult
	if err := json.Unmarshal(resp.Result, &res); err != nil {
		t.Fatalf("%s(%s): result %s is not a tool result: %v", tool, args, resp.Result, err)
	}
	return resp, &res
}

// FuzzToolArguments sends every tool arbitrary arguments: valid JSON as the "arguments" value,
// anything else as a JSON string. Nothing may panic or become an internal error, and arguments
// that are not an object, or that carry an unknown field or a value of the wrong type, must be
// answered with a tool error that says what is wrong — never a success.
func FuzzToolArguments(f *testing.F) {
	fs := newFuzzServer(f)
	for _, t := range fs.tools {
		for _, args := range schemaSeeds(fs.schemas[t.Tool.Name]) {
			f.Add(t.Tool.Name, []byte(args))
		}
	}
	f.Fuzz(func(t *testing.T, name string, args []byte) {
		fs.next(t)
		tool := fs.pick(name)
		sent := args
		if !json.Valid(args) {
			sent, _ = json.Marshal(string(args))
		}
		var v any
		dec := json.NewDecoder(bytes.NewReader(sent))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("test bug: %q does not decode: %v", sent, err)
		}
		var why string
		switch v.(type) {
		case nil: // the same as no arguments
		case map[string]any:
			why = schemaViolation(fs.schemas[tool], v, "arguments", true)
		default:
			why = "the arguments are not an object"
		}
		resp, res := fs.call(t, tool, sent)
		if resp.Error != nil {
			// mcp-go itself refuses arguments it cannot read into Go values (a number beyond
			// float64) as an invalid request; anything else is a fault of ours.
			var probe any
			if resp.Error.Code == -32600 && json.Unmarshal(sent, &probe) != nil {
				return
			}
			t.Fatalf("%s(%s): JSON-RPC error %d %q, want a result (a tool error for a problem the client can fix)", tool, sent, resp.Error.Code, resp.Error.Message)
		}
		if len(res.Content) == 0 {
			t.Fatalf("%s(%s): result without content", tool, sent)
		}
		var answer any
		_ = json.Unmarshal(res.StructuredContent, &answer)
		switch _, isObject := answer.(map[string]any); {
		case res.IsError && strings.TrimSpace(res.text()) == "":
			t.Fatalf("%s(%s): tool error without a message", tool, sent)
		case res.IsError && strings.Contains(res.text(), "no answer within"):
			t.Fatalf("%s(%s): the actors never answered: %s", tool, sent, res.text())
		case why != "" && !res.IsError:
			t.Fatalf("%s(%s): %s, yet the call succeeded: %s", tool, sent, why, res.text())
		case len(res.StructuredContent) > 0 && !isObject:
			t.Fatalf("%s(%s): structured content %s is not an object", tool, sent, res.StructuredContent)
		case !res.IsError && badExpiry(answer) != "":
			t.Fatalf("%s(%s): %s", tool, sent, badExpiry(answer))
		}
	})
}

// badExpiry finds a session in an answer whose expires_at is not after its last_activity (an
// idle timeout that overflowed, say), or returns "".
func badExpiry(v any) string {
	var inner []any
	switch x := v.(type) {
	case map[string]any:
		exp, ok1 := x["expires_at"].(string)
		last, ok2 := x["last_activity"].(string)
		if ok1 && ok2 {
			e, err1 := time.Parse(time.RFC3339Nano, exp)
			l, err2 := time.Parse(time.RFC3339Nano, last)
			if err1 != nil || err2 != nil || !e.After(l) {
				return fmt.Sprintf("session %v: expires_at %s is not after last_activity %s", x["session_id"], exp, last)
			}
		}
		for _, val := range x {
			inner = append(inner, val)
		}
	case []any:
		inner = x
	}
	for _, val := range inner {
		if why := badExpiry(val); why != "" {
			return why
		}
	}
	return ""
}

// schemaSeeds returns arguments for one tool derived from its input schema: a guess at valid
// ones (required strings filled in) and invalid ones of every kind the fuzz target judges.
func schemaSeeds(schema map[string]any) []string {
	props, _ := schema["properties"].(map[string]any)
	req, _ := schema["required"].([]any)
	valid := map[string]any{}
	for _, r := range req {
		valid[r.(string)] = "fuzz-1"
	}
	validJSON, _ := json.Marshal(valid)
	seeds := []string{string(validJSON), `{}`, `null`, `[]`, `"text"`, `42`, `true`, `{"no_such_argument":1}`, `{`, ``}
	for name, p := range props {
		wrong := `"not the right type"`
		if ps, _ := p.(map[string]any); ps["type"] == "string" {
			wrong = `12345`
		}
		seeds = append(seeds, fmt.Sprintf(`{%q:%s}`, name, wrong), fmt.Sprintf(`{%q:null}`, name))
	}
	return seeds
}

// schemaViolation says how v certainly breaks the schema, or returns "": a value of the wrong
// JSON type, or a property the schema does not declare where it allows none (at the top level
// always: the server refuses unknown arguments). null is not judged (handlers read it as absent),
// nor are enums, bounds or required properties: handlers check those themselves, with their own
// messages, and a lenient answer there is not what this target looks for.
func schemaViolation(schema map[string]any, v any, path string, top bool) string {
	if v == nil {
		return ""
	}
	if typ, ok := schema["type"]; ok && !typeMatches(typ, v) {
		return fmt.Sprintf("%s is not of type %v", path, typ)
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		for k, val := range x {
			sub, declared := props[k].(map[string]any)
			if !declared {
				switch ap := schema["additionalProperties"].(type) {
				case map[string]any:
					sub, declared = ap, true
				case bool:
					if !ap {
						return fmt.Sprintf("%s has an unknown field %q", path, k)
					}
					continue
				default:
					if top {
						return fmt.Sprintf("%s has an unknown field %q", path, k)
					}
					continue
				}
			}
			if why := schemaViolation(sub, val, path+"."+k, false); why != "" {
				return why
			}
		}
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, val := range x {
				if why := schemaViolation(items, val, fmt.Sprintf("%s[%d]", path, i), false); why != "" {
					return why
				}
			}
		}
	}
	return ""
}

// typeMatches reports whether v may be of the JSON Schema type typ (a name or a list of names).
// An integer written as 1.0 or 1e3 is given the benefit of the doubt.
func typeMatches(typ any, v any) bool {
	if list, ok := typ.([]any); ok {
		for _, t := range list {
			if typeMatches(t, v) {
				return true
			}
		}
		return false
	}
	switch typ {
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		f, _, err := big.ParseFloat(string(n), 10, 256, big.ToNearestEven)
		return err != nil || f.IsInt()
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "null":
		return v == nil
	}
	return true
}
