// Package cluster is what lets several troupe daemons act as one (DESIGN §16), on etcd: who is a
// member (a key under the node's own lease, renewed by the node), who owns each session (a key
// under the owner's lease, claimed only if absent, so it never moves while its owner lives and
// vanishes when the owner is lost), writes that only the owner's current lease can make (a
// fencing transaction), the sessions a lost node leaves behind (orphans, for survivors to claim),
// and EtcdStore, the store.Store that keeps records, snapshots and tombstones in etcd.
//
// Fencing is by time as well as by etcd: a node that has not renewed its lease for a whole TTL,
// counted from the moment it sent its last successful renewal, calls its OnFenced callback on a
// local timer (the daemon stops its children there) and writes nothing more. The renewal is sent
// before etcd extends the lease, so the local deadline falls before etcd lets the lease go and
// survivors claim the node's sessions: no session runs on two nodes at once.
//
// Key layout (every key under /troupe/):
//
//	/troupe/nodes/<node>        NodeInfo JSON, under the node's lease
//	/troupe/owners/<session>    the owning node's name, under the owner's lease
//	/troupe/sessions/<session>  store.SessionRecord JSON (not under a lease: records outlive owners)
//	/troupe/snapshots/<id>      store.Snapshot JSON
//	/troupe/tombstones/<session> store.Tombstone JSON
//	/troupe/audit/<node>        AuditHead JSON (not under a lease: a lost node's last head stays)
//	<blob_dir>/records/sha256/… parts of records too big for one etcd request (see blob.go)
//	<blob_dir>/audit/<node>/    each node's audit chain; its key in <blob_dir>/audit-keys/ (auditpaths.go)
package cluster
