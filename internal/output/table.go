package output

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"text/tabwriter"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// Table writes a human summary: the run, results by term, and by term and SP. Ids that
// input shaped (SP ids, term ids of user policies, the controller) are escaped with
// mpass.Printable, so no control character or ANSI escape reaches the terminal (a tab
// would also break the columns).
type Table struct{}

// TopSPs is how many SPs the table lists under a term; the rest are counted.
const TopSPs = 10

type counts struct {
	mpass.Summary
	new int64
}

func (c *counts) add(t mpass.FindingTally) {
	c.Add(t.Result, t.N)
	if t.New {
		c.new += t.N
	}
}

// tally counts a report's findings by term, SP, result and change: in the store when
// it can, else from the stream.
func tally(r *Report, fn func(mpass.FindingTally) error) error {
	if r.Tally != nil {
		return r.Tally(fn)
	}
	return r.Findings(func(f *mpass.Finding) error {
		return fn(mpass.FindingTally{Term: f.Term, SP: f.SP, Result: f.Result, New: f.Change == mpass.ChangeNew, N: 1})
	})
}

func (Table) Output(w io.Writer, r *Report) error {
	byTerm, bySP, err := countTerms(r)
	if err != nil {
		return err
	}
	var resolved int
	if r.Resolved != nil {
		if err := r.Resolved(func(*mpass.Finding) error { resolved++; return nil }); err != nil {
			return err
		}
	}

	scope := "all controllers"
	if r.Run.Controller != "" {
		scope = mpass.Printable(r.Run.Controller)
	}
	period := "all time"
	if r.Run.From != "" || r.Run.To != "" {
		period = cmp.Or(r.Run.From, "…") + ".." + cmp.Or(r.Run.To, "…")
	}
	fmt.Fprintf(w, "Audit run %d: %s, %s (registry v%d, policies %s)\n", r.Run.ID, scope, period, r.Run.RegistryVersion, mpass.Printable(short(r.Run.PolicyDigest)))
	s := r.Summary
	fmt.Fprintf(w, "pass %d  fail %d  warn %d  skip %d  error %d", s.Pass, s.Fail, s.Warn, s.Skip, s.Error)
	if r.Run.Previous != 0 {
		fmt.Fprintf(w, "  (against run %d: %d resolved)", r.Run.Previous, resolved)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TERM\tSERVICE PROVIDER\tJUDGED\tFAIL\tWARN\tSKIP\tNEW\t")
	for _, v := range r.verdicts(byTerm) {
		judged := "-"
		if v.Judged >= 0 {
			judged = itoa(v.Judged)
		}
		term, c := v.Term, v.counts
		shown := mpass.Printable(term)
		if c == nil {
			verdict := "compliant"
			if v.Verdict == VerdictNoRecords { // TERMS.md: no records, no verdict
				verdict = "no records (no verdict)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t0\t0\t0\t0\t\n", shown, verdict, judged)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t\n", shown, "(all)", judged, c.Fail, c.Warn, c.Skip, c.new)
		var sps []string
		for k := range bySP {
			if k[0] == term {
				sps = append(sps, k[1])
			}
		}
		// the SPs with the most fails and warns first; a long tail is summed up
		slices.SortFunc(sps, func(a, b string) int {
			ca, cb := bySP[[2]string{term, a}], bySP[[2]string{term, b}]
			return cmp.Or(cmp.Compare(cb.Fail+cb.Warn, ca.Fail+ca.Warn), cmp.Compare(a, b))
		})
		for i, sp := range sps {
			if i == TopSPs && len(sps) > TopSPs+1 {
				fmt.Fprintf(tw, "\t… %d more service providers\t\t\t\t\t\t\n", len(sps)-TopSPs)
				break
			}
			c := bySP[[2]string{term, sp}]
			fmt.Fprintf(tw, "\t%s\t\t%d\t%d\t%d\t%d\t\n", mpass.Printable(sp), c.Fail, c.Warn, c.Skip, c.new)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// uses no controller could be found for belong to no controller's rows: a bucket
	// of their own, never left out
	if u := r.ControllerUnknown; u != nil && (u.Uses > 0 || u.Summary.Fail+u.Summary.Warn+u.Summary.Skip+u.Summary.Error > 0) {
		fmt.Fprintf(w, "\n%s: %d uses (fail %d  warn %d  skip %d  error %d); their findings are counted above, with no controller\n",
			ControllerUnknownLabel, u.Uses, u.Summary.Fail, u.Summary.Warn, u.Summary.Skip, u.Summary.Error)
	}
	return nil
}

// at returns the counts of k, adding them to m on first use.
func at[K comparable](m map[K]*counts, k K) *counts {
	c := m[k]
	if c == nil {
		c = &counts{}
		m[k] = c
	}
	return c
}

func short(digest string) string {
	if len(digest) > 19 {
		return digest[:19]
	}
	return digest
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
