package cluster

import "path/filepath"

// Where a cluster's audit chains live (DESIGN §16): one hash chain per node, in the shared blob
// dir, so that any node (or `troupe audit verify --cluster` anywhere the blob dir is mounted) can
// check every chain, and a lost node's chain stays readable after its machine is gone:
//
//	<blob_dir>/audit/<node>/           the node's segments, head file and lock (audit.OpenAt)
//	<blob_dir>/audit-keys/<node>.key   the key its chain and redactions are keyed with (0600)
//
// The key. On one machine it is <data>/audit.key, outside the audit directory, and the model is:
// whoever can write the log but not read the key cannot forge it. In a cluster a verifier must
// check chains it did not write, including a dead node's, so each node's key is kept in the blob
// dir too, in a directory of its own next to the chains rather than inside them: the audit/ tree
// can be copied or shared for reading without the keys (as <data>/audit/ can without
// <data>/audit.key), and the key follows the chain when a node comes back on another machine
// with a fresh data dir. The cost: whoever can read audit-keys/ can recompute a chain and test
// guesses against redacted secrets' HMACs. Against that, each node's head is published to etcd
// every second (PublishAuditHeads), outside the blob dir: a chain rewritten by a key holder no
// longer reaches its published head, so only the last unpublished second can be forged without
// write access to etcd as well. Publishing the keys in etcd instead would only move the same
// exposure to everyone who can read etcd, and keep both anchor and key in one place.
const (
	auditChainsDir = "audit"
	auditKeysDir   = "audit-keys"
)

// AuditRoot is the directory holding every node's chain: <blob_dir>/audit.
func AuditRoot(blobDir string) string { return filepath.Join(blobDir, auditChainsDir) }

// AuditDir is node's chain: <blob_dir>/audit/<node>.
func AuditDir(blobDir, node string) string { return filepath.Join(AuditRoot(blobDir), node) }

// AuditKeyPath is the key node's chain is keyed with: <blob_dir>/audit-keys/<node>.key.
func AuditKeyPath(blobDir, node string) string {
	return filepath.Join(blobDir, auditKeysDir, node+".key")
}
