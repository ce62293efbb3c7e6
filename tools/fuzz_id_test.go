package tools

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/actors"
	"github.com/troupe-dev/troupe/internal/testutil"
)

// FuzzSessionID checks the session id rule end to end: actors.ValidID agrees with DESIGN §7, and
// create_session with a session_id succeeds exactly when the id is valid, and otherwise answers
// an invalid-argument tool error that names session_id. An empty id means "generate one".
func FuzzSessionID(f *testing.F) {
	fs := newFuzzServer(f)
	for _, id := range []string{"", "a", "research", "s-k3fw9q", "A.b_c-9", strings.Repeat("x", 64), strings.Repeat("x", 65),
		"-a", ".a", "_a", "a/b", "a b", "a\n", "\na", "é", "a\x00", "../etc", "a:b", "Ａ", "a.", "a..b", "x.lock"} {
		f.Add(id)
	}
	f.Fuzz(func(t *testing.T, id string) {
		fs.next(t)
		if got, want := actors.ValidID(id), testutil.HandValidID(id); got != want {
			t.Fatalf("actors.ValidID(%q) = %v, want %v", id, got, want)
		}
		args, _ := json.Marshal(map[string]string{"session_id": id})
		var sent struct {
			SessionID string `json:"session_id"`
		}
		_ = json.Unmarshal(args, &sent) // invalid UTF-8 travels as U+FFFD; judge what arrives
		resp, res := fs.call(t, "create_session", args)
		if res == nil {
			t.Fatalf("create_session(%s): JSON-RPC error %d %q, want a result", args, resp.Error.Code, resp.Error.Message)
		}
		if !testutil.HandValidID(sent.SessionID) && sent.SessionID != "" {
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			_ = json.Unmarshal(res.StructuredContent, &e)
			if !res.IsError || e.Error.Code != "invalid_argument" || !strings.Contains(res.text(), "session_id") {
				t.Fatalf("create_session(%s) = %s %s, want an invalid_argument tool error naming session_id", args, res.StructuredContent, res.text())
			}
			return
		}
		if res.IsError {
			t.Fatalf("create_session(%s) failed: %s", args, res.text())
		}
		var s struct {
			SessionID string `json:"session_id"`
		}
		if err := json.Unmarshal(res.StructuredContent, &s); err != nil || !testutil.HandValidID(s.SessionID) ||
			(sent.SessionID != "" && s.SessionID != sent.SessionID) {
			t.Fatalf("create_session(%s) answered session_id %q (%v)", args, s.SessionID, err)
		}
		// Delete it again so that the next input may use the same id.
		del, _ := json.Marshal(map[string]any{"session_id": s.SessionID, "force": true})
		if _, res := fs.call(t, "delete_session", del); res == nil || res.IsError {
			t.Fatalf("delete_session(%s) did not succeed: %+v", del, res)
		}
	})
}
