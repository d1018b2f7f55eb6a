// Package output prints an audit run: one format per file (json, csv, table) behind one
// interface, as conftest does. Findings are streamed from the store, never all held.
package output

import (
	"io"
	"slices"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// Report is one run as a reader may see it: its findings already limited to the
// reader's controllers, its summary counted over those controllers only.
type Report struct {
	Run     *mpass.Run
	Summary mpass.Summary
	Terms   []mpass.Term
	// Findings streams every fail, warn, skip and error in policy, rule, sp, record,
	// attribute order.
	Findings func(fn func(*mpass.Finding) error) error
	// Tally, when set, counts the findings Findings streams by term, SP, result and
	// change, for formats that show only counts; when nil they count the stream.
	Tally func(fn func(mpass.FindingTally) error) error
	// Resolved streams the findings of the previous run of the same scope that this
	// run no longer has.
	Resolved func(fn func(*mpass.Finding) error) error
	// Judged is, per term id, how many records the term judged in the run over the
	// reader's controllers: every record of its kinds. Nil when not known; a term
	// without findings is then taken to have judged nothing when no record passed.
	Judged map[string]int64
	// ControllerUnknown is the bucket of uses whose controller could not be found (the
	// use names none and no release of its subject to the SP does): set in views of all
	// controllers (an auditor's), nil in a DPO's, as those uses belong to no DPO.
	ControllerUnknown *Bucket
	// Paged marks one page of the results (the API's): the JSON then has "next", the
	// opaque cursor of the following page, null on the last.
	Paged bool
	Next  string
}

// Bucket is a group of records outside every controller: how many uses, and the
// results of judging them (their findings are in the report's findings, with an empty
// controller).
type Bucket struct {
	Uses    int64
	Summary mpass.Summary
}

// ControllerUnknownLabel names the bucket of uses without a controller (GLOSSARY.md:
// rekisterinpitäjä tuntematon, personuppgiftsansvarig okänd).
const ControllerUnknownLabel = "controller unknown"

// Verdicts of a term in a run (the JSON's terms[].verdict).
const (
	VerdictFail      = "fail"      // a fail or an error
	VerdictWarn      = "warn"      // a warn and no fail
	VerdictCompliant = "compliant" // judged records, none failed or warned (exceptions may apply)
	VerdictNoRecords = "no-records"
)

// termVerdict is what a run says of one term: its verdict and how many records it
// judged (-1 when not known).
type termVerdict struct {
	Term    string
	Verdict string
	Judged  int64
	counts  *counts
}

// verdicts works out each term's verdict from the findings' tally and Judged, in the
// order of r.Terms, then any term only the findings name. TERMS.md: a term that judged
// no record has no verdict ("no-records"), never "compliant".
func (r *Report) verdicts(byTerm map[string]*counts) []termVerdict {
	ids := make([]string, 0, len(r.Terms))
	for _, t := range r.Terms {
		ids = append(ids, t.ID)
	}
	var extra []string
	for id := range byTerm {
		if !slices.Contains(ids, id) {
			extra = append(extra, id)
		}
	}
	slices.Sort(extra)
	var out []termVerdict
	for _, id := range append(ids, extra...) {
		v := termVerdict{Term: id, Judged: -1, counts: byTerm[id]}
		if r.Judged != nil {
			v.Judged = r.Judged[id]
		}
		c := v.counts
		switch {
		case c != nil && c.Fail+c.Error > 0:
			v.Verdict = VerdictFail
		case c != nil && c.Warn > 0:
			v.Verdict = VerdictWarn
		case c != nil && c.Skip > 0, v.Judged > 0, v.Judged < 0 && r.Summary.Pass > 0:
			v.Verdict = VerdictCompliant
		default:
			v.Verdict = VerdictNoRecords
		}
		out = append(out, v)
	}
	return out
}

// countTerms tallies the report's findings by term and by term and SP.
func countTerms(r *Report) (byTerm map[string]*counts, bySP map[[2]string]*counts, err error) {
	byTerm, bySP = map[string]*counts{}, map[[2]string]*counts{}
	err = tally(r, func(t mpass.FindingTally) error {
		at(byTerm, t.Term).add(t)
		at(bySP, [2]string{t.Term, t.SP}).add(t)
		return nil
	})
	return byTerm, bySP, err
}

// Term returns the catalog entry of a term, or one with just the id.
func (r *Report) Term(id string) mpass.Term {
	for _, t := range r.Terms {
		if t.ID == id {
			return t
		}
	}
	return mpass.Term{ID: id}
}

// Outputter writes a report in one format.
type Outputter interface {
	Output(w io.Writer, r *Report) error
}

// Formats lists the format names.
var Formats = []string{"table", "json", "csv"}

// Get returns the outputter of a format.
func Get(format string) (Outputter, error) {
	switch format {
	case "", "table":
		return Table{}, nil
	case "json":
		return JSON{}, nil
	case "csv":
		return CSV{}, nil
	}
	return nil, mpass.Errorf(mpass.EINVALID, "unknown format %q (table, json, csv)", format)
}

// noResolved is a Resolved for a run with no previous run.
func noResolved(func(*mpass.Finding) error) error { return nil }
