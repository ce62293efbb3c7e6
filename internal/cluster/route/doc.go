// Package route lets any node of a cluster serve any session (DESIGN §16, "Routing"): a call
// that names a session goes to the node that owns it, over Proto.Actor remote, and its answer
// comes back; a create or restore is placed on the least-loaded node first; list_sessions and
// session_metrics ask every live node and merge.
//
// Three pieces:
//
//   - the codec (codec.go): every message the tools send and every reply, as an anypb.Any whose
//     type URL names the messages type ("type.troupe.dev/messages.GetSession") and whose value
//     is its JSON;
//   - the gateway (gateway.go): per node, its own actor system with a Proto.Actor remote on the
//     node's advertise address and an actor "troupe-gateway" that decodes a call, runs it on
//     the node's own actors and answers with the encoded result;
//   - the Router (router.go): what the tools ask instead of the actors (the tools.Requester
//     interface), deciding per message where it runs.
//
// Progress of a routed delete_session comes back to the caller's node (progress.go): the
// owner's gateway sends each step to the caller's gateway, which hands it to the local sink.
//
// A daemon in a cluster wires it so, in this order:
//
//	gw, err := route.StartGateway(route.GatewayOptions{Node: cfg.Node, Advertise: cfg.Advertise,
//		Progress: progress.Report, Logger: log})       // first: see StartGateway
//	sys, err := actors.Start(actors.Options{..., Progress: gw.Report})
//	m, err := cluster.Join(...)
//	st := cluster.NewEtcdStore(m)
//	deps.Actors = route.New(sys, route.Member(m, st), gw, route.Options{Logger: log})
//	...
//	gw.Stop(ctx) // after the MCP endpoints, before the actors shut down
//
// Only the tools ask the Router: the daemon's own questions about its node (its load, its idle
// exit, adopting sessions) go to its actors directly.
package route
