package messages

// AdoptSessions asks this node's orchestrator to bring up the sessions the store gives it that
// it does not run yet (in a cluster: those claimed after their node was lost, DESIGN §16). It is
// local to a node: never routed.
type AdoptSessions struct{}

// AdoptSessionsResult names the sessions brought up.
type AdoptSessionsResult struct {
	Adopted []string
	Err     *Error
}
