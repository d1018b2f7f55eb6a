package reports

import (
	"strings"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// evidence writes what the summary's verdicts rest on (Data.Evidence): per source the
// records of the period with their first and last time, and the days without any.
// Plain lines; the summary page's layout is render.go's.
func (r *renderer) evidence() {
	e := r.d.Evidence
	pdf := r.pdf
	r.ensure(24)
	r.font("B", 10)
	pdf.CellFormat(bodyW, 6, r.t.Get("evidence"), "", 1, "L", false, 0, "")
	r.font("", 9)
	r.color(colText)
	const stamp = "2006-01-02 15:04 UTC"
	for _, s := range e.Sources {
		label := r.t.Get("evidence_releases")
		if s.Kind == mpass.KindUse {
			label = r.t.Get("evidence_uses")
		}
		line := r.t.F("evidence_source_none", label)
		if s.Records > 0 {
			line = r.t.F("evidence_source", label, r.t.N("n_records", s.Records), s.First.UTC().Format(stamp), s.Last.UTC().Format(stamp))
		}
		r.lines(line, lineH)
	}
	if e.EmptyDays == 0 {
		r.lines(r.t.Get("evidence_no_gaps"), lineH)
	} else {
		var ranges []string
		for _, g := range e.Gaps {
			if g.From == g.To {
				ranges = append(ranges, g.From)
			} else {
				ranges = append(ranges, g.From+".."+g.To)
			}
		}
		if e.MoreGaps > 0 {
			ranges = append(ranges, r.t.N("n_more", int64(e.MoreGaps)))
		}
		r.color(colMuted)
		r.lines(r.t.F("evidence_gaps", r.t.N("n_days", int64(e.EmptyDays)), r.t.N("n_days", int64(e.Days)), strings.Join(ranges, ", ")), lineH)
		r.color(colText)
	}
	pdf.Ln(3)
}
