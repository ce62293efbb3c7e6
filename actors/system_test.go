package actors

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/messages"
)

// TestRequestStopsWaitingWhenTheCallerGoes: a long poll must not hold a caller (or a shutdown)
// whose context ended.
func TestRequestStopsWaitingWhenTheCallerGoes(t *testing.T) {
	h := newHarness(t, nil)
	h.sessionWithAgents("s", 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the caller is already gone: without the mechanism this would wait for the timeout
	_, err := h.sys.Request(ctx, &messages.ReadAgentOutput{AgentID: "s/a1", After: 1 << 40, WaitSeconds: 300}, 10*time.Second)
	if err == nil || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("err = %v, want the cancellation", err)
	}
}
