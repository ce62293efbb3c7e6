package terminal

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// The keys of DESIGN §13 and the bytes a terminal sends for them (xterm). Arrows, Home and End
// have a second form in application cursor mode (SS3), chosen by the screen.
var namedKeys = map[string]string{
	"Enter": "\r", "Tab": "\t", "Escape": "\x1b", "Backspace": "\x7f", "Space": " ",
	"Delete": "\x1b[3~", "Insert": "\x1b[2~", "PageUp": "\x1b[5~", "PageDown": "\x1b[6~",
	"F1": "\x1bOP", "F2": "\x1bOQ", "F3": "\x1bOR", "F4": "\x1bOS",
	"F5": "\x1b[15~", "F6": "\x1b[17~", "F7": "\x1b[18~", "F8": "\x1b[19~",
	"F9": "\x1b[20~", "F10": "\x1b[21~", "F11": "\x1b[23~", "F12": "\x1b[24~",
}

// cursorKeys are the final bytes of the keys sent as CSI x, or SS3 x in application mode.
var cursorKeys = map[string]byte{"Up": 'A', "Down": 'B', "Right": 'C', "Left": 'D', "Home": 'H', "End": 'F'}

// keyAliases are other spellings people use for the same keys.
var keyAliases = map[string]string{
	"return": "Enter", "esc": "Escape", "bs": "Backspace", "del": "Delete", "ins": "Insert",
	"pgup": "PageUp", "pgdn": "PageDown", "pageup": "PageUp", "pagedown": "PageDown",
}

// KeyBytes is what pressing the key called name sends: a name of DESIGN §13 (Enter, Tab,
// Escape, Backspace, Up, Down, Left, Right, Home, End, PageUp, PageDown, F1…F12, C-a…C-z, and
// Space, Delete, Insert, C-@, C-[, C-\, C-], C-^, C-_), case-insensitive, or a single character
// (sent as itself).
func KeyBytes(name string, appCursor bool) ([]byte, error) {
	if utf8.RuneCountInString(name) == 1 {
		return []byte(name), nil
	}
	canon := canonical(name)
	if b, ok := cursorKeys[canon]; ok {
		if appCursor {
			return []byte{0x1b, 'O', b}, nil
		}
		return []byte{0x1b, '[', b}, nil
	}
	if s, ok := namedKeys[canon]; ok {
		return []byte(s), nil
	}
	if len(name) == 3 && (name[0] == 'C' || name[0] == 'c') && name[1] == '-' {
		c := name[2]
		switch {
		case c >= 'a' && c <= 'z':
			return []byte{c - 'a' + 1}, nil
		case c >= 'A' && c <= 'Z':
			return []byte{c - 'A' + 1}, nil
		case c >= '@' && c <= '_': // C-@ C-[ C-\ C-] C-^ C-_
			return []byte{c - '@'}, nil
		case c == '?':
			return []byte{0x7f}, nil
		}
	}
	return nil, fmt.Errorf("%q is not a key name; use one of %s, C-a…C-z, or a single character (text goes in text)", name, strings.Join(KeyNames(), ", "))
}

// canonical maps a key name, in any case, to its spelling in the tables.
func canonical(name string) string {
	l := strings.ToLower(name)
	if a, ok := keyAliases[l]; ok {
		return a
	}
	for k := range namedKeys {
		if strings.ToLower(k) == l {
			return k
		}
	}
	for k := range cursorKeys {
		if strings.ToLower(k) == l {
			return k
		}
	}
	return name
}

// KeyNames lists the named keys (not C-x), in a stable order.
func KeyNames() []string {
	names := make([]string, 0, len(namedKeys)+len(cursorKeys))
	for k := range namedKeys {
		names = append(names, k)
	}
	for k := range cursorKeys {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := names[i], names[j]
		if len(a) != len(b) && strings.HasPrefix(a, "F") && strings.HasPrefix(b, "F") && len(a) <= 3 && len(b) <= 3 {
			return len(a) < len(b)
		}
		return a < b
	})
	return names
}

// Keys encodes text (typed literally) and then the keys named, as the screen's modes want them.
func (s *Screen) Keys(text string, keys []string) ([]byte, error) {
	s.mu.Lock()
	app := s.appCursor
	s.mu.Unlock()
	out := []byte(text)
	for _, k := range keys {
		b, err := KeyBytes(k, app)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}
