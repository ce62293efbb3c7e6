package daemon

import (
	"bytes"
	"fmt"
	"net"
	"os"

	"github.com/troupe-dev/troupe/internal/process"
	"golang.org/x/sys/unix"
)

// peerUID returns the uid of the process at the other end of a unix socket (SO_PEERCRED).
func peerUID(c net.Conn) (int, error) {
	_, uid, err := peerProcess(c)
	return uid, err
}

// sameUser reports whether the socket's peer runs as this process's user.
func sameUser(c net.Conn) (bool, error) {
	uid, err := peerUID(c)
	if err != nil {
		return false, err
	}
	return uid == os.Getuid(), nil
}

// peerProcess returns the pid and uid of the process at the other end of a socket request.
func peerProcess(c net.Conn) (pid, uid int, err error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return 0, 0, fmt.Errorf("not a unix socket connection: %T", c)
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return 0, 0, err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, 0, err
	}
	if credErr != nil {
		return 0, 0, credErr
	}
	return int(cred.Pid), int(cred.Uid), nil
}

// descendsFromOrTagged reports whether pid is a descendant of ancestor (its parent chain in
// /proc reaches it), or it or one of its ancestors carries a non-empty tokenEnv in the
// environment it was started with (what troupe sets for its agents). A process that left the
// tree (double fork, setsid and reparenting to init) and was started without the variable is
// not seen: this refuses the ordinary ways, not a determined escape.
func descendsFromOrTagged(pid, ancestor int, tokenEnv string) (bool, string) {
	for p, depth := pid, 0; p > 1 && depth < 512; depth++ {
		if p == ancestor {
			return true, fmt.Sprintf("pid %d descends from the daemon, pid %d", pid, ancestor)
		}
		if env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", p)); err == nil {
			for _, e := range bytes.Split(env, []byte{0}) {
				if v, ok := bytes.CutPrefix(e, []byte(tokenEnv+"=")); ok && len(v) > 0 {
					return true, fmt.Sprintf("pid %d carries %s", p, tokenEnv)
				}
			}
		}
		next, err := process.ParentOf(p)
		if err != nil {
			return false, ""
		}
		p = next
	}
	return false, ""
}
