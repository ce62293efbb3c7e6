package browser

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/JohannesKaufmann/html-to-markdown/v2/converter"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/base"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/commonmark"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/table"
)

// markdownConverter is shared: a converter is safe for concurrent use once built.
var markdownConverter = sync.OnceValue(func() *converter.Converter {
	return converter.NewConverter(converter.WithPlugins(
		base.NewBasePlugin(),
		commonmark.NewCommonmarkPlugin(),
		table.NewTablePlugin(),
	))
})

// snapshot is what a page hands over for rendering: its address and the selected parts, as
// HTML (markdown, html) or as rendered text (text).
type snapshot struct {
	URL   string   `json:"url"`
	Title string   `json:"title"`
	Base  string   `json:"base"` // document.baseURI: what relative links resolve against
	Parts []string `json:"parts"`
}

// render turns a snapshot into one string in the format. Markdown links are made absolute
// against the page's base URL.
func render(s snapshot, f Format) (string, error) {
	switch f {
	case FormatHTML:
		return strings.Join(s.Parts, "\n"), nil
	case FormatText:
		return strings.Join(s.Parts, "\n\n"), nil
	}
	domain := s.Base
	if domain == "" {
		domain = s.URL
	}
	out := make([]string, 0, len(s.Parts))
	for _, part := range s.Parts {
		md, err := markdownConverter().ConvertString(part, converter.WithDomain(domain))
		if err != nil {
			return "", fmt.Errorf("converting %s to markdown: %w", s.URL, err)
		}
		if md = strings.TrimSpace(md); md != "" {
			out = append(out, md)
		}
	}
	return strings.Join(out, "\n\n"), nil
}

// window cuts the part of full that starts at offset and holds at most max bytes, on UTF-8
// boundaries and, when a line ends in the second half of the window, after that line.
func window(full string, offset, max int) (Content, error) {
	total := len(full)
	if offset < 0 || offset > total {
		return Content{}, fmt.Errorf("%w: offset %d is outside the content (%d bytes): use 0 or a next_offset returned earlier", ErrBadRequest, offset, total)
	}
	for offset < total && !utf8.RuneStart(full[offset]) {
		offset++
	}
	end := total
	if max > 0 && total-offset > max {
		end = offset + max
		for end > offset && !utf8.RuneStart(full[end]) {
			end--
		}
		if nl := strings.LastIndexByte(full[offset:end], '\n'); nl >= (end-offset)/2 {
			end = offset + nl + 1
		}
		if end == offset { // a window smaller than one character: take the character
			_, size := utf8.DecodeRuneInString(full[offset:])
			end = offset + size
		}
	}
	c := Content{Text: full[offset:end], Offset: offset, Total: total}
	if end < total {
		c.Truncated, c.NextOffset = true, end
	}
	return c, nil
}

// maxFor is the window size for a request: the request's when smaller than the driver's.
func maxFor(req, limit int) int {
	if req > 0 && req < limit {
		return req
	}
	return limit
}
