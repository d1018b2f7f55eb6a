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

// Each worker scans a share of the rows on a connection of its own, judges them and
// counts; one writer stores the findings.

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
		reuse: !a.Exact && a.Engine.DayDecisions(), cache: &shapeCache{m: map[string]*shape{}},
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
	var ranges [][2][2]int64 // per worker: releases [lo, hi], uses [lo, hi]
	ranges = make([][2][2]int64, n)
	for k, kind := range []mpass.Kind{mpass.KindRelease, mpass.KindUse} {
		lo, hi, err := a.DB.SeqRange(ctx, kind)
		if err != nil {
			return err
		}
		for i, r := range split(lo, hi, n) {
			ranges[i][k] = r
		}
	}
	writes := make(chan []mpass.Finding, n*2)
	workers := make([]*worker, n)
	var wg sync.WaitGroup
	for i := range workers {
		w := newWorker(shared, writes, a.batchSize())
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k, kind := range []mpass.Kind{mpass.KindRelease, mpass.KindUse} {
				r := ranges[i][k]
				err := a.DB.ScanRaw(ctx, run.Scope, kind, r[0], r[1], func(rec *sqlite.Raw) error {
					if err := w.judge(ctx, rec); err != nil {
						return fmt.Errorf("%s %s: %w", rec.Kind, rec.ID, err)
					}
					return w.flush(ctx, false)
				})
				if err != nil {
					cancel(err)
					return
				}
			}
			if err := w.flush(ctx, true); err != nil {
				cancel(err)
			}
		}()
	}
	writerDone := make(chan error, 1)
	go func() {
		var werr error
		for findings := range writes {
			if werr == nil {
				if werr = a.DB.InsertFindings(ctx, findings); werr != nil {
					cancel(werr)
				}
			}
		}
		writerDone <- werr
	}()
	wg.Wait()
	close(writes)
	if err := <-writerDone; err != nil {
		return err
	}
	if err := context.Cause(ctx); err != nil {
		return err
	}

	// merge what the workers counted
	stats := map[string]*mpass.SPStats{}
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
	cache             *shapeCache
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

// shapeCache holds the decision of each record shape, shared by the workers.
type shapeCache struct {
	mu sync.RWMutex
	m  map[string]*shape
}

func (c *shapeCache) get(key []byte) *shape {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[string(key)]
}

func (c *shapeCache) put(key []byte, s *shape) {
	c.mu.Lock()
	c.m[string(key)] = s
	c.mu.Unlock()
}

// worker judges its share of the records and counts on its own, so workers share
// nothing but the decision cache.
type worker struct {
	*judgeShared
	writes   chan<- []mpass.Finding
	size     int
	key      []byte
	statKey  []byte
	summary  mpass.Summary
	stats    map[string]*mpass.SPStats // controller \x00 SP
	findings []mpass.Finding
	judged   map[string]bool
	seen     map[string]int
}

func newWorker(s *judgeShared, writes chan<- []mpass.Finding, size int) *worker {
	return &worker{judgeShared: s, writes: writes, size: size, stats: map[string]*mpass.SPStats{}, judged: map[string]bool{}, seen: map[string]int{}}
}

// split divides [lo, hi] into n ranges.
func split(lo, hi int64, n int) [][2]int64 {
	out := make([][2]int64, n)
	size := (hi - lo + int64(n)) / int64(n)
	for i := range out {
		out[i] = [2]int64{lo + int64(i)*size, min(hi, lo+int64(i+1)*size-1)}
	}
	return out
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
		sh = w.cache.get(w.key)
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
			w.cache.put(w.key, sh)
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
	w.statKey = append(append(append(w.statKey[:0], r.Controller...), 0), r.SP...)
	st := w.stats[string(w.statKey)]
	if st == nil {
		st = &mpass.SPStats{Controller: string(r.Controller), SP: string(r.SP), Attributes: map[string]int64{}, Disclosures: map[string]int64{}}
		w.stats[string(w.statKey)] = st
	}
	add := func(result string, n int64) {
		w.summary.Add(result, n)
		st.Summary.Add(result, n)
	}
	if r.Kind == mpass.KindUse {
		st.Uses++
	} else {
		st.Releases++
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

// flush hands a full batch of findings (or, at the end, the rest) to the writer.
func (w *worker) flush(ctx context.Context, final bool) error {
	if len(w.findings) < w.size && !(final && len(w.findings) > 0) {
		return nil
	}
	select {
	case w.writes <- w.findings:
		w.findings = make([]mpass.Finding, 0, w.size)
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
