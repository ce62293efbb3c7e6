//go:build !linux

package process

import "errors"

// InputWaiting reports whether the agent whose process group leader is leader is blocked waiting
// for input. It reads /proc, so it exists on Linux only: elsewhere it always fails.
func InputWaiting(leader int) (bool, error) {
	return false, errors.New("input-wait detection needs Linux (/proc): the agent's state cannot be told on this system")
}
