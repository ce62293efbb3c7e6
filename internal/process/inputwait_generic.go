//go:build linux && !amd64

package process

// legacyKind knows no other waits: arm64 (and the other architectures on the generic system call
// table) has only pselect6, ppoll and epoll_pwait. The legacy calls of 386 and arm are not
// recognised.
func legacyKind(nr uint64) waitKind { return waitOther }
