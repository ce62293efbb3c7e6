package tools

import (
	"fmt"
	"testing"

	"github.com/troupe-dev/troupe/actors"
	"github.com/troupe-dev/troupe/internal/workspace"
)

// Ids that match DESIGN §7's pattern but that git refuses as a ref component ("a.", "a..b",
// "x.lock") name the ref of preserved work: they are refused wherever an id is taken, with the
// rule, and nothing is half-done. Before, create_session refused them with the workspace
// layer's words, and restore_session failed with an internal error after unpacking nothing.
func TestGitRefusedIDsAreRefusedUpFront(t *testing.T) {
	data := t.TempDir()
	c := newClient(t, func(o *actors.Options) {
		o.DataDir = data
		o.PrepareWorkspace = func(id, requested string) (string, bool, error) {
			p, err := workspace.Create(data, id)
			return p, true, err
		}
	})
	mustOK(t, call(t, c, "create_session", `{"session_id":"ok"}`))
	snap := mustOK(t, call(t, c, "delete_session", `{"session_id":"ok"}`))["snapshot_id"].(string)
	for _, id := range []string{"a.", "a..b", "x.lock"} {
		mustFail(t, call(t, c, "create_session", fmt.Sprintf(`{"session_id":%q}`, id)), "invalid session_id", "'.lock'")
		mustFail(t, call(t, c, "restore_session", fmt.Sprintf(`{"snapshot_id":%q,"session_id":%q}`, snap, id)), "invalid session_id", "'.lock'")
	}
	if n := len(mustOK(t, call(t, c, "list_sessions", `{}`))["sessions"].([]any)); n != 0 {
		t.Fatalf("%d sessions after refused calls, want 0", n)
	}
	// The snapshot is intact: it restores under a good id.
	mustOK(t, call(t, c, "restore_session", fmt.Sprintf(`{"snapshot_id":%q,"session_id":"a.b"}`, snap)))
}
