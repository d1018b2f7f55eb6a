package audit

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/policy"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
)

// collector turns decisions into findings, counts the summary and the per-SP stats,
// and stores findings in batches.
type collector struct {
	run      *mpass.Run
	previous map[string]bool
	termsOf  map[mpass.Kind][]string
	db       *sqlite.DB
	batch    []mpass.Finding
	size     int
	stats    map[[2]string]*mpass.SPStats
}

func newCollector(run *mpass.Run, previous map[string]bool, termsOf map[mpass.Kind][]string, db *sqlite.DB, size int) *collector {
	if size <= 0 {
		size = 5000
	}
	return &collector{run: run, previous: previous, termsOf: termsOf, db: db, size: size, stats: map[[2]string]*mpass.SPStats{}}
}

// rank orders results when one record gets the same finding twice: the worst stays.
var rank = map[string]int{mpass.ResultError: 0, mpass.ResultFail: 1, mpass.ResultWarn: 2, mpass.ResultSkip: 3, mpass.ResultPass: 4}

func (c *collector) add(ctx context.Context, r *mpass.Record, decisions []policy.Decision) error {
	st := c.statsFor(r)
	judged := map[string]bool{} // terms with a non-pass result for this record
	seen := map[string]int{}    // finding id → index in c.batch
	for _, d := range decisions {
		if d.Result == mpass.ResultPass {
			if d.Attribute != "" {
				st.Disclosures[d.Attribute]++
			}
			continue
		}
		judged[d.Term] = true
		f := mpass.Finding{
			ID: FindingID(r.Kind, r.ID, d.Term, d.Rule, d.Attribute), RunID: c.run.ID,
			Term: d.Term, Rule: d.Rule, Result: d.Result, Severity: d.Severity, Message: d.Message,
			Record: r.ID, Kind: r.Kind, Time: r.Time, SP: r.SP, Controller: r.Controller, Subject: r.Subject,
			Attribute: d.Attribute, Fingerprint: r.Attributes[d.Attribute].Fingerprint,
			Exception: d.Exception, ExceptionNotApplied: d.ExceptionNotApplied, Change: mpass.ChangeNew,
		}
		if c.previous[f.ID] {
			f.Change = mpass.ChangePersisting
		}
		if i, dup := seen[f.ID]; dup {
			if rank[f.Result] < rank[c.batch[i].Result] {
				c.count(st, c.batch[i].Result, -1)
				c.count(st, f.Result, 1)
				c.batch[i] = f
			}
			continue
		}
		seen[f.ID] = len(c.batch)
		c.batch = append(c.batch, f)
		c.count(st, f.Result, 1)
	}
	for _, t := range c.termsOf[r.Kind] {
		if !judged[t] {
			c.count(st, mpass.ResultPass, 1)
		}
	}
	return c.flush(ctx, false)
}

// count adds to the run's summary and to the controller's and SP's.
func (c *collector) count(st *mpass.SPStats, result string, n int64) {
	c.run.Summary.Add(result, n)
	st.Summary.Add(result, n)
}

func (c *collector) statsFor(r *mpass.Record) *mpass.SPStats {
	k := [2]string{r.Controller, r.SP}
	st := c.stats[k]
	if st == nil {
		st = &mpass.SPStats{Controller: r.Controller, SP: r.SP, Attributes: map[string]int64{}, Disclosures: map[string]int64{}, Weekly: map[string]int64{}}
		c.stats[k] = st
	}
	if r.Kind == mpass.KindUse {
		st.Uses++
		return st
	}
	st.Releases++
	for name := range r.Attributes {
		st.Attributes[name]++
	}
	y, w := r.Time.ISOWeek()
	st.Weekly[fmt.Sprintf("%04d-W%02d", y, w)]++
	return st
}

func (c *collector) flush(ctx context.Context, final bool) error {
	if len(c.batch) >= c.size || (final && len(c.batch) > 0) {
		if err := c.db.InsertFindings(ctx, c.batch); err != nil {
			return err
		}
		c.batch = c.batch[:0]
	}
	if !final {
		return nil
	}
	stats := make([]*mpass.SPStats, 0, len(c.stats))
	for _, s := range c.stats {
		stats = append(stats, s)
	}
	slices.SortFunc(stats, func(a, b *mpass.SPStats) int {
		if a.Controller != b.Controller {
			return cmp.Compare(a.Controller, b.Controller)
		}
		return cmp.Compare(a.SP, b.SP)
	})
	return c.db.InsertStats(ctx, c.run.ID, stats)
}
