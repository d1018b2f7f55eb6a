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

// Table writes a human summary: the run, results by term, and by term and SP.
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
	byTerm := map[string]*counts{}
	bySP := map[[2]string]*counts{}
	err := tally(r, func(t mpass.FindingTally) error {
		at(byTerm, t.Term).add(t)
		at(bySP, [2]string{t.Term, t.SP}).add(t)
		return nil
	})
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
		scope = r.Run.Controller
	}
	period := "all time"
	if r.Run.From != "" || r.Run.To != "" {
		period = cmp.Or(r.Run.From, "…") + ".." + cmp.Or(r.Run.To, "…")
	}
	fmt.Fprintf(w, "Audit run %d: %s, %s (registry v%d, policies %s)\n", r.Run.ID, scope, period, r.Run.RegistryVersion, short(r.Run.PolicyDigest))
	s := r.Summary
	fmt.Fprintf(w, "pass %d  fail %d  warn %d  skip %d  error %d", s.Pass, s.Fail, s.Warn, s.Skip, s.Error)
	if r.Run.Previous != 0 {
		fmt.Fprintf(w, "  (against run %d: %d resolved)", r.Run.Previous, resolved)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TERM\tSERVICE PROVIDER\tFAIL\tWARN\tSKIP\tNEW\t")
	terms := make([]string, 0, len(r.Terms))
	for _, t := range r.Terms {
		terms = append(terms, t.ID)
	}
	for id := range byTerm {
		if !slices.Contains(terms, id) {
			terms = append(terms, id)
		}
	}
	for _, term := range terms {
		c := byTerm[term]
		if c == nil {
			verdict := "compliant"
			if s.Pass+s.Fail+s.Warn+s.Skip+s.Error == 0 { // TERMS.md: no records, no verdict
				verdict = "no records (no verdict)"
			}
			fmt.Fprintf(tw, "%s\t%s\t0\t0\t0\t0\t\n", term, verdict)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t\n", term, "(all)", c.Fail, c.Warn, c.Skip, c.new)
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
				fmt.Fprintf(tw, "\t… %d more service providers\t\t\t\t\t\n", len(sps)-TopSPs)
				break
			}
			c := bySP[[2]string{term, sp}]
			fmt.Fprintf(tw, "\t%s\t%d\t%d\t%d\t%d\t\n", sp, c.Fail, c.Warn, c.Skip, c.new)
		}
	}
	return tw.Flush()
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
