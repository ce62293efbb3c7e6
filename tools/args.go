package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/troupe-dev/troupe/messages"
)

// decodeArgs decodes a call's arguments into dst strictly: unknown fields and wrong types are
// refused with a message that names the argument. The server validates against the schema
// first; this is the second line, and what the handler relies on.
func decodeArgs(req mcp.CallToolRequest, dst any) *messages.Error {
	raw, err := json.Marshal(req.GetRawArguments())
	if err != nil {
		return messages.Errorf(messages.CodeInvalidArgument, "arguments are not valid JSON: %v", err)
	}
	if string(raw) == "null" {
		raw = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return messages.Errorf(messages.CodeInvalidArgument, "%s; see the tool's input schema (tools/list)", describeDecodeError(err))
	}
	return nil
}

func describeDecodeError(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		field := typeErr.Field
		if field == "" {
			return fmt.Sprintf("arguments must be an object, got %s", typeErr.Value)
		}
		return fmt.Sprintf("argument %q must be %s, got %s", field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	}
	if msg, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Sprintf("unknown argument %s", msg)
	}
	return fmt.Sprintf("invalid arguments: %v", err)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int64", "int32", "uint64", "float64":
		return "a number"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	default:
		return goKind
	}
}

// rawObject decodes a JSON object whose values may be anything, keeping each value's bytes.
type rawObject map[string]json.RawMessage

// required refuses an empty required string argument.
func required(name, value string) *messages.Error {
	if value == "" {
		return messages.Errorf(messages.CodeInvalidArgument, "%s is required", name)
	}
	return nil
}
