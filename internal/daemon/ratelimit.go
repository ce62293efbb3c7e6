package daemon

import (
	"math"
	"sync"
	"time"
)

// Failed authentications per client IP: a token bucket of failBurst failures, refilled at
// failRate a second. An IP with no failure left is answered 429 on every request, before its
// token is looked at, until the bucket refills.
const (
	failBurst = 10
	failRate  = 1.0
	// failIPs bounds the IPs remembered; past it, refilled buckets are forgotten first.
	failIPs = 10000
)

// failLimiter counts failed authentications per client IP. Safe for concurrent use.
type failLimiter struct {
	now     func() time.Time
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newFailLimiter(now func() time.Time) *failLimiter {
	if now == nil {
		now = time.Now
	}
	return &failLimiter{now: now, buckets: map[string]*bucket{}}
}

// refill brings b up to now; the caller holds l.mu.
func (l *failLimiter) refill(b *bucket, now time.Time) {
	b.tokens = min(failBurst, b.tokens+now.Sub(b.last).Seconds()*failRate)
	b.last = now
}

// retryAfter is 0 when ip may try again now, else how long until it may.
func (l *failLimiter) retryAfter(ip string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[ip]
	if !ok {
		return 0
	}
	l.refill(b, l.now())
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1-b.tokens)/failRate*1000)) * time.Millisecond
}

// fail records a failed authentication from ip and reports whether this one used up its
// allowance (from now on ip is answered 429 until its bucket refills).
func (l *failLimiter) fail(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[ip]
	if !ok {
		if len(l.buckets) >= failIPs {
			l.prune(now)
		}
		b = &bucket{tokens: failBurst, last: now}
		l.buckets[ip] = b
	}
	l.refill(b, now)
	wasAllowed := b.tokens >= 1
	b.tokens = max(0, b.tokens-1)
	return wasAllowed && b.tokens < 1
}

// prune forgets the IPs whose bucket is full again, and when none is, an arbitrary half: an
// attacker with many addresses must not grow the map without bound. The caller holds l.mu.
func (l *failLimiter) prune(now time.Time) {
	for ip, b := range l.buckets {
		if l.refill(b, now); b.tokens >= failBurst {
			delete(l.buckets, ip)
		}
	}
	for ip := range l.buckets {
		if len(l.buckets) < failIPs/2 {
			break
		}
		delete(l.buckets, ip)
	}
}
