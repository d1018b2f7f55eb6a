package reports

import (
	"github.com/opetushallitus/mpass-audit/internal/i18n"
	"slices"

	"codeberg.org/go-pdf/fpdf"
)

// findingsChart draws findings per term as stacked horizontal bars; a term's name wraps
// onto a second line rather than being cut.
func (r *renderer) findingsChart() {
	pdf := r.pdf
	var total int64
	for _, s := range r.d.Terms {
		total += s.Fail + s.Error + s.Warn + s.Skip
	}
	if total == 0 {
		return // a chart of zeros says nothing the verdicts do not
	}
	r.ensure(12 + 11*float64(len(r.d.Terms)))
	r.font("B", 11)
	pdf.CellFormat(bodyW, 6, r.t.Get("findings_per_term"), "", 1, "L", false, 0, "")
	var most int64 = 1
	for _, s := range r.d.Terms {
		most = max(most, s.Fail+s.Error+s.Warn+s.Skip)
	}
	labelW, barMax := 70.0, bodyW-70-22
	for _, s := range r.d.Terms {
		y := pdf.GetY() + 1
		r.font("", 8.5)
		lines := pdf.SplitText(r.t.Term(s.Term), labelW-2)
		if len(lines) > 2 {
			lines = append(lines[:1], fit(pdf, lines[1]+" "+lines[2], labelW-2))
		}
		rowH := max(6, float64(len(lines))*3.8+1)
		for i, l := range lines {
			pdf.SetXY(margin, y+float64(i)*3.8+0.4)
			pdf.CellFormat(labelW, 3.8, l, "", 0, "L", false, 0, "")
		}
		x := margin + labelW
		barY := y + rowH/2 - 2
		for _, part := range []struct {
			n int64
			c [3]int
		}{{s.Fail + s.Error, colFail}, {s.Warn, colWarn}, {s.Skip, colSkip}} {
			if part.n == 0 {
				continue
			}
			wd := max(0.6, barMax*float64(part.n)/float64(most))
			r.fill(part.c)
			pdf.Rect(x, barY, wd, 4, "F")
			x += wd
		}
		pdf.SetXY(x+2, barY-1)
		pdf.CellFormat(20, 6, i18n.Thousands(s.Fail+s.Error+s.Warn+s.Skip), "", 0, "L", false, 0, "")
		pdf.SetXY(margin, y+rowH)
	}
	pdf.Ln(2)
	r.legend([]string{r.t.Result("fail"), r.t.Result("warn"), r.t.Result("skip")}, [][3]int{colFail, colWarn, colSkip})
}

func (r *renderer) legend(labels []string, colors [][3]int) {
	pdf := r.pdf
	x, y := margin, pdf.GetY()
	r.font("", 8)
	for i, l := range labels {
		r.fill(colors[i])
		pdf.Rect(x, y+1.2, 3, 3, "F")
		pdf.SetXY(x+4, y)
		w := pdf.GetStringWidth(l) + 8
		pdf.CellFormat(w, 5.5, l, "", 0, "L", false, 0, "")
		x += w + 4
	}
	pdf.SetXY(margin, y+7)
}

// seriesStyle tells the weekly chart's lines apart without colour: each has its own
// dash pattern and marker, so a line on top of another still shows both.
type seriesStyle struct {
	c      [3]int
	dash   []float64 // mm; nil = solid
	marker int       // 0 dot, 1 square, 2 triangle, 3 diamond, 4 ring
}

var seriesStyles = []seriesStyle{
	{palette[0], nil, 0},
	{palette[1], []float64{2.2, 1.2}, 1},
	{palette[2], []float64{0.6, 0.9}, 2},
	{palette[3], []float64{3, 1, 0.6, 1}, 3},
	{palette[4], []float64{1.2, 1.2}, 4},
}

func (r *renderer) marker(kind int, x, y float64) {
	pdf := r.pdf
	const s = 1.1
	switch kind {
	case 1:
		pdf.Rect(x-s, y-s, 2*s, 2*s, "F")
	case 2:
		pdf.Polygon([]fpdf.PointType{pt(x, y-s*1.2), pt(x-s*1.1, y+s*0.8), pt(x+s*1.1, y+s*0.8)}, "F")
	case 3:
		pdf.Polygon([]fpdf.PointType{pt(x, y-s*1.3), pt(x+s*1.1, y), pt(x, y+s*1.3), pt(x-s*1.1, y)}, "F")
	case 4:
		pdf.SetDashPattern(nil, 0)
		pdf.Circle(x, y, s, "D")
	default:
		pdf.Circle(x, y, s*0.8, "F")
	}
}

func pt(x, y float64) fpdf.PointType { return fpdf.PointType{X: x, Y: y} }

// weeklyChart draws releases per week of the largest SPs as lines.
func (r *renderer) weeklyChart() {
	wk := r.d.Weekly
	if len(wk.Weeks) < 2 || len(wk.Series) == 0 {
		return // one week is one point: the SP table says it
	}
	pdf := r.pdf
	const chartH = 60.0
	r.ensure(chartH + 24 + 5*float64(len(wk.Series)))
	pdf.Ln(4)
	r.font("B", 11)
	pdf.MultiCell(bodyW, 6, r.t.Get("releases_per_week"), "", "L", false)
	var most int64 = 1
	for _, s := range wk.Series {
		for _, c := range s.Counts {
			most = max(most, c)
		}
	}
	most = niceCeiling(most)
	x0, y0 := margin+16, pdf.GetY()+3
	w, h := bodyW-28, chartH
	r.draw(colRule)
	pdf.SetLineWidth(0.2)
	r.font("", 7)
	r.color(colMuted)
	for i := 0; i <= 4; i++ {
		y := y0 + h - h*float64(i)/4
		pdf.Line(x0, y, x0+w, y)
		pdf.SetXY(margin, y-2)
		pdf.CellFormat(13, 4, i18n.Thousands(most*int64(i)/4), "", 0, "R", false, 0, "")
	}
	step := w / float64(max(1, len(wk.Weeks)-1))
	if len(wk.Weeks) == 1 {
		step = 0
	}
	// a week label is centred under its point, at most as wide as the gap between two,
	// and every other one is left out where they would touch
	every := 1
	for step > 0 && float64(every)*step < pdf.GetStringWidth("2026-W40")+2 {
		every++
	}
	partial := false
	for i, week := range wk.Weeks {
		if i%every != 0 && i != len(wk.Weeks)-1 {
			continue
		}
		if slices.Contains(wk.Partial, week) {
			week += "*"
			partial = true
		}
		pdf.SetXY(x0+float64(i)*step-11, y0+h+1)
		pdf.CellFormat(22, 4, week, "", 0, "C", false, 0, "")
	}
	pdf.SetLineWidth(0.5)
	for si, s := range wk.Series {
		st := seriesStyles[si%len(seriesStyles)]
		// each series a hair above the one before, so equal lines lie side by side
		// instead of one hiding the other
		y0 := y0 - 0.7*float64(si)
		r.draw(st.c)
		r.fill(st.c)
		pdf.SetDashPattern(st.dash, 0)
		for i := 1; i < len(s.Counts); i++ {
			pdf.Line(x0+float64(i-1)*step, y0+h-h*float64(s.Counts[i-1])/float64(most), x0+float64(i)*step, y0+h-h*float64(s.Counts[i])/float64(most))
		}
		pdf.SetDashPattern(nil, 0)
		for i, v := range s.Counts {
			r.marker(st.marker, x0+float64(i)*step, y0+h-h*float64(v)/float64(most))
		}
	}
	pdf.SetLineWidth(0.2)
	r.color(colText)
	pdf.SetXY(margin, y0+h+7)
	r.font("", 8)
	if partial {
		r.color(colMuted)
		pdf.CellFormat(bodyW, 5, r.t.Get("partial_week"), "", 1, "L", false, 0, "")
		r.color(colText)
	}
	for i, s := range wk.Series {
		st := seriesStyles[i%len(seriesStyles)]
		y := pdf.GetY()
		r.draw(st.c)
		r.fill(st.c)
		pdf.SetLineWidth(0.5)
		pdf.SetDashPattern(st.dash, 0)
		pdf.Line(margin, y+2.5, margin+8, y+2.5)
		pdf.SetDashPattern(nil, 0)
		r.marker(st.marker, margin+4, y+2.5)
		pdf.SetLineWidth(0.2)
		pdf.SetXY(margin+10, y)
		pdf.CellFormat(bodyW-10, 5, fit(pdf, s.SP, bodyW-10), "", 1, "L", false, 0, "")
	}
}

// niceCeiling rounds n up to 4 × (1, 2 or 5 × 10^k), so the four grid steps are round.
func niceCeiling(n int64) int64 {
	for mag := int64(1); ; mag *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if 4*m*mag >= n {
				return 4 * m * mag
			}
		}
	}
}
