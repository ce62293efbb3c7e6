package tools

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/troupe-dev/troupe/actors"
)

func TestSessionToolsHappyPath(t *testing.T) {
	c := newClient(t, nil)
	s := mustOK(t, call(t, c, "create_session", `{"session_id":"web","name":"Web","state":{"n":1},"labels":{"team":"red"},"idle_timeout_seconds":600}`))
	for _, f := range []string{"session_id", "name", "status", "workspace", "state", "labels", "created_at", "last_activity", "expires_at", "children"} {
		if _, ok := s[f]; !ok {
			t.Errorf("create_session answer lacks %q", f)
		}
	}
	gen := mustOK(t, call(t, c, "create_session", ``))
	if id, _ := gen["session_id"].(string); !strings.HasPrefix(id, "s-") {
		t.Fatalf("generated id = %v", gen["session_id"])
	}
	got := mustOK(t, call(t, c, "get_session", `{"session_id":"web"}`))
	if got["status"] != "active" || got["state"].(map[string]any)["n"] != 1.0 {
		t.Fatalf("get_session = %v", got)
	}
	st := mustOK(t, call(t, c, "update_session_state", `{"session_id":"web","set":{"url":"https://x","list":[1,2]},"unset":["n"]}`))
	if state := st["state"].(map[string]any); len(state) != 2 || state["url"] != "https://x" {
		t.Fatalf("state = %v", st["state"])
	}
	list := mustOK(t, call(t, c, "list_sessions", `{"label":"team=red"}`))
	if rows := list["sessions"].([]any); len(rows) != 1 || rows[0].(map[string]any)["session_id"] != "web" {
		t.Fatalf("list = %v", list)
	}
	all := mustOK(t, call(t, c, "list_sessions", `{}`))["sessions"].([]any)
	if len(all) != 2 || all[0].(map[string]any)["session_id"].(string) > all[1].(map[string]any)["session_id"].(string) {
		t.Fatalf("list not sorted by id: %v", all)
	}
	dry := mustOK(t, call(t, c, "delete_session", `{"session_id":"web","dry_run":true}`))
	if _, ok := dry["plan"]; !ok {
		t.Fatalf("dry run answer lacks plan: %v", dry)
	}
	mustOK(t, call(t, c, "get_session", `{"session_id":"web"}`))
	del := mustOK(t, call(t, c, "delete_session", `{"session_id":"web"}`))
	for _, f := range []string{"stopped", "snapshot_id", "preserved", "failures", "duration_ms"} {
		if _, ok := del[f]; !ok {
			t.Errorf("delete_session answer lacks %q", f)
		}
	}
	mustFail(t, call(t, c, "get_session", `{"session_id":"web"}`), "deleted", del["snapshot_id"].(string))
	m := mustOK(t, call(t, c, "session_metrics", `{}`))
	for _, f := range []string{"total_sessions", "active_sessions", "oldest_session_age", "newest_session_age", "avg_session_age", "children", "counters", "limits"} {
		if _, ok := m[f]; !ok {
			t.Errorf("session_metrics lacks %q", f)
		}
	}
	if m["total_sessions"] != 1.0 || m["counters"].(map[string]any)["deleted"] != 1.0 || m["counters"].(map[string]any)["created"] != 2.0 {
		t.Fatalf("metrics = %v", m)
	}
}

func TestSessionToolsBadInput(t *testing.T) {
	c := newClient(t, func(o *actors.Options) { o.MaxSessions = 3 })
	mustOK(t, call(t, c, "create_session", `{"session_id":"taken"}`))
	cases := []struct {
		tool, args string
		want       []string
	}{
		{"create_session", `{"session_id":"taken"}`, []string{"already exists"}},
		{"create_session", `{"session_id":"bad id!"}`, []string{"invalid session_id", "letters, digits"}},
		{"create_session", `{"session_id":"-x"}`, []string{"invalid session_id"}},
		{"create_session", `{"session_id":5}`, []string{`"session_id" must be a string`}},
		{"create_session", `{"colour":"red"}`, []string{`unknown argument "colour"`}},
		{"create_session", `{"labels":{"a":1}}`, []string{`must be a string`}},
		{"create_session", `{"state":[1]}`, []string{`"state" must be an object`}},
		{"create_session", `{"idle_timeout_seconds":"soon"}`, []string{`"idle_timeout_seconds" must be a number`}},
		{"create_session", `{"idle_timeout_seconds":-5}`, []string{"between 1 and"}},
		{"create_session", `{"idle_timeout_seconds":9223372036854775807}`, []string{"ten years"}},
		{"create_session", `{"Session_ID":"folded"}`, []string{`unknown argument "Session_ID"`}},
		{"create_session", `{"cookies":[{"Name":"a","value":"b","domain":"x.test"}]}`, []string{`unknown argument "cookies[0].Name"`}},
		{"create_session", `{"cookies":[{"name":"a","value":"b"}]}`, []string{"needs a url or a domain"}},
		{"create_session", `{"state":{"big":"` + strings.Repeat("x", 5000) + `"}}`, []string{"over the limit"}},
		{"get_session", `{}`, []string{"session_id is required"}},
		{"get_session", `{"session_id":"nobody"}`, []string{`no session "nobody"`, "list_sessions"}},
		{"get_session", `{"session_id":"a/b"}`, []string{"invalid session_id"}},
		{"get_session", `{"session_id":"taken","extra":true}`, []string{`unknown argument "extra"`}},
		{"get_session", `{"session_id":["taken"]}`, []string{"must be a string"}},
		{"update_session_state", `{"session_id":"taken"}`, []string{"nothing to change"}},
		{"update_session_state", `{"session_id":"taken","set":{"k":"` + strings.Repeat("y", 5000) + `"}}`, []string{"over the limit", "nothing was changed"}},
		{"update_session_state", `{"session_id":"taken","unset":"k"}`, []string{`"unset" must be an array`}},
		{"update_session_state", `{"session_id":"nobody","set":{"a":1}}`, []string{"no session"}},
		{"delete_session", `{"session_id":"nobody"}`, []string{"no session"}},
		{"delete_session", `{"session_id":"taken","force":"yes"}`, []string{`"force" must be true or false`}},
		{"delete_session", `{"session_id":"taken","grace_seconds":-1}`, []string{"between 0 and 300"}},
		{"delete_session", `{"session_id":"taken","grace_seconds":1e10}`, []string{"between 0 and 300"}},
		{"list_sessions", `{"label":3}`, []string{"must be a string"}},
		{"session_metrics", `{"x":1}`, []string{`unknown argument "x"`}},
		{"restore_session", `{}`, []string{"snapshot_id is required"}},
		{"restore_session", `{"snapshot_id":"snap-none"}`, []string{`no snapshot "snap-none"`, "list_snapshots"}},
		{"restore_session", `{"snapshot_id":7}`, []string{`"snapshot_id" must be a string`}},
		{"restore_session", `{"snapshot_id":"x","session_id":"bad id"}`, []string{"no snapshot"}},
		{"list_snapshots", `{"session_id":[]}`, []string{"must be a string"}},
		{"list_snapshots", `{"all":true}`, []string{`unknown argument "all"`}},
		{"audit_query", `{"limit":"ten"}`, []string{"must be a number"}},
		// 0 is below the schema's minimum: refused, not taken for the default (issue 11, item 11).
		{"create_session", `{"idle_timeout_seconds":0}`, []string{"idle_timeout_seconds is out of range", "between 1 and 315360000, got 0"}},
		{"audit_query", `{"limit":0}`, []string{"limit is out of range", "between 1 and 1000, got 0"}},
		{"create_session", `{"idle_timeout_seconds":1.5}`, []string{"whole number"}},
		{"create_session", `{"idle_timeout_seconds":1e30}`, []string{"out of range", "between 1 and 315360000"}},
		{"read_agent_output", `{"agent_id":"s/a","after":99999999999999999999999}`, []string{"after is out of range"}},
	}
	for _, tc := range cases {
		t.Run(tc.tool+" "+tc.args[:min(len(tc.args), 40)], func(t *testing.T) {
			mustFail(t, call(t, c, tc.tool, tc.args), tc.want...)
		})
	}
	// The server still serves, and nothing was lost.
	got := mustOK(t, call(t, c, "get_session", `{"session_id":"taken"}`))
	if len(got["state"].(map[string]any)) != 0 {
		t.Fatalf("state changed by refused calls: %v", got["state"])
	}
	mustOK(t, call(t, c, "create_session", `{"session_id":"two"}`))
	mustOK(t, call(t, c, "create_session", `{"session_id":"three"}`))
	mustFail(t, call(t, c, "create_session", `{"session_id":"four"}`), "limit of 3", "TROUPE_MAX_SESSIONS")
}

func TestFortyConcurrentCreates(t *testing.T) {
	c := newClient(t, nil)
	var wg sync.WaitGroup
	errs := make(chan string, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := call(t, c, "create_session", fmt.Sprintf(`{"session_id":"p%02d"}`, i)); r.IsError {
				errs <- resultText(r)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := len(mustOK(t, call(t, c, "list_sessions", `{}`))["sessions"].([]any)); n != 40 {
		t.Fatalf("%d sessions, want 40", n)
	}
}
