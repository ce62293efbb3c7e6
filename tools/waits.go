package tools

// The waits of the agent tools (DESIGN §13): wait_seconds capped at max_wait_seconds, and wait_for.

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/troupe-dev/troupe/messages"
)

// maxWaitArg is the most wait_seconds a call may ask for; the server's max_wait_seconds caps
// the wait itself.
const maxWaitArg = 3600.0

// maxWaitForChars bounds a wait_for pattern.
const maxWaitForChars = 1024

func waitDesc(what string, d Deps) string {
	return fmt.Sprintf("How long to wait %s, in seconds (default 0: answer at once). Waits are capped at %g s (the server's max_wait_seconds): "+
		"a capped answer says capped=true; call again to go on waiting.", what, d.maxWait().Seconds())
}

func waitForDesc(over string) string {
	return "A regular expression (RE2; ^ and $ match at line ends): the wait lasts until it matches " + over +
		", or the agent waits for input again or exits, or the time is up."
}

// waitArgs checks wait_seconds and wait_for, and caps the wait at max_wait_seconds.
func (d Deps) waitArgs(seconds float64, waitFor string) (float64, bool, *messages.Error) {
	if seconds < 0 || seconds > maxWaitArg || seconds != seconds {
		return 0, false, messages.Errorf(messages.CodeInvalidArgument, "wait_seconds must be between 0 and %g, got %v (waits are capped at %g s)", maxWaitArg, seconds, d.maxWait().Seconds())
	}
	if waitFor != "" {
		if len(waitFor) > maxWaitForChars {
			return 0, false, messages.Errorf(messages.CodeInvalidArgument, "wait_for is %d bytes, over the limit of %d", len(waitFor), maxWaitForChars)
		}
		if _, err := regexp.Compile(waitFor); err != nil {
			return 0, false, messages.Errorf(messages.CodeInvalidArgument, "wait_for is not a valid regular expression (Go RE2 syntax): %v", err)
		}
		if seconds == 0 {
			return 0, false, messages.Errorf(messages.CodeInvalidArgument, "wait_for needs wait_seconds: say how long to wait for it (waits are capped at %g s)", d.maxWait().Seconds())
		}
	}
	s, capped := d.capWait(seconds)
	return s, capped, nil
}

// askWaiting is ask with room for a long poll of wait seconds.
func askWaiting[T any](ctx context.Context, d Deps, msg any, wait float64) (T, *messages.Error) {
	d.Timeout += time.Duration(wait * float64(time.Second))
	return ask[T](ctx, d, msg)
}

// maxWait is the cap on waits.
func (d Deps) maxWait() time.Duration {
	if d.MaxWait <= 0 {
		return 45 * time.Second
	}
	return d.MaxWait
}

// capWait caps a requested wait; it reports whether it was cut.
func (d Deps) capWait(seconds float64) (float64, bool) {
	if c := d.maxWait().Seconds(); seconds > c {
		return c, true
	}
	return seconds, false
}
