package actors

import (
	"fmt"
	"sort"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/messages"
)

// childKind is one kind of session child (agent, page, …): the seam that lets a new kind be one
// file plus its registration. The session's generic code — creation order, get_session, the
// delete cascade, rollback, restore, recovery, counts, routing — goes through it and never
// compares kind names.
//
// Every kind's actor speaks the shared stop protocol: it answers *stopChild with *childStopped
// once its work has ended (or why it could not), and the session then stops the actor.
type childKind interface {
	// start spawns the actor of c from its stored spec (c.spec.Spec) and adds c to the session's
	// children, in creation order: fresh for a create, recovered after a server restart,
	// reopened by a rollback or a restore.
	start(s *sessionActor, ctx actor.Context, c *child, mode startMode) error
	// receive handles the session-side messages of the kind — its create and delete requests,
	// what its actors report — and tells whether msg was one of them.
	receive(s *sessionActor, ctx actor.Context, msg any) bool
	// tools names the tools that act on this kind, for a caller who named one of its children
	// in another kind's tool.
	tools() string
}

// staleEnder is a kind whose children can leave something running after a crash (an agent's
// process group); a delete finished at start-up ends it.
type staleEnder interface {
	endStale(o *orchestrator, spec store.ChildSpec)
}

// kinds holds one implementation per child kind, registered by the kind's own file.
var kinds = map[messages.ChildKind]childKind{}

// registerKind adds a child kind; each kind's file calls it from init.
func registerKind(k messages.ChildKind, impl childKind) {
	if _, dup := kinds[k]; dup {
		panic(fmt.Sprintf("actors: child kind %q registered twice", k))
	}
	kinds[k] = impl
}

// kindOf returns the implementation of a stored child's kind.
func kindOf(k messages.ChildKind) (childKind, error) {
	impl, ok := kinds[k]
	if !ok {
		return nil, fmt.Errorf("unknown child kind %q", k)
	}
	return impl, nil
}

// ChildKinds lists the registered child kinds, sorted, for renderings that show a count per kind.
func ChildKinds() []messages.ChildKind {
	out := make([]messages.ChildKind, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// countKinds counts children specs by kind.
func countKinds(children []store.ChildSpec) map[messages.ChildKind]int {
	n := make(map[messages.ChildKind]int)
	for _, c := range children {
		n[c.Kind]++
	}
	return n
}

// article is "a" or "an" before a kind's name, for messages that read well.
func article(k messages.ChildKind) string {
	if s := string(k); s != "" && (s[0] == 'a' || s[0] == 'e' || s[0] == 'i' || s[0] == 'o' || s[0] == 'u') {
		return "an " + s
	}
	return "a " + string(k)
}
