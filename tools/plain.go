package tools

import (
	"encoding/json"
	"math"
	"unicode/utf8"
)

// plainClone deep-copies a call's arguments as mcp-go decoded them (maps, slices, strings,
// booleans, float64s, nil) into what a json.Marshal and json.Unmarshal round trip would give,
// without the round trip; with numbers, each float64 becomes the json.Number that decoding
// its encoding with UseNumber would give. ok is false for anything else (Go values of an
// in-process caller, invalid UTF-8, which encoding replaces): the caller then takes the round trip.
func plainClone(v any, numbers bool) (any, bool) {
	switch x := v.(type) {
	case nil, bool:
		return x, true
	case string:
		return x, utf8.ValidString(x)
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return nil, false
		}
		if !numbers {
			return x, true
		}
		b, err := json.Marshal(x)
		return json.Number(b), err == nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			c, ok := plainClone(e, numbers)
			if !ok || !utf8.ValidString(k) {
				return nil, false
			}
			out[k] = c
		}
		return out, true
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, ok := plainClone(e, numbers)
			if !ok {
				return nil, false
			}
			out[i] = c
		}
		return out, true
	}
	return nil, false
}
