package browser

import (
	"strings"
	"testing"
	"unicode/utf8"

	"pgregory.net/rapid"
)

func TestWindowCutsOnBoundaries(t *testing.T) {
	text := strings.Repeat("ab\n", 10) // 30 bytes
	c, err := window(text, 0, 10)
	if err != nil || c.Text != "ab\nab\nab\n" || !c.Truncated || c.NextOffset != 9 || c.Total != 30 {
		t.Errorf("window = %+v, %v; want the first three lines, next 9", c, err)
	}
	c, err = window(text, 27, 10)
	if err != nil || c.Text != "ab\n" || c.Truncated || c.NextOffset != 0 {
		t.Errorf("last window = %+v, %v", c, err)
	}
	c, err = window(text, 30, 10)
	if err != nil || c.Text != "" || c.Truncated {
		t.Errorf("window at the end = %+v, %v; want empty", c, err)
	}
	if _, err := window(text, 31, 10); !errorsIs(err, ErrBadRequest) {
		t.Errorf("offset past the end: %v, want ErrBadRequest", err)
	}
	c, err = window("héé", 2, 1) // offset inside "é", window smaller than a rune
	if err != nil || c.Text != "é" || c.Offset != 3 {
		t.Errorf("window inside a rune = %+v, %v; want the next whole rune", c, err)
	}
}

// Reading window after window from NextOffset gives back the whole text, in valid UTF-8 pieces
// no larger than the window.
func TestWindowPropertyReassembles(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		text := rapid.StringOf(rapid.SampledFrom([]rune{'a', 'é', '€', '𝄞', '\n', ' '})).Draw(t, "text")
		max := rapid.IntRange(4, 64).Draw(t, "max")
		var got strings.Builder
		offset := 0
		for {
			c, err := window(text, offset, max)
			if err != nil {
				t.Fatalf("window(%d): %v", offset, err)
			}
			if len(c.Text) > max || !utf8.ValidString(c.Text) || c.Total != len(text) {
				t.Fatalf("bad window %+v", c)
			}
			got.WriteString(c.Text)
			if !c.Truncated {
				break
			}
			if c.NextOffset <= offset {
				t.Fatalf("no progress at %d", offset)
			}
			offset = c.NextOffset
		}
		if got.String() != text {
			t.Fatalf("reassembled %q, want %q", got.String(), text)
		}
	})
}

func TestRenderMarkdown(t *testing.T) {
	s := snapshot{
		URL:   "https://example.com/dir/page",
		Base:  "https://example.com/dir/page",
		Parts: []string{`<h2>T</h2><a href="next">n</a> <a href="/root">r</a> <img src="i.png" alt="i"><table><tr><th>A</th></tr><tr><td>1</td></tr></table>`},
	}
	md, err := render(s, FormatMarkdown)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## T", "(https://example.com/dir/next)", "(https://example.com/root)", "(https://example.com/dir/i.png)", "| A |", "| 1 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if got, _ := render(snapshot{Parts: []string{"a", "b"}}, FormatText); got != "a\n\nb" {
		t.Errorf("text parts joined = %q", got)
	}
	if f, err := ParseFormat(""); f != FormatMarkdown || err != nil {
		t.Errorf("ParseFormat(\"\") = %q, %v", f, err)
	}
}
