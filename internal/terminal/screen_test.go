package terminal

import (
	"bytes"
	"github.com/charmbracelet/x/vt"
	"github.com/troupe-dev/troupe/messages"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestScreenShowsTextCursorAndAltScreen(t *testing.T) {
	s := New(5, 20, 0, nil)
	defer s.Close()
	s.Write([]byte("\x1b[1;32muser\x1b[0m$ echo hi\r\nhi\r\n$ "))
	snap := s.Snapshot(0)
	want := []string{"user$ echo hi", "hi", "$", "", ""}
	if strings.Join(snap.Lines, "|") != strings.Join(want, "|") {
		t.Errorf("screen %q, want %q", snap.Lines, want)
	}
	if snap.Cursor.Row != 2 || snap.Cursor.Col != 2 {
		t.Errorf("cursor %+v, want row 2 col 2", snap.Cursor)
	}
	if snap.Size.Rows != 5 || snap.Size.Cols != 20 || snap.AltScreen {
		t.Errorf("size %+v alt %v", snap.Size, snap.AltScreen)
	}
	s.Write([]byte("\x1b[?1049h\x1b[H\x1b[2Jfull screen\x1b]0;my title\x07"))
	snap = s.Snapshot(0)
	if !snap.AltScreen || snap.Lines[0] != "full screen" || snap.Title != "my title" {
		t.Errorf("alt screen: %v %q %q", snap.AltScreen, snap.Lines[0], snap.Title)
	}
	s.Write([]byte("\x1b[?1049l"))
	if snap = s.Snapshot(0); snap.AltScreen || snap.Lines[1] != "hi" {
		t.Errorf("back from the alt screen: %v %q", snap.AltScreen, snap.Lines)
	}
}

func TestWideCharactersTakeTwoCells(t *testing.T) {
	s := New(3, 10, 0, nil)
	defer s.Close()
	s.Write([]byte("中文😀x"))
	snap := s.Snapshot(0)
	if snap.Lines[0] != "中文😀x" {
		t.Errorf("line %q", snap.Lines[0])
	}
	if snap.Cursor.Col != 7 {
		t.Errorf("cursor after three wide characters and one narrow: col %d, want 7", snap.Cursor.Col)
	}
}

func TestScrollbackKeepsWhatScrolledOffWithinItsBound(t *testing.T) {
	s := New(3, 10, 5, nil)
	defer s.Close()
	for i := range 10 {
		s.Write([]byte(strings.Repeat(string(rune('a'+i)), 3) + "\r\n"))
	}
	snap := s.Snapshot(100)
	if got := strings.Join(snap.Scrollback, " "); got != "ddd eee fff ggg hhh" {
		t.Errorf("scrollback %q, want the last 5 lines that scrolled off", got)
	}
	if got := strings.Join(snap.Lines, " "); got != "iii jjj " {
		t.Errorf("screen %q", got)
	}
	if snap = s.Snapshot(2); strings.Join(snap.Scrollback, " ") != "ggg hhh" {
		t.Errorf("2 lines of scrollback: %q", snap.Scrollback)
	}
}

func TestTerminalAnswersQueries(t *testing.T) {
	var mu sync.Mutex
	var got bytes.Buffer
	s := New(5, 20, 0, func(b []byte) { mu.Lock(); got.Write(b); mu.Unlock() })
	defer s.Close()
	s.Write([]byte("ab\x1b[6n")) // where is the cursor?
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		g := got.String()
		mu.Unlock()
		if g == "\x1b[1;3R" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("answer to a cursor position request: %q, want ESC[1;3R", g)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestKeys(t *testing.T) {
	for _, c := range []struct {
		name string
		app  bool
		want string
	}{
		{"Enter", false, "\r"}, {"enter", false, "\r"}, {"Tab", false, "\t"}, {"Escape", false, "\x1b"},
		{"Backspace", false, "\x7f"}, {"Up", false, "\x1b[A"}, {"Up", true, "\x1bOA"}, {"Left", false, "\x1b[D"},
		{"Home", false, "\x1b[H"}, {"End", true, "\x1bOF"}, {"PageUp", false, "\x1b[5~"}, {"PageDown", false, "\x1b[6~"},
		{"F1", false, "\x1bOP"}, {"F5", false, "\x1b[15~"}, {"F12", false, "\x1b[24~"},
		{"C-a", false, "\x01"}, {"C-c", false, "\x03"}, {"C-z", false, "\x1a"}, {"C-]", false, "\x1d"},
		{"q", false, "q"}, {":", false, ":"}, {"é", false, "é"},
	} {
		got, err := KeyBytes(c.name, c.app)
		if err != nil || string(got) != c.want {
			t.Errorf("KeyBytes(%q, app=%v) = %q, %v; want %q", c.name, c.app, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "Entr", "C-", "C-ab", "ctrl+c", "F13"} {
		if _, err := KeyBytes(bad, false); err == nil || (bad != "" && !strings.Contains(err.Error(), "Enter")) {
			t.Errorf("KeyBytes(%q): %v, want an error listing the names", bad, err)
		}
	}
}

func TestArrowsFollowTheApplicationCursorMode(t *testing.T) {
	s := New(5, 20, 0, nil)
	defer s.Close()
	b, _ := s.Keys("ls", []string{"Up", "Enter"})
	if string(b) != "ls\x1b[A\r" {
		t.Errorf("normal mode: %q", b)
	}
	s.Write([]byte("\x1b[?1h")) // DECCKM set, as vi and less do
	b, _ = s.Keys("", []string{"Up"})
	if string(b) != "\x1bOA" {
		t.Errorf("application mode: %q", b)
	}
}

// Ten megabytes of output keep the memory within the scrollback bound.
func TestTenMegabytesStayWithinTheBound(t *testing.T) {
	// A short screen: the emulator's scrolling costs a copy of the screen per line, which only
	// slows the test (most under -race); the bound is the scrollback's.
	s := New(5, 120, 0, nil)
	defer s.Close()
	line := []byte(strings.Repeat("x", 100) + "\r\n")
	chunk := bytes.Repeat(line, 300) // ~30 KB, as a PTY read brings it
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	h0 := heap()
	for written := 0; written < 10<<20; written += len(chunk) {
		s.Write(chunk)
	}
	grown := int64(heap()) - int64(h0)
	snap := s.Snapshot(DefaultScrollbackLines)
	if len(snap.Scrollback) != DefaultScrollbackLines {
		t.Errorf("scrollback holds %d lines, want its bound %d", len(snap.Scrollback), DefaultScrollbackLines)
	}
	// The bound: 2000 lines of 100 bytes of text (and the string headers).
	if grown > 4<<20 {
		t.Errorf("the heap grew by %d bytes after 10 MB of output, past the scrollback bound", grown)
	}
}

func TestParserIsShrunk(t *testing.T) {
	if !shrinkParser(vt.NewEmulator(10, 5)) {
		t.Fatal("the emulator's parser is no longer where shrinkParser looks: every terminal costs 4 MiB again; update shrinkParser for this version of vt")
	}
	// A title longer than the buffer is cut, not a crash.
	s := New(5, 20, 0, nil)
	defer s.Close()
	s.Write([]byte("\x1b]0;" + strings.Repeat("t", parserDataBytes+10) + "\x07after"))
	if snap := s.Snapshot(0); !strings.Contains(snap.Lines[0], "after") {
		t.Errorf("after a long OSC: %q", snap.Lines[0])
	}
}

func TestAltScreenIsShrunk(t *testing.T) {
	e := vt.NewEmulator(120, 40)
	if !shrinkAltScreen(e, vt.Callbacks{}) {
		t.Fatal("the emulator's screens are no longer where shrinkAltScreen looks: every terminal costs 538 KB more; update it for this version of vt")
	}
	// Full-screen programs still get a whole screen, and the main one is intact after.
	s := New(4, 12, 0, nil)
	defer s.Close()
	s.Write([]byte("main\r\n"))
	s.Write([]byte("\x1b[?1049h\x1b[4;12Hz\x1b[1;1Ha"))
	snap := s.Snapshot(0)
	if !snap.AltScreen || snap.Lines[0] != "a" || snap.Lines[3] != strings.Repeat(" ", 11)+"z" || snap.Size != (messages.TermSize{Rows: 4, Cols: 12}) {
		t.Errorf("alt screen: %q %+v", snap.Lines, snap.Size)
	}
	s.Resize(5, 20) // while on the alt screen
	s.Write([]byte("\x1b[5;20Hy\x1b[?1049l"))
	if snap = s.Snapshot(0); snap.AltScreen || snap.Lines[0] != "main" || snap.Size.Rows != 5 || snap.Size.Cols != 20 {
		t.Errorf("back on the main screen: %q %+v", snap.Lines, snap.Size)
	}
	s.Write([]byte("\x1b[?1049h\x1b[5;20Hw"))
	if snap = s.Snapshot(0); snap.Lines[4] != strings.Repeat(" ", 19)+"w" {
		t.Errorf("the alt screen a second time: %q", snap.Lines)
	}
}
