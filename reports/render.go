package reports

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/opetushallitus/mpass-audit/internal/i18n"
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
	pdf.SetLang(r.t.Lang)
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
	// no inner cell margin: the tables pad their cells themselves, and SplitText and
	// MultiCell would otherwise wrap at a width 2 mm narrower than the one measured
	pdf.SetCellMargin(0)
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
	r.lines(text, lineH)
	r.pdf.Ln(2)
}

// lines writes text over the body's width, lineHeight apart, wrapped as tables wrap
// (textLines: never inside a word or a number); the page breaks where it must.
func (r *renderer) lines(text string, lineHeight float64) {
	for _, l := range textLines(r.pdf, text, bodyW) {
		r.pdf.CellFormat(bodyW, lineHeight, l, "", 1, "L", false, 0, "")
	}
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
	// the verdict, or that there is none (TERMS.md: no records, no verdict), first
	pdf.Ln(6)
	r.verdictLine()
	pdf.Ln(4)
	r.evidence() // what the verdict rests on, on page 1
	pdf.Ln(6)
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

// A report is read by a person: its long tables stop at these many rows, most severe
// (findings) or largest (SPs, schools) first, and say how many more there are and
// where to see them (the audit's page and its CSV).
const (
	maxSPRows      = 40
	maxFindingRows = 30
	maxSchoolRows  = 60
)

// judged reports whether a term judged any record of the period (TermSummary.Judged:
// a term judges every record of its kinds).
func (r *renderer) judged(s TermSummary) bool { return s.Judged > 0 }

// counts are results written out with their plural forms: "8 hylättyä, 2 varoitusta".
func (r *renderer) counts(fail, errs, warn, skip int64) (string, [3]int) {
	c := colSkip
	if warn > 0 {
		c = colWarn
	}
	if fail+errs > 0 {
		c = colFail
	}
	return r.t.Results(fail, errs, warn, skip), c
}

// verdict is a term's verdict: its counts, else compliant, else — where it judged
// nothing — "no records" (TERMS.md: no records, no verdict; never "compliant").
func (r *renderer) verdict(s TermSummary) (string, [3]int) {
	if s.Fail+s.Warn+s.Skip+s.Error == 0 {
		if !r.judged(s) {
			return r.t.Get("no_records"), colMuted
		}
		return r.t.Get("compliant"), colPass
	}
	return r.counts(s.Fail, s.Error, s.Warn, s.Skip)
}

// overall is the one-line verdict of the whole report, and its colour.
func (r *renderer) overall() (string, [3]int) {
	var critical, fail, warn int64
	for _, g := range r.d.Groups {
		if g.Severity == "critical" {
			critical += g.Fail + g.Error
		}
		fail += g.Fail + g.Error
		warn += g.Warn
	}
	switch {
	case r.d.Releases+r.d.Uses == 0:
		return r.t.Get("overall_no_records"), colMuted
	case critical > 0:
		return r.t.N("overall_critical", critical), colFail
	case fail > 0:
		return r.t.N("overall_fail", fail), colFail
	case warn > 0:
		return r.t.N("overall_warn", warn), colWarn
	}
	return r.t.N("overall_compliant", r.d.Releases+r.d.Uses), colPass
}

// verdictLine writes the overall verdict, bold, in its colour.
func (r *renderer) verdictLine() {
	text, c := r.overall()
	r.font("B", 12)
	r.color(c)
	r.pdf.MultiCell(bodyW, 6, text, "", "L", false)
	r.color(colText)
}

// controllerName is the controller's name in the report's language where the
// organisation service gave one, else its registry name.
func (r *renderer) controllerName() string {
	return mpass.LocalName(r.d.Controller.Names, r.t.Lang, r.d.Controller.Name)
}

// spName is the registry name of an SP the report shows ("" where it has none).
func (r *renderer) spName(id string) string {
	for _, sp := range r.d.SPs {
		if sp.ID == id && sp.Known {
			return sp.Name
		}
	}
	for _, g := range r.d.Groups {
		if g.SP == id && g.SPName != "" {
			return g.SPName
		}
	}
	return ""
}

// spLabel names an SP by its registry name and its id, or by its id alone.
func (r *renderer) spLabel(name, id string) string {
	if name == "" || name == id {
		return id
	}
	return name + "\n" + id
}

func (r *renderer) summary() {
	pdf := r.pdf
	r.heading(r.t.Get("summary"), 1)
	r.verdictLine() // the verdict first, in one line a DPO can quote
	pdf.Ln(2)
	r.para(r.t.Get("summary_intro"))
	if !r.d.Controller.PermissionData { // TERMS.md service-not-allowed: say it was not judged
		r.para(r.t.Get("allowed_services_unchecked"))
	}
	cols := []column{{title: r.t.Get("term"), w: 74, align: "L"}, {title: r.t.Get("verdict"), w: 54, align: "L"}, {title: r.t.Get("change"), w: bodyW - 128, align: "L"}}
	var rows []row
	for _, s := range r.d.Terms {
		v, c := r.verdict(s)
		change := r.t.Get("no_previous")
		if s.HasPrevious {
			change = r.t.N("n_new", s.New) + ", " + r.t.N("n_resolved", s.Resolved)
		}
		rows = append(rows, row{cells: []string{r.t.Term(s.Term), v, change}, colors: map[int][3]int{1: c}, bold: map[int]bool{1: true}})
	}
	r.table(cols, rows)
	r.actions()

	r.ensure(30)
	pdf.Ln(1)
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
		pdf.CellFormat(boxW-4, 7, i18n.Thousands(f.value), "", 2, "L", false, 0, "")
		pdf.SetX(x + 2)
		r.font("", 8)
		pdf.CellFormat(boxW-4, 5, fit(pdf, f.label, boxW-4), "", 0, "L", false, 0, "")
	}
	pdf.SetXY(margin, y+21)
}

// actionRule is one rule's findings across SPs, for the list of what to do.
type actionRule struct {
	term     mpass.Term
	rule     mpass.Rule
	severity string
	fail     int64 // fail and error
	warn     int64
	sps      []string
}

// actions lists, most severe and most frequent first, each rule with failed or warned
// findings, how many and at how many SPs, and what to do about it.
func (r *renderer) actions() {
	var list []*actionRule
	byRule := map[[2]string]*actionRule{}
	for _, g := range r.d.Groups {
		if g.Fail+g.Error+g.Warn == 0 {
			continue // exceptions: accepted, nothing to do now
		}
		a := byRule[[2]string{g.Term, g.Rule}]
		if a == nil {
			a = &actionRule{severity: g.Severity, rule: mpass.Rule{ID: g.Rule, Title: g.Rule}}
			for _, s := range r.d.Terms {
				if s.Term.ID == g.Term {
					a.term = s.Term
					if rule, ok := s.Term.Rule(g.Rule); ok {
						a.rule = rule
					}
				}
			}
			byRule[[2]string{g.Term, g.Rule}] = a
			list = append(list, a)
		}
		a.fail += g.Fail + g.Error
		a.warn += g.Warn
		if !slices.Contains(a.sps, g.SP) {
			a.sps = append(a.sps, g.SP)
		}
	}
	if len(list) == 0 {
		return
	}
	slices.SortStableFunc(list, func(x, y *actionRule) int {
		return cmp.Or(cmp.Compare(mpass.SeverityRank(x.severity), mpass.SeverityRank(y.severity)), cmp.Compare(y.fail+y.warn, x.fail+x.warn))
	})
	r.heading(r.t.Get("actions"), 2)
	cols := []column{{title: r.t.Get("severity"), w: 23, align: "L"}, {title: r.t.Get("finding"), w: 62, align: "L"}, {title: r.t.Get("what_to_do"), w: bodyW - 85, align: "L"}}
	var rows []row
	for _, a := range list {
		counts, c := r.counts(a.fail, 0, a.warn, 0)
		text := a.rule.Text(r.t.Lang)
		rows = append(rows, row{
			cells:  []string{r.t.Severity(a.severity), text.Title + "\n" + counts + " · " + r.t.N("n_sps", int64(len(a.sps))), text.WhatToDo},
			colors: map[int][3]int{0: c}, bold: map[int]bool{0: true},
		})
	}
	r.table(cols, rows)
}

// schools lists the period's releases per school, in the organisation service's name
// of the report's language; a school named by code and by OID is one row.
func (r *renderer) schools() {
	if len(r.d.Schools) == 0 {
		return
	}
	r.heading(r.t.Get("schools"), 1)
	r.para(r.t.Get("schools_intro"))
	cols := []column{{title: r.t.Get("school"), w: bodyW - 134, align: "L"}, {title: r.t.Get("school_code"), w: 36, align: "L"},
		{title: "OID", w: 62, align: "L", ids: true}, {title: r.t.Get("releases"), w: 36, align: "R"}}
	var rows []row
	var more, moreReleases int64
	for i, s := range r.d.Schools {
		if i >= maxSchoolRows {
			more++
			moreReleases += s.Releases
			continue
		}
		name := mpass.LocalName(s.School.Names, r.t.Lang, s.School.Name)
		if !s.Known {
			name += "\n(" + r.t.Get("school_unknown") + ")"
		}
		rows = append(rows, row{cells: []string{name, cmp.Or(s.School.Code, "–"), cmp.Or(s.School.OID, "–"), i18n.Thousands(s.Releases)}})
	}
	r.table(cols, rows)
	if more > 0 {
		r.para(r.t.F("more_schools", r.t.N("n_schools", more), r.t.N("n_releases", moreReleases)))
	}
}

// serviceProviders lists each SP that received releases in the period or has findings
// in it; the others (uses only, nothing found) are summed up in one line.
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
		{title: r.t.Get("sp"), w: 50, align: "L"}, {title: r.t.Get("releases"), w: 26, align: "R"}, {title: r.t.Get("received"), w: 42, align: "L"},
		{title: r.t.Get("disclosures"), w: 30, align: "L"}, {title: r.t.Get("findings"), w: bodyW - 148, align: "L"},
	}
	var rows []row
	var quiet, shown []SPSummary
	for _, sp := range r.d.SPs {
		s := sp.Summary
		if sp.Releases == 0 && s.Fail+s.Warn+s.Skip+s.Error == 0 {
			quiet = append(quiet, sp)
			continue
		}
		shown = append(shown, sp)
		name := r.spLabel(sp.Name, sp.ID)
		switch {
		case !sp.Known:
			name += "\n(" + r.t.Get("unknown_sp") + ")"
		case sp.Commercial:
			name += "\n(" + r.t.Get("commercial") + ")"
		}
		var received []string
		for _, a := range sp.Received {
			mark := ""
			if !a.Approved {
				mark = " *"
			}
			received = append(received, fmt.Sprintf("%s%s (%s)", a.Name, mark, i18n.Thousands(a.Count)))
		}
		disc := r.t.Get("none")
		if len(sp.Disclosures) > 0 {
			var parts []string
			for _, a := range sp.Disclosures {
				parts = append(parts, fmt.Sprintf("%s (%s)", a.Name, i18n.Thousands(a.Count)))
			}
			disc = strings.Join(parts, "\n")
		}
		releases := i18n.Thousands(sp.Releases)
		if sp.Uses > 0 {
			releases += "\n+" + r.t.N("n_uses", sp.Uses)
		}
		findings, c := r.t.Get("none"), colPass
		if s.Fail+s.Warn+s.Skip+s.Error > 0 {
			findings, c = r.counts(s.Fail, s.Error, s.Warn, s.Skip)
		}
		rows = append(rows, row{cells: []string{name, releases, strings.Join(received, "\n"), disc, findings}, colors: map[int][3]int{4: c}})
	}
	if len(rows) == 0 && len(quiet) == 0 {
		r.para(r.t.Get("no_sps"))
	}
	if len(rows) > maxSPRows {
		var releases, findings int64
		for _, sp := range shown[maxSPRows:] {
			releases += sp.Releases
			findings += sp.Summary.Fail + sp.Summary.Warn + sp.Summary.Skip + sp.Summary.Error
		}
		r.table(cols, rows[:maxSPRows])
		r.para(r.t.F("more_sps", r.t.N("n_sps", int64(len(rows)-maxSPRows)), r.t.N("n_releases", releases), r.t.N("n_findings", findings)))
	} else if len(rows) > 0 {
		r.table(cols, rows)
	}
	if len(quiet) > 0 {
		var uses int64
		names := make([]string, 0, len(quiet))
		for _, sp := range quiet {
			uses += sp.Uses
			names = append(names, cmp.Or(sp.Name, sp.ID))
		}
		const listed = 12
		list := strings.Join(names[:min(listed, len(names))], ", ")
		if len(names) > listed {
			list += ", …"
		}
		r.para(r.t.F("quiet_sps", r.t.N("n_sps", int64(len(quiet))), r.t.N("n_uses", uses), list))
	}
	r.weeklyChart()
}

func (r *renderer) terms() {
	r.heading(r.t.Get("per_term"), 1)
	r.findingsChart()
	for i, s := range r.d.Terms {
		if i > 0 {
			r.pdf.Ln(3)
		}
		r.heading(r.t.Term(s.Term), 2)
		if desc := r.t.TermDescription(s.Term); desc != "" {
			r.para(desc)
		}
		for _, rule := range s.Term.Rules {
			text := rule.Text(r.t.Lang)
			r.ensure(18)
			r.font("B", 9.5)
			r.pdf.MultiCell(bodyW, lineH, text.Title+" ("+r.t.Severity(rule.Severity)+")", "", "L", false)
			r.font("", 8.5)
			r.color(colMuted)
			r.pdf.MultiCell(bodyW, 4.2, r.t.Get("clause")+": "+text.Clause, "", "L", false)
			r.pdf.MultiCell(bodyW, 4.2, r.t.Get("references")+": "+strings.Join(text.References, "; "), "", "L", false)
			r.color(colText)
			if text.WhatToDo != "" {
				r.pdf.MultiCell(bodyW, 4.2, r.t.Get("what_to_do")+": "+text.WhatToDo, "", "L", false)
			}
			r.pdf.Ln(1)
		}
		var rows []row
		var groups []FindingGroup
		for _, g := range r.d.Groups { // most severe, then most frequent, first
			if g.Term != s.Term.ID {
				continue
			}
			groups = append(groups, g)
			v, c := r.counts(g.Fail, g.Error, g.Warn, g.Skip)
			samples := strings.Join(g.Records, "\n")
			if len(g.Subjects) > 0 {
				samples += "\n" + strings.Join(g.Subjects, "\n")
			}
			title := g.Rule
			if rule, ok := s.Term.Rule(g.Rule); ok {
				title = rule.Text(r.t.Lang).Title
			}
			switch {
			case g.Attribute != "" && g.AttributeName != "" && g.AttributeName != g.Attribute:
				title += "\n" + r.t.Get("attribute") + ": " + g.AttributeName + "\n" + g.Attribute
			case g.Attribute != "":
				title += "\n" + r.t.Get("attribute") + ": " + g.Attribute
			case g.Purpose != "":
				title += "\n" + r.t.Get("purpose") + ": " + g.Purpose
			}
			rows = append(rows, row{
				cells:  []string{r.spLabel(g.SPName, g.SP), title, r.t.Severity(g.Severity), v, days(g.First, g.Last), samples},
				colors: map[int][3]int{3: c},
			})
		}
		if len(rows) == 0 {
			r.font("I", 9)
			text, c := r.t.Get("no_findings"), colPass
			if !r.judged(s) {
				text, c = r.t.Get("no_records"), colMuted
			}
			r.color(c)
			r.pdf.MultiCell(bodyW, lineH, text, "", "L", false)
			r.color(colText)
			continue
		}
		var more, moreFindings int64
		if len(rows) > maxFindingRows {
			for _, g := range groups[maxFindingRows:] {
				more++
				moreFindings += g.Count()
			}
			rows = rows[:maxFindingRows]
		}
		cols := []column{{title: r.t.Get("sp"), w: 33, align: "L"}, {title: r.t.Get("finding"), w: 46, align: "L"}, {title: r.t.Get("severity"), w: 22, align: "L"},
			{title: r.t.Get("count"), w: 22, align: "L"}, {title: r.t.Get("first_last"), w: 20, align: "L"}, {title: r.t.Get("samples"), w: bodyW - 143, align: "L", ids: true}}
		r.table(cols, rows)
		if more > 0 {
			r.para(r.t.F("more_rows", r.t.N("n_rows", more), r.t.N("n_findings", moreFindings)))
		}
	}
}

// days is a time range as its first and last day (UTC) on two lines under the column's
// "first – last", one day where they are one.
func days(first, last time.Time) string {
	a, b := first.UTC().Format(time.DateOnly), last.UTC().Format(time.DateOnly)
	if a == b {
		return a
	}
	return a + "\n" + b
}

func (r *renderer) exceptions() {
	r.ensure(60) // heading, intro and the first rows together
	r.heading(r.t.Get("exceptions"), 2)
	r.para(r.t.Get("exceptions_intro"))
	if len(r.d.Exceptions) == 0 {
		r.para(r.t.Get("no_exceptions"))
		return
	}
	cols := []column{{title: r.t.Get("exception"), w: 24, align: "L", ids: true}, {title: r.t.Get("term") + " / " + r.t.Get("rule"), w: 40, align: "L"},
		{title: r.t.Get("sp") + " / " + r.t.Get("attribute"), w: 50, align: "L"}, {title: r.t.Get("reason"), w: bodyW - 136, align: "L"}, {title: r.t.Get("expires"), w: 22, align: "L"}}
	var rows []row
	for _, e := range r.d.Exceptions {
		term, rule := e.Term, cmp.Or(e.Rule, "*")
		for _, s := range r.d.Terms {
			if s.Term.ID == e.Term {
				term = r.t.Term(s.Term)
				if x, ok := s.Term.Rule(e.Rule); ok {
					rule = x.Text(r.t.Lang).Title
				}
			}
		}
		target := r.spLabel(r.spName(e.SP), e.SP)
		if e.Attribute != "" {
			target += "\n" + e.Attribute
		}
		rows = append(rows, row{cells: []string{e.ID, term + "\n" + rule, target, e.Reason, e.Expires}})
	}
	r.table(cols, rows)
}

func (r *renderer) appendix() {
	r.heading(r.t.Get("appendix"), 1)
	r.heading(r.t.Get("method"), 2)
	r.para(r.t.Get("method_text"))
	r.heading(r.t.Get("data_sources"), 2)
	r.para(r.t.F("data_sources_text", r.d.Registry.Version, short(r.d.Registry.Digest), r.t.N("n_releases", r.d.Releases), r.t.N("n_uses", r.d.Uses)))
	r.heading(r.t.Get("policies"), 2)
	var rows []row
	for _, s := range r.d.Terms {
		for _, rule := range s.Term.Rules {
			text := rule.Text(r.t.Lang)
			rows = append(rows, row{cells: []string{r.t.Term(s.Term) + "\n" + s.Term.ID, text.Title + "\n" + rule.ID, r.t.Severity(rule.Severity), text.Clause}})
		}
	}
	r.table([]column{{title: r.t.Get("term"), w: 48, align: "L"}, {title: r.t.Get("rule"), w: 56, align: "L"}, {title: r.t.Get("severity"), w: 19, align: "L"},
		{title: r.t.Get("clause"), w: bodyW - 123, align: "L"}}, rows)
	r.heading(r.t.Get("integrity"), 2)
	r.para(r.t.F("integrity_text", r.d.FindingsDigest, r.t.N("n_findings", int64(r.d.FindingCount)), r.d.Run.ID))
}
