package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/audit"
	"github.com/troupe-dev/troupe/internal/store"
)

// anchorAudit ties the audit log to the store: a log that ends before the anchor the store
// recorded (cut, emptied or removed while troupe was stopped) is recorded as such in the log
// itself, and from now on the store records the log's durable head with its own writes.
func anchorAudit(st *store.Bolt, l *audit.Log, log zerolog.Logger) error {
	anchor, err := st.AuditAnchor()
	if err != nil {
		return fmt.Errorf("reading the audit anchor from the store: %w", err)
	}
	if seq, hash := l.DurableHead(); anchor != nil && seq < anchor.Seq {
		log.Warn().Uint64("store_seq", anchor.Seq).Uint64("log_seq", seq).
			Msg("audit: the log ends before what the store recorded; it was cut or removed")
		_, err := l.Append(context.Background(), audit.Event{Action: audit.ActionAnchorMismatch, Outcome: audit.OutcomeError,
			Details: map[string]any{"problem": "the log ends before the seq the store recorded: it was cut or removed",
				"store_seq": anchor.Seq, "store_hash": anchor.Hash, "log_seq": seq, "log_hash": hash}})
		if err != nil {
			return err
		}
	}
	st.TrackAuditHead(l.DurableHead)
	return nil
}

// storeAnchor reads the audit anchor of the data directory's store for `troupe audit verify`:
// nil, with a note on w, when there is no store or a running troupe holds it.
func storeAnchor(dataDir string, w io.Writer) (*audit.Anchor, error) {
	path := filepath.Join(dataDir, "troupe.db")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	a, err := store.ReadAuditAnchor(path)
	switch {
	case errors.Is(err, store.ErrBusy):
		fmt.Fprintln(w, "troupe: note: a running troupe holds the store, so the log was checked without "+
			"the anchor the store records; stop it and verify again for the full check")
		return nil, nil
	case err != nil:
		return nil, err
	case a == nil:
		return nil, nil
	}
	return &audit.Anchor{Seq: a.Seq, Hash: a.Hash}, nil
}
