package tokens

import (
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/testutil"
)

// fakeClock is a settable clock for a Verifier.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestTokenVerifierFollowsStore: with the real clock, a create and a revoke made through another
// Store are seen by a running Verifier. The deadline only keeps a broken test from hanging.
func TestTokenVerifierFollowsStore(t *testing.T) {
	dir := t.TempDir()
	v := NewVerifier(dir)
	if _, err := v.Authenticate(Prefix + "nothing"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("no file: %v, want ErrUnknown", err)
	}
	tok, _, err := Open(dir).Create("ci", ScopeWrite)
	if err != nil {
		t.Fatal(err)
	}
	var last error
	describe := func() string { return "last error: " + errString(last) }
	testutil.Eventually(t, 10*time.Second, "the Verifier accepts a new token", func() bool {
		var r Record
		r, last = v.Authenticate(tok)
		return last == nil && r.Name == "ci" && r.Scope == ScopeWrite
	}, describe)
	if err := Open(dir).Revoke("ci"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the Verifier refuses a revoked token", func() bool {
		_, last = v.Authenticate(tok)
		return errors.Is(last, ErrRevoked)
	}, describe)
}

// TestTokenVerifierCheckInterval: the file is looked at again once CheckInterval has passed,
// and not before (a fake clock; no timing).
func TestTokenVerifierCheckInterval(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{t: time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)}
	v := NewVerifier(dir, withClock(clk.now))
	s := Open(dir)
	tok, _, err := s.Create("ci", ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Authenticate(tok); err != nil {
		t.Fatalf("first Authenticate: %v", err)
	}
	if err := s.Revoke("ci"); err != nil {
		t.Fatal(err)
	}
	clk.advance(CheckInterval / 2)
	if _, err := v.Authenticate(tok); err != nil {
		t.Fatalf("before CheckInterval the cached copy serves: %v", err)
	}
	clk.advance(CheckInterval / 2)
	if _, err := v.Authenticate(tok); !errors.Is(err, ErrRevoked) {
		t.Fatalf("after CheckInterval: %v, want ErrRevoked", err)
	}
	if CheckInterval*5 > time.Second {
		t.Errorf("CheckInterval %v cannot keep DESIGN §12's promise of a second", CheckInterval)
	}
}

// TestTokenVerifierKeepsLastGood: a corrupt or unreadable file leaves the last good contents in
// use and is reported once; a good file again is picked up.
func TestTokenVerifierKeepsLastGood(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{t: time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)}
	var mu sync.Mutex
	var reported []error
	v := NewVerifier(dir, withClock(clk.now), WithErrorLog(func(err error) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	}))
	s := Open(dir)
	tok, _, err := s.Create("ci", ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Authenticate(tok); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(s.Path())

	if err := os.WriteFile(s.Path(), []byte("{torn"), 0o600); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		clk.advance(CheckInterval)
		if r, err := v.Authenticate(tok); err != nil || r.Name != "ci" {
			t.Fatalf("with a corrupt file: %+v, %v; want the last good contents", r, err)
		}
	}
	mu.Lock()
	if len(reported) != 1 || !errors.Is(reported[0], ErrMalformed) {
		t.Errorf("reported %v, want one ErrMalformed", reported)
	}
	mu.Unlock()

	if os.Getuid() != 0 { // root reads a 0000 file
		if err := os.Chmod(s.Path(), 0); err != nil {
			t.Fatal(err)
		}
		clk.advance(CheckInterval)
		if _, err := v.Authenticate(tok); err != nil {
			t.Fatalf("with an unreadable file: %v; want the last good contents", err)
		}
		os.Remove(s.Path())
	}

	if err := os.WriteFile(s.Path()+".new", good, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(s.Path()+".new", s.Path()); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke("ci"); err != nil {
		t.Fatal(err)
	}
	clk.advance(CheckInterval)
	if _, err := v.Authenticate(tok); !errors.Is(err, ErrRevoked) {
		t.Fatalf("after the file was mended and ci revoked: %v, want ErrRevoked", err)
	}
}

func errString(err error) string {
	if err == nil {
		return "none"
	}
	return err.Error()
}

// TestTokenVerifierNewTokenWorksAtOnce: a token created after the Verifier last looked is
// accepted by the very next request, without waiting for CheckInterval (a fake clock that never
// moves), so a script can create a token and use it at once.
func TestTokenVerifierNewTokenWorksAtOnce(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{t: time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)}
	v := NewVerifier(dir, withClock(clk.now))
	if _, err := v.Authenticate(Prefix + "nothing"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("no file: %v, want ErrUnknown", err)
	}
	tok, _, err := Open(dir).Create("fresh", ScopeAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := v.Authenticate(tok); err != nil || r.Name != "fresh" {
		t.Fatalf("a token created after the last look: %+v, %v; want accepted at once", r, err)
	}
}
