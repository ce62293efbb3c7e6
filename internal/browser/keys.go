package browser

import (
	"fmt"
	"strings"

	"github.com/go-rod/rod/lib/input"
)

// namedKeys maps key names (lower case) to keys; single printable characters are taken as is.
var namedKeys = map[string]input.Key{
	"enter": input.Enter, "return": input.Enter, "tab": input.Tab,
	"escape": input.Escape, "esc": input.Escape, "backspace": input.Backspace,
	"delete": input.Delete, "del": input.Delete, "insert": input.Insert, "space": input.Space,
	"arrowup": input.ArrowUp, "up": input.ArrowUp, "arrowdown": input.ArrowDown, "down": input.ArrowDown,
	"arrowleft": input.ArrowLeft, "left": input.ArrowLeft, "arrowright": input.ArrowRight, "right": input.ArrowRight,
	"home": input.Home, "end": input.End, "pageup": input.PageUp, "pagedown": input.PageDown,
	"f1": input.F1, "f2": input.F2, "f3": input.F3, "f4": input.F4, "f5": input.F5, "f6": input.F6,
	"f7": input.F7, "f8": input.F8, "f9": input.F9, "f10": input.F10, "f11": input.F11, "f12": input.F12,
}

var modifierKeys = map[string]input.Key{
	"control": input.ControlLeft, "ctrl": input.ControlLeft, "shift": input.ShiftLeft,
	"alt": input.AltLeft, "meta": input.MetaLeft, "cmd": input.MetaLeft,
}

// printableKeys are the characters the US keyboard layout (rod's) can type as one key.
const printableKeys = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" +
	"`~!@#$%^&*()-_=+[{]}\\|;:'\",<.>/? "

// keyChord is a key with the modifiers held while it is pressed.
type keyChord struct {
	modifiers []input.Key
	key       input.Key
}

// parseKey reads "Enter", "a", "Control+a", "Shift+Tab", …
func parseKey(s string) (keyChord, error) {
	if s == "" {
		return keyChord{}, fmt.Errorf("%w: press needs the key in text, e.g. \"Enter\", \"Tab\" or \"Control+a\"", ErrBadRequest)
	}
	parts := []string{s}
	if len(s) > 1 && s != "+" {
		parts = strings.Split(s, "+")
		if strings.HasSuffix(s, "++") { // "Control++"
			parts = append(parts[:len(parts)-2], "+")
		}
	}
	var ch keyChord
	for _, m := range parts[:len(parts)-1] {
		k, ok := modifierKeys[strings.ToLower(strings.TrimSpace(m))]
		if !ok {
			return keyChord{}, fmt.Errorf("%w: %q in key %q is not a modifier: use Control, Shift, Alt or Meta", ErrBadRequest, m, s)
		}
		ch.modifiers = append(ch.modifiers, k)
	}
	name := parts[len(parts)-1]
	if len(name) == 1 && strings.Contains(printableKeys, name) {
		ch.key = input.Key(name[0])
		return ch, nil
	}
	k, ok := namedKeys[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return keyChord{}, fmt.Errorf("%w: unknown key %q: use a key name such as Enter, Tab, Escape, Backspace, ArrowDown, "+
			"or one character; to type text use the fill action", ErrBadRequest, name)
	}
	ch.key = k
	return ch, nil
}
