//go:build linux

package process

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"
)

// An agent waits for input when a process that owns its terminal (or its stdin pipe) sleeps in a
// system call that reads that input, and nothing of the same group is working. The kernel shows
// both without attaching to anything: /proc/<pid>/stat gives the state and the terminal's
// foreground group, /proc/<pid>/syscall the call a sleeping process is in with its arguments, and
// /proc/<pid>/mem and /proc/<pid>/fdinfo what those arguments point to.

// InputWaiting reports whether the agent whose process group leader is leader is blocked waiting
// for input: for a process on a terminal, some process of the terminal's foreground process group
// (field 8, tpgid, of /proc/<leader>/stat) — for one on pipes (tpgid -1), some process of the
// leader's own process group — is asleep in a system call that waits to read the agent's input,
// and none of that group is runnable (state R).
//
// "The agent's input" is the file of the leader's fd 0 (a /dev/pts/N slave, or a stdin pipe),
// compared by device and inode (a character device by its device number), so that the terminal
// opened again (less reads /dev/tty on fd 3) counts too. The calls recognised are read, readv and
// pread64 on the input; select and pselect6 with the input in the read set; poll and ppoll with
// POLLIN on the input; epoll_wait, epoll_pwait and epoll_pwait2 on an epoll set holding the input
// with EPOLLIN (Node/libuv TUIs).
//
// A leader that has ended (gone, or a zombie) waits for nothing: (false, nil). So does a leader
// whose fd 0 is closed. Processes of the group that end during the scan are left out. An error
// means /proc could not be read (not mounted, or the server may not inspect its agents).
//
// What this cannot see (it looks at the main thread of each process only, and at what it waits on,
// not why): a program reading its input on another thread (Go programs, some runtimes) is not
// seen waiting; a program whose main thread waits while another thread computes is seen waiting;
// an event loop that listens to its input while it waits for something else (a network reply, a
// timer, a child) — Claude Code while its model answers — is seen waiting; io_uring and AIO reads are
// not recognised. A 32-bit program on a 64-bit kernel is not recognised.
func InputWaiting(leader int) (bool, error) {
	s := inputScan{buf: make([]byte, 0, 4096)}
	st, err := s.stat(leader)
	if err != nil || st.state == 'Z' || st.state == 'X' {
		return false, gone(err)
	}
	group := st.tpgid
	if group <= 0 { // not on a terminal (-1), or a terminal without a foreground group
		group = st.pgrp
	}
	if group == leader && st.state == 'R' {
		return false, nil
	}
	if err := unix.Stat("/proc/"+strconv.Itoa(leader)+"/fd/0", &s.input); err != nil {
		return false, gone(fmt.Errorf("find the input of process %d: stat /proc/%[1]d/fd/0: %w", leader, err))
	}
	if group == leader {
		if busy, err := s.visit(leader, st); busy || err != nil {
			return false, err
		}
	}
	busy, err := s.scanGroup(group, leader)
	if busy || err != nil {
		return false, err
	}
	return s.waiting, nil
}

// inputScan is one InputWaiting call: its buffers, the input and what was found so far.
type inputScan struct {
	buf     []byte      // the content of the last /proc file read
	input   unix.Stat_t // the leader's fd 0
	waiting bool        // a member of the group waits on the input
}

// procState is what InputWaiting needs from /proc/<pid>/stat.
type procState struct {
	state       byte
	pgrp, tpgid int
}

// gone turns the error of reading a process that has ended into nil.
func gone(err error) error {
	if err == nil || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
		return nil
	}
	return err
}

// visit looks at member pid of the group, in state st. busy means the group is working (a member
// is runnable, or was found outside any system call), so the answer is false whatever the rest of
// the group does.
func (s *inputScan) visit(pid int, st procState) (busy bool, err error) {
	switch {
	case st.state == 'R':
		return true, nil
	case st.state != 'S' || s.waiting: // only an interruptible sleep can be a wait for input
		return false, nil
	}
	w, running, err := s.waitsOnInput(pid)
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
		return false, fmt.Errorf("%w: the server may not see its agents' system calls (it must run as their user, "+
			"and the ptrace rules, e.g. Yama's ptrace_scope, must let it inspect its own children)", err)
	}
	if err != nil {
		return false, gone(err)
	}
	s.waiting = w
	return running, nil
}

// scanGroup visits every process of group pgid listed in /proc but skip (visited already).
func (s *inputScan) scanGroup(pgid, skip int) (busy bool, err error) {
	dir, err := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, fmt.Errorf("list processes: open /proc: %w", err)
	}
	defer unix.Close(dir)
	dents := make([]byte, 16<<10)
	for {
		n, err := unix.Getdents(dir, dents)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("list processes: read /proc: %w", err)
		}
		if n <= 0 {
			return false, nil
		}
		for b := dents[:n]; len(b) >= 19; {
			// struct linux_dirent64 {u64 ino; s64 off; u16 reclen; u8 type; char name[];}
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < 19 || reclen > len(b) {
				break
			}
			name := b[19:reclen]
			b = b[reclen:]
			pid, ok := atoiBytes(name[:max(bytes.IndexByte(name, 0), 0)])
			if !ok || pid <= 0 || pid == skip {
				continue
			}
			// getpgid is one system call, without the path lookup, text and close of reading
			// /proc/<pid>/stat: a tenth of the cost, and the scan is all system calls.
			if g, err := unix.Getpgid(pid); err != nil || g != pgid {
				continue // not in the group, or vanished
			}
			st, err := s.stat(pid)
			if err != nil || st.pgrp != pgid {
				continue // vanished, or left the group meanwhile
			}
			if busy, err := s.visit(pid, st); busy || err != nil {
				return busy, err
			}
		}
	}
}

// stat reads /proc/<pid>/stat.
func (s *inputScan) stat(pid int) (procState, error) {
	if err := s.read(pid, "/stat"); err != nil {
		return procState{}, err
	}
	// Field 2 (comm) is in parentheses and may hold anything: the others follow the last ')'.
	end := bytes.LastIndexByte(s.buf, ')')
	if end < 0 {
		return procState{}, fmt.Errorf("unexpected /proc/%d/stat format: %.60q", pid, s.buf)
	}
	var f [6][]byte // fields 3 to 8
	rest := s.buf[end+1:]
	for i := range f {
		rest = bytes.TrimLeft(rest, " ")
		j := bytes.IndexByte(rest, ' ')
		if j < 0 {
			return procState{}, fmt.Errorf("unexpected /proc/%d/stat format: %.60q", pid, s.buf)
		}
		f[i], rest = rest[:j], rest[j:]
	}
	pgrp, ok1 := atoiBytes(f[5-3])
	tpgid, ok2 := atoiBytes(f[8-3])
	if len(f[0]) != 1 || !ok1 || !ok2 {
		return procState{}, fmt.Errorf("unexpected /proc/%d/stat fields: %.60q", pid, s.buf[end+1:])
	}
	return procState{state: f[0][0], pgrp: pgrp, tpgid: tpgid}, nil
}

// read reads /proc/<pid><file> into s.buf. A /proc file is generated whole and handed out as far
// as the buffer goes, so a read that leaves room is the whole file: no second read to see its end
// (that would cost a third more on a scan of /proc, which is all system calls).
func (s *inputScan) read(pid int, file string) error {
	path := "/proc/" + strconv.Itoa(pid) + file
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer unix.Close(fd)
	s.buf = s.buf[:0]
	for {
		if len(s.buf) == cap(s.buf) {
			s.buf = append(s.buf, 0)[:len(s.buf)]
		}
		room := s.buf[len(s.buf):cap(s.buf)]
		n, err := unix.Read(fd, room)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return fmt.Errorf("read %s: %w", path, err)
		}
		s.buf = s.buf[:len(s.buf)+n]
		if n < len(room) {
			return nil
		}
	}
}

// atoiBytes parses a decimal integer, possibly negative, without allocating.
func atoiBytes(b []byte) (int, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = 10*n + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
