package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
)

// mcpbIconSize is the icon's width and height: what Claude Desktop displays best (the official
// validator recommends 512×512).
const mcpbIconSize = 512

// iconShape is a disc (a head) or the top half of a disc (shoulders) in the icon.
type iconShape struct {
	x, y, r float64
	half    bool
	c       color.RGBA
}

// iconFigure is a troupe member: a head over shoulders, centred on x.
func iconFigure(x, y, scale float64, c color.RGBA) []iconShape {
	return []iconShape{
		{x: x, y: y + 150*scale, r: 120 * scale, half: true, c: c},
		{x: x, y: y, r: 62 * scale, c: c},
	}
}

// mcpbIconPNG draws the bundle's icon: three figures on a rounded dark square, drawn rather than
// committed as a binary file. Each pixel is sampled 4×4 times for smooth edges.
func mcpbIconPNG() []byte {
	bg := color.RGBA{0x1f, 0x25, 0x44, 0xff}
	var shapes []iconShape
	shapes = append(shapes, iconFigure(150, 245, 0.8, color.RGBA{0xff, 0x7a, 0x59, 0xff})...)
	shapes = append(shapes, iconFigure(362, 245, 0.8, color.RGBA{0x3e, 0xc1, 0xc9, 0xff})...)
	// The middle figure stands in front, cut out of the others by a ring of background.
	for _, s := range iconFigure(256, 220, 1, bg) {
		s.r += 14
		shapes = append(shapes, s)
	}
	shapes = append(shapes, iconFigure(256, 220, 1, color.RGBA{0xff, 0xc8, 0x57, 0xff})...)
	const n, size = 4, mcpbIconSize
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			var r, g, b, a float64
			for sy := 0; sy < n; sy++ {
				for sx := 0; sx < n; sx++ {
					x, y := float64(px)+(float64(sx)+0.5)/n, float64(py)+(float64(sy)+0.5)/n
					if !inRoundedSquare(x, y, size, 96) {
						continue
					}
					c := bg
					for _, s := range shapes {
						dx, dy := x-s.x, y-s.y
						if dx*dx+dy*dy <= s.r*s.r && (!s.half || dy <= 0) {
							c = s.c
						}
					}
					r, g, b, a = r+float64(c.R), g+float64(c.G), b+float64(c.B), a+1
				}
			}
			if a > 0 {
				img.SetNRGBA(px, py, color.NRGBA{uint8(r / a), uint8(g / a), uint8(b / a), uint8(255 * a / (n * n))})
			}
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // writing to memory does not fail
	return buf.Bytes()
}

// inRoundedSquare reports whether (x, y) is inside a size×size square with corners of radius r.
func inRoundedSquare(x, y, size, r float64) bool {
	cx := min(max(x, r), size-r)
	cy := min(max(y, r), size-r)
	return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r
}
