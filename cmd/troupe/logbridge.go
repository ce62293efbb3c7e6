package main

import (
	"log"
	"strings"

	"github.com/rs/zerolog"
)

// stdLogger adapts zerolog to the *log.Logger that mcp-go's stdio server wants.
func stdLogger(l zerolog.Logger) *log.Logger {
	return log.New(zerologWriter{l.With().Str("lib", "mcp-go").Logger()}, "", 0)
}

type zerologWriter struct{ l zerolog.Logger }

func (w zerologWriter) Write(p []byte) (int, error) {
	w.l.Warn().Msg(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
