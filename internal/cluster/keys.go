package cluster

// The key layout is written out in doc.go.
const (
	prefix          = "/troupe/"
	nodesPrefix     = prefix + "nodes/"
	ownersPrefix    = prefix + "owners/"
	sessionsPrefix  = prefix + "sessions/"
	snapshotsPrefix = prefix + "snapshots/"
	tombsPrefix     = prefix + "tombstones/"
	auditPrefix     = prefix + "audit/"
)

func nodeKey(node string) string      { return nodesPrefix + node }
func ownerKey(sid string) string      { return ownersPrefix + sid }
func sessionKey(sid string) string    { return sessionsPrefix + sid }
func snapshotKey(id string) string    { return snapshotsPrefix + id }
func tombstoneKey(sid string) string  { return tombsPrefix + sid }
func auditHeadKey(node string) string { return auditPrefix + node }

// viewEnd ends the one key range a member watches, nodes and owners together, so that a lost
// node's member key and owner keys (deleted at one revision with its lease) arrive in one
// event batch: "/troupe/nodes/" < "/troupe/owners/" < "/troupe/owners0" ('0' follows '/').
const viewEnd = prefix + "owners0"
