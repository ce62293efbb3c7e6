package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/troupe-dev/troupe/audit"
	"github.com/troupe-dev/troupe/internal/store"
)

// anchoredData writes an audit log tied to a store, as `troupe serve` does, and returns the
// data dir and the number of lines in the log.
func anchoredData(t *testing.T) (string, int) {
	t.Helper()
	data := auditData(t)
	st, err := store.Open(filepath.Join(data, "troupe.db"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(data, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := anchorAudit(st, l, zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	if err := st.PutSession(store.SessionRecord{ID: "s"}); err != nil { // any write records the anchor
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(data, audit.DirName, audit.SegmentName(1)))
	return data, bytes.Count(b, []byte("\n"))
}

// TestAuditVerifyUsesTheStoreAnchor: lines cut from the end of the log, with the head file
// rewritten to match, verified as intact; the store's anchor catches it (issue 11, item 5),
// and so does the next start, which records the cut in the log itself.
func TestAuditVerifyUsesTheStoreAnchor(t *testing.T) {
	defer goleak.VerifyNone(t)
	data, n := anchoredData(t)
	if out, _, code := auditCLI(t, "audit", "verify", "--data-dir", data); code != 0 {
		t.Fatalf("intact anchored log: exit %d, %q", code, out)
	}
	seg := filepath.Join(data, audit.DirName, audit.SegmentName(1))
	b, _ := os.ReadFile(seg)
	lines := bytes.SplitAfter(b, []byte("\n"))
	keep := lines[:n-3]
	os.WriteFile(seg, bytes.Join(keep, nil), 0o600)
	last := keep[len(keep)-1]
	hash := string(last[len(last)-67 : len(last)-3])
	head := fmt.Sprintf("troupe-audit-head v1 seq=%020d hash=%64s\n", n-3, hash)
	os.WriteFile(filepath.Join(data, audit.DirName, audit.HeadName), []byte(head), 0o600)

	out, _, code := auditCLI(t, "audit", "verify", "--data-dir", data)
	if code != 1 || !strings.Contains(out, "store recorded seq") {
		t.Fatalf("cut log with its head rewritten: exit %d, %q; want 1 naming the store's record", code, out)
	}

	st, err := store.Open(filepath.Join(data, "troupe.db"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(data, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = anchorAudit(st, l, zerolog.Nop())
	l.Close()
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	evs, err := audit.Query(filepath.Join(data, audit.DirName), audit.Filter{Action: audit.ActionAnchorMismatch})
	if err != nil || len(evs) != 1 {
		t.Fatalf("events %v, %v; want one %s recorded at the next start", evs, err, audit.ActionAnchorMismatch)
	}
}

// TestAuditVerifyRefusesAWipedLog: emptying the only segment and removing the head, or
// removing the whole audit directory, verified as "intact: 0 events".
func TestAuditVerifyRefusesAWipedLog(t *testing.T) {
	defer goleak.VerifyNone(t)
	data, _ := anchoredData(t)
	os.WriteFile(filepath.Join(data, audit.DirName, audit.SegmentName(1)), nil, 0o600)
	os.Remove(filepath.Join(data, audit.DirName, audit.HeadName))
	if out, _, code := auditCLI(t, "audit", "verify", "--data-dir", data); code != 1 {
		t.Fatalf("emptied log: exit %d, %q; want 1", code, out)
	}
	os.RemoveAll(filepath.Join(data, audit.DirName))
	if out, errOut, code := auditCLI(t, "audit", "verify", "--data-dir", data); code != 1 {
		t.Fatalf("removed log: exit %d, %q %q; want 1", code, out, errOut)
	}
}
