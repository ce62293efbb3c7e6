// Package terminal keeps the screen of a terminal agent (DESIGN §13): a virtual terminal
// (charmbracelet/x/vt) fed with everything the program writes on its PTY, a bounded scrollback of
// plain text, the answers the terminal owes the program (cursor position, device attributes)
// handed back to be written into the PTY, and the bytes that key names stand for.
package terminal
