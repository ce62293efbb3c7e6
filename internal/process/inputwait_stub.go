package process

import "errors"

// InputWaiting is being written (branch inputwait); until it lands no process is seen waiting.
func InputWaiting(leader int) (bool, error) {
	return false, errors.New("input-wait detection is not built yet")
}
