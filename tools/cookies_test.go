package tools

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// set_cookies refuses, as tool errors that say what to fix, cookies a browser refuses or would
// not keep, and more cookies than it keeps for one site (issue 11: an invalid domain, a NUL or
// a 10 MB value answered -32603 internal error; 10,000 cookies kept 173 and said nothing).
func TestSetCookiesRefusesWhatABrowserCannotKeep(t *testing.T) {
	c, _ := pageClient(t)
	mustOK(t, call(t, c, "create_session", `{"session_id":"ck"}`))
	many := make([]map[string]any, 10000)
	for i := range many {
		many[i] = map[string]any{"name": fmt.Sprintf("c%d", i), "value": "v", "domain": "site.test"}
	}
	manyJSON, _ := json.Marshal(many)
	for _, tc := range []struct{ cookie, want string }{
		{`{"name":"a","value":"v","domain":"exa mple.com"}`, "not a host name"},
		{`{"name":"a","value":"v","domain":"site.test:443"}`, "not a host name"},
		{`{"name":"a","value":"v\u0000x","domain":"site.test"}`, "control character"},
		{`{"name":"a","value":"` + strings.Repeat("v", 1<<20) + `","domain":"site.test"}`, "cookies[0].value is too long"},
		{`{"name":"a","value":"` + strings.Repeat("v", 4096) + `","domain":"site.test"}`, "over the 4096 a browser keeps"},
		{`{"name":"a","value":"v","domain":"site.test","path":"x"}`, `starts with "/"`},
	} {
		r := call(t, c, "set_cookies", `{"session_id":"ck","cookies":[`+tc.cookie+`]}`)
		mustFail(t, r, tc.want)
		if len(resultText(r)) > 1000 {
			t.Errorf("the error is %d bytes", len(resultText(r)))
		}
	}
	mustFail(t, call(t, c, "set_cookies", `{"session_id":"ck","cookies":`+string(manyJSON)+`}`), "cookies has 10000 items, over the limit of 180")
	got := mustOK(t, call(t, c, "get_cookies", `{"session_id":"ck"}`))
	if n := len(got["cookies"].([]any)); n != 0 {
		t.Fatalf("%d cookies after refused calls, want 0", n)
	}
}
