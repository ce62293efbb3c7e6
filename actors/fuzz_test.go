package actors

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/messages"
)

// FuzzChildID checks how a child id "<session>/<name>" is taken apart: it is accepted exactly
// when it has one '/' between a valid session id and a valid name, and ValidID agrees with
// DESIGN §7's ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ and git's ref-component rules (no "..", no
// final "." or ".lock") written out by hand.
func FuzzChildID(f *testing.F) {
	for _, id := range []string{"research/writer", "s-k3fw9q/agent-1", "a/b/c", "/b", "a/", "/", "", "a",
		"a//b", "-a/b", "a/.b", "ü/b", strings.Repeat("x", 64) + "/" + strings.Repeat("y", 64), strings.Repeat("x", 65) + "/y"} {
		f.Add(id)
	}
	f.Fuzz(func(t *testing.T, id string) {
		for _, part := range strings.Split(id, "/") {
			if got, want := ValidID(part), testutil.HandValidID(part); got != want {
				t.Fatalf("ValidID(%q) = %v, want %v", part, got, want)
			}
		}
		sid, name, ok := splitChildID(id)
		parts := strings.Split(id, "/")
		want := len(parts) == 2 && testutil.HandValidID(parts[0]) && testutil.HandValidID(parts[1])
		if ok != want {
			t.Fatalf("splitChildID(%q) ok = %v, want %v", id, ok, want)
		}
		if ok && (sid != parts[0] || name != parts[1]) {
			t.Fatalf("splitChildID(%q) = %q, %q; want %q, %q", id, sid, name, parts[0], parts[1])
		}
	})
}

// fuzzStateLimit is the state limit of FuzzSessionState, small so that inputs reach it.
const fuzzStateLimit = 256

// FuzzSessionState creates a session with an arbitrary initial state, then sets and unsets
// arbitrary keys (unset is a comma-separated list), and checks the answers against a model: a
// key both set and unset is refused, a state whose JSON would exceed the limit is refused, a
// refusal changes nothing, and otherwise the state is the old one minus unset plus set. The
// state a session holds must stay within the limit byte for byte.
func FuzzSessionState(f *testing.F) {
	sys, err := Start(Options{Store: store.NewMemory(), Logger: zerolog.Nop(), MaxSessions: 1 << 20, MaxStateBytes: fuzzStateLimit})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = sys.Shutdown(context.Background()) })
	ask := func(t *testing.T, msg any) any {
		t.Helper()
		res, err := sys.Request(context.Background(), msg, 30*time.Second)
		if err != nil {
			t.Fatalf("%T: %v", msg, err)
		}
		return res
	}
	for _, s := range []struct{ initial, set, unset string }{
		{`{}`, `{"a":1}`, ``},
		{`{"a":1,"b":"x"}`, `{"c":[1,2,{"d":null}]}`, `a`},
		{`{"a":1}`, `{"a":2}`, `a`},
		{`{"a":1}`, `{}`, `a,b,,c`},
		{`{"big":"` + strings.Repeat("x", 200) + `"}`, `{"more":"` + strings.Repeat("y", 100) + `"}`, ``},
		{`{"big":"` + strings.Repeat("x", 300) + `"}`, `{}`, ``},
		{`{"k":"\u00e9\ud83d\ude00<>&"}`, `{"":true}`, `k`},
		{`not json`, `[1]`, ``},
	} {
		f.Add([]byte(s.initial), []byte(s.set), s.unset)
	}
	var n int
	f.Fuzz(func(t *testing.T, initial, set []byte, unset string) {
		n++
		id := fmt.Sprintf("state-%d", n)
		init, setMap := rawObject(initial), rawObject(set)
		var unsetKeys []string
		if unset != "" {
			unsetKeys = strings.Split(unset, ",")
		}
		created := testutil.AsSession(ask(t, &messages.CreateSession{SessionID: id, State: init}))
		if jsonSize(init) > fuzzStateLimit {
			if created.Err == nil || created.Err.Code != messages.CodeTooLarge {
				t.Fatalf("create with a %d-byte state: %+v, want too_large", jsonSize(init), created.Err)
			}
			return
		}
		if created.Err != nil {
			t.Fatalf("create with state %s: %v", initial, created.Err)
		}
		defer ask(t, &messages.DeleteSession{SessionID: id, Force: true, Reason: "deleted"})
		checkHeld(t, "after create", created.Session.State, init)

		want := maps.Clone(init)
		if want == nil {
			want = map[string]json.RawMessage{}
		}
		var wantCode messages.Code
		for _, k := range unsetKeys {
			if _, both := setMap[k]; both {
				wantCode = messages.CodeInvalidArgument
			}
			delete(want, k)
		}
		maps.Copy(want, setMap)
		if wantCode == "" && jsonSize(want) > fuzzStateLimit {
			wantCode = messages.CodeTooLarge
		}
		if wantCode != "" {
			want = init
		}
		res := testutil.AsUpdateSessionState(ask(t, &messages.UpdateSessionState{SessionID: id, Set: setMap, Unset: unsetKeys}))
		switch {
		case wantCode == "" && res.Err != nil:
			t.Fatalf("update set %s unset %q: %v, want success", set, unset, res.Err)
		case wantCode != "" && (res.Err == nil || res.Err.Code != wantCode):
			t.Fatalf("update set %s unset %q: %+v, want %s", set, unset, res.Err, wantCode)
		}
		got := testutil.AsSession(ask(t, &messages.GetSession{SessionID: id}))
		if got.Err != nil {
			t.Fatal(got.Err)
		}
		checkHeld(t, "after update", got.Session.State, want)
	})
}

// rawObject decodes a JSON object, or returns nil for anything else.
func rawObject(data []byte) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return nil
	}
	return m
}

// jsonSize is the size of the state as JSON (compact, as encoding/json writes it).
func jsonSize(m map[string]json.RawMessage) int {
	if len(m) == 0 {
		return 2
	}
	data, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return len(data)
}

// checkHeld compares the state a session holds with the model, value by value as compact JSON,
// and wants the bytes it holds within the limit: {"key":value,...} written with the raw values.
func checkHeld(t *testing.T, when string, got, want map[string]json.RawMessage) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: state has %d keys, want %d", when, len(got), len(want))
	}
	held := 1
	for k, v := range got {
		w, ok := want[k]
		if !ok || compact(v) != compact(w) {
			t.Fatalf("%s: state[%q] = %s, want %s (present: %v)", when, k, v, w, ok)
		}
		key, _ := json.Marshal(k)
		held += len(key) + 1 + len(v) + 1
	}
	if held < 2 {
		held = 2
	}
	if held > fuzzStateLimit {
		t.Fatalf("%s: the session holds a state of %d bytes, over the limit of %d (%d as compact JSON)", when, held, fuzzStateLimit, jsonSize(got))
	}
}

func compact(v json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return "invalid JSON: " + string(v)
	}
	return b.String()
}
