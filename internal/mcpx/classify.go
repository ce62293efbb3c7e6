package mcpx

import (
	"bytes"
	"encoding/json"
)

type rpcShape struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
}

// classify tells whether line is a request (a method and an id) or an answer (an id, no
// method), as a full json.Unmarshal into rpcShape would. The gate classifies every line it
// reads before passing it on, so a call waited on the full decode of its own params; the
// common shapes are scanned instead (classifyFast), and the rest still decoded in full.
func classify(line []byte) (request, answer bool) {
	if !json.Valid(line) {
		return false, false
	}
	if id, method, ok := classifyFast(line); ok {
		if len(id) == 0 || string(id) == "null" {
			return false, false
		}
		return method, !method
	}
	return classifyFull(line)
}

func classifyFull(line []byte) (request, answer bool) {
	var m rpcShape
	if json.Unmarshal(line, &m) != nil || len(m.ID) == 0 || string(m.ID) == "null" {
		return false, false
	}
	return m.Method != "", m.Method == ""
}

// classifyFast scans the top-level keys of valid JSON: the last "id" value and whether the last
// "method" is a non-empty string. It gives up (ok false) where encoding/json's rules take more
// than a scan: not an object, a key with an escape or matching "id" or "method" only without
// case, a method that is not a string or null.
func classifyFast(b []byte) (id []byte, method, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false, false
	}
	i++
	for {
		i = skipSpace(b, i)
		if b[i] == '}' {
			return id, method, true
		}
		if b[i] == ',' {
			i = skipSpace(b, i+1)
		}
		end := skipValue(b, i) // the key, a string
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return nil, false, false
		}
		i = skipSpace(b, end)
		i = skipSpace(b, i+1) // past ':'
		end = skipValue(b, i)
		val := b[i:end]
		switch {
		case string(key) == "id":
			id = val
		case string(key) == "method":
			switch {
			case val[0] == '"':
				method = len(val) > 2
			case string(val) == "null": // leaves the string as it was
			default:
				return nil, false, false
			}
		case bytes.EqualFold(key, []byte("id")) || bytes.EqualFold(key, []byte("method")):
			return nil, false, false
		}
		i = end
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the valid JSON value starting at i.
func skipValue(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
			if depth < 0 {
				return i
			}
		case ',', ' ', '\t', '\n', '\r', ':':
			if depth == 0 {
				return i
			}
		}
	}
	return i
}
