package audit

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The seed corpora are in testdata/fuzz/<FuzzName>/: real lines and segments, edited, torn,
// reordered. Run a fuzzer with e.g. `go test -fuzz FuzzCheckLine ./audit`.

// FuzzCheckLine: the line parser never panics, and a line it accepts stops being accepted when
// any one of its bytes changes.
func FuzzCheckLine(f *testing.F) {
	f.Fuzz(func(t *testing.T, line []byte, pos uint16) {
		enc := newEncoder()
		fields, h, err := enc.checkLine(line)
		_, _ = parseEvent(line)
		if err != nil {
			return
		}
		if len(h) != hashHexLen || len(fields.Prev) != hashHexLen {
			t.Fatalf("accepted %q with hash %q, prev %q", line, h, fields.Prev)
		}
		changed := bytes.Clone(line)
		changed[int(pos)%len(changed)] ^= 1
		if _, _, err := enc.checkLine(changed); err == nil {
			t.Fatalf("accepted %q and also, with byte %d changed, %q", line, int(pos)%len(line), changed)
		}
	})
}

// FuzzVerify: Verify never panics on a segment of any content, agrees with a line-by-line
// chain check, and Query reads every line Verify accepts.
func FuzzVerify(f *testing.F) {
	dir := f.TempDir() // one directory for every input: the files are rewritten each time
	f.Fuzz(func(t *testing.T, content []byte) {
		if err := os.WriteFile(filepath.Join(dir, SegmentName(1)), content, 0o600); err != nil {
			t.Fatal(err)
		}
		c := newChainChecker()
		good, allGood := uint64(0), true
		_ = forEachLine(bytes.NewReader(content), func(line []byte, complete bool) error {
			if !complete || c.check(line) != "" {
				allGood = false
				return errStop
			}
			good++
			return nil
		})
		h, err := os.Create(filepath.Join(dir, HeadName)) // truncates the previous input's head
		if err != nil {
			t.Fatal(err)
		}
		hf := headFile{f: h}
		if err := hf.write(headState{Seq: c.seq, Hash: c.prev}, false); err != nil {
			t.Fatal(err)
		}
		h.Close()

		r, err := Verify(dir)
		if err != nil {
			t.Fatal(err)
		}
		if r.OK != allGood || r.Events != good {
			t.Fatalf("Verify: %v; the chain check found %d good lines, all good %v", r, good, allGood)
		}
		if !r.OK {
			return
		}
		evs, err := Query(dir, Filter{})
		if _, isDamage := err.(*DamageError); err != nil && !isDamage {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Seq < 1 || e.Seq > good {
				t.Fatalf("Query read seq %d from a log of %d verified lines", e.Seq, good)
			}
		}
	})
}

// FuzzRoundTrip: what the writer encodes, the parser reads back the same and accepts.
func FuzzRoundTrip(f *testing.F) {
	red := redactor{key: make([]byte, keyLen)}
	f.Fuzz(func(t *testing.T, action, session, target, detail string, seq uint64, dur float64) {
		e := Event{Seq: seq, Time: time.Unix(0, int64(seq>>1)).UTC(), Action: action, Session: session,
			Target: target, DurationMS: dur, Prev: genesisHash, Details: map[string]any{"note": detail}}
		if validate(&e) != nil {
			return
		}
		for _, s := range []string{action, session, target, detail} {
			if !utf8.ValidString(s) {
				return // written with U+FFFD in place of the invalid bytes, as encoding/json does
			}
		}
		details, raw, err := red.normalizeDetails(e.Details)
		if err != nil {
			t.Fatal(err)
		}
		enc := newEncoder()
		line, h, err := enc.appendLine(nil, &e, raw)
		if err != nil {
			t.Fatal(err)
		}
		body := bytes.TrimSuffix(line, []byte("\n"))
		if bytes.IndexByte(body, '\n') >= 0 {
			t.Fatalf("a newline inside the line %q", line)
		}
		if _, got, err := enc.checkLine(body); err != nil || got != h {
			t.Fatalf("checkLine(%q) = %s, %v; want %s", body, got, err, h)
		}
		back, err := parseEvent(body)
		if err != nil {
			t.Fatal(err)
		}
		if back.Seq != e.Seq || !back.Time.Equal(e.Time) || back.Action != e.Action || back.Session != e.Session ||
			back.Target != e.Target || back.DurationMS != e.DurationMS || back.Details["note"] != details["note"] || back.Hash != h {
			t.Fatalf("read back %+v\nfrom %s\nwant %+v", back, line, e)
		}
	})
}

// FuzzRedactClasses: a secret placed in any of the classes the audit log redacts (a
// secret-named key, a URL's password or secret query parameter, the value of a secret-named
// flag) never appears in the encoded line, and redacting is idempotent.
func FuzzRedactClasses(f *testing.F) {
	f.Add("hunter2-secret", "DB_PASS", "api_key", "--token")
	f.Add("s3cr3t!@#", "GH_PAT", "access_token", "--api-key")
	red := redactor{key: make([]byte, keyLen)}
	enc := newEncoder()
	f.Fuzz(func(t *testing.T, secret, envName, param, flag string) {
		// A secret must be distinctive to be looked for: long enough, printable, and not made of
		// characters that the surrounding JSON, URL or flag syntax also uses. A value that starts
		// with "-" after a flag reads as the next flag, and is not redacted (redactFlags).
		if len(secret) < 8 || secret[0] == '-' || strings.ContainsAny(secret, "\\\"&#/?@=:% \t\n\r") || !utf8.ValidString(secret) ||
			strings.ContainsFunc(secret, func(r rune) bool { return r < 0x20 || r == 0x7f || r > 0x7e }) {
			return
		}
		// Names of valid UTF-8 only: JSON replaces the rest, which is the encoder's matter.
		if !utf8.ValidString(envName+param+flag) || !LooksSecret(envName) || !LooksSecret(param) || !LooksSecret(strings.TrimLeft(flag, "-")) ||
			!strings.HasPrefix(flag, "-") || strings.ContainsAny(param+flag, "&#=?% \t") {
			return
		}
		details := map[string]any{
			"env":  map[string]any{envName: secret},
			"url":  "https://user:" + secret + "@example.com/p?" + param + "=" + secret + "&x=1",
			"text": "visit https://example.com/?" + param + "=" + secret + " now",
			"args": []any{flag, secret, flag + "=" + secret},
		}
		_, raw, err := red.normalizeDetails(details)
		if err != nil {
			return
		}
		e := Event{Seq: 1, Time: time.Unix(0, 0).UTC(), Action: "agent.create", Prev: genesisHash}
		line, _, err := enc.appendLine(nil, &e, raw)
		if err != nil {
			t.Fatal(err)
		}
		// Look in what the details became, HMACs left out: the rest of the line (zeros of the
		// genesis prev, the hash) and the HMACs' hex may hold a short secret by chance.
		clear := hmacPattern.ReplaceAll(line[bytes.Index(line, []byte(`"details":`)):bytes.Index(line, []byte(`,"prev":`))], nil)
		if bytes.Contains(clear, []byte(secret)) {
			t.Fatalf("secret %q in clear in %s", secret, line)
		}
		generic, raw2, err := red.normalizeDetails(mustDecode(t, raw))
		if err != nil || !bytes.Equal(raw, raw2) {
			t.Fatalf("redacting twice changed the details: %s then %s (%v, %v)", raw, raw2, generic, err)
		}
	})
}

var hmacPattern = regexp.MustCompile(`hmac-sha256:[0-9a-f]{64}`)

func mustDecode(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
