package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/policy"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
)

// How the audit moves records: the scanner copies rows into batches, the workers judge
// them on every core, and one writer stores findings and day counts.
const (
	scanBatch = 1024
	maxDays   = 50_000 // day counts a worker holds before it adds them to the store
)

// batch is a run of raw records whose bytes live in buf.
type batch struct {
	recs []sqlite.Raw
	buf  []byte
}

// add copies r into the batch.
func (b *batch) add(r *sqlite.Raw) {
	c := *r
	for _, f := range []*[]byte{&c.ID, &c.SP, &c.Controller, &c.Subject, &c.Purpose, &c.Facts, &c.Fingerprints} {
		start := len(b.buf)
		b.buf = append(b.buf, *f...)
		*f = b.buf[start:len(b.buf):len(b.buf)]
	}
	b.recs = append(b.recs, c)
}

// write is work for the single writer.
type write struct {
	findings []mpass.Finding
	days     []*mpass.DayStats
}

func (a *Auditor) judge(ctx context.Context, run *mpass.Run, reg *mpass.Registry, prepared *policy.Prepared) error {
	prev, err := a.DB.PreviousRun(ctx, run)
	if err != nil {
		return err
	}
	previous := map[string]bool{}
	if prev != nil {
		run.Previous = prev.ID
		if previous, err = a.DB.FindingIDs(ctx, prev.ID); err != nil {
			return err
		}
	}
	shared := &judgeShared{
		run: run, prepared: prepared, previous: previous,
		consents: map[string][]mpass.Consent{}, termsOf: map[mpass.Kind][]string{},
		reuse:      !a.Exact && a.Engine.DayDecisions(),
		dayClasses: newDayClasses(reg), controllerClasses: newControllerClasses(reg),
	}
	for _, c := range reg.Consents {
		k := c.Subject + "\x00" + c.SP
		shared.consents[k] = append(shared.consents[k], c)
	}
	for _, t := range a.Engine.Terms() {
		for _, k := range t.Kinds {
			shared.termsOf[k] = append(shared.termsOf[k], t.ID)
		}
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	n := a.Workers
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	batches := make(chan *batch, n*2)
	writes := make(chan write, n*2)
	workers := make([]*worker, n)
	var wg sync.WaitGroup
	for i := range workers {
		w := newWorker(shared, writes, a.batchSize())
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.work(ctx, batches); err != nil {
				cancel(err)
			}
		}()
	}
	writerDone := make(chan error, 1)
	go func() {
		var werr error
		for wr := range writes {
			if werr != nil {
				continue // drain, so no worker blocks
			}
			if len(wr.findings) > 0 {
				werr = a.DB.InsertFindings(ctx, wr.findings)
			}
			if werr == nil && len(wr.days) > 0 {
				werr = a.DB.AddDays(ctx, run.ID, wr.days)
			}
			if werr != nil {
				cancel(werr)
			}
		}
		writerDone <- werr
	}()

	b := &batch{}
	scanErr := a.DB.ScanRaw(ctx, run.Scope, func(r *sqlite.Raw) error {
		b.add(r)
		if len(b.recs) == scanBatch {
			select {
			case batches <- b:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			b = &batch{recs: make([]sqlite.Raw, 0, scanBatch), buf: make([]byte, 0, cap(b.buf))}
		}
		return nil
	})
	if scanErr == nil && len(b.recs) > 0 {
		select {
		case batches <- b:
		case <-ctx.Done():
		}
	}
	close(batches)
	wg.Wait()
	for _, w := range workers {
		w.flush(true)
	}
	close(writes)
	if err := <-writerDone; err != nil {
		return err
	}
	if err := context.Cause(ctx); err != nil && ctx.Err() != nil {
		return err
	}
	if scanErr != nil {
		return scanErr
	}

	// merge what the workers counted
	stats := map[[2]string]*mpass.SPStats{}
	for _, w := range workers {
		run.Summary.Merge(w.summary)
		for k, s := range w.stats {
			t := stats[k]
			if t == nil {
				stats[k] = s
				continue
			}
			t.Releases += s.Releases
			t.Uses += s.Uses
			t.Summary.Merge(s.Summary)
			for n, c := range s.Attributes {
				t.Attributes[n] += c
			}
			for n, c := range s.Disclosures {
				t.Disclosures[n] += c
			}
		}
	}
	list := make([]*mpass.SPStats, 0, len(stats))
	for _, s := range stats {
		list = append(list, s)
	}
	slices.SortFunc(list, func(x, y *mpass.SPStats) int {
		if x.Controller != y.Controller {
			return compareStrings(x.Controller, y.Controller)
		}
		return compareStrings(x.SP, y.SP)
	})
	return a.DB.InsertStats(ctx, run.ID, list)
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (a *Auditor) batchSize() int {
	if a.BatchSize > 0 {
		return a.BatchSize
	}
	return 5000
}

// judgeShared is what every worker reads and none writes.
type judgeShared struct {
	run               *mpass.Run
	prepared          *policy.Prepared
	previous          map[string]bool
	consents          map[string][]mpass.Consent // subject \x00 SP
	termsOf           map[mpass.Kind][]string
	reuse             bool
	dayClasses        *dayClasses
	controllerClasses *controllerClasses
}

// shape is a decision reused for every record of one shape.
type shape struct {
	decisions []policy.Decision
	names     []string // the record's attribute names, for the per-SP counts
}

// worker judges batches with its own decision cache and counts, so workers share no lock.
type worker struct {
	*judgeShared
	writes   chan<- write
	size     int
	cache    map[string]*shape
	key      []byte
	summary  mpass.Summary
	stats    map[[2]string]*mpass.SPStats
	days     map[dayKey]*mpass.DayStats
	findings []mpass.Finding
	judged   map[string]bool
	seen     map[string]int
}

type dayKey struct {
	controller, sp string
	day            int64
}

func newWorker(s *judgeShared, writes chan<- write, size int) *worker {
	return &worker{judgeShared: s, writes: writes, size: size, cache: map[string]*shape{},
		stats: map[[2]string]*mpass.SPStats{}, days: map[dayKey]*mpass.DayStats{}, judged: map[string]bool{}, seen: map[string]int{}}
}

func (w *worker) work(ctx context.Context, batches <-chan *batch) error {
	for b := range batches {
		for i := range b.recs {
			if err := w.judge(ctx, &b.recs[i]); err != nil {
				return fmt.Errorf("%s %s: %w", b.recs[i].Kind, b.recs[i].ID, err)
			}
		}
		w.flush(false)
		if ctx.Err() != nil {
			return nil // the cause is reported by whoever cancelled
		}
	}
	return nil
}

func (w *worker) judge(ctx context.Context, r *sqlite.Raw) error {
	day := r.Time / int64(24*time.Hour)
	var sh *shape
	var consents []mpass.Consent
	if r.Kind == mpass.KindUse {
		consents = w.consents[string(r.Subject)+"\x00"+string(r.SP)]
	}
	// a use with consents depends on its instant, so it is judged on its own
	reuse := w.reuse && len(consents) == 0
	if reuse {
		w.key = w.shapeKey(w.key[:0], r, day)
		sh = w.cache[string(w.key)]
	}
	if sh == nil {
		rec, err := r.Record()
		if err != nil {
			return err
		}
		decisions, err := w.prepared.Eval(ctx, policy.Input(&rec, consents))
		if err != nil {
			return err
		}
		sh = &shape{decisions: decisions, names: make([]string, 0, len(rec.Attributes))}
		for n := range rec.Attributes {
			sh.names = append(sh.names, n)
		}
		sort.Strings(sh.names)
		if reuse {
			w.cache[string(w.key)] = sh
		}
	}
	w.count(r, day, sh)
	return nil
}

// shapeKey is everything the policies see of a record, with its time reduced to the
// day's class between registry dates and its year, and its controller to the registry
// entries that name it (see main.rego's decision_time).
func (w *worker) shapeKey(k []byte, r *sqlite.Raw, day int64) []byte {
	k = append(k, r.Kind...)
	k = append(k, 0)
	k = append(k, r.SP...)
	k = append(k, 0)
	k = append(k, w.controllerClasses.class(string(r.Controller), string(r.SP))...)
	k = append(k, 0)
	k = fmt.Appendf(k, "%d/%d/%t/%t/", w.dayClasses.class(day), yearOf(day), r.Learner, r.RoleKnown)
	k = append(k, r.Purpose...)
	k = append(k, 0)
	return append(k, r.Facts...)
}

func yearOf(day int64) int { return time.Unix(day*86400, 0).UTC().Year() }

// rank orders results when one record gets the same finding twice: the worst stays.
var rank = map[string]int{mpass.ResultError: 0, mpass.ResultFail: 1, mpass.ResultWarn: 2, mpass.ResultSkip: 3, mpass.ResultPass: 4}

// count turns a record's decisions into findings and counts.
func (w *worker) count(r *sqlite.Raw, day int64, sh *shape) {
	st := w.stats[[2]string{string(r.Controller), string(r.SP)}]
	if st == nil {
		st = &mpass.SPStats{Controller: string(r.Controller), SP: string(r.SP), Attributes: map[string]int64{}, Disclosures: map[string]int64{}}
		w.stats[[2]string{st.Controller, st.SP}] = st
	}
	dk := dayKey{st.Controller, st.SP, day}
	ds := w.days[dk]
	if ds == nil {
		ds = &mpass.DayStats{Controller: st.Controller, SP: st.SP, Day: time.Unix(day*86400, 0).UTC().Format(time.DateOnly)}
		w.days[dk] = ds
	}
	add := func(result string, n int64) {
		w.summary.Add(result, n)
		st.Summary.Add(result, n)
		ds.Summary.Add(result, n)
	}
	if r.Kind == mpass.KindUse {
		st.Uses++
		ds.Uses++
	} else {
		st.Releases++
		ds.Releases++
		for _, n := range sh.names {
			st.Attributes[n]++
		}
	}
	clear(w.judged)
	clear(w.seen)
	var fps map[string]string
	for _, d := range sh.decisions {
		if d.Result == mpass.ResultPass {
			if d.Attribute != "" {
				st.Disclosures[d.Attribute]++
				ds.Disclosures++
			}
			continue
		}
		w.judged[d.Term] = true
		id := string(r.ID)
		f := mpass.Finding{
			ID: FindingID(r.Kind, id, d.Term, d.Rule, d.Attribute), RunID: w.run.ID,
			Term: d.Term, Rule: d.Rule, Result: d.Result, Severity: d.Severity, Message: d.Message,
			Record: id, Kind: r.Kind, Time: time.Unix(0, r.Time).UTC(), SP: st.SP, Controller: st.Controller, Subject: string(r.Subject),
			Attribute: d.Attribute, Exception: d.Exception, ExceptionNotApplied: d.ExceptionNotApplied, Change: mpass.ChangeNew,
		}
		if d.Attribute != "" && len(r.Fingerprints) > 0 {
			if fps == nil {
				json.Unmarshal(r.Fingerprints, &fps)
			}
			f.Fingerprint = fps[d.Attribute]
		}
		if w.previous[f.ID] {
			f.Change = mpass.ChangePersisting
		}
		if i, dup := w.seen[f.ID]; dup {
			if rank[f.Result] < rank[w.findings[i].Result] {
				add(w.findings[i].Result, -1)
				add(f.Result, 1)
				w.findings[i] = f
			}
			continue
		}
		w.seen[f.ID] = len(w.findings)
		w.findings = append(w.findings, f)
		add(f.Result, 1)
	}
	for _, t := range w.termsOf[r.Kind] {
		if !w.judged[t] {
			add(mpass.ResultPass, 1)
		}
	}
}

// flush hands findings (a full batch, or all at the end) and day counts (when many, or
// at the end) to the writer.
func (w *worker) flush(final bool) {
	var wr write
	if len(w.findings) >= w.size || (final && len(w.findings) > 0) {
		wr.findings = w.findings
		w.findings = make([]mpass.Finding, 0, w.size)
	}
	if len(w.days) >= maxDays || (final && len(w.days) > 0) {
		wr.days = make([]*mpass.DayStats, 0, len(w.days))
		for _, d := range w.days {
			wr.days = append(wr.days, d)
		}
		clear(w.days)
	}
	if wr.findings != nil || wr.days != nil {
		w.writes <- wr
	}
}
