//go:build linux

package process

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"

	"golang.org/x/sys/unix"
)

// How a system call waits on file descriptors, as far as InputWaiting is concerned.
type waitKind int

const (
	waitOther  waitKind = iota // not a wait on input
	waitRead                   // read, readv, pread64: args[0] is the fd
	waitSelect                 // select, pselect6: args[0] nfds, args[1] the read set
	waitPoll                   // poll, ppoll: args[0] the struct pollfd array, args[1] its length
	waitEpoll                  // epoll_wait, epoll_pwait, epoll_pwait2: args[0] the epoll fd
)

// kindOf says how system call nr waits; legacyKind (per architecture) knows the calls that only
// some architectures have.
func kindOf(nr uint64) waitKind {
	switch nr {
	case unix.SYS_READ, unix.SYS_READV, unix.SYS_PREAD64:
		return waitRead
	case unix.SYS_PSELECT6:
		return waitSelect
	case unix.SYS_PPOLL:
		return waitPoll
	case unix.SYS_EPOLL_PWAIT, unix.SYS_EPOLL_PWAIT2:
		return waitEpoll
	}
	return legacyKind(nr)
}

// Bounds on what is read from a process's memory, far above what programs use.
const (
	maxSelectFDs = 1 << 16
	maxPollFDs   = 1 << 12
)

// pollRDNORM is POLLRDNORM (asm-generic/poll.h), which x/sys/unix does not define for Linux.
const pollRDNORM = 0x40

// waitsOnInput reports whether process pid (its main thread) sleeps in a system call that waits
// to read s.input; running means it was not in a system call at all. An error is returned only
// when pid's call could not be read.
func (s *inputScan) waitsOnInput(pid int) (waiting, running bool, err error) {
	if err := s.read(pid, "/syscall"); err != nil {
		return false, false, err
	}
	// "running", "-1 sp pc" (blocked outside a system call), or "nr arg0 … arg5 sp pc".
	line := bytes.TrimSpace(s.buf)
	if bytes.Equal(line, []byte("running")) {
		return false, true, nil
	}
	var f [7]uint64
	for i := range f {
		j := bytes.IndexByte(line, ' ')
		if j < 0 {
			return false, false, nil // "-1 sp pc", or a format this does not know: no wait
		}
		v, ok := parseUint(line[:j])
		if !ok {
			return false, false, nil
		}
		f[i], line = v, line[j+1:]
	}
	nr, args := f[0], f[1:]
	switch kindOf(nr) {
	case waitRead:
		return s.isInput(pid, args[0]), false, nil
	case waitSelect:
		return s.selectsInput(pid, args[0], args[1]), false, nil
	case waitPoll:
		return s.pollsInput(pid, args[0], args[1]), false, nil
	case waitEpoll:
		return s.epollsInput(pid, args[0]), false, nil
	}
	return false, false, nil
}

// isInput reports whether fd of process pid is the agent's input. A closed fd is not.
func (s *inputScan) isInput(pid int, fd uint64) bool {
	if fd > 1<<30 {
		return false
	}
	var st unix.Stat_t
	if unix.Stat("/proc/"+strconv.Itoa(pid)+"/fd/"+strconv.FormatUint(fd, 10), &st) != nil {
		return false
	}
	in := &s.input
	if st.Mode&unix.S_IFMT == unix.S_IFCHR && in.Mode&unix.S_IFMT == unix.S_IFCHR {
		return st.Rdev == in.Rdev // the same terminal, whichever path opened it
	}
	return st.Dev == in.Dev && st.Ino == in.Ino
}

// selectsInput reports whether the read set at addr (nfds bits) of process pid holds the input.
func (s *inputScan) selectsInput(pid int, nfds, addr uint64) bool {
	if addr == 0 || nfds == 0 || nfds > maxSelectFDs {
		return false
	}
	set, ok := s.readMem(pid, addr, int((nfds+63)/64*8)) // the kernel reads whole longs
	if !ok {
		return false
	}
	// An fd_set is an array of longs, fd i being bit i%64 of long i/64: on the little-endian
	// machines this runs on (amd64, arm64), that is bit i%8 of byte i/8.
	for i := range nfds {
		if set[i/8]&(1<<(i%8)) != 0 && s.isInput(pid, i) {
			return true
		}
	}
	return false
}

// pollsInput reports whether the nfds struct pollfd at addr in process pid ask for POLLIN on the input.
func (s *inputScan) pollsInput(pid int, addr, nfds uint64) bool {
	if addr == 0 || nfds == 0 || nfds > maxPollFDs {
		return false
	}
	fds, ok := s.readMem(pid, addr, int(nfds*8))
	if !ok {
		return false
	}
	for p := fds; len(p) >= 8; p = p[8:] { // struct pollfd {int32 fd; int16 events; int16 revents}
		fd := int32(binary.NativeEndian.Uint32(p[0:4]))
		events := binary.NativeEndian.Uint16(p[4:6])
		if fd >= 0 && events&(unix.POLLIN|pollRDNORM) != 0 && s.isInput(pid, uint64(fd)) {
			return true
		}
	}
	return false
}

// epollsInput reports whether the epoll set epfd of process pid holds the input with EPOLLIN:
// /proc/<pid>/fdinfo/<epfd> has a line "tfd: N events: HEX data: …" per file in the set.
func (s *inputScan) epollsInput(pid int, epfd uint64) bool {
	if epfd > 1<<30 || s.read(pid, "/fdinfo/"+strconv.FormatUint(epfd, 10)) != nil {
		return false
	}
	info := s.buf
	for len(info) > 0 {
		line := info
		if i := bytes.IndexByte(info, '\n'); i >= 0 {
			line, info = info[:i], info[i+1:]
		} else {
			info = nil
		}
		tfd, ok1 := fieldAfter(line, "tfd:", 10)
		events, ok2 := fieldAfter(line, "events:", 16)
		if ok1 && ok2 && events&unix.EPOLLIN != 0 && s.isInput(pid, tfd) {
			return true
		}
	}
	return false
}

// fieldAfter parses the number (in base) that follows label and spaces in line.
func fieldAfter(line []byte, label string, base int) (uint64, bool) {
	i := bytes.Index(line, []byte(label))
	if i < 0 {
		return 0, false
	}
	v := bytes.TrimLeft(line[i+len(label):], " \t")
	if j := bytes.IndexAny(v, " \t"); j >= 0 {
		v = v[:j]
	}
	n, err := strconv.ParseUint(string(v), base, 64)
	return n, err == nil
}

// readMem reads n bytes at addr in the memory of process pid. Memory that is not mapped (any
// more) or not readable reads as nothing.
func (s *inputScan) readMem(pid int, addr uint64, n int) ([]byte, bool) {
	if addr > 1<<62 {
		return nil, false
	}
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/mem", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	defer unix.Close(fd)
	b := make([]byte, n)
	for {
		got, err := unix.Pread(fd, b, int64(addr))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return b, err == nil && got == n
	}
}

// parseUint parses the decimal or 0x-prefixed hexadecimal numbers of /proc/<pid>/syscall.
func parseUint(b []byte) (uint64, bool) {
	base := 10
	if len(b) > 2 && b[0] == '0' && b[1] == 'x' {
		base, b = 16, b[2:]
	}
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case base == 16 && c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		default:
			return 0, false
		}
		n = n*uint64(base) + uint64(d)
	}
	return n, true
}
