// Package output prints an audit run: one format per file (json, csv, table) behind one
// interface, as conftest does. Findings are streamed from the store, never all held.
package output

import (
	"io"

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
