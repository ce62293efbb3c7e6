package messages

// ChildKind is the kind of a session's child, as stored and as answered (`kind`). The actors
// register one implementation per kind; code that uses kinds never compares their names.
type ChildKind string

// The child kinds.
const (
	KindAgent ChildKind = "agent"
	KindPage  ChildKind = "page"
)
