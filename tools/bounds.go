package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/troupe-dev/troupe/messages"
)

// bounded checks a call's arguments against the bounds the tool's input schema declares
// (checkBounds) before the handler runs, so that what the schema tells clients is what the
// server holds them to.
func bounded(tool mcp.Tool, next server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		if e := checkBounds(tool.Name, tool.InputSchema.Properties, req); e != nil {
			return toolError(e), nil
		}
		return next(ctx, req)
	}
}

// boundHints say what to do about an argument out of bounds, where there is better advice than
// "shorten it" or the range; keyed by tool and argument.
var boundHints = map[string]string{
	"send_to_agent.message":               "put large input in a file in the session's workspace and send its path",
	"page_action.text":                    "put large input in a file and have the page read it, or split it",
	"read_agent_output.max_bytes":         "that is over the most one read returns: read in pieces, passing next as after",
	"create_session.idle_timeout_seconds": "the most is ten years; omit it for the server's default",
}

// checkBounds refuses arguments beyond the bounds their schema declares: a string's maxLength
// (in characters, as JSON Schema counts), an array's maxItems, an object's maxProperties and
// propertyNames' maxLength, a number's minimum and maximum, and an integer that is not whole.
// It descends into array items and object properties. Values of the wrong type and unknown
// arguments are left to decodeArgs, which names them.
func checkBounds(tool string, props map[string]any, req mcp.CallToolRequest) *messages.Error {
	args, ok := numberedArgs(req)
	if !ok {
		return nil // decodeArgs reports it
	}
	for _, k := range sortedNames(args) {
		if sch, ok := props[k].(map[string]any); ok {
			if e := checkValue(k, sch, args[k], boundHints[tool+"."+k]); e != nil {
				return e
			}
		}
	}
	return nil
}

// numberedArgs is the call's arguments as a JSON object decoded with UseNumber, or as an
// in-process caller passed them when that is plain (checkValue reads a float64 as the
// json.Number of its encoding); ok is false when they are not an object.
func numberedArgs(req mcp.CallToolRequest) (map[string]any, bool) {
	if m, ok := req.Params.Arguments.(map[string]any); ok && len(req.Params.RawArguments) == 0 && isPlain(m) {
		return m, true
	}
	data, err := argsJSON(req)
	if err != nil {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var args map[string]any
	if dec.Decode(&args) != nil {
		return nil, false
	}
	return args, true
}

// checkValue checks v against sch; hint, when not empty, says what to do instead.
func checkValue(path string, sch map[string]any, v any, hint string) *messages.Error {
	switch x := v.(type) {
	case string:
		return checkString(path, sch, x, hint)
	case json.Number:
		return checkNumber(path, sch, x, hint)
	case float64:
		return checkNumber(path, sch, floatNumber(x), hint)
	case []any:
		if max, ok := schemaInt(sch, "maxItems"); ok && len(x) > max {
			return messages.Errorf(messages.CodeInvalidArgument, "%s has %d items, over the limit of %d; send fewer", path, len(x), max)
		}
		items, _ := sch["items"].(map[string]any)
		for i, item := range x {
			if items != nil {
				if e := checkValue(fmt.Sprintf("%s[%d]", path, i), items, item, ""); e != nil {
					return e
				}
			}
		}
	case map[string]any:
		return checkObject(path, sch, x)
	}
	return nil
}

func checkObject(path string, sch map[string]any, obj map[string]any) *messages.Error {
	if max, ok := schemaInt(sch, "maxProperties"); ok && len(obj) > max {
		return messages.Errorf(messages.CodeInvalidArgument, "%s has %d keys, over the limit of %d; send fewer", path, len(obj), max)
	}
	names, _ := sch["propertyNames"].(map[string]any)
	props, _ := sch["properties"].(map[string]any)
	extra, _ := sch["additionalProperties"].(map[string]any)
	for _, k := range sortedNames(obj) {
		if names != nil {
			if e := checkString("a key of "+path, names, k, ""); e != nil {
				return e
			}
		}
		if p, ok := props[k].(map[string]any); ok {
			if e := checkValue(path+"."+k, p, obj[k], ""); e != nil {
				return e
			}
		} else if extra != nil {
			if e := checkValue(fmt.Sprintf("%s[%q]", path, messages.Shorten(k, 32)), extra, obj[k], ""); e != nil {
				return e
			}
		}
	}
	return nil
}

func checkString(path string, sch map[string]any, s, hint string) *messages.Error {
	max, ok := schemaInt(sch, "maxLength")
	// A string of more than 4 bytes per allowed character is too long whatever it holds; only
	// shorter ones are counted.
	if !ok || len(s) <= max || (len(s) <= 4*max && utf8.RuneCountInString(s) <= max) {
		return nil
	}
	if hint == "" {
		hint = "shorten it"
	}
	e := messages.Errorf(messages.CodeInvalidArgument, "%s is too long: %q is %d characters, over the limit of %d",
		path, messages.Shorten(s, 32), utf8.RuneCountInString(s), max)
	e.Message += "; " + hint
	return e
}

func checkNumber(path string, sch map[string]any, n json.Number, hint string) *messages.Error {
	lo, hasLo := schemaFloat(sch, "minimum")
	hi, hasHi := schemaFloat(sch, "maximum")
	var rng string
	switch {
	case hasLo && hasHi:
		rng = fmt.Sprintf("between %s and %s", fmtNum(lo), fmtNum(hi))
	case hasLo:
		rng = "at least " + fmtNum(lo)
	case hasHi:
		rng = "at most " + fmtNum(hi)
	default:
		rng = "a number a float64 can hold"
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) || (hasLo && f < lo) || (hasHi && f > hi) {
		e := messages.Errorf(messages.CodeInvalidArgument, "%s is out of range: it must be %s, got %s", path, rng, string(n))
		if hasLo && lo == 0 && f < 0 {
			e = messages.Errorf(messages.CodeInvalidArgument, "%s is out of range: it must not be negative (%s), got %s", path, rng, string(n))
		}
		if hint != "" {
			e.Message += "; " + hint
		}
		return e
	}
	if sch["type"] == "integer" && f != math.Trunc(f) {
		return messages.Errorf(messages.CodeInvalidArgument, "%s must be a whole number (%s), got %s", path, rng, string(n))
	}
	return nil
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// schemaInt reads an integer keyword of a schema (mcp-go stores ints; a schema written as JSON
// has float64s).
func schemaInt(sch map[string]any, key string) (int, bool) {
	f, ok := schemaFloat(sch, key)
	return int(f), ok
}

func schemaFloat(sch map[string]any, key string) (float64, bool) {
	switch v := sch[key].(type) {
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

// sortedNames makes the first error found the same at every call.
func sortedNames[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
