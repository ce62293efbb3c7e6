//go:build linux && amd64

package process

import "golang.org/x/sys/unix"

// legacyKind knows the waits amd64 has beside the generic ones (arm64 and the other newer
// architectures have only pselect6, ppoll and epoll_pwait).
func legacyKind(nr uint64) waitKind {
	switch nr {
	case unix.SYS_SELECT:
		return waitSelect
	case unix.SYS_POLL:
		return waitPoll
	case unix.SYS_EPOLL_WAIT:
		return waitEpoll
	}
	return waitOther
}
