package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/troupe-dev/troupe/messages"
)

// decodeArgs decodes a call's arguments into dst strictly: unknown fields and wrong types are
// refused with a message that names the argument. It is the only check of the arguments' shape:
// the server does not validate them against the schema (NewServer leaves mcp-go's
// WithInputSchemaValidation off; its strict schemas only tell clients that unknown arguments
// are refused). Required arguments and ranges are checked by each handler after it.
func decodeArgs(req mcp.CallToolRequest, dst any) *messages.Error {
	raw, err := argsJSON(req)
	if err != nil {
		return messages.Errorf(messages.CodeInvalidArgument, "arguments are not valid JSON: %v", err)
	}
	if string(bytes.TrimSpace(raw)) == "null" {
		raw = []byte("{}")
	}
	// encoding/json matches names case-insensitively ("Name" for "name", even "ſession_id"):
	// names are checked exactly first, so that an argument the schema does not declare is refused.
	if err := checkArgNames(req.Params.Arguments, raw, reflect.TypeOf(dst)); err != nil {
		return messages.Errorf(messages.CodeInvalidArgument, "%s; see the tool's input schema (tools/list)", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return messages.Errorf(messages.CodeInvalidArgument, "%s; see the tool's input schema (tools/list)", describeDecodeError(err))
	}
	return nil
}

// argsJSON is the JSON of a call's arguments: the bytes the client sent, which mcp-go keeps
// (RawArguments, already checked to be valid JSON), or the encoding of the arguments of an
// in-process caller. It is what decoding the encoding of GetRawArguments() decodes, without
// the copy.
func argsJSON(req mcp.CallToolRequest) ([]byte, error) {
	if len(req.Params.RawArguments) > 0 {
		return req.Params.RawArguments, nil
	}
	return json.Marshal(req.Params.Arguments)
}

// checkArgNames is checkNames of the arguments' JSON raw; args is what mcp-go decoded from it
// (or an in-process caller passed): when that is a map, the top-level names are read from it
// rather than by decoding raw once more.
func checkArgNames(args any, raw []byte, t reflect.Type) error {
	m, ok := args.(map[string]any)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if !ok || t.Kind() != reflect.Struct {
		return checkNames(raw, t, "")
	}
	fields := jsonFields(t)
	for k, v := range m {
		ft, ok := fields[k]
		if !ok {
			return fmt.Errorf("unknown argument %q", k)
		}
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if k := ft.Kind(); k != reflect.Struct && k != reflect.Slice && k != reflect.Array {
			continue // checkNames has nothing to check below it
		}
		sub, err := json.Marshal(v)
		if err != nil {
			return checkNames(raw, t, "")
		}
		if err := checkNames(sub, ft, k+"."); err != nil {
			return err
		}
	}
	return nil
}

// checkNames refuses object keys that are not exactly a json name of the struct t decodes into,
// at every depth where the value decodes into a struct. Values of other shapes are left to the
// decoder, which reports wrong types.
func checkNames(raw []byte, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil
		}
		fields := jsonFields(t)
		for k, v := range obj {
			ft, ok := fields[k]
			if !ok {
				return fmt.Errorf("unknown argument %q", path+k)
			}
			if err := checkNames(v, ft, path+k+"."); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil
		}
		for i, v := range items {
			if err := checkNames(v, t.Elem(), fmt.Sprintf("%s[%d].", strings.TrimSuffix(path, "."), i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// fieldsByType caches jsonFields: the argument structs are few and fixed, and every call
// checks its names against one.
var fieldsByType sync.Map // reflect.Type → map[string]reflect.Type

// jsonFields maps the json names of a struct's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if f, ok := fieldsByType.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	f := structFields(t)
	fieldsByType.Store(t, f)
	return f
}

func structFields(t reflect.Type) map[string]reflect.Type {
	out := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// UnmarshalJSON keeps each value compact, so that a size limit measures what is stored.
func (o *rawObject) UnmarshalJSON(data []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	for k, v := range m {
		var b bytes.Buffer
		if err := json.Compact(&b, v); err != nil {
			return err
		}
		m[k] = b.Bytes()
	}
	*o = m
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
