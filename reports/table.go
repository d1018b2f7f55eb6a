package reports

import (
	"strings"

	"codeberg.org/go-pdf/fpdf"
)

// column and row describe a table; cells may hold line breaks.
type column struct {
	title string
	w     float64
	align string
	// ids: each line of a cell is one identifier (record id, pseudonym, SP id), shown on
	// one line and shortened in the middle where it is too wide, never wrapped: a hash
	// broken over two lines reads as two.
	ids bool
}

type row struct {
	cells  []string
	colors map[int][3]int
	bold   map[int]bool
}

const (
	cellPad    = 1.2
	rowLine    = 3.9
	headerLine = 3.8
	headerSize = 8.0
	// minHeaderSize is the smallest header font: a header word that does not fit its
	// column at 8 pt shrinks to this before it is ever broken.
	minHeaderSize = 5.5
)

// table draws rows under a header that is repeated on every page the table spans. A
// row that does not fit the rest of the page starts the next one; a row taller than a
// whole page is continued on the next pages at full height, under the header again.
func (r *renderer) table(cols []column, rows []row) {
	pdf := r.pdf
	// each header title at the largest size at which no word is broken
	sizes := make([]float64, len(cols))
	headerH := 0.0
	for i := range cols {
		// a soft hyphen (U+00AD) in a title marks where a long compound may break
		// ("Allvarlighets-grad") when it would not fit whole at full size
		if t := cols[i].title; strings.Contains(t, "\u00ad") {
			r.font("B", headerSize)
			whole := strings.ReplaceAll(t, "\u00ad", "")
			if widestWord(pdf, whole) > cols[i].w-2*cellPad {
				cols[i].title = strings.ReplaceAll(t, "\u00ad", "-\n")
			} else {
				cols[i].title = whole
			}
		}
	}
	for i, c := range cols {
		sizes[i] = headerSize
		for ; sizes[i] > minHeaderSize; sizes[i] -= 0.5 {
			r.font("B", sizes[i])
			if widestWord(pdf, c.title) <= c.w-2*cellPad {
				break
			}
		}
		r.font("B", sizes[i])
		headerH = max(headerH, float64(len(pdf.SplitText(c.title, c.w-2*cellPad)))*headerLine+2*cellPad)
	}
	drawHeader := func() {
		r.fill(colHead)
		x, y := margin, pdf.GetY()
		for i, c := range cols {
			r.font("B", sizes[i])
			pdf.Rect(x, y, c.w, headerH, "F")
			pdf.SetXY(x+cellPad, y+cellPad)
			pdf.MultiCell(c.w-2*cellPad, headerLine, c.title, "", c.align, false)
			x += c.w
		}
		pdf.SetXY(margin, y+headerH)
	}
	newPage := func() {
		pdf.AddPage()
		drawHeader()
	}
	r.ensure(headerH + 2*rowLine + 2*cellPad)
	drawHeader()
	// the lines one page holds below the header
	perPage := int((bottomY - (margin + 6) - headerH - 2*cellPad) / rowLine)
	for _, rw := range rows {
		lines := make([][]string, len(cols))
		n := 0
		for i, c := range cols {
			r.font(boldStyle(rw.bold[i]), 8)
			for _, part := range strings.Split(rw.cells[i], "\n") {
				if c.ids {
					lines[i] = append(lines[i], shortenMiddle(pdf, part, c.w-2*cellPad))
					continue
				}
				lines[i] = append(lines[i], textLines(pdf, part, c.w-2*cellPad)...)
			}
			n = max(n, len(lines[i]))
		}
		fits := func() int { return int((bottomY - pdf.GetY() - 2*cellPad) / rowLine) }
		if n > fits() && n <= perPage {
			newPage() // keep the row whole where a page can hold it
		}
		for done := 0; done < n; {
			if fits() < 1 {
				newPage()
			}
			k := min(n-done, fits())
			x, y := margin, pdf.GetY()
			for i, c := range cols {
				r.font(boldStyle(rw.bold[i]), 8)
				if col, ok := rw.colors[i]; ok {
					r.color(col)
				}
				for j := done; j < done+k && j < len(lines[i]); j++ {
					pdf.SetXY(x+cellPad, y+cellPad+float64(j-done)*rowLine)
					pdf.CellFormat(c.w-2*cellPad, rowLine, lines[i][j], "", 0, c.align, false, 0, "")
				}
				if i == 0 && done > 0 && done >= len(lines[0]) && len(lines[0]) > 0 {
					// a continued row says whose it is
					r.color(colMuted)
					pdf.SetXY(x+cellPad, y+cellPad)
					pdf.CellFormat(c.w-2*cellPad, rowLine, fit(pdf, lines[0][0]+" "+r.t.Get("continued"), c.w-2*cellPad), "", 0, c.align, false, 0, "")
					r.color(colText)
				}
				r.color(colText)
				x += c.w
			}
			h := float64(k)*rowLine + 2*cellPad
			done += k
			if done == n {
				r.draw(colRule)
				pdf.SetLineWidth(0.2)
				pdf.Line(margin, y+h, margin+bodyW, y+h)
			}
			pdf.SetXY(margin, y+h)
			if done < n {
				newPage()
			}
		}
	}
	pdf.Ln(3)
}

func boldStyle(b bool) string {
	if b {
		return "B"
	}
	return ""
}

// textLines is text as the lines it takes at width w and the current font: its own line
// breaks kept, words too wide shortened or broken at their punctuation (shortenWords),
// then wrapped between words (wrap).
func textLines(pdf *fpdf.Fpdf, text string, w float64) []string {
	var out []string
	for _, part := range strings.Split(text, "\n") {
		for _, l := range strings.Split(shortenWords(pdf, part, w), "\n") {
			out = append(out, wrap(pdf, l, w)...)
		}
	}
	return out
}

// wrap breaks s into lines no wider than w at the current font, between words; a space
// that groups a number's digits ("4 855") is not a place to break, so a count is never
// read as two. A word wider than w stays whole on its own line (shortenWords fits
// those first).
func wrap(pdf *fpdf.Fpdf, s string, w float64) []string {
	words := words(s)
	if len(words) == 0 {
		return []string{""}
	}
	var lines []string
	line := words[0]
	for _, word := range words[1:] {
		if pdf.GetStringWidth(line+" "+word) <= w {
			line += " " + word
			continue
		}
		lines = append(lines, line)
		line = word
	}
	return append(lines, line)
}

// words splits s at its spaces, except those between a digit and a group of three
// digits (a number written with thousands separated, i18n.Thousands).
func words(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' {
			continue
		}
		if i > 0 && isDigit(s[i-1]) && i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) && (i+4 == len(s) || !isDigit(s[i+4])) {
			continue // a thousands separator
		}
		if i > start {
			out = append(out, s[start:i])
		}
		start = i + 1
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// widestWord is the width of the widest space-separated word of s at the current font.
func widestWord(pdf *fpdf.Fpdf, s string) float64 {
	w := 0.0
	for _, word := range strings.Fields(s) {
		w = max(w, pdf.GetStringWidth(word))
	}
	return w
}

// fit shortens s with an ellipsis at its end to width w at the current font.
func fit(pdf *fpdf.Fpdf, s string, w float64) string {
	if pdf.GetStringWidth(s) <= w {
		return s
	}
	rs := []rune(s)
	for len(rs) > 1 && pdf.GetStringWidth(string(rs)+"…") > w {
		rs = rs[:len(rs)-1]
	}
	return string(rs) + "…"
}

// shortenWords makes each word of s that is wider than w fit: broken after its dots,
// slashes, underscores or hyphens where it has them (a URL, a purpose key), else
// shortened in its middle (a hash), so text wraps between words or at punctuation and
// never inside a name.
func shortenWords(pdf *fpdf.Fpdf, s string, w float64) string {
	if widestWord(pdf, s) <= w {
		return s
	}
	words := strings.Split(s, " ")
	for i, word := range words {
		if pdf.GetStringWidth(word) <= w {
			continue
		}
		var lines []string
		line := ""
		for _, part := range splitAfterPunct(word) {
			if line != "" && pdf.GetStringWidth(line+part) > w {
				lines = append(lines, shortenMiddle(pdf, line, w))
				line = ""
			}
			line += part
		}
		words[i] = strings.Join(append(lines, shortenMiddle(pdf, line, w)), "\n")
	}
	return strings.Join(words, " ")
}

// splitAfterPunct cuts s after each '.', '/', '_' or '-'.
func splitAfterPunct(s string) []string {
	var parts []string
	start := 0
	for i, r := range s {
		if r == '.' || r == '/' || r == '_' || r == '-' {
			parts = append(parts, s[start:i+1])
			start = i + 1
		}
	}
	if start < len(s) {
		parts = append(parts, s[start:])
	}
	return parts
}

// shortenMiddle fits an identifier to width w by cutting its middle: the head says what
// it is, the tail (the end of a hash) keeps two ids apart.
func shortenMiddle(pdf *fpdf.Fpdf, s string, w float64) string {
	if pdf.GetStringWidth(s) <= w {
		return s
	}
	rs := []rune(s)
	tail := min(8, len(rs)/3)
	head := len(rs) - tail
	for head > 1 && pdf.GetStringWidth(string(rs[:head])+"…"+string(rs[len(rs)-tail:])) > w {
		head--
	}
	return string(rs[:head]) + "…" + string(rs[len(rs)-tail:])
}
