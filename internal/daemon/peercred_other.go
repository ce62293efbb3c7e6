//go:build !linux

package daemon

import "net"

// sameUser: outside Linux the socket's 0600 mode in the 0700 data dir is the only check.
func sameUser(net.Conn) (bool, error) { return true, nil }
