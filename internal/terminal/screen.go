package terminal

import (
	"io"
	"reflect"
	"strings"
	"sync"
	"unsafe"

	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"

	"github.com/troupe-dev/troupe/messages"
)

// Scrollback bounds: the lines kept after they scrolled off the top, as text.
const (
	DefaultScrollbackLines = 2000
	maxScrollbackBytes     = 1 << 20
	// emulatorScrollback is what the emulator keeps (as cells, 112 bytes each) between two
	// drains into the text scrollback: one Write of more lines than this loses the oldest.
	emulatorScrollback = 2048
)

// Screen is one terminal's screen. Its methods are safe for concurrent use.
type Screen struct {
	mu    sync.Mutex
	emu   *vt.Emulator
	title string
	// appCursor: the program asked for application cursor keys (DECCKM): arrows are sent as
	// SS3 sequences.
	appCursor bool
	// scroll is the text scrollback, oldest first, bounded by maxLines and maxScrollbackBytes.
	scroll      []string
	scrollBytes int
	maxLines    int
	closed      bool
	rows, cols  int
	cbs         vt.Callbacks
}

// New returns a screen of rows×cols keeping scrollbackLines of scrollback (≤ 0: the default).
// reply receives what the terminal answers the program (to write into the PTY), from a
// goroutine of the screen's own, until Close; it must not call back into the Screen.
func New(rows, cols, scrollbackLines int, reply func([]byte)) *Screen {
	if scrollbackLines <= 0 {
		scrollbackLines = DefaultScrollbackLines
	}
	s := &Screen{emu: vt.NewEmulator(cols, rows), maxLines: scrollbackLines, rows: rows, cols: cols}
	shrinkParser(s.emu)
	s.emu.SetScrollbackSize(emulatorScrollback)
	s.cbs = vt.Callbacks{
		Title: func(t string) { s.title = t },
		// The alternate screen is sized when a program switches to it (less, vi, TUIs), and
		// shrunk again when it leaves: most terminals never use it.
		AltScreen: func(on bool) {
			if on {
				s.emu.Resize(s.cols, s.rows)
			} else {
				shrinkAltScreen(s.emu, s.cbs)
			}
		},
		EnableMode: func(m ansi.Mode) {
			if m == ansi.ModeCursorKeys {
				s.appCursor = true
			}
		},
		DisableMode: func(m ansi.Mode) {
			if m == ansi.ModeCursorKeys {
				s.appCursor = false
			}
		},
	}
	s.emu.SetCallbacks(s.cbs)
	shrinkAltScreen(s.emu, s.cbs)
	// The emulator writes its answers into a pipe, synchronously: they must be read at once or
	// Write blocks.
	go func() {
		buf := make([]byte, 1024)
		for {
			n, err := s.emu.Read(buf)
			if n > 0 && reply != nil {
				reply(append([]byte(nil), buf[:n]...))
			}
			if err != nil {
				return
			}
		}
	}()
	return s
}

// Write feeds the program's output to the screen.
func (s *Screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return len(p), nil
	}
	s.emu.Write(p)
	s.drainScrollback()
	return len(p), nil
}

// drainScrollback moves what scrolled off the emulator's screen into the text scrollback.
func (s *Screen) drainScrollback() {
	sb := s.emu.Scrollback()
	lines := sb.Lines()
	if len(lines) == 0 {
		return
	}
	for i, l := range lines {
		s.pushScroll(lineText(l))
		lines[i] = nil // Clear keeps the array: let the cells go
	}
	sb.Clear()
}

func (s *Screen) pushScroll(line string) {
	s.scroll = append(s.scroll, line)
	s.scrollBytes += len(line)
	drop := 0
	for len(s.scroll)-drop > s.maxLines || (s.scrollBytes > maxScrollbackBytes && len(s.scroll)-drop > 1) {
		s.scrollBytes -= len(s.scroll[drop])
		drop++
	}
	if drop > 0 {
		// Copy rather than reslice when a quarter is dead, so the array does not grow forever.
		if drop > len(s.scroll)/4 {
			s.scroll = append(make([]string, 0, len(s.scroll)-drop+s.maxLines/4), s.scroll[drop:]...)
		} else {
			clear(s.scroll[:drop])
			s.scroll = s.scroll[drop:]
		}
	}
}

// lineText is a row as text: a wide character once (the cell after it is its tail), trailing
// spaces trimmed.
func lineText(l uv.Line) string {
	var b strings.Builder
	for i := range l {
		c := &l[i]
		switch {
		case c.Content == "" && c.Width == 0 && i > 0 && l[i-1].Width > 1:
			// the second cell of a wide character
		case c.Content == "":
			b.WriteByte(' ')
		default:
			b.WriteString(c.Content)
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// Snapshot is the screen now, with up to scrollback lines of scrollback.
func (s *Screen) Snapshot(scrollback int) messages.Screen {
	s.mu.Lock()
	defer s.mu.Unlock()
	rows, cols := s.emu.Height(), s.emu.Width()
	out := messages.Screen{Lines: make([]string, rows), AltScreen: s.emu.IsAltScreen(),
		Size: messages.TermSize{Rows: rows, Cols: cols}, Title: s.title}
	line := make(uv.Line, cols)
	for y := range rows {
		for x := range cols {
			if c := s.emu.CellAt(x, y); c != nil {
				line[x] = *c
			} else {
				line[x] = uv.Cell{}
			}
		}
		out.Lines[y] = lineText(line)
	}
	pos := s.emu.CursorPosition()
	out.Cursor = messages.Position{Row: pos.Y, Col: pos.X}
	if scrollback > 0 && len(s.scroll) > 0 {
		out.Scrollback = append([]string(nil), s.scroll[max(0, len(s.scroll)-scrollback):]...)
	}
	return out
}

// Text is the screen's rows joined by newlines, for matching a wait_for pattern.
func (s *Screen) Text() string {
	return strings.Join(s.Snapshot(0).Lines, "\n")
}

// Resize changes the screen's size (the PTY is resized by the caller).
func (s *Screen) Resize(rows, cols int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows, s.cols = rows, cols
	s.emu.Resize(cols, rows)
	if !s.emu.IsAltScreen() {
		shrinkAltScreen(s.emu, s.cbs) // Resize sized both screens
	}
	s.drainScrollback()
}

// Size is the screen's size.
func (s *Screen) Size() messages.TermSize {
	s.mu.Lock()
	defer s.mu.Unlock()
	return messages.TermSize{Rows: s.emu.Height(), Cols: s.emu.Width()}
}

// Repaint is what draws the screen on another terminal: clear it, the rows with their styles,
// the cursor where it is.
func (s *Screen) Repaint() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	b.WriteString("\x1b[0m\x1b[H\x1b[2J")
	b.WriteString(strings.ReplaceAll(s.emu.Render(), "\n", "\r\n"))
	pos := s.emu.CursorPosition()
	b.WriteString(ansi.CursorPosition(pos.X+1, pos.Y+1))
	if s.emu.CursorHidden() {
		b.WriteString(ansi.HideCursor)
	} else {
		b.WriteString(ansi.ShowCursor)
	}
	return []byte(b.String())
}

// Close ends the reply goroutine; later writes are ignored.
func (s *Screen) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		// Not emu.Close: it sets a flag Read reads without a lock (a data race). Closing the
		// answers' pipe ends the reply goroutine the same way.
		if pw, ok := s.emu.InputPipe().(*io.PipeWriter); ok {
			pw.CloseWithError(io.EOF)
		}
	}
}

// parserDataBytes bounds the payload of one OSC, DCS or APC sequence (a title, a clipboard
// copy, an image) the screen reads; longer ones are cut.
const parserDataBytes = 64 << 10

// shrinkParser gives the emulator's parser a 64 KiB payload buffer. vt v0.1.0 allocates 4 MiB
// per emulator and offers no option: 50 terminals held 200 MB of it, resident once reused
// memory is zeroed (measured: 346 MB for 50 idle agents before, see BENCH
// terminal_agents_50_rss_mb). The field is private, reached by reflection with its type
// checked; TestParserIsShrunk fails if a vt upgrade moves it.
func shrinkParser(e *vt.Emulator) bool {
	f := reflect.ValueOf(e).Elem().FieldByName("parser")
	if !f.IsValid() || f.Type() != reflect.TypeFor[*ansi.Parser]() {
		return false
	}
	p := *(**ansi.Parser)(unsafe.Pointer(f.UnsafeAddr()))
	if p == nil {
		return false
	}
	p.SetDataSize(parserDataBytes)
	return true
}

// shrinkAltScreen replaces the emulator's alternate screen by a one-cell one while it is not in
// use: a screen's cells take 112 bytes each, 538 KB at 40×120, and vt v0.1.0 allocates both
// screens for every terminal (50 idle agents: 64 MB before, BENCH terminal_agents_50_rss_mb).
// Its Resize keeps the cells (it reslices), so the screen is replaced, and the emulator's
// callbacks set on it again (cbs). The AltScreen callback sizes it when a program switches to
// it. TestAltScreenIsShrunk fails if a vt upgrade moves the field.
func shrinkAltScreen(e *vt.Emulator, cbs vt.Callbacks) bool {
	f := reflect.ValueOf(e).Elem().FieldByName("scrs")
	if !f.IsValid() || f.Kind() != reflect.Array || f.Len() != 2 || f.Type().Elem() != reflect.TypeFor[vt.Screen]() || e.IsAltScreen() {
		return false
	}
	alt := (*vt.Screen)(unsafe.Pointer(f.Index(1).UnsafeAddr()))
	if alt.Width() == 1 && alt.Height() == 1 {
		return true
	}
	*alt = *vt.NewScreen(1, 1)
	alt.SetScrollbackSize(1)
	e.SetCallbacks(cbs) // points the new screen at the emulator's callbacks
	return true
}
