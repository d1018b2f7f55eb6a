package audit

import (
	"cmp"
	"context"
	"slices"
	"time"

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
	stats    map[[2]string]*mpass.SPStats  // controller, SP
	days     map[[3]string]*mpass.DayStats // controller, SP, day; flushed at maxDays
}

func newCollector(run *mpass.Run, previous map[string]bool, termsOf map[mpass.Kind][]string, db *sqlite.DB, size int) *collector {
	if size <= 0 {
		size = 5000
	}
	return &collector{run: run, previous: previous, termsOf: termsOf, db: db, size: size, stats: map[[2]string]*mpass.SPStats{}, days: map[[3]string]*mpass.DayStats{}}
}

// rank orders results when one record gets the same finding twice: the worst stays.
var rank = map[string]int{mpass.ResultError: 0, mpass.ResultFail: 1, mpass.ResultWarn: 2, mpass.ResultSkip: 3, mpass.ResultPass: 4}

// maxDays bounds the day counts held before they are added to the store.
const maxDays = 50_000

func (c *collector) add(ctx context.Context, r *mpass.Record, decisions []policy.Decision) error {
	st, day := c.statsFor(r)
	judged := map[string]bool{} // terms with a non-pass result for this record
	seen := map[string]int{}    // finding id → index in c.batch
	for _, d := range decisions {
		if d.Result == mpass.ResultPass {
			if d.Attribute != "" {
				st.Disclosures[d.Attribute]++
				day.Disclosures++
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
				c.count(st, day, c.batch[i].Result, -1)
				c.count(st, day, f.Result, 1)
				c.batch[i] = f
			}
			continue
		}
		seen[f.ID] = len(c.batch)
		c.batch = append(c.batch, f)
		c.count(st, day, f.Result, 1)
	}
	for _, t := range c.termsOf[r.Kind] {
		if !judged[t] {
			c.count(st, day, mpass.ResultPass, 1)
		}
	}
	return c.flush(ctx, false)
}

// count adds to the run's summary and to the controller's and SP's.
func (c *collector) count(st *mpass.SPStats, day *mpass.DayStats, result string, n int64) {
	c.run.Summary.Add(result, n)
	st.Summary.Add(result, n)
	day.Summary.Add(result, n)
}

func (c *collector) statsFor(r *mpass.Record) (*mpass.SPStats, *mpass.DayStats) {
	k := [2]string{r.Controller, r.SP}
	st := c.stats[k]
	if st == nil {
		st = &mpass.SPStats{Controller: r.Controller, SP: r.SP, Attributes: map[string]int64{}, Disclosures: map[string]int64{}}
		c.stats[k] = st
	}
	dk := [3]string{r.Controller, r.SP, r.Time.UTC().Format(time.DateOnly)}
	day := c.days[dk]
	if day == nil {
		day = &mpass.DayStats{Controller: dk[0], SP: dk[1], Day: dk[2]}
		c.days[dk] = day
	}
	if r.Kind == mpass.KindUse {
		st.Uses++
		day.Uses++
		return st, day
	}
	st.Releases++
	day.Releases++
	for name := range r.Attributes {
		st.Attributes[name]++
	}
	return st, day
}

func (c *collector) flush(ctx context.Context, final bool) error {
	if len(c.batch) >= c.size || (final && len(c.batch) > 0) {
		if err := c.db.InsertFindings(ctx, c.batch); err != nil {
			return err
		}
		c.batch = c.batch[:0]
	}
	if len(c.days) >= maxDays || final {
		days := make([]*mpass.DayStats, 0, len(c.days))
		for _, d := range c.days {
			days = append(days, d)
		}
		if err := c.db.AddDays(ctx, c.run.ID, days); err != nil {
			return err
		}
		clear(c.days)
	}
	if !final {
		return nil
	}
	stats := make([]*mpass.SPStats, 0, len(c.stats))
	for _, s := range c.stats {
		stats = append(stats, s)
	}
	slices.SortFunc(stats, func(a, b *mpass.SPStats) int {
		return cmp.Or(cmp.Compare(a.Controller, b.Controller), cmp.Compare(a.SP, b.SP))
	})
	return c.db.InsertStats(ctx, c.run.ID, stats)
}
