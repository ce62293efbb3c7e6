package proptest

import (
	"fmt"
	"testing"

	"github.com/troupe-dev/troupe/messages"
)

// TestSendKeysWaitMatchesTheEcho is what TestLifecycle found under -race (seed
// 4311205533900827870 at -rapid.checks=300; flaky there): send_keys with a wait_for that the
// keys' own echo matches must answer matched (DESIGN §13: wait_for is a regular expression over
// the screen; the wait ends when it matches), however the echo and the end of the write are
// ordered. It sends the keys many times to catch the ordering that loses the match.
func TestSendKeysWaitMatchesTheEcho(t *testing.T) {
	w := newWorld(t)
	w.createSession(t, "s1", false)
	w.createAgent(t, "s1", "c1", terminal, 6, 30)
	missed := 0
	for i := range 200 {
		text := fmt.Sprintf("line%d", i)
		res := w.ask(t, &messages.SendKeys{AgentID: "s1/c1", Text: text, Keys: []string{"Enter"}, WaitFor: text, WaitSeconds: tinyWait})
		r, ok := res.(*messages.ScreenResult)
		if !ok {
			t.Fatalf("send_keys answered %T %+v", res, res)
		}
		if !r.Matched && onRow(r.Lines, text) {
			missed++
			if missed == 1 {
				t.Logf("send_keys %q, wait_for %q: matched %t timed_out %t state %s, screen %q", text, text, r.Matched, r.TimedOut, r.State, r.Lines)
			}
		}
	}
	if missed > 0 {
		t.Errorf("send_keys did not see its echo, which the screen showed, %d times in 200", missed)
	}
}
