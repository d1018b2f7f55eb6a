package reports

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// Page geometry in millimetres (A4 portrait).
const (
	pageW   = 210.0
	pageH   = 297.0
	margin  = 18.0
	bodyW   = pageW - 2*margin
	lineH   = 4.6
	bottomY = pageH - 20
)

// Colours of results, the same on every page and chart.
var (
	colFail  = [3]int{196, 40, 40}
	colWarn  = [3]int{224, 150, 20}
	colSkip  = [3]int{140, 140, 140}
	colPass  = [3]int{46, 125, 50}
	colHead  = [3]int{232, 236, 242}
	colRule  = [3]int{190, 196, 204}
	colText  = [3]int{25, 25, 25}
	colMuted = [3]int{100, 100, 100}
	palette  = [][3]int{{31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {148, 103, 189}, {140, 86, 75}}
)

// Render writes the PDF of d in language lang. The same data gives the same bytes: the
// dates come from the run, the catalog is sorted, and nothing iterates a map.
//
// Every string of d comes from input of any size and alphabet (SP and record ids,
// names, reasons): Render first makes each printable in place (printable), so a rune
// the PDF fonts cannot hold never reaches the PDF library, which panics on one.
func Render(w io.Writer, d *Data, lang string) error {
	t, err := LoadTexts(lang)
	if err != nil {
		return err
	}
	printableAll(reflect.ValueOf(d))
	r := &renderer{d: d, t: t}
	return r.render(w)
}

type renderer struct {
	d   *Data
	t   *Texts
	pdf *fpdf.Fpdf
}

func (r *renderer) render(w io.Writer) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	r.pdf = pdf
	stamp := r.d.Run.Finished
	if stamp.IsZero() {
		stamp = r.d.Run.Started
	}
	pdf.SetCreationDate(stamp)
	pdf.SetModificationDate(stamp)
	pdf.SetCatalogSort(true)
	pdf.SetCompression(true)
	pdf.SetLang(r.t.Get("lang"))
	pdf.SetTitle(r.t.Get("title")+" — "+r.controllerName()+" — "+r.period(), true)
	pdf.SetAuthor("mpass-audit", true)
	pdf.SetCreator("mpass-audit", true)
	pdf.SetProducer("mpass-audit", true)
	pdf.SetSubject(r.t.Get("subtitle"), true)
	// Each document gets its own copy of the font bytes: fpdf writes into the bytes it
	// is given while subsetting, so a shared slice would change the next document
	// (and race with a concurrent one).
	pdf.AddUTF8FontFromBytes("go", "", bytes.Clone(goregular.TTF))
	pdf.AddUTF8FontFromBytes("go", "B", bytes.Clone(gobold.TTF))
	pdf.AddUTF8FontFromBytes("go", "I", bytes.Clone(goitalic.TTF))
	pdf.AddUTF8FontFromBytes("gomono", "", bytes.Clone(gomono.TTF))
	pdf.SetMargins(margin, margin+6, margin)
	pdf.SetAutoPageBreak(true, pageH-bottomY)
	pdf.AliasNbPages("{nb}")
	pdf.SetHeaderFunc(r.header)
	pdf.SetFooterFunc(r.footer)

	r.cover()
	r.summary()
	r.serviceProviders()
	r.schools()
	r.terms()
	r.exceptions()
	r.appendix()
	if err := pdf.Error(); err != nil {
		return err
	}
	return pdf.Output(w)
}

func (r *renderer) period() string {
	if r.d.From[:7] == r.d.To[:7] && strings.HasSuffix(r.d.From, "-01") && lastDay(r.d.To) {
		return r.d.From[:7]
	}
	return r.d.From + " – " + r.d.To
}

func lastDay(day string) bool {
	t, err := time.Parse(time.DateOnly, day)
	return err == nil && t.AddDate(0, 0, 1).Day() == 1
}

func (r *renderer) color(c [3]int) { r.pdf.SetTextColor(c[0], c[1], c[2]) }
func (r *renderer) fill(c [3]int)  { r.pdf.SetFillColor(c[0], c[1], c[2]) }
func (r *renderer) draw(c [3]int)  { r.pdf.SetDrawColor(c[0], c[1], c[2]) }
func (r *renderer) font(style string, size float64) {
	r.pdf.SetFont("go", style, size)
}

func (r *renderer) header() {
	if r.pdf.PageNo() == 1 {
		return
	}
	r.font("", 8)
	r.color(colMuted)
	r.pdf.SetXY(margin, 10)
	r.pdf.CellFormat(bodyW/2, 4, r.t.Get("title")+" · "+r.controllerName(), "", 0, "L", false, 0, "")
	r.pdf.CellFormat(bodyW/2, 4, r.period(), "", 1, "R", false, 0, "")
	r.draw(colRule)
	r.pdf.Line(margin, 15, pageW-margin, 15)
	r.pdf.SetXY(margin, margin+6)
	r.color(colText)
}

func (r *renderer) footer() {
	r.font("", 8)
	r.color(colMuted)
	r.pdf.SetXY(margin, pageH-14)
	r.pdf.CellFormat(bodyW/2, 4, fmt.Sprintf("%s %d · %s", r.t.Get("run"), r.d.Run.ID, short(r.d.Run.PolicyDigest)), "", 0, "L", false, 0, "")
	r.pdf.CellFormat(bodyW/2, 4, r.t.F("page", r.pdf.PageNo(), "{nb}"), "", 0, "R", false, 0, "")
	r.color(colText)
}

func short(digest string) string {
	if len(digest) > 23 {
		return digest[:23] + "…"
	}
	return digest
}

// heading starts a section: a new page for level 1, a keep-together block for level 2.
func (r *renderer) heading(text string, level int) {
	pdf := r.pdf
	if level == 1 {
		pdf.AddPage()
		r.font("B", 16)
		pdf.Bookmark(text, 0, -1)
		pdf.MultiCell(bodyW, 7, text, "", "L", false)
		pdf.Ln(2)
		return
	}
	r.ensure(24)
	pdf.Ln(2)
	r.font("B", 12)
	pdf.Bookmark(text, 1, -1)
	pdf.MultiCell(bodyW, 5.5, text, "", "L", false)
	pdf.Ln(1)
}

// ensure starts a new page when less than h millimetres are left.
func (r *renderer) ensure(h float64) {
	if r.pdf.GetY()+h > bottomY {
		r.pdf.AddPage()
	}
}

func (r *renderer) para(text string) {
	r.font("", 9.5)
	r.color(colText)
	r.pdf.MultiCell(bodyW, lineH, text, "", "L", false)
	r.pdf.Ln(2)
}

func (r *renderer) cover() {
	pdf := r.pdf
	pdf.AddPage()
	r.fill([3]int{0, 53, 128})
	pdf.Rect(0, 0, pageW, 8, "F")
	pdf.SetY(60)
	r.font("B", 26)
	pdf.MultiCell(bodyW, 11, r.t.Get("title"), "", "L", false)
	r.font("", 13)
	r.color(colMuted)
	pdf.MultiCell(bodyW, 7, r.t.Get("subtitle"), "", "L", false)
	pdf.Ln(14)
	r.color(colText)
	r.font("B", 18)
	pdf.MultiCell(bodyW, 9, r.controllerName(), "", "L", false)
	r.font("", 12)
	pdf.MultiCell(bodyW, 6, r.period(), "", "L", false)
	if r.d.Releases+r.d.Uses == 0 { // TERMS.md: no records, no verdict — say so first
		pdf.Ln(6)
		r.font("B", 12)
		r.color(colMuted)
		pdf.MultiCell(bodyW, 6, r.t.Get("no_records_period"), "", "L", false)
		r.color(colText)
	}
	pdf.Ln(16)
	rows := [][2]string{
		{r.t.Get("controller"), r.controllerName()},
		{r.t.Get("oid"), r.d.Controller.OID},
		{r.t.Get("period"), r.d.From + " – " + r.d.To},
		{r.t.Get("run"), fmt.Sprintf("%d", r.d.Run.ID)},
		{r.t.Get("run_time"), r.d.Run.Finished.UTC().Format("2006-01-02 15:04 UTC")},
		{r.t.Get("registry_version"), fmt.Sprintf("%d", r.d.Registry.Version)},
		{r.t.Get("policy_digest"), r.d.Run.PolicyDigest},
	}
	for _, row := range rows {
		// the label wraps in its own column (the Swedish OID label is long), and the row
		// ends below whichever of label and value is taller: nothing overprints
		r.font("B", 9.5)
		y := pdf.GetY()
		pdf.MultiCell(50, 5.5, row[0], "", "L", false)
		below := pdf.GetY()
		r.font("", 9.5)
		if strings.HasPrefix(row[1], "sha256:") {
			pdf.SetFont("gomono", "", 7.5)
		}
		pdf.SetXY(margin+52, y)
		pdf.MultiCell(bodyW-52, 5.5, row[1], "", "L", false)
		pdf.SetY(max(below, pdf.GetY()))
	}
	pdf.SetY(250)
	r.font("I", 9.5)
	r.color(colMuted)
	pdf.MultiCell(bodyW, 5, r.t.Get("generated_for"), "", "L", false)
	r.color(colText)
}

// judged reports whether a term judged any record of the period: a term judges every
// record of its kinds, so it did where the period has records of one of them.
func (r *renderer) judged(term mpass.Term) bool {
	for _, k := range term.Kinds {
		if (k == mpass.KindRelease && r.d.Releases > 0) || (k == mpass.KindUse && r.d.Uses > 0) {
			return true
		}
	}
	return len(term.Kinds) == 0 && r.d.Releases+r.d.Uses > 0
}

func (r *renderer) verdict(s TermSummary) (string, [3]int) {
	if s.Fail+s.Warn+s.Skip+s.Error == 0 {
		if !r.judged(s.Term) { // TERMS.md: no records, no verdict — never "compliant"
			return r.t.Get("no_records"), colMuted
		}
		return r.t.Get("compliant"), colPass
	}
	c := colSkip
	if s.Warn > 0 {
		c = colWarn
	}
	if s.Fail+s.Error > 0 {
		c = colFail
	}
	var parts []string
	for _, p := range []struct {
		n   int64
		key string
	}{{s.Fail, "result_fail"}, {s.Error, "result_error"}, {s.Warn, "result_warn"}, {s.Skip, "result_skip"}} {
		if p.n > 0 {
			parts = append(parts, thousands(p.n)+" "+r.t.Get(p.key))
		}
	}
	return strings.Join(parts, ", "), c
}

// controllerName is the controller's name in the report's language where the
// organisation service gave one, else its registry name.
func (r *renderer) controllerName() string {
	return mpass.LocalName(r.d.Controller.Names, r.t.Get("lang"), r.d.Controller.Name)
}

func (r *renderer) summary() {
	pdf := r.pdf
	r.heading(r.t.Get("summary"), 1)
	r.para(r.t.Get("summary_intro"))
	if !r.d.Controller.PermissionData { // TERMS.md service-not-allowed: say it was not judged
		r.para(r.t.Get("allowed_services_unchecked"))
	}
	cols := []column{{r.t.Get("term"), 74, "L"}, {r.t.Get("verdict"), 54, "L"}, {r.t.Get("change"), bodyW - 128, "L"}}
	var rows []row
	for _, s := range r.d.Terms {
		v, c := r.verdict(s)
		change := r.t.Get("no_previous")
		if s.HasPrevious {
			change = r.t.F("change_counts", s.New, s.Resolved)
		}
		rows = append(rows, row{cells: []string{r.t.Term(s.Term), v, change}, colors: map[int][3]int{1: c}, bold: map[int]bool{1: true}})
	}
	r.table(cols, rows)

	pdf.Ln(4)
	r.font("B", 11)
	pdf.CellFormat(bodyW, 6, r.t.Get("key_figures"), "", 1, "L", false, 0, "")
	var findings int64
	for _, s := range r.d.Terms {
		findings += s.Fail + s.Warn + s.Skip + s.Error
	}
	figures := []struct {
		label string
		value int64
	}{
		{r.t.Get("releases"), r.d.Releases}, {r.t.Get("uses"), r.d.Uses},
		{r.t.Get("service_providers"), int64(len(r.d.SPs))}, {r.t.Get("findings"), findings},
	}
	boxW := (bodyW - 3*4) / 4
	y := pdf.GetY() + 1
	for i, f := range figures {
		x := margin + float64(i)*(boxW+4)
		r.fill(colHead)
		pdf.Rect(x, y, boxW, 17, "F")
		pdf.SetXY(x+2, y+2)
		r.font("B", 14)
		pdf.CellFormat(boxW-4, 7, thousands(f.value), "", 2, "L", false, 0, "")
		pdf.SetX(x + 2)
		r.font("", 8)
		pdf.CellFormat(boxW-4, 5, f.label, "", 0, "L", false, 0, "")
	}
	pdf.SetXY(margin, y+21)
	r.evidence()
	r.findingsChart()
}

// findingsChart draws findings per term as stacked horizontal bars.
func (r *renderer) findingsChart() {
	pdf := r.pdf
	r.font("B", 11)
	pdf.CellFormat(bodyW, 6, r.t.Get("findings_per_term"), "", 1, "L", false, 0, "")
	var most int64 = 1
	for _, s := range r.d.Terms {
		most = max(most, s.Fail+s.Error+s.Warn+s.Skip)
	}
	labelW, barMax := 70.0, bodyW-70-18
	for _, s := range r.d.Terms {
		y := pdf.GetY() + 1
		r.font("", 8.5)
		pdf.SetXY(margin, y)
		pdf.CellFormat(labelW, 6, fit(pdf, r.t.Term(s.Term), labelW-2), "", 0, "L", false, 0, "")
		x := margin + labelW
		for _, part := range []struct {
			n int64
			c [3]int
		}{{s.Fail + s.Error, colFail}, {s.Warn, colWarn}, {s.Skip, colSkip}} {
			if part.n == 0 {
				continue
			}
			wd := max(0.6, barMax*float64(part.n)/float64(most))
			r.fill(part.c)
			pdf.Rect(x, y+1, wd, 4, "F")
			x += wd
		}
		pdf.SetXY(x+2, y)
		pdf.CellFormat(16, 6, thousands(s.Fail+s.Error+s.Warn+s.Skip), "", 1, "L", false, 0, "")
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

// schools lists the period's releases per school, in the organisation service's name
// of the report's language; a school named by code and by OID is one row.
func (r *renderer) schools() {
	if len(r.d.Schools) == 0 {
		return
	}
	r.heading(r.t.Get("schools"), 1)
	r.para(r.t.Get("schools_intro"))
	cols := []column{{r.t.Get("school"), bodyW - 134, "L"}, {r.t.Get("school_code"), 36, "L"}, {"OID", 62, "L"}, {r.t.Get("releases"), 36, "R"}}
	var rows []row
	for _, s := range r.d.Schools {
		name := mpass.LocalName(s.School.Names, r.t.Get("lang"), s.School.Name)
		if !s.Known {
			name += "\n(" + r.t.Get("school_unknown") + ")"
		}
		rows = append(rows, row{cells: []string{name, cmp.Or(s.School.Code, "–"), cmp.Or(s.School.OID, "–"), thousands(s.Releases)}})
	}
	r.table(cols, rows)
}

func (r *renderer) serviceProviders() {
	r.heading(r.t.Get("per_sp"), 1)
	r.para(r.t.Get("per_sp_intro"))
	if rs := r.d.RunScope; rs != nil {
		scope := r.t.Get("scope_all")
		if rs.From != "" || rs.To != "" {
			scope = rs.From + " – " + rs.To
		}
		r.para(r.t.F("scope_note", scope))
	}
	cols := []column{
		{r.t.Get("sp"), 50, "L"}, {r.t.Get("releases"), 26, "R"}, {r.t.Get("received"), 42, "L"},
		{r.t.Get("disclosures"), 30, "L"}, {r.t.Get("findings"), bodyW - 148, "L"},
	}
	var rows []row
	for _, sp := range r.d.SPs {
		name := sp.Name
		switch {
		case !sp.Known:
			name = sp.ID + "\n(" + r.t.Get("unknown_sp") + ")"
		case sp.Commercial:
			name += "\n" + sp.ID + "\n(" + r.t.Get("commercial") + ")"
		default:
			name += "\n" + sp.ID
		}
		var received []string
		for _, a := range sp.Received {
			mark := ""
			if !a.Approved {
				mark = " *"
			}
			received = append(received, fmt.Sprintf("%s%s (%s)", a.Name, mark, thousands(a.Count)))
		}
		disc := r.t.Get("none")
		if len(sp.Disclosures) > 0 {
			var parts []string
			for _, a := range sp.Disclosures {
				parts = append(parts, fmt.Sprintf("%s (%s)", a.Name, thousands(a.Count)))
			}
			disc = strings.Join(parts, "\n")
		}
		releases := thousands(sp.Releases)
		if sp.Uses > 0 {
			releases += "\n+" + thousands(sp.Uses) + " " + r.t.Get("uses")
		}
		s := sp.Summary
		findings := r.t.Get("none")
		c := colPass
		if s.Fail+s.Warn+s.Skip+s.Error > 0 {
			findings, c = r.verdict(TermSummary{Fail: s.Fail, Warn: s.Warn, Skip: s.Skip, Error: s.Error})
		}
		rows = append(rows, row{cells: []string{name, releases, strings.Join(received, "\n"), disc, findings}, colors: map[int][3]int{4: c}})
	}
	r.font("", 8)
	r.table(cols, rows)
	r.weeklyChart()
}

// weeklyChart draws releases per week of the largest SPs as lines.
func (r *renderer) weeklyChart() {
	wk := r.d.Weekly
	if len(wk.Weeks) == 0 || len(wk.Series) == 0 {
		return
	}
	pdf := r.pdf
	const chartH = 60.0
	r.ensure(chartH + 30)
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
	x0, y0 := margin+14, pdf.GetY()+3
	w, h := bodyW-16, chartH
	r.draw(colRule)
	pdf.SetLineWidth(0.2)
	r.font("", 7)
	r.color(colMuted)
	for i := 0; i <= 4; i++ {
		y := y0 + h - h*float64(i)/4
		pdf.Line(x0, y, x0+w, y)
		pdf.SetXY(margin, y-2)
		pdf.CellFormat(13, 4, thousands(most*int64(i)/4), "", 0, "R", false, 0, "")
	}
	step := w / float64(max(1, len(wk.Weeks)-1))
	if len(wk.Weeks) == 1 {
		step = 0
	}
	for i, week := range wk.Weeks {
		pdf.SetXY(x0+float64(i)*step-10, y0+h+1)
		pdf.CellFormat(20, 4, week, "", 0, "C", false, 0, "")
	}
	pdf.SetLineWidth(0.6)
	for si, s := range wk.Series {
		c := palette[si%len(palette)]
		r.draw(c)
		r.fill(c)
		for i, v := range s.Counts {
			x := x0 + float64(i)*step
			y := y0 + h - h*float64(v)/float64(most)
			if i > 0 {
				px := x0 + float64(i-1)*step
				py := y0 + h - h*float64(s.Counts[i-1])/float64(most)
				pdf.Line(px, py, x, y)
			}
			pdf.Circle(x, y, 0.8, "F")
		}
	}
	pdf.SetLineWidth(0.2)
	r.color(colText)
	pdf.SetXY(margin, y0+h+7)
	labels := make([]string, len(wk.Series))
	colors := make([][3]int, len(wk.Series))
	for i, s := range wk.Series {
		labels[i], colors[i] = s.SP, palette[i%len(palette)]
	}
	r.legendWrapped(labels, colors)
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

// legendWrapped is a legend with one entry per line, for long SP names.
func (r *renderer) legendWrapped(labels []string, colors [][3]int) {
	pdf := r.pdf
	r.font("", 8)
	for i, l := range labels {
		y := pdf.GetY()
		r.fill(colors[i])
		pdf.Rect(margin, y+1.2, 3, 3, "F")
		pdf.SetXY(margin+5, y)
		pdf.CellFormat(bodyW-5, 5, fit(pdf, l, bodyW-5), "", 1, "L", false, 0, "")
	}
}

func (r *renderer) terms() {
	r.heading(r.t.Get("per_term"), 1)
	for i, s := range r.d.Terms {
		if i > 0 {
			r.pdf.Ln(3)
		}
		r.heading(r.t.Term(s.Term), 2)
		if desc := r.t.TermDescription(s.Term); desc != "" {
			r.para(desc)
		}
		for _, rule := range s.Term.Rules {
			r.ensure(14)
			r.font("B", 9.5)
			r.pdf.MultiCell(bodyW, lineH, r.t.Rule(rule)+" ("+rule.ID+", "+r.t.Severity(rule.Severity)+")", "", "L", false)
			r.font("", 8.5)
			r.color(colMuted)
			r.pdf.MultiCell(bodyW, 4.2, r.t.Get("clause")+": "+rule.Clause, "", "L", false)
			r.pdf.MultiCell(bodyW, 4.2, r.t.Get("references")+": "+strings.Join(rule.References, "; "), "", "L", false)
			r.color(colText)
			r.pdf.Ln(1)
		}
		var rows []row
		for _, g := range r.d.Groups {
			if g.Term != s.Term.ID {
				continue
			}
			v, c := r.verdict(TermSummary{Fail: g.Fail, Warn: g.Warn, Skip: g.Skip, Error: g.Error})
			samples := strings.Join(g.Records, ", ")
			if len(g.Subjects) > 0 {
				samples += "\n" + strings.Join(g.Subjects, ", ")
			}
			rows = append(rows, row{
				cells:  []string{g.SP + "\n" + ruleTitle(r.t, s.Term, g.Rule), r.t.Severity(g.Severity), v, g.First.Format("2006-01-02") + " –\n" + g.Last.Format("2006-01-02"), samples},
				colors: map[int][3]int{2: c},
			})
		}
		if len(rows) == 0 {
			r.font("I", 9)
			text, c := r.t.Get("no_findings"), colPass
			if !r.judged(s.Term) {
				text, c = r.t.Get("no_records"), colMuted
			}
			r.color(c)
			r.pdf.MultiCell(bodyW, lineH, text, "", "L", false)
			r.color(colText)
			continue
		}
		cols := []column{{r.t.Get("sp") + " / " + r.t.Get("rule"), 60, "L"}, {r.t.Get("severity"), 18, "L"},
			{r.t.Get("count"), 24, "L"}, {r.t.Get("first_last"), 26, "L"}, {r.t.Get("samples"), bodyW - 128, "L"}}
		r.table(cols, rows)
	}
}

func ruleTitle(t *Texts, term mpass.Term, id string) string {
	for _, rule := range term.Rules {
		if rule.ID == id {
			return t.Rule(rule)
		}
	}
	return id
}

func (r *renderer) exceptions() {
	r.ensure(60) // heading, intro and the first rows together
	r.heading(r.t.Get("exceptions"), 2)
	r.para(r.t.Get("exceptions_intro"))
	if len(r.d.Exceptions) == 0 {
		r.para(r.t.Get("no_exceptions"))
		return
	}
	cols := []column{{r.t.Get("exception"), 24, "L"}, {r.t.Get("term") + " / " + r.t.Get("rule"), 40, "L"},
		{r.t.Get("sp") + " / " + r.t.Get("attribute"), 50, "L"}, {r.t.Get("reason"), bodyW - 136, "L"}, {r.t.Get("expires"), 22, "L"}}
	var rows []row
	for _, e := range r.d.Exceptions {
		rule := e.Rule
		if rule == "" {
			rule = "*"
		}
		target := e.SP
		if e.Attribute != "" {
			target += "\n" + e.Attribute
		}
		rows = append(rows, row{cells: []string{e.ID, e.Term + "\n" + rule, target, e.Reason, e.Expires}})
	}
	r.table(cols, rows)
}

func (r *renderer) appendix() {
	r.heading(r.t.Get("appendix"), 1)
	r.heading(r.t.Get("method"), 2)
	r.para(r.t.Get("method_text"))
	r.heading(r.t.Get("data_sources"), 2)
	r.para(r.t.F("data_sources_text", r.d.Registry.Version, short(r.d.Registry.Digest), r.d.Releases, r.d.Uses))
	r.heading(r.t.Get("policies"), 2)
	var rows []row
	for _, s := range r.d.Terms {
		for _, rule := range s.Term.Rules {
			rows = append(rows, row{cells: []string{s.Term.ID, rule.ID, r.t.Severity(rule.Severity), rule.Clause}})
		}
	}
	r.table([]column{{r.t.Get("term"), 52, "L"}, {r.t.Get("rule"), 58, "L"}, {r.t.Get("severity"), 18, "L"}, {r.t.Get("clause"), bodyW - 128, "L"}}, rows)
	r.heading(r.t.Get("integrity"), 2)
	r.para(r.t.F("integrity_text", r.d.FindingsDigest, r.d.FindingCount, r.d.Run.ID))
}

// column and row describe a table; cells may hold line breaks.
type column struct {
	title string
	w     float64
	align string
}

type row struct {
	cells  []string
	colors map[int][3]int
	bold   map[int]bool
}

const cellPad = 1.2

// table draws rows under a header that is repeated on every page the table spans.
// A row never splits: one that does not fit starts the next page.
func (r *renderer) table(cols []column, rows []row) {
	pdf := r.pdf
	drawHeader := func() {
		r.font("B", 8)
		r.fill(colHead)
		h := 0.0
		for _, c := range cols {
			h = max(h, float64(len(pdf.SplitText(c.title, c.w-2*cellPad)))*3.8+2*cellPad)
		}
		x, y := margin, pdf.GetY()
		for _, c := range cols {
			pdf.Rect(x, y, c.w, h, "F")
			pdf.SetXY(x+cellPad, y+cellPad)
			pdf.MultiCell(c.w-2*cellPad, 3.8, c.title, "", c.align, false)
			x += c.w
		}
		pdf.SetXY(margin, y+h)
	}
	r.ensure(20)
	drawHeader()
	const rowLine = 3.9
	for _, rw := range rows {
		lines := make([][]string, len(cols))
		h := 0.0
		for i, c := range cols {
			r.font(boldStyle(rw.bold[i]), 8)
			for _, part := range strings.Split(rw.cells[i], "\n") {
				lines[i] = append(lines[i], pdf.SplitText(part, c.w-2*cellPad)...)
			}
			h = max(h, float64(len(lines[i]))*rowLine+2*cellPad)
		}
		if pdf.GetY()+h > bottomY {
			pdf.AddPage()
			drawHeader()
		}
		x, y := margin, pdf.GetY()
		for i, c := range cols {
			r.font(boldStyle(rw.bold[i]), 8)
			if col, ok := rw.colors[i]; ok {
				r.color(col)
			}
			for j, l := range lines[i] {
				pdf.SetXY(x+cellPad, y+cellPad+float64(j)*rowLine)
				pdf.CellFormat(c.w-2*cellPad, rowLine, l, "", 0, c.align, false, 0, "")
			}
			r.color(colText)
			x += c.w
		}
		r.draw(colRule)
		pdf.SetLineWidth(0.2)
		pdf.Line(margin, y+h, margin+bodyW, y+h)
		pdf.SetXY(margin, y+h)
	}
	pdf.Ln(3)
}

func boldStyle(b bool) string {
	if b {
		return "B"
	}
	return ""
}

// fit shortens s with an ellipsis to width w at the current font.
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

// thousands groups digits with spaces, as Finnish and Swedish write them. (Not a
// no-break space: it shares a glyph with the space, and fpdf then subsets the font
// in map order, which would make the bytes differ between runs.)
func thousands(n int64) string {
	s := fmt.Sprintf("%d", n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(" ")
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// maxShown is the most runes of one string a report shows: a 20,000-character SP id
// must not turn a few pages into a thousand.
const maxShown = 256

// printable is s as the report can show it: runes outside the Basic Multilingual Plane
// (emoji; the PDF library's font maps end at U+FFFF) and control characters become
// U+FFFD, and a string over maxShown runes is cut with an ellipsis.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if r > 0xFFFF || r == utf8.RuneError || (unicode.IsControl(r) && r != '\n') {
			clean = false
			break
		}
	}
	if clean && utf8.RuneCountInString(s) <= maxShown {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == maxShown {
			b.WriteString("…")
			break
		}
		if r > 0xFFFF || r == utf8.RuneError || (unicode.IsControl(r) && r != '\n') {
			r = '\uFFFD'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// printableAll makes every settable string reachable from v printable, in place.
func printableAll(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			printableAll(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				printableAll(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			printableAll(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			printableAll(e)
			v.SetMapIndex(k, e)
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(printable(v.String()))
		}
	}
}
