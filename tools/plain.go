package tools

import (
	"encoding/json"
	"math"
	"unicode/utf8"
)

// isPlain reports whether plainClone would copy v.
func isPlain(v any) bool {
	switch x := v.(type) {
	case nil, bool:
		return true
	case string:
		return utf8.ValidString(x)
	case float64:
		return !math.IsInf(x, 0) && !math.IsNaN(x)
	case map[string]any:
		for k, e := range x {
			if !utf8.ValidString(k) || !isPlain(e) {
				return false
			}
		}
		return true
	case []any:
		for _, e := range x {
			if !isPlain(e) {
				return false
			}
		}
		return true
	}
	return false
}

// floatNumber is the json.Number that decoding the encoding of a finite f with UseNumber gives.
func floatNumber(f float64) json.Number {
	b, _ := json.Marshal(f)
	return json.Number(b)
}

// plainClone deep-copies a call's arguments as mcp-go decoded them (maps, slices, strings,
// booleans, finite float64s, nil): what a json.Marshal and json.Unmarshal round trip would give,
// without the round trip. ok is false for anything else (Go values of an in-process caller,
// invalid UTF-8, which encoding replaces): the caller then takes the round trip.
func plainClone(v any) (any, bool) {
	if !isPlain(v) {
		return nil, false
	}
	return clonePlain(v), true
}

func clonePlain(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = clonePlain(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = clonePlain(e)
		}
		return out
	}
	return v
}
