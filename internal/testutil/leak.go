// Package testutil holds what troupe's tests share across packages. Only tests import it.
package testutil

import "go.uber.org/goleak"

// LeakOptions are the goroutines goleak may ignore: protoactor's dead-letter throttle keeps a
// goroutine for one throttle interval (1 s) after a message reached a stopped actor (an agent's
// watcher racing its stop, for instance), and ends by itself.
func LeakOptions() []goleak.Option {
	return []goleak.Option{goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1")}
}
