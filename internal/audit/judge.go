package audit

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	if prev != nil {
		run.Previous = prev.ID
	}
	shared := &judgeShared{
		run: run, prepared: prepared,
		consents: map[string][]mpass.Consent{}, termsOf: map[mpass.Kind][]string{},
		reuse: !a.Exact && a.Engine.DayDecisions(), cache: newShapeCache(),
		controllerClasses: newControllerClasses(reg, a.DB), factsClasses: newFactsClasses(a.Engine, a.DB), db: a.DB, logger: a.logger(),
		onProgress: a.OnProgress,
	}
	for _, c := range reg.Consents {
		sp, err := a.DB.NameID(ctx, c.SP)
		if err != nil {
			return err
		}
		if sp == 0 {
			continue // no record of that SP: the consent covers nothing here
		}
		k := c.Subject + "\x00" + strconv.FormatInt(sp, 10)
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
	n = min(n, sqlite.MaxAuditWorkers) // each holds connections (sqlite.MaxConns)
	// the settled rows are read once and every worker judges those of its share of
	// the controller–SP pairs (ScanRaw): a pair's counts are on one worker, not on all
	// (at 10M diverse records, 60,000 pairs, they were half the live heap)
	var ranges [2][2]int64 // releases [lo, hi], uses [lo, hi]
	for k, kind := range []mpass.Kind{mpass.KindRelease, mpass.KindUse} {
		lo, hi, err := a.DB.SeqRange(ctx, kind)
		if err != nil {
			return err
		}
		if hi >= lo && hi > 0 {
			shared.total += hi - lo + 1
		}
		ranges[k] = [2]int64{lo, hi}
	}
	// the learner presumption's input in memory, read after the ranges: every pair of
	// a release in them is in the set. The per-record baseline reads the table, so that
	// the equivalence test holds the set to it.
	var roles *sqlite.RoleSet
	if !a.Exact {
		if roles, err = a.roleSet(ctx, ranges[0][0]); err != nil {
			return err
		}
	}
	writes := make(chan []mpass.Finding, n)
	workers := make([]*worker, n)
	judges := make([]func(*sqlite.Raw) error, n)
	for i := range workers {
		w := newWorker(shared, writes, a.batchSize())
		workers[i] = w
		judges[i] = func(rec *sqlite.Raw) error {
			if err := w.judge(ctx, rec); err != nil {
				return fmt.Errorf("%s %s: %w", rec.Kind, rec.ID, err)
			}
			return w.flush(ctx, false)
		}
	}
	writerDone := make(chan error, 1)
	go func() {
		var werr error
		fw := a.DB.NewFindingWriter(ctx)
		for findings := range writes {
			if werr == nil {
				if werr = fw.Write(ctx, findings); werr != nil {
					cancel(werr)
				}
			}
		}
		if werr == nil && context.Cause(ctx) == nil {
			werr = fw.Close(ctx)
		} else {
			fw.Abort()
		}
		writerDone <- werr
	}()
	// the workers judge on ScanRaw's goroutines; their findings go to the writer
	scan := func() error {
		for k, kind := range []mpass.Kind{mpass.KindRelease, mpass.KindUse} {
			r := ranges[k]
			if err := a.DB.ScanRaw(ctx, run.Scope, kind, r[0], r[1], roles, judges...); err != nil {
				return err
			}
		}
		for _, w := range workers {
			if err := w.flush(ctx, true); err != nil {
				return err
			}
		}
		return nil
	}
	if err := scan(); err != nil {
		cancel(err)
	}
	// the set is done with: its memory is the freeze's (a 10M diverse run's is 20 MB)
	rolesInMemory := roles.Len()
	roles = nil
	close(writes)
	for _, w := range workers {
		for _, c := range w.stats {
			c.flush()
		}
	}
	// the counts are added up and frozen while the writer stores the findings (its
	// sorts take no lock on the database; the freeze's transaction waits at most for
	// one of the writer's). A run whose storing then fails keeps its frozen figures, as
	// a failed run: every reader of figures takes finished runs only.
	var ferr error
	if context.Cause(ctx) == nil {
		if ferr = a.freeze(ctx, run, shared, workers); ferr != nil {
			cancel(ferr)
		}
	}
	if werr := <-writerDone; ferr != nil || werr != nil {
		return cmp.Or(ferr, werr)
	}
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if run.Previous != 0 {
		if err := a.DB.MarkPersisting(ctx, run.ID, run.Previous); err != nil {
			return err
		}
	}
	a.logger().Info("audit judged", "run", run.ID, "evaluations", shared.evaluations.Load(), "shapes", len(shared.cache.m),
		"roles_in_memory", rolesInMemory)
	run.Frozen = true
	return nil
}

// freeze adds up what the workers counted into the run's summary and stores the
// run's per-SP and per-day figures (FreezeRun).
func (a *Auditor) freeze(ctx context.Context, run *mpass.Run, shared *judgeShared, workers []*worker) error {
	var err error
	// what the workers counted, per controller and SP in name order: a pair is counted
	// on one worker (its share), but added up wherever it is, and turned into attribute
	// names one pair at a time as FreezeRun stores it — a national run's tens of
	// thousands of pairs, each with two maps, all at once were the audit's peak memory
	type pair struct {
		controller, sp string
		counts         []*counts
	}
	byKey := map[[2]int64]*pair{}
	names := map[int64][]string{} // shape id → attribute names
	for _, w := range workers {
		for k, c := range w.stats {
			p := byKey[k]
			if p == nil {
				p = &pair{}
				if p.sp, err = a.DB.Name(ctx, k[1]); err != nil {
					return err
				}
				if k[0] != 0 {
					if p.controller, err = a.DB.Name(ctx, k[0]); err != nil {
						return err
					}
				}
				byKey[k] = p
			}
			p.counts = append(p.counts, c)
			for _, t := range c.outcomes {
				run.Summary.Merge(shared.cache.outcomes[t.key].summary.Times(int64(t.n)))
			}
			for _, sh := range c.shapes {
				if id := int64(sh.key); names[id] == nil {
					if names[id], err = shapeNames(ctx, a.DB, id); err != nil {
						return err
					}
				}
			}
		}
	}
	pairs := slices.SortedFunc(maps.Values(byKey), func(x, y *pair) int {
		return cmp.Or(strings.Compare(x.controller, y.controller), strings.Compare(x.sp, y.sp))
	})
	stats := func(yield func(*mpass.SPStats) bool) {
		st := &mpass.SPStats{Attributes: map[string]int64{}, Disclosures: map[string]int64{}} // refilled: FreezeRun stores each before the next
		for _, p := range pairs {
			clear(st.Attributes)
			clear(st.Disclosures)
			st.Controller, st.SP, st.Releases, st.Uses, st.Summary = p.controller, p.sp, 0, 0, mpass.Summary{}
			for _, c := range p.counts {
				st.Releases += c.releases
				st.Uses += c.uses
				for _, t := range c.outcomes {
					o, n := shared.cache.outcomes[t.key], int64(t.n)
					st.Summary.Merge(o.summary.Times(n))
					for _, d := range o.disclosures {
						st.Disclosures[d] += n
					}
				}
				for _, sh := range c.shapes {
					for _, name := range names[int64(sh.key)] {
						st.Attributes[name] += int64(sh.n)
					}
				}
			}
			p.counts = nil // stored: its memory is the next rows'
			if !yield(st) {
				return
			}
		}
	}
	md := mergeDays(workers)
	// the workers' counts live on in pairs alone, each pair's dropped as it is encoded:
	// FreezeRun encodes every row before it takes the write lock
	for _, w := range workers {
		w.stats, w.controllers = nil, nil
	}
	return a.DB.FreezeRun(ctx, run.ID, stats, md)
}

// mergeDays adds up what the workers counted per controller, UTC day, SP and kind and
// per controller, day and school, in controller and day order: the run's frozen
// figures. A controller's day figures are on every worker that judged its pairs.
// It works one controller at a time and keeps only the encoded days, so a national
// run's half a million cells never live as structs all at once.
func mergeDays(workers []*worker) []sqlite.RunDay {
	type cell struct {
		sp  int64
		key int32 // day × 2 + kind
		n   uint32
	}
	// each controller's SP counts and day figures, on every worker
	byCtl := map[int64][]*counts{}
	ctlDays := map[int64][]*controllerDays{}
	for _, w := range workers {
		for k, c := range w.stats {
			byCtl[k[0]] = append(byCtl[k[0]], c)
			c.sp = k[1]
		}
		for ctl, c := range w.controllers {
			ctlDays[ctl] = append(ctlDays[ctl], c)
		}
	}
	ctls := slices.Sorted(maps.Keys(ctlDays))
	var out []sqlite.RunDay
	var cells []cell
	for _, ctl := range ctls {
		cells = cells[:0]
		for _, c := range byCtl[ctl] {
			for _, t := range c.days {
				cells = append(cells, cell{sp: c.sp, key: t.key, n: t.n})
			}
		}
		slices.SortFunc(cells, func(x, y cell) int {
			return cmp.Or(cmp.Compare(x.key>>1, y.key>>1), cmp.Compare(x.sp, y.sp), cmp.Compare(x.key, y.key))
		})
		days := map[int64]*sqlite.RunDay{}
		get := func(day int64) *sqlite.RunDay {
			if days[day] == nil {
				days[day] = &sqlite.RunDay{Controller: ctl, Day: day}
			}
			return days[day]
		}
		for i := 0; i < len(cells); {
			c, n := cells[i], int64(0)
			for ; i < len(cells) && cells[i].sp == c.sp && cells[i].key == c.key; i++ {
				n += int64(cells[i].n)
			}
			get(int64(c.key>>1)).AddSP(c.sp, c.key&1 == 1, n)
		}
		schools := map[[2]int64]int64{} // day, school
		for _, c := range ctlDays[ctl] {
			for _, t := range c.times {
				get(int64(t.key>>1)).AddTimes(t.key&1 == 1, t.first, t.last)
			}
			for _, t := range c.schools {
				schools[[2]int64{int64(t.day), t.school}] += int64(t.n)
			}
		}
		for _, k := range slices.SortedFunc(maps.Keys(schools), func(x, y [2]int64) int { return cmp.Or(cmp.Compare(x[0], y[0]), cmp.Compare(x[1], y[1])) }) {
			get(k[0]).AddSchool(k[1], schools[k])
		}
		for _, day := range slices.Sorted(maps.Keys(days)) {
			out = append(out, *days[day])
		}
	}
	return out
}

// shapeNames are the attribute names of a shape.
func shapeNames(ctx context.Context, db *sqlite.DB, id int64) ([]string, error) {
	facts, err := db.Shape(ctx, id)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(facts), &m); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	return names, nil
}

// roleSet reads the learner presumption's input into memory when a sample of the
// releases says that many will look it up: a quarter or more of the first 10,000 show
// no learner role (the diverse workload: 64 %; the national one: few, and more pairs).
// nil: each release that needs it reads the table.
func (a *Auditor) roleSet(ctx context.Context, lo int64) (*sqlite.RoleSet, error) {
	without, read, err := a.DB.WithoutLearnerRole(ctx, lo, 10_000)
	if err != nil || read == 0 || without*4 < read {
		return nil, err
	}
	return a.DB.RoleSet(ctx)
}

func (a *Auditor) batchSize() int {
	if a.BatchSize > 0 {
		return a.BatchSize
	}
	// small enough that the batches in flight are a few MB of the heap: findings are
	// the audit's largest live objects, and a larger heap costs more to collect (the
	// writer commits far fewer, see sqlite.FindingWriter)
	return 1000
}

// judgeShared is what every worker reads and none writes.
type judgeShared struct {
	run               *mpass.Run
	prepared          *policy.Prepared
	cache             *shapeCache
	evaluations       atomic.Int64               // of the policies, to tell how well decisions are reused
	consents          map[string][]mpass.Consent // subject \x00 SP
	termsOf           map[mpass.Kind][]string
	reuse             bool
	db                *sqlite.DB
	controllerClasses *controllerClasses
	factsClasses      *factsClasses
	progress          atomic.Int64 // records judged, for progress lines
	logger            *slog.Logger
	// onProgress is Auditor.OnProgress; total the stored records the run may judge
	onProgress func(done, total int64)
	total      int64
}

// shape is a decision reused for every record of one shape.
type shape struct {
	names   []string // the record's attribute names (interned by shape id)
	outcome int      // index of what the decisions come to, in the cache's outcomes
	out     *outcome // the same outcome, read without the cache's lock
}

// outcome is what a record's decisions come to, the same for every record of a shape:
// its result counts, the attributes it discloses (a pass about an attribute), and the
// findings it makes, one per term, rule and attribute (the worst result when the
// policies say it twice). Outcomes are few (hundreds in a national run), so a worker
// counts records per outcome and expands the counts once at the end.
type outcome struct {
	summary     mpass.Summary
	disclosures []string
	findings    []*policy.Decision
}

// newOutcome works out the outcome of decisions for a record of kind.
func newOutcome(decisions []*policy.Decision, terms []string) *outcome {
	o := &outcome{}
	judged := map[string]bool{}
	at := map[[3]string]int{} // term, rule, attribute → index in findings
	for _, d := range decisions {
		if d.Result == mpass.ResultPass {
			if d.Attribute != "" {
				o.disclosures = append(o.disclosures, d.Attribute)
			}
			continue
		}
		judged[d.Term] = true
		k := [3]string{d.Term, d.Rule, d.Attribute}
		if i, dup := at[k]; dup {
			if rank[d.Result] < rank[o.findings[i].Result] {
				o.summary.Add(o.findings[i].Result, -1)
				o.summary.Add(d.Result, 1)
				o.findings[i] = d
			}
			continue
		}
		at[k] = len(o.findings)
		o.findings = append(o.findings, d)
		o.summary.Add(d.Result, 1)
	}
	for _, t := range terms {
		if !judged[t] {
			o.summary.Add(mpass.ResultPass, 1)
		}
	}
	return o
}

// shapeKey is everything the policies see of a record, with its time reduced to the
// day's class between registry dates and its year, its controller to the class of
// registry entries that name it (see main.rego's decision_time), and its shape to the
// class of what the policies read of its facts (attribute_facts, factsClasses).
// Numbers only, no strings: it is hashed for every record.
type shapeKey struct {
	sp, purpose, facts int64
	controllerClass    int32
	dayClass, year     int32
	use                bool
	learner, roleKnow  bool
	allowed            bool // a permission of the controller covers the SP at the record's instant
}

// shapeCache holds the decision of each record shape, shared by the workers (each has
// a map of its own in front, so that they do not contend for its lock). Decisions,
// attribute names and outcomes are interned: a national audit caches tens of thousands
// of shapes, and their copies of the same few hundred decisions were most of the live
// heap (100 MB at 10M records), which the collector then scanned over and over.
type shapeCache struct {
	mu        sync.RWMutex
	m         map[shapeKey]*shape
	decisions map[policy.Decision]*policy.Decision
	names     map[int64][]string // shape id → attribute names
	outcomes  []*outcome
	outcomeOf map[string]int // signature → index in outcomes
}

func newShapeCache() *shapeCache {
	return &shapeCache{m: map[shapeKey]*shape{}, decisions: map[policy.Decision]*policy.Decision{},
		names: map[int64][]string{}, outcomeOf: map[string]int{}}
}

func (c *shapeCache) get(k shapeKey) *shape {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[k]
}

func (c *shapeCache) put(k shapeKey, s *shape) {
	c.mu.Lock()
	c.m[k] = s
	c.mu.Unlock()
}

// intern makes a shape of a record's decisions and attribute names, sharing what
// earlier shapes hold already.
func (c *shapeCache) intern(id int64, decisions []policy.Decision, attrs map[string]mpass.AttributeFacts, terms []string) *shape {
	c.mu.Lock()
	defer c.mu.Unlock()
	interned := make([]*policy.Decision, len(decisions))
	for i, d := range decisions {
		p := c.decisions[d]
		if p == nil {
			p = &d
			c.decisions[d] = p
		}
		interned[i] = p
	}
	o := newOutcome(interned, terms)
	// decisions are interned, so their addresses tell findings apart
	sig := fmt.Sprintf("%v|%q|", o.summary, o.disclosures)
	for _, d := range o.findings {
		sig += fmt.Sprintf("%p,", d)
	}
	i, ok := c.outcomeOf[sig]
	if !ok {
		i = len(c.outcomes)
		c.outcomes = append(c.outcomes, o)
		c.outcomeOf[sig] = i
	}
	sh := &shape{names: c.names[id], outcome: i, out: c.outcomes[i]}
	if sh.names == nil {
		sh.names = make([]string, 0, len(attrs))
		for n := range attrs {
			sh.names = append(sh.names, n)
		}
		sort.Strings(sh.names)
		c.names[id] = sh.names
	}
	return sh
}

// worker judges its share of the records and counts on its own, so workers share
// nothing but the decision cache.
type worker struct {
	*judgeShared
	writes      chan<- []mpass.Finding
	size        int
	stats       map[[2]int64]*counts      // controller, SP
	controllers map[int64]*controllerDays // controller → its frozen figures on this worker
	findings    []mpass.Finding
	shapes      map[shapeKey]*shape // this worker's view of the shared cache
	factsOf     map[int64]int64     // shape id → facts class, in front of factsClasses
	day         dayFacts            // of the day last judged
	judged      int64               // records, for progress lines
}

// dayFacts are a day's year.
type dayFacts struct {
	day  int64
	year int32
	set  bool
}

func newWorker(s *judgeShared, writes chan<- []mpass.Finding, size int) *worker {
	return &worker{judgeShared: s, writes: writes, size: size, stats: map[[2]int64]*counts{}, controllers: map[int64]*controllerDays{},
		shapes: map[shapeKey]*shape{}, factsOf: map[int64]int64{}}
}

// counts is what a worker counts of one controller at one SP: records per shape id and
// per outcome, turned into attribute, disclosure and result counts at the end.
// Slices, not maps: a national run has a counts for every controller and SP, each with
// a handful of shapes, and a map's overhead would dominate.
type counts struct {
	// the fields every record reads or writes first, together on as few cache lines
	// as the struct allows; the slices they spill into and the figures' days after
	releases, uses int64
	// shapesIn and outcomesIn hold a pair's first shapes and outcomes in the counts
	// themselves (flush moves them to shapes and outcomes): a separate slice's
	// elements were a cache miss each per record
	shapesIn, outcomesIn smallTallies
	// dayPend counts the day last counted until another comes (flush adds it to days):
	// consecutive records of a pair mostly share a day (95 % at 10M diverse records),
	// where the slice's element was a cache miss per record (2 of 100 s of CPU at 10M)
	dayPend  dayTally
	classSet bool
	ctl      *controllerDays // the controller's, shared by its SPs' counts on this worker
	// class is the controller's class at the SP (read once per pair and worker, here
	// rather than in a map of its own: a national run has tens of thousands of pairs)
	class    controllerClass
	shapes   []tally // shape id → releases
	outcomes []tally // outcome → records
	// days are the records per UTC day and kind, sorted by day and kind: the run's
	// frozen figures. Records come mostly in time order, so the tally last counted
	// (lastDay) is nearly always the one.
	days    []dayTally
	lastDay int
	sp      int64 // names; set where the days are merged
}

// flush adds the pending and inline counts to days, shapes and outcomes, once, before
// they are read.
func (c *counts) flush() {
	c.flushDay()
	c.shapesIn.flush(&c.shapes)
	c.outcomesIn.flush(&c.outcomes)
}

// smallTallies are the first few keys counted of a pair, kept in its counts; the
// others go to a slice (spill), so a key is in one or the other, never both.
type smallTallies struct {
	inline [4]tally // 4 shapes are 81 % of a 1M diverse audit's releases, counted per pair
	n      uint8
}

// inc counts one more of key.
func (t *smallTallies) inc(key int32, spill *[]tally) {
	for i := range t.n {
		if t.inline[i].key == key {
			t.inline[i].n++
			return
		}
	}
	if int(t.n) < len(t.inline) {
		t.inline[t.n] = tally{key, 1}
		t.n++
		return
	}
	*spill = inc(*spill, key)
}

// flush moves the inline keys to the slice, once, when counting is over.
func (t *smallTallies) flush(into *[]tally) {
	*into = append(*into, t.inline[:t.n]...)
	t.n = 0
}

func (c *counts) flushDay() {
	if p := c.dayPend; p.n > 0 {
		c.days[index(&c.days, &c.lastDay, p.key, dayTallyKey, func() dayTally { return dayTally{key: p.key} })].n += p.n
		c.dayPend = dayTally{}
	}
}

// dayTally is one day's records of one kind at one controller and SP: 8 bytes without
// pointers, since a national run has one for every controller, SP, day and kind (half
// a million on a generated month), all live until the run's end. The first and last
// record's time is kept per controller, day and kind (controllerDays), where a report
// reads it, not per SP.
type dayTally struct {
	key int32 // UTC days since 1970-01-01 × 2, + 1 for uses
	n   uint32
}

// dayTimes is the first and last record's time of one day and kind at a controller.
type dayTimes struct {
	key         int32
	first, last int64 // unix nanoseconds
}

func dayTallyKey(t dayTally) int32 { return t.key }
func dayTimesKey(t dayTimes) int32 { return t.key }

func dayKey(day int64, use bool) int32 {
	k := int32(day) * 2
	if use {
		k++
	}
	return k
}

// index finds the element of key k in s, sorted by key, inserting mk() where there is
// none; *last is the index found before, tried first.
func index[T any](s *[]T, last *int, k int32, key func(T) int32, mk func() T) int {
	if i := *last; i < len(*s) && key((*s)[i]) == k {
		return i
	}
	i, found := slices.BinarySearchFunc(*s, k, func(x T, k int32) int { return cmp.Compare(key(x), k) })
	if !found {
		*s = slices.Insert(*s, i, mk())
	}
	*last = i
	return i
}

// controllerDays is one controller's part of the frozen figures on one worker: the
// first and last record's time per day and kind, and the releases per day and the
// school they name, as stored (code or OID name id; 0 none). Without pointers inside,
// so the collector skips them.
type controllerDays struct {
	times      []dayTimes
	lastTime   int
	schools    []schoolTally // sorted by day and school
	lastSchool int           // the index counted last, tried first
}

// schoolTally is one day's releases naming one school at a controller. A sorted slice
// rather than a map: counted for every release, a map's assignment was 3 % of a 10M
// audit's CPU, and a controller has at most a few hundred of these in a month.
type schoolTally struct {
	day    int32 // UTC days since 1970-01-01
	n      uint32
	school int64
}

// addSchool counts one release of day naming school.
func (c *controllerDays) addSchool(day int32, school int64) {
	if i := c.lastSchool; i < len(c.schools) && c.schools[i].day == day && c.schools[i].school == school {
		c.schools[i].n++
		return
	}
	i, found := slices.BinarySearchFunc(c.schools, schoolTally{day: day, school: school}, func(x, k schoolTally) int {
		return cmp.Or(cmp.Compare(x.day, k.day), cmp.Compare(x.school, k.school))
	})
	if !found {
		c.schools = slices.Insert(c.schools, i, schoolTally{day: day, school: school})
	}
	c.schools[i].n++
	c.lastSchool = i
}

// tally is a key with a count.
type tally struct {
	key int32
	n   uint32
}

// inc counts one more of key.
func inc(ts []tally, key int32) []tally {
	for i := range ts {
		if ts[i].key == key {
			ts[i].n++
			return ts
		}
	}
	return append(ts, tally{key, 1})
}

func (w *worker) judge(ctx context.Context, r *sqlite.Raw) error {
	day := r.Time / int64(24*time.Hour)
	var consents []mpass.Consent
	if r.Kind == mpass.KindUse {
		consents = w.consents[string(r.Subject)+"\x00"+strconv.FormatInt(r.SP, 10)]
	}
	// a use with consents depends on its instant, so it is judged on its own
	reuse := w.reuse && len(consents) == 0
	var key shapeKey
	var sh *shape
	if r.Shape > math.MaxInt32 { // counted as int32 (tally): thousands of shapes in a national run
		return fmt.Errorf("shape id %d: more than the audit counts", r.Shape)
	}
	st := w.countsOf(r)
	if reuse {
		if !st.classSet {
			var err error
			if st.class, err = w.controllerClasses.class(ctx, r.Controller, r.SP); err != nil {
				return err
			}
			st.classSet = true
		}
		class := st.class
		if day != w.day.day || !w.day.set { // records come mostly in time order
			w.day = dayFacts{day: day, year: int32(yearOf(day)), set: true}
		}
		facts, ok := w.factsOf[r.Shape]
		if !ok {
			var err error
			if facts, err = w.factsClasses.class(ctx, r.Shape); err != nil {
				return err
			}
			w.factsOf[r.Shape] = facts
		}
		key = shapeKey{use: r.Kind == mpass.KindUse, sp: r.SP, purpose: r.Purpose, facts: facts, controllerClass: int32(class.class),
			dayClass: int32(dayClass(class.days, day)), year: w.day.year, learner: r.Learner, roleKnow: r.RoleKnown, allowed: class.allows(r.Time)}
		if sh = w.shapes[key]; sh == nil {
			if sh = w.cache.get(key); sh != nil {
				w.shapes[key] = sh
			}
		}
	}
	if sh == nil {
		rec, err := w.db.Record(ctx, r)
		if err != nil {
			return err
		}
		decisions, err := w.prepared.Eval(ctx, policy.Input(&rec, consents))
		if err != nil {
			return err
		}
		w.evaluations.Add(1)
		sh = w.cache.intern(r.Shape, decisions, rec.Attributes, w.termsOf[r.Kind])
		if reuse {
			w.cache.put(key, sh)
			w.shapes[key] = sh
		}
	}
	// counted on the worker and added up now and then: one shared counter per record
	// had the cores fight over its cache line
	if w.judged++; w.judged%progressStep == 0 {
		done := w.progress.Add(progressStep)
		if done%progressEvery == 0 {
			w.logger.Info("audit progress", "run", w.run.ID, "records", done)
		}
		if w.onProgress != nil {
			w.onProgress(done, w.total)
		}
	}
	return w.count(ctx, r, st, sh, day)
}

// progressEvery is how many records an audit judges between progress lines, and
// progressStep between calls of OnProgress (a worker adds to the shared count that often).
const (
	progressEvery = 50_000
	progressStep  = 1_000
)

func yearOf(day int64) int { return time.Unix(day*86400, 0).UTC().Year() }

// rank orders results when one record gets the same finding twice: the worst stays.
var rank = map[string]int{mpass.ResultError: 0, mpass.ResultFail: 1, mpass.ResultWarn: 2, mpass.ResultSkip: 3, mpass.ResultPass: 4}

// countsOf is what the worker counts of the record's controller and SP.
func (w *worker) countsOf(r *sqlite.Raw) *counts {
	k := [2]int64{r.Controller, r.SP}
	st := w.stats[k]
	if st == nil {
		st = &counts{}
		if st.ctl = w.controllers[r.Controller]; st.ctl == nil {
			st.ctl = &controllerDays{}
			w.controllers[r.Controller] = st.ctl
		}
		w.stats[k] = st
	}
	return st
}

// count counts a record by its outcome and makes its findings.
func (w *worker) count(ctx context.Context, r *sqlite.Raw, st *counts, sh *shape, day int64) error {
	use := r.Kind == mpass.KindUse
	if use {
		st.uses++
	} else {
		st.releases++
		st.shapesIn.inc(int32(r.Shape), &st.shapes)
		st.ctl.addSchool(int32(day), r.School)
	}
	k32 := dayKey(day, use)
	if st.dayPend.n > 0 && st.dayPend.key == k32 {
		st.dayPend.n++
	} else {
		st.flushDay()
		st.dayPend = dayTally{key: k32, n: 1}
	}
	t := &st.ctl.times[index(&st.ctl.times, &st.ctl.lastTime, k32, dayTimesKey, func() dayTimes {
		return dayTimes{key: k32, first: math.MaxInt64, last: math.MinInt64}
	})]
	t.first, t.last = min(t.first, r.Time), max(t.last, r.Time)
	st.outcomesIn.inc(int32(sh.outcome), &st.outcomes)
	o := sh.out
	if len(o.findings) == 0 {
		return nil
	}
	sp, err := w.db.Name(ctx, r.SP)
	if err != nil {
		return err
	}
	var controller string
	if r.Controller != 0 {
		if controller, err = w.db.Name(ctx, r.Controller); err != nil {
			return err
		}
	}
	var purpose string
	if r.Kind == mpass.KindUse && r.Purpose != 0 {
		if purpose, err = w.db.Name(ctx, r.Purpose); err != nil {
			return err
		}
	}
	id, subject, at := string(r.ID), string(r.Subject), time.Unix(0, r.Time).UTC()
	for _, d := range o.findings {
		f := mpass.Finding{
			ID: FindingID(r.Kind, id, d.Term, d.Rule, d.Attribute), RunID: w.run.ID,
			Term: d.Term, Rule: d.Rule, Result: d.Result, Severity: d.Severity, Message: d.Message,
			Record: id, Kind: r.Kind, Time: at, SP: sp, Controller: controller, Subject: subject,
			Attribute: d.Attribute, Purpose: purpose, Exception: d.Exception, ExceptionNotApplied: d.ExceptionNotApplied, Change: mpass.ChangeNew,
		}
		if i := slices.Index(sh.names, d.Attribute); i >= 0 && d.Attribute != "" {
			f.Fingerprint = sqlite.Fingerprint(r.Fingerprints, i)
		}
		w.findings = append(w.findings, f)
	}
	return nil
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
