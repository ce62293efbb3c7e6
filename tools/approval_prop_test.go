package tools

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"pgregory.net/rapid"

	"github.com/troupe-dev/troupe/internal/approval"
	"github.com/troupe-dev/troupe/messages"
)

// TestApprovalProperties drives calls of a gated tool and people's decisions in random order
// against a model: a session is deleted only by a call made after a yes for exactly that call, a
// no is answered once and changes nothing, a call without a decision answers its approval's id,
// and what waits is what the model says waits.
func TestApprovalProperties(t *testing.T) {
	// A short wait: each undecided call waits it out.
	c, broker, _ := approvalServer(t, time.Millisecond, nil)
	round := 0
	rapid.Check(t, func(rt *rapid.T) {
		round++
		ids := []string{fmt.Sprintf("p%d-a", round), fmt.Sprintf("p%d-b", round)}
		type state struct {
			exists   bool
			approval string // the open approval of delete_session(id), "" none
			decided  string // "", "approve", "deny"
		}
		model := map[string]*state{}
		for _, id := range ids {
			mustOK(t, call(t, c, "create_session", `{"session_id":"`+id+`"}`))
			model[id] = &state{exists: true}
		}
		rt.Repeat(map[string]func(*rapid.T){
			"delete": func(rt *rapid.T) {
				id := rapid.SampledFrom(ids).Draw(rt, "id")
				s := model[id]
				r := call(t, c, "delete_session", `{"session_id":"`+id+`"}`)
				switch {
				case !s.exists:
					// Asked about all the same: a person decides before the call reaches the
					// session (which then says it was deleted).
					if !r.IsError {
						rt.Fatalf("deleting the deleted %s succeeded", id)
					}
					if s.decided != "" {
						s.approval, s.decided = "", ""
					} else if code := errorCode(r); code == string(messages.CodeApprovalPending) {
						s.approval = approvalIDOf(rt, r)
					}
				case s.decided == "approve":
					if r.IsError {
						rt.Fatalf("an approved delete of %s failed: %s", id, resultText(r))
					}
					s.exists, s.approval, s.decided = false, "", ""
				case s.decided == "deny":
					if errorCode(r) != string(messages.CodeApprovalDenied) {
						rt.Fatalf("a denied delete of %s answered %s", id, resultText(r))
					}
					s.approval, s.decided = "", ""
				default:
					if errorCode(r) != string(messages.CodeApprovalPending) {
						rt.Fatalf("an undecided delete of %s answered %s", id, resultText(r))
					}
					got := approvalIDOf(rt, r)
					if s.approval != "" && got != s.approval {
						rt.Fatalf("the same call made again got approval %s, want %s", got, s.approval)
					}
					s.approval = got
				}
			},
			"decide": func(rt *rapid.T) {
				id := rapid.SampledFrom(ids).Draw(rt, "id")
				yes := rapid.Bool().Draw(rt, "approve")
				s := model[id]
				if s.approval == "" {
					if _, err := broker.Decide("apr_0000000000000000", approval.Decision{Approve: yes}); err == nil {
						rt.Fatal("a decision on nothing was taken")
					}
					return
				}
				_, err := broker.Decide(s.approval, approval.Decision{Approve: yes, Approver: "prop"})
				if s.decided != "" {
					if err == nil {
						rt.Fatal("a second decision was taken")
					}
					return
				}
				if err != nil {
					rt.Fatalf("deciding %s: %v", s.approval, err)
				}
				s.decided = map[bool]string{true: "approve", false: "deny"}[yes]
			},
			"": func(rt *rapid.T) {
				for _, id := range ids {
					r := call(t, c, "get_session", `{"session_id":"`+id+`"}`)
					if r.IsError == model[id].exists {
						rt.Fatalf("session %s exists=%v, the model says %v", id, !r.IsError, model[id].exists)
					}
				}
				want := 0
				for _, s := range model {
					if s.approval != "" && s.decided == "" {
						want++
					}
				}
				if got := len(broker.Pending(nil)); got != want {
					rt.Fatalf("%d approvals wait, the model says %d", got, want)
				}
			},
		})
		// Leave nothing open and no session for the next round: each id's approval is decided
		// yes and used.
		for _, id := range ids {
			s := model[id]
			if s.approval == "" {
				s.approval = approvalIDOf(rt, call(t, c, "delete_session", `{"session_id":"`+id+`"}`))
			}
			_, _ = broker.Decide(s.approval, approval.Decision{Approve: true, Approver: "prop"})
			call(t, c, "delete_session", `{"session_id":"`+id+`"}`)
		}
		if p := broker.Pending(nil); len(p) != 0 {
			rt.Fatalf("left open: %+v", p)
		}
	})
}

// errorCode is the code of a tool error ("" for a success).
func errorCode(r *mcp.CallToolResult) string {
	m, _ := r.StructuredContent.(map[string]any)
	e, _ := m["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// approvalIDOf is the approval id a pending answer names.
func approvalIDOf(t *rapid.T, r *mcp.CallToolResult) string {
	for _, f := range strings.Fields(resultText(r)) {
		if strings.HasPrefix(f, "apr_") {
			return strings.Trim(f, "`.;,")
		}
	}
	t.Fatalf("no approval id in %q", resultText(r))
	return ""
}
