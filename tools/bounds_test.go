package tools

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// Every string, array, object and number in every tool's input schema declares a bound (issue
// 11: a 10 MB name, label or id went into the store, the lists, the errors and the audit log).
func TestEverySchemaValueIsBounded(t *testing.T) {
	for _, tl := range All(Deps{}) {
		for name, p := range tl.Tool.InputSchema.Properties {
			for _, miss := range unbounded(name, p.(map[string]any)) {
				t.Errorf("%s: %s", tl.Tool.Name, miss)
			}
		}
	}
}

// unbounded lists what a schema leaves unbounded, at path and below.
func unbounded(path string, sch map[string]any) []string {
	var out []string
	need := func(keys ...string) {
		for _, k := range keys {
			if _, ok := sch[k]; !ok {
				out = append(out, fmt.Sprintf("%s has no %s", path, k))
			}
		}
	}
	switch sch["type"] {
	case "string":
		need("maxLength")
	case "number", "integer":
		need("minimum", "maximum")
	case "array":
		need("maxItems")
		if items, ok := sch["items"].(map[string]any); ok {
			out = append(out, unbounded(path+"[]", items)...)
		} else {
			out = append(out, path+" has no items schema")
		}
	case "object":
		props, _ := sch["properties"].(map[string]any)
		for k, p := range props {
			out = append(out, unbounded(path+"."+k, p.(map[string]any))...)
		}
		if sch["additionalProperties"] != false {
			need("maxProperties")
			if names, ok := sch["propertyNames"].(map[string]any); !ok || names["maxLength"] == nil {
				out = append(out, path+" has no propertyNames.maxLength")
			}
			if extra, ok := sch["additionalProperties"].(map[string]any); ok {
				out = append(out, unbounded(path+"[]", extra)...)
			}
		}
	}
	return out
}

// violation is arguments that break one bound, and the words the error must hold.
type violation struct {
	args map[string]any
	want []string
}

// Every bound a schema declares is enforced: a value just past it is refused with a tool error
// that names the argument and the limit, and quotes no more than the start of a long string.
func TestEverySchemaBoundIsEnforced(t *testing.T) {
	c := newClient(t, nil)
	n := 0
	for _, tl := range All(Deps{}) {
		for name, p := range tl.Tool.InputSchema.Properties {
			for _, v := range violations(name, p.(map[string]any)) {
				n++
				args := map[string]any{}
				for k, x := range v.args {
					args[k] = x
				}
				raw, _ := json.Marshal(args)
				t.Run(fmt.Sprintf("%s %s", tl.Tool.Name, v.want[0]), func(t *testing.T) {
					r := call(t, c, tl.Tool.Name, string(raw))
					mustFail(t, r, v.want...)
					if len(resultText(r)) > 600 {
						t.Errorf("the error is %d bytes long, want at most 600: %.200s…", len(resultText(r)), resultText(r))
					}
				})
			}
		}
	}
	if n < 60 {
		t.Fatalf("only %d bounds checked; the generator lost its way", n)
	}
}

// violations builds, for each bound of sch at path (a top-level argument name), an argument
// value that breaks it.
func violations(path string, sch map[string]any) []violation {
	var out []violation
	wrap := func(inner []violation, build func(any) any, sub string) {
		for _, v := range inner {
			out = append(out, violation{args: map[string]any{path: build(v.args[sub])}, want: v.want})
		}
	}
	switch sch["type"] {
	case "string":
		max, _ := schemaInt(sch, "maxLength")
		out = append(out, violation{args: map[string]any{path: strings.Repeat("é", max+1)},
			want: []string{path, fmt.Sprintf("%d characters, over the limit of %d", max+1, max)}})
	case "number", "integer":
		lo, _ := schemaFloat(sch, "minimum")
		hi, _ := schemaFloat(sch, "maximum")
		rng := fmt.Sprintf("between %s and %s", fmtNum(lo), fmtNum(hi))
		for _, bad := range []string{fmtNum(lo - 1), fmtNum(hi * 2), "1e300", "99999999999999999999999"} {
			out = append(out, violation{args: map[string]any{path: json.RawMessage(bad)}, want: []string{path, "out of range", rng}})
		}
		if sch["type"] == "integer" {
			out = append(out, violation{args: map[string]any{path: json.RawMessage(fmtNum(lo + 0.5))}, want: []string{path, "whole number"}})
		}
	case "array":
		max, _ := schemaInt(sch, "maxItems")
		items := sch["items"].(map[string]any)
		many := make([]any, max+1)
		for i := range many {
			many[i] = sample(items)
		}
		out = append(out, violation{args: map[string]any{path: many}, want: []string{path, fmt.Sprintf("%d items, over the limit of %d", max+1, max)}})
		wrap(violations(path+"[0]", items), func(x any) any { return []any{x} }, path+"[0]")
	case "object":
		props, _ := sch["properties"].(map[string]any)
		for k, p := range props {
			sub := path + "." + k
			wrap(violations(sub, p.(map[string]any)), func(x any) any {
				obj := sample(sch).(map[string]any)
				obj[k] = x
				return obj
			}, sub)
		}
		if max, ok := schemaInt(sch, "maxProperties"); ok {
			obj := map[string]any{}
			for i := range max + 1 {
				obj[fmt.Sprintf("k%d", i)] = "v"
			}
			out = append(out, violation{args: map[string]any{path: obj}, want: []string{path, fmt.Sprintf("%d keys, over the limit of %d", max+1, max)}})
		}
		if names, ok := sch["propertyNames"].(map[string]any); ok {
			max, _ := schemaInt(names, "maxLength")
			out = append(out, violation{args: map[string]any{path: map[string]any{strings.Repeat("k", max+1): "v"}},
				want: []string{"a key of " + path, fmt.Sprintf("over the limit of %d", max)}})
		}
		if extra, ok := sch["additionalProperties"].(map[string]any); ok && extra["type"] == "string" {
			max, _ := schemaInt(extra, "maxLength")
			out = append(out, violation{args: map[string]any{path: map[string]any{"k": strings.Repeat("v", max+1)}},
				want: []string{path + `["k"]`, fmt.Sprintf("over the limit of %d", max)}})
		}
	}
	return out
}

// sample is a small valid value of a schema: the required properties of an object as short strings.
func sample(sch map[string]any) any {
	switch sch["type"] {
	case "object":
		obj := map[string]any{}
		req, _ := sch["required"].([]string)
		for _, k := range req {
			obj[k] = "x"
		}
		return obj
	case "number", "integer":
		return 1
	case "array":
		return []any{}
	case "boolean":
		return true
	}
	return "x"
}

// A long string is quoted as its start and its length, never whole.
func TestTooLongArgumentIsQuotedShort(t *testing.T) {
	c := newClient(t, nil)
	huge := strings.Repeat("n", 1<<20)
	for _, tc := range []struct{ tool, args, want string }{
		{"create_session", `{"name":"` + huge + `"}`, "name is too long"},
		{"create_session", `{"labels":{"team":"` + huge + `"}}`, `labels["team"] is too long`},
		{"create_session", `{"labels":{"` + huge + `":"x"}}`, "a key of labels is too long"},
		{"get_session", `{"session_id":"` + huge + `"}`, "session_id is too long"},
	} {
		r := call(t, c, tc.tool, tc.args)
		mustFail(t, r, tc.want, "1048576 characters", "(1048576 bytes)")
		if len(resultText(r)) > 300 {
			t.Errorf("%s: the error is %d bytes, want at most 300", tc.tool, len(resultText(r)))
		}
	}
	if n := len(mustOK(t, call(t, c, "list_sessions", `{}`))["sessions"].([]any)); n != 0 {
		t.Fatalf("%d sessions after refused calls, want 0", n)
	}
}
