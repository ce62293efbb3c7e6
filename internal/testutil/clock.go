package testutil

import (
	"sync"
	"time"
)

// Clock is a settable clock for tests (it satisfies actors.Clock): it moves only when told.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock at a fixed instant, 2026-11-21 08:00 UTC.
func NewClock() *Clock { return &Clock{now: time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
