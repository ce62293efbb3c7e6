package tokens

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestTokenStoreRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // not yet created: Create makes it
	s := Open(dir)
	if recs, err := s.List(); err != nil || len(recs) != 0 {
		t.Fatalf("List of a new data dir = %v, %v; want nothing", recs, err)
	}
	tokB, recB, err := s.Create("bob", ScopeWrite)
	if err != nil {
		t.Fatal(err)
	}
	tokA, _, err := s.Create("alice.ci", ScopeAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if recB.Name != "bob" || recB.Scope != ScopeWrite || recB.CreatedAt.IsZero() || recB.Revoked() {
		t.Errorf("Create returned %+v", recB)
	}
	for _, tok := range []string{tokA, tokB} {
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, Prefix))
		if !strings.HasPrefix(tok, Prefix) || err != nil || len(raw) != 32 {
			t.Errorf("token %q: want %q and 32 bytes of base64url (err %v, %d bytes)", tok, Prefix, err, len(raw))
		}
	}
	if tokA == tokB {
		t.Error("two tokens are equal")
	}

	// A second Store (another process, say) sees both.
	recs, err := Open(dir).List()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Name != "alice.ci" || recs[1].Name != "bob" {
		t.Fatalf("List = %+v, want alice.ci then bob", recs)
	}
	got, err := Open(dir).Authenticate(tokB)
	if err != nil || got.Name != "bob" || got.Scope != ScopeWrite {
		t.Errorf("Authenticate(bob's token) = %+v, %v; want bob, write", got, err)
	}
	if _, err := s.Authenticate(tokB + "x"); !errors.Is(err, ErrUnknown) {
		t.Errorf("Authenticate(wrong token) error = %v, want ErrUnknown", err)
	}
	if _, err := s.Authenticate(""); !errors.Is(err, ErrUnknown) {
		t.Errorf("Authenticate(\"\") error = %v, want ErrUnknown", err)
	}

	for _, p := range []struct {
		path string
		mode os.FileMode
	}{{dir, 0o700}, {s.Path(), 0o600}} {
		fi, err := os.Stat(p.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != p.mode {
			t.Errorf("%s mode %v, want %v", p.path, fi.Mode().Perm(), p.mode)
		}
	}
}

func TestTokenHashOnlyOnDisk(t *testing.T) {
	dir := t.TempDir()
	tok, _, err := Open(dir).Create("ci", ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimPrefix(tok, Prefix)
	if strings.Contains(string(b), secret) {
		t.Fatalf("the token is in the file:\n%s", b)
	}
	if !strings.Contains(string(b), hashToken(tok)) {
		t.Errorf("the file does not hold the token's SHA-256:\n%s", b)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestTokenDuplicateNameRefused(t *testing.T) {
	s := Open(t.TempDir())
	tok, _, err := s.Create("ci", ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(s.Path())
	_, _, err = s.Create("ci", ScopeAdmin)
	if !errors.Is(err, ErrNameTaken) || !strings.Contains(err.Error(), "revoke") {
		t.Fatalf("second Create(ci) error = %v, want ErrNameTaken saying to revoke first", err)
	}
	after, _ := os.ReadFile(s.Path())
	if string(before) != string(after) {
		t.Error("a refused Create changed the file")
	}
	if r, err := s.Authenticate(tok); err != nil || r.Scope != ScopeRead {
		t.Errorf("the first token: %+v, %v; want it still valid, read", r, err)
	}
}

func TestTokenRevokeAndRecreate(t *testing.T) {
	s := Open(t.TempDir())
	old, _, err := s.Create("ci", ScopeWrite)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke("ci"); err != nil {
		t.Fatal(err)
	}
	r, err := s.Authenticate(old)
	if !errors.Is(err, ErrRevoked) || r.Name != "ci" {
		t.Fatalf("Authenticate(revoked) = %+v, %v; want ci, ErrRevoked", r, err)
	}
	recs, _ := s.List()
	if len(recs) != 1 || !recs[0].Revoked() {
		t.Fatalf("List after revoke = %+v, want ci kept, revoked", recs)
	}
	if err := s.Revoke("ci"); err != nil {
		t.Errorf("revoking twice: %v, want no error", err)
	}
	if err := s.Revoke("nobody"); !errors.Is(err, ErrNoSuchName) || !strings.Contains(err.Error(), "troupe token list") {
		t.Errorf("Revoke(unknown) error = %v, want ErrNoSuchName pointing at troupe token list", err)
	}
	if err := Open(filepath.Join(t.TempDir(), "none")).Revoke("ci"); !errors.Is(err, ErrNoSuchName) {
		t.Errorf("Revoke in a missing data dir: %v, want ErrNoSuchName", err)
	}

	fresh, rec, err := s.Create("ci", ScopeAudit)
	if err != nil {
		t.Fatalf("re-creating a revoked name: %v", err)
	}
	if rec.Revoked() || rec.Scope != ScopeAudit {
		t.Errorf("re-created record %+v", rec)
	}
	if r, err := s.Authenticate(fresh); err != nil || r.Scope != ScopeAudit {
		t.Errorf("the new token: %+v, %v; want valid, audit", r, err)
	}
	if _, err := s.Authenticate(old); !errors.Is(err, ErrUnknown) {
		t.Errorf("the replaced token: %v, want ErrUnknown", err)
	}
}

func TestTokenBadNamesAndScopes(t *testing.T) {
	long := strings.Repeat("a", 64)
	tests := []struct {
		name    string
		scope   Scope
		wantErr error
	}{
		{"ci", ScopeRead, nil},
		{"0.build_bot-1", ScopeAdmin, nil},
		{long, ScopeWrite, nil},
		{long + "a", ScopeWrite, ErrInvalidName},
		{"", ScopeRead, ErrInvalidName},
		{"CI", ScopeRead, ErrInvalidName},
		{"-ci", ScopeRead, ErrInvalidName},
		{".ci", ScopeRead, ErrInvalidName},
		{"c i", ScopeRead, ErrInvalidName},
		{"ci/x", ScopeRead, ErrInvalidName},
		{"é", ScopeRead, ErrInvalidName},
		{"local", ScopeAdmin, ErrInvalidName},
		{"ok", "", ErrInvalidScope},
		{"ok", "Admin", ErrInvalidScope},
		{"ok", "root", ErrInvalidScope},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q/%q", tt.name, tt.scope), func(t *testing.T) {
			dir := t.TempDir()
			_, _, err := Open(dir).Create(tt.name, tt.scope)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Create error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil {
				return
			}
			if tt.wantErr == ErrInvalidName && tt.name != "local" && !strings.Contains(err.Error(), "1-64 characters of a-z, 0-9") {
				t.Errorf("error %q does not state the rule", err)
			}
			if tt.wantErr == ErrInvalidScope && !strings.Contains(err.Error(), "read, write, audit, admin") {
				t.Errorf("error %q does not list the scopes", err)
			}
			if _, err := os.Stat(filepath.Join(dir, FileName)); !os.IsNotExist(err) {
				t.Errorf("a refused Create wrote the file (stat: %v)", err)
			}
		})
	}
}

func TestTokenConcurrentGoroutines(t *testing.T) {
	dir := t.TempDir()
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			s := Open(dir)
			for i := range each {
				if _, _, err := s.Create(fmt.Sprintf("g%d-%d", w, i), ScopeRead); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assertCount(t, dir, workers*each)
}

func TestTokenConcurrentProcesses(t *testing.T) {
	dir := t.TempDir()
	const procs, each = 2, 25
	cmds := make([]*exec.Cmd, procs)
	for p := range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "TROUPE_TOKENS_HELPER_DIR="+dir,
			fmt.Sprintf("TROUPE_TOKENS_HELPER_PREFIX=p%d", p), fmt.Sprintf("TROUPE_TOKENS_HELPER_N=%d", each))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[p] = cmd
	}
	// This process creates too, at the same time.
	s := Open(dir)
	for i := range each {
		if _, _, err := s.Create(fmt.Sprintf("main-%03d", i), ScopeRead); err != nil {
			t.Error(err)
		}
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper process: %v", err)
		}
	}
	assertCount(t, dir, (procs+1)*each)
}

func assertCount(t *testing.T, dir string, want int) {
	t.Helper()
	recs, err := Open(dir).List()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != want {
		t.Fatalf("%d tokens listed, want %d: a create was lost", len(recs), want)
	}
}

func TestTokenCorruptFileNotOverwritten(t *testing.T) {
	for name, content := range map[string]string{
		"not JSON":      "{not json",
		"wrong version": `{"version": 9, "tokens": []}`,
		"bad hash":      `{"version": 1, "tokens": [{"name": "ci", "scope": "read", "created_at": "2026-11-28T00:00:00Z", "hash": "x"}]}`,
		"bad scope":     `{"version": 1, "tokens": [{"name": "ci", "scope": "root", "created_at": "2026-11-28T00:00:00Z", "hash": "` + strings.Repeat("0", 64) + `"}]}`,
		"empty":         "",
	} {
		t.Run(name, func(t *testing.T) {
			s := Open(t.TempDir())
			if err := os.WriteFile(s.Path(), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			check := func(op string, err error) {
				t.Helper()
				if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), s.Path()) {
					t.Errorf("%s error = %v, want ErrMalformed naming %s", op, err, s.Path())
				}
			}
			_, _, err := s.Create("new", ScopeRead)
			check("Create", err)
			check("Revoke", s.Revoke("ci"))
			_, err = s.List()
			check("List", err)
			_, err = s.Authenticate(Prefix + "x")
			check("Authenticate", err)
			b, _ := os.ReadFile(s.Path())
			if string(b) != content {
				t.Errorf("the file was changed to:\n%s", b)
			}
		})
	}
}
