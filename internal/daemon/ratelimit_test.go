package daemon

import (
	"strconv"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/testutil"
)

func TestFailLimiterBurstRefillAndBound(t *testing.T) {
	clock := testutil.NewClock()
	l := newFailLimiter(clock.Now)
	for i := 0; i < failBurst; i++ {
		if wait := l.retryAfter("10.0.0.1"); wait != 0 {
			t.Fatalf("after %d failures: retry after %s, want let through", i, wait)
		}
		if limited := l.fail("10.0.0.1"); limited != (i == failBurst-1) {
			t.Fatalf("failure %d: limited = %v", i+1, limited)
		}
	}
	if wait := l.retryAfter("10.0.0.1"); wait <= 0 || wait > time.Second {
		t.Fatalf("after a burst: retry after %s, want within (0, 1s]", wait)
	}
	if wait := l.retryAfter("10.0.0.2"); wait != 0 {
		t.Fatalf("another IP: retry after %s, want 0", wait)
	}
	clock.Advance(time.Second)
	if wait := l.retryAfter("10.0.0.1"); wait != 0 {
		t.Fatalf("a second later: retry after %s, want one more try allowed", wait)
	}
	for i := 0; i < failIPs+10; i++ {
		l.fail("10.1." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256))
	}
	if n := len(l.buckets); n > failIPs {
		t.Fatalf("%d IPs remembered, want at most %d", n, failIPs)
	}
}
