package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// redactedPrefix starts every redacted value: "hmac-sha256:<64 hex>".
const redactedPrefix = "hmac-sha256:"

// redactor replaces secrets by an HMAC-SHA256 under the log's key.
type redactor struct{ key []byte }

// secret returns "hmac-sha256:<hex>" for value; a value already in that form is kept.
func (r redactor) secret(value string) string {
	if isRedacted(value) {
		return value
	}
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte(value))
	return redactedPrefix + hex.EncodeToString(m.Sum(nil))
}

func isRedacted(v string) bool {
	return len(v) == len(redactedPrefix)+hashHexLen && strings.HasPrefix(v, redactedPrefix) &&
		isHex([]byte(v[len(redactedPrefix):]))
}

// Redact returns value unchanged unless name looks secret (see LooksSecret), and then its HMAC
// "hmac-sha256:<hex>", so that equal secrets can be correlated without being revealed.
func (l *Log) Redact(name, value string) string {
	if LooksSecret(name) {
		return l.red.secret(value)
	}
	return value
}

// RedactSecret always returns the HMAC of value (for cookie values and other known secrets).
func (l *Log) RedactSecret(value string) string { return l.red.secret(value) }

// RedactEnv returns a copy of env with every value whose name looks secret redacted.
func (l *Log) RedactEnv(env map[string]string) map[string]string {
	out := make(map[string]string, len(env))
	for k, v := range env {
		out[k] = l.Redact(k, v)
	}
	return out
}

// RedactDetails returns details as the log would write them: plain JSON values, secrets found
// by name, in URLs and after secret-named flags replaced by their HMAC (for showing a call's
// arguments elsewhere, such as a pending approval). Details that cannot be JSON come back nil.
func (l *Log) RedactDetails(details map[string]any) map[string]any {
	out, _, err := l.red.normalizeDetails(details)
	if err != nil {
		return nil
	}
	return out
}

// normalizeDetails turns details into plain JSON values (through encoding/json, so structs
// with json tags work) and redacts them as a safety net for callers (see walk). It returns the
// normalized map and its JSON bytes, or nils for no details.
func (r redactor) normalizeDetails(details map[string]any) (map[string]any, []byte, error) {
	if len(details) == 0 {
		return nil, nil, nil
	}
	// Details made of plain JSON values (what most callers pass) are copied as they are; only
	// others go through encoding/json to become plain.
	if plain, ok := plainCopy(details); ok {
		generic := plain.(map[string]any)
		r.walk(generic, redactNone)
		raw, err := encodeDetails(generic)
		return generic, raw, err
	}
	raw, err := json.Marshal(details)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: details cannot be written as JSON: %v", ErrInvalidEvent, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var generic map[string]any
	if err := dec.Decode(&generic); err != nil {
		return nil, nil, fmt.Errorf("%w: details: %v", ErrInvalidEvent, err)
	}
	r.walk(generic, redactNone)
	raw, err = encodeDetails(generic)
	return generic, raw, err
}

func encodeDetails(generic map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(generic); err != nil {
		return nil, fmt.Errorf("%w: details: %v", ErrInvalidEvent, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// deferrableCopy is plainCopy of details when nothing in them can fail to encode later (no
// json.Number, no NaN or infinite float); ok is false otherwise, and for no details it is nil.
func deferrableCopy(details map[string]any) (map[string]any, bool) {
	if len(details) == 0 {
		return nil, true
	}
	if !encodable(details) {
		return nil, false
	}
	c, ok := plainCopy(details)
	if !ok {
		return nil, false
	}
	return c.(map[string]any), true
}

func encodable(v any) bool {
	switch t := v.(type) {
	case float64:
		return !math.IsNaN(t) && !math.IsInf(t, 0)
	case json.Number:
		return false
	case map[string]any:
		for _, e := range t {
			if !encodable(e) {
				return false
			}
		}
	case []any:
		for _, e := range t {
			if !encodable(e) {
				return false
			}
		}
	}
	return true
}

// plainCopy deep-copies v when it holds only plain JSON values (maps with string keys, slices,
// strings, booleans, numbers, nil); ok is false otherwise.
func plainCopy(v any) (any, bool) {
	switch t := v.(type) {
	case nil, string, bool, float64, json.Number, int, int64, uint64:
		return t, true
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			c, ok := plainCopy(e)
			if !ok {
				return nil, false
			}
			out[k] = c
		}
		return out, true
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			c, ok := plainCopy(e)
			if !ok {
				return nil, false
			}
			out[i] = c
		}
		return out, true
	case []string:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = e
		}
		return out, true
	}
	return nil, false
}

// redactMode says which strings below a key are redacted.
type redactMode int

const (
	redactNone   redactMode = iota
	redactCookie            // every string except cookie attributes (name, domain, path, …)
	redactAll               // every string
)

// walk redacts in place: a string whose key looks secret, every string below such a key, and
// below a key that names cookies every string but the cookie attributes; in every other string
// the secrets of URLs (user info passwords, secret-named query parameters), and in every list
// the values of secret-named flags (--api-key X, --token=X).
func (r redactor) walk(v any, mode redactMode) {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			m := mode
			if m != redactAll && LooksSecret(k) {
				m = redactAll
				if strings.Contains(strings.ToLower(k), "cookie") {
					m = redactCookie
				}
			}
			if s, ok := child.(string); ok {
				if m == redactAll || (m == redactCookie && !isCookieAttr(k)) {
					t[k] = r.secret(s)
				} else {
					t[k] = r.redactText(s)
				}
				continue
			}
			r.walk(child, m)
		}
	case []any:
		if mode == redactNone {
			r.redactFlags(t)
		}
		for i, child := range t {
			if s, ok := child.(string); ok {
				if mode != redactNone {
					t[i] = r.secret(s)
				} else {
					t[i] = r.redactText(s)
				}
				continue
			}
			r.walk(child, mode)
		}
	}
}

// isCookieAttr reports whether k is a cookie attribute that is not secret.
func isCookieAttr(k string) bool {
	switch strings.ToLower(k) {
	case "name", "domain", "path", "expires", "same_site", "samesite", "url", "priority",
		"source_scheme", "partition_key", "secure", "http_only", "httponly", "session":
		return true
	}
	return false
}
