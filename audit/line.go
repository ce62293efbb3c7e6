package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

const (
	hashHexLen = 64
	hashKey    = `,"hash":"`
	// suffixLen is the length of `,"hash":"<64 hex>"}` that ends every line.
	suffixLen = len(hashKey) + hashHexLen + 2
)

// genesisHash is the prev of the first line of a log.
var genesisHash = strings.Repeat("0", hashHexLen)

// captureWriter receives what zerolog writes, so that the encoder can check it: zerolog reports
// write errors only to its ErrorHandler and writes nothing at all when its global level is
// Disabled.
type captureWriter struct {
	buf    []byte
	writes int
}

func (c *captureWriter) Write(p []byte) (int, error) {
	c.buf = append(c.buf, p...)
	c.writes++
	return len(p), nil
}

// encoder turns events into lines. It is not safe for concurrent use: the Log calls it under mu.
//
// A keyed encoder chains lines with HMAC-SHA256 under a key kept outside the audit directory,
// so that someone who can write the log cannot recompute the chain after editing a line (as
// CloudTrail signs its digests). Lines written before troupe keyed its chain carry a plain
// SHA-256; checkLine accepts them as legacy, and the chain checker only as a prefix of the log.
type encoder struct {
	capture captureWriter
	zl      zerolog.Logger
	sum     hash.Hash // HMAC-SHA256 under the chain key; plain SHA-256 for an unkeyed encoder
	legacy  hash.Hash // plain SHA-256, to recognise lines of an unkeyed chain; nil when unkeyed
}

// chainKeyLabel derives the chain key from the data directory's audit key, so that one key
// file serves redaction and the chain without one HMAC answering for the other.
const chainKeyLabel = "troupe audit chain v1"

// newEncoder returns an unkeyed encoder: plain SHA-256, the chain of logs written before the
// key (and of tests that build lines by hand).
func newEncoder() *encoder {
	enc := &encoder{sum: sha256.New()}
	enc.zl = zerolog.New(&enc.capture)
	return enc
}

// newKeyedEncoder returns an encoder that chains with HMAC-SHA256 under a key derived from
// key (the data directory's audit key).
func newKeyedEncoder(key []byte) *encoder {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(chainKeyLabel))
	enc := &encoder{sum: hmac.New(sha256.New, m.Sum(nil)), legacy: sha256.New()}
	enc.zl = zerolog.New(&enc.capture)
	return enc
}

// appendLine serializes e (Seq, Time and Prev already set) with details (normalized JSON, or
// nil) and appends the full line, "\n" included, to dst. It returns the extended dst and the
// line's hash.
func (enc *encoder) appendLine(dst []byte, e *Event, details []byte) ([]byte, string, error) {
	enc.capture.buf, enc.capture.writes = enc.capture.buf[:0], 0
	if e.Principal == "" {
		// Every event names a principal: what no client asked for, troupe did on its own.
		e.Principal = PrincipalTroupe
	}
	z := enc.zl.Log().
		Uint64("seq", e.Seq).
		Str("time", e.Time.UTC().Format(time.RFC3339Nano)).
		Str("action", e.Action)
	if e.Stage != "" {
		z = z.Str("stage", e.Stage)
	}
	if a := e.Actor; a != nil {
		d := zerolog.Dict().Str("transport", a.Transport).Str("client_name", a.ClientName).
			Str("client_version", a.ClientVersion)
		if a.ProtocolVersion != "" {
			d = d.Str("protocol_version", a.ProtocolVersion)
		}
		if a.HTTPSession != "" {
			d = d.Str("http_session", a.HTTPSession)
		}
		z = z.Dict("actor", d)
	}
	for _, f := range [...]struct{ k, v string }{{"principal", e.Principal}, {"session", e.Session}, {"target", e.Target}, {"outcome", e.Outcome}} {
		if f.v != "" {
			z = z.Str(f.k, f.v)
		}
	}
	if e.DurationMS != 0 {
		z = z.Float64("duration_ms", e.DurationMS)
	}
	if len(details) > 0 {
		z = z.RawJSON("details", details)
	}
	z.Str("prev", e.Prev).Send()

	b := enc.capture.buf
	if enc.capture.writes != 1 || len(b) < 3 || b[0] != '{' || !bytes.HasSuffix(b, []byte("}\n")) {
		return dst, "", fmt.Errorf("audit: zerolog produced no event (%d writes, %d bytes); "+
			"check that zerolog's global level is not Disabled", enc.capture.writes, len(b))
	}
	ev := b[:len(b)-1]
	h := enc.hash(e.Prev, ev[:len(ev)-1], "}")
	dst = append(dst, ev[:len(ev)-1]...)
	dst = append(dst, hashKey...)
	dst = append(dst, h...)
	dst = append(dst, "\"}\n"...)
	return dst, h, nil
}

// hash returns hex(HMAC-SHA256(chain key, prev || body || tail)), or hex(SHA-256(…)) for an
// unkeyed encoder.
func (enc *encoder) hash(prev string, body []byte, tail string) string {
	return sumHex(enc.sum, prev, body, tail)
}

func sumHex(sum hash.Hash, prev string, body []byte, tail string) string {
	sum.Reset()
	sum.Write([]byte(prev))
	sum.Write(body)
	sum.Write([]byte(tail))
	var out [sha256.Size]byte
	return hex.EncodeToString(sum.Sum(out[:0]))
}

// chainFields are the fields verification needs from a line.
type chainFields struct {
	Seq  uint64
	Prev string
	// Legacy: a keyed encoder found the line chained with a plain SHA-256 (written before the
	// chain was keyed).
	Legacy bool
}

// lineError says why one line is not a valid audit line.
type lineError string

func (e lineError) Error() string { return string(e) }

const (
	seqKey  = `{"seq":`
	prevKey = `,"prev":"`
	// minLineLen is the shortest line the layout allows: {"seq":N,"prev":"…","hash":"…"}.
	minLineLen = len(seqKey) + 1 + len(prevKey) + hashHexLen + 1 + suffixLen
)

// checkLine validates one line (without its "\n"): the layout (seq first; prev, then hash
// last), valid JSON, and a hash that matches the event bytes. It returns seq, prev and hash.
// It reads seq and prev at their fixed places rather than decoding the JSON, which is what
// makes Verify fast; a raw `,"` cannot occur inside a JSON string, so in valid JSON these
// places are unambiguous.
func (enc *encoder) checkLine(line []byte) (chainFields, string, error) {
	var f chainFields
	n := len(line)
	if n < minLineLen || !bytes.HasPrefix(line, []byte(seqKey)) {
		return f, "", lineError(`not an audit line: it does not start with {"seq":`)
	}
	suffix := line[n-suffixLen:]
	h := suffix[len(hashKey) : len(hashKey)+hashHexLen]
	if !bytes.HasPrefix(suffix, []byte(hashKey)) || !bytes.HasSuffix(suffix, []byte(`"}`)) || !isHex(h) {
		return f, "", lineError(`not an audit line: it does not end with ,"hash":"<64 hex digits>"}`)
	}
	prevEnd := n - suffixLen - 1 // the closing quote of prev
	prev := line[prevEnd-hashHexLen : prevEnd]
	if line[prevEnd] != '"' || !bytes.HasSuffix(line[:prevEnd-hashHexLen], []byte(prevKey)) || !isHex(prev) {
		return f, "", lineError(`not an audit line: "prev":"<64 hex digits>" is not the last field before the hash`)
	}
	digits := line[len(seqKey):]
	if i := bytes.IndexByte(digits, ','); i > 0 {
		digits = digits[:i]
	}
	seq, err := strconv.ParseUint(string(digits), 10, 64)
	if err != nil {
		return f, "", lineError("not an audit line: seq is not a number")
	}
	if !json.Valid(line) {
		return f, "", lineError("not valid JSON")
	}
	f.Seq, f.Prev = seq, string(prev)
	if got := enc.hash(f.Prev, line[:n-suffixLen], "}"); got != string(h) {
		if enc.legacy == nil || sumHex(enc.legacy, f.Prev, line[:n-suffixLen], "}") != string(h) {
			return f, "", lineError("hash does not match the line's content and the chain key: the line was edited")
		}
		f.Legacy = true
	}
	return f, string(h), nil
}

// parseEvent decodes a line (already checked or not) into an Event; details keep exact numbers.
func parseEvent(line []byte) (Event, error) {
	var e Event
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&e); err != nil {
		return e, lineError("not valid JSON: " + err.Error())
	}
	if e.Action == "" {
		return e, lineError("not an audit line: no action")
	}
	return e, nil
}

// hexDigit marks the lowercase hex digits.
var hexDigit = func() (t [256]bool) {
	for _, c := range "0123456789abcdef" {
		t[c] = true
	}
	return t
}()

// isHex reports whether b is non-empty and all lowercase hex digits.
func isHex(b []byte) bool {
	for _, c := range b {
		if !hexDigit[c] {
			return false
		}
	}
	return len(b) > 0
}

// validStages are the stages an event may carry.
var validStages = map[string]bool{"": true, StageRequested: true, StageCompleted: true, StageFailed: true}

// validate refuses events that could not be recorded faithfully.
func validate(e *Event) error {
	switch {
	case e.Action == "":
		return fmt.Errorf("%w: no action (use a name such as %q)", ErrInvalidEvent, "session.create")
	case !validStages[e.Stage]:
		return fmt.Errorf("%w: stage %q (want %q, %q, %q or none)", ErrInvalidEvent, e.Stage,
			StageRequested, StageCompleted, StageFailed)
	case math.IsNaN(e.DurationMS) || math.IsInf(e.DurationMS, 0) || e.DurationMS < 0:
		return fmt.Errorf("%w: duration_ms %v (want a finite number ≥ 0)", ErrInvalidEvent, e.DurationMS)
	}
	return nil
}
