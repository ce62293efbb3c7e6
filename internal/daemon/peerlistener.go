package daemon

import (
	"net"

	"github.com/rs/zerolog"
)

// peerListener accepts only connections from this process's OS user on the unix socket: its
// clients are the principal local, an admin (DESIGN §12). The 0600 socket in a 0700 dir already
// keeps others out; this holds even if those modes are loosened.
type peerListener struct {
	net.Listener
	log zerolog.Logger
}

func (l peerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ok, err := sameUser(c)
		if ok {
			return c, nil
		}
		l.log.Warn().Err(err).Msg("daemon: refused a socket connection from another OS user")
		_ = c.Close()
	}
}
