package browser

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"strings"
	"testing"
)

func TestMarkdownKeepsTablesAndMakesLinksAbsolute(t *testing.T) {
	d, s := shared(t), newSite(t)
	p := openPage(t, openContext(t, d, "md", nil), s.url("/"))
	c, err := p.Content(context.Background(), ContentRequest{})
	if err != nil {
		t.Fatalf("Content: %v", err)
	}
	if c.Format != FormatMarkdown || c.Title != "Home" || c.URL != s.url("/") {
		t.Errorf("got format %q title %q url %q, want markdown, Home, %s", c.Format, c.Title, c.URL, s.url("/"))
	}
	for _, want := range []string{
		"# Welcome home",
		"| Name", "| apple", "| pear",
		"(" + s.url("/about") + ")",
		"(" + s.url("/sub/page?x=1") + ")",
	} {
		if !strings.Contains(c.Text, want) {
			t.Errorf("markdown lacks %q:\n%s", want, c.Text)
		}
	}
	if strings.Contains(c.Text, "document.title") {
		t.Errorf("markdown kept a script:\n%s", c.Text)
	}
	if c.Truncated || c.Total != len(c.Text) {
		t.Errorf("small page: truncated %v, total %d, len %d", c.Truncated, c.Total, len(c.Text))
	}
}

func TestContentFormatsAndSelectors(t *testing.T) {
	d, s := shared(t), newSite(t)
	p := openPage(t, openContext(t, d, "fmt", nil), s.url("/"))
	ctx := context.Background()

	text, err := p.Content(ctx, ContentRequest{Format: FormatText})
	if err != nil || !strings.Contains(text.Text, "Welcome home") || strings.Contains(text.Text, "<h1>") {
		t.Errorf("text = %q, %v; want the rendered text", text.Text, err)
	}
	h, err := p.Content(ctx, ContentRequest{Format: FormatHTML})
	if err != nil || !strings.Contains(h.Text, "<h1>Welcome home</h1>") {
		t.Errorf("html = %q, %v; want the markup", h.Text, err)
	}
	notes, err := p.Content(ctx, ContentRequest{Format: FormatText, Selector: ".note"})
	if err != nil || notes.Text != "first note\n\nsecond note" {
		t.Errorf("text of .note = %q, %v; want both notes", notes.Text, err)
	}
	table, err := p.Content(ctx, ContentRequest{Selector: "table"})
	if err != nil || !strings.Contains(table.Text, "| apple") || strings.Contains(table.Text, "Welcome") {
		t.Errorf("markdown of table = %q, %v; want the table only", table.Text, err)
	}
	if _, err := p.Content(ctx, ContentRequest{Selector: "#nothing"}); !errorsIs(err, ErrNoElement) {
		t.Errorf("unmatched selector: %v, want ErrNoElement", err)
	}
	if _, err := p.Content(ctx, ContentRequest{Selector: "p[[["}); !errorsIs(err, ErrBadRequest) {
		t.Errorf("invalid selector: %v, want ErrBadRequest", err)
	}
	if _, err := p.Content(ctx, ContentRequest{Format: "pdf"}); !errorsIs(err, ErrBadRequest) {
		t.Errorf("unknown format: %v, want ErrBadRequest", err)
	}
}

func TestContentIsCutAndResumesAtOffset(t *testing.T) {
	d, s := shared(t), newSite(t)
	p := openPage(t, openContext(t, d, "cut", nil), s.url("/big?n=2000"))
	ctx := context.Background()
	whole, err := p.Content(ctx, ContentRequest{Format: FormatText})
	if err != nil || whole.Truncated || whole.Total < 50000 {
		t.Fatalf("whole = total %d truncated %v, %v; want one window of > 50 kB", whole.Total, whole.Truncated, err)
	}
	var joined strings.Builder
	req := ContentRequest{Format: FormatText, Max: 7000}
	for {
		c, err := p.Content(ctx, req)
		if err != nil {
			t.Fatalf("Content at %d: %v", req.Offset, err)
		}
		if len(c.Text) > req.Max || c.Offset != req.Offset || c.Total != whole.Total {
			t.Fatalf("window at %d: %d bytes, offset %d, total %d", req.Offset, len(c.Text), c.Offset, c.Total)
		}
		joined.WriteString(c.Text)
		if !c.Truncated {
			break
		}
		req.Offset = c.NextOffset
	}
	if joined.String() != whole.Text {
		t.Errorf("the windows joined differ from the whole (%d vs %d bytes)", joined.Len(), len(whole.Text))
	}
	if _, err := p.Content(ctx, ContentRequest{Format: FormatText, Offset: whole.Total + 1}); !errorsIs(err, ErrBadRequest) {
		t.Errorf("offset past the end: %v, want ErrBadRequest", err)
	}

	if _, err := p.Navigate(ctx, s.url("/big?n=9000")); err != nil {
		t.Fatal(err)
	}
	big, err := p.Content(ctx, ContentRequest{Format: FormatHTML})
	if err != nil || !big.Truncated || len(big.Text) > DefaultMaxContent || big.NextOffset != len(big.Text) {
		t.Errorf("a %d-byte page: %d bytes, truncated %v, next %d, %v; want at most the default window",
			big.Total, len(big.Text), big.Truncated, big.NextOffset, err)
	}
}

func TestScreenshotIsPNG(t *testing.T) {
	d, s := shared(t), newSite(t)
	p := openPage(t, openContext(t, d, "shot", nil), s.url("/tall"))
	ctx := context.Background()
	view, err := p.Screenshot(ctx, false)
	if err != nil {
		t.Fatalf("Screenshot: %v", err)
	}
	if ct := http.DetectContentType(view); ct != "image/png" {
		t.Errorf("content type %q, want image/png", ct)
	}
	vi, err := png.Decode(bytes.NewReader(view))
	if err != nil {
		t.Fatalf("decoding the viewport shot: %v", err)
	}
	full, err := p.Screenshot(ctx, true)
	if err != nil {
		t.Fatalf("full-page Screenshot: %v", err)
	}
	fi, err := png.Decode(bytes.NewReader(full))
	if err != nil {
		t.Fatalf("decoding the full-page shot: %v", err)
	}
	if vh, fh := vi.Bounds().Dy(), fi.Bounds().Dy(); vh >= 3000 || fh < 3000 {
		t.Errorf("heights: viewport %d, full page %d; want < 3000 and >= 3000", vh, fh)
	}
}
