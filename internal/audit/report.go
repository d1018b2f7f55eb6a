package audit

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/reports"
)

// Report sample sizes: enough to find the records, never a list of pupils.
const (
	sampleRecords  = 3
	sampleSubjects = 2
	weeklySPs      = 5
)

// ParsePeriod reads YYYY-MM or FROM..TO (days) into inclusive days; a span over
// mpass.MaxPeriodMonths is refused (mpass.Scope.Validate).
func ParsePeriod(p string) (from, to string, err error) {
	if a, b, ok := strings.Cut(p, ".."); ok {
		fa, errA := time.Parse(time.DateOnly, a)
		fb, errB := time.Parse(time.DateOnly, b)
		if errA != nil || errB != nil || fb.Before(fa) {
			return "", "", mpass.Errorf(mpass.EINVALID, "period %q: want YYYY-MM or FROM..TO (YYYY-MM-DD, FROM ≤ TO)", p)
		}
		if err := (mpass.Scope{From: a, To: b}).Validate(); err != nil {
			return "", "", mpass.Errorf(mpass.EINVALID, "period %v", err)
		}
		return a, b, nil
	}
	m, err := time.Parse("2006-01", p)
	if err != nil {
		return "", "", mpass.Errorf(mpass.EINVALID, "period %q: want YYYY-MM or FROM..TO", p)
	}
	return m.Format(time.DateOnly), m.AddDate(0, 1, -1).Format(time.DateOnly), nil
}

// RunForReport finds the newest finished run whose scope covers the controller and
// period; where there is none, it runs that audit first.
func (a *Auditor) RunForReport(ctx context.Context, scope mpass.Scope) (*mpass.Run, error) {
	run, err := a.DB.LatestRunCovering(ctx, scope)
	if err != nil || run != nil {
		return run, err
	}
	return a.Run(ctx, scope)
}

// ReportData gathers one controller's report of a period from a run: the findings of
// the period, what the run judged per day in the period (its frozen figures), the run's
// per-SP attribute counts, and the exceptions in force. It reads only what the run
// stored, never the record tables, so a run's report stays the same, byte for byte,
// when records arrive or are purged later.
func (a *Auditor) ReportData(ctx context.Context, run *mpass.Run, controller, from, to string) (*reports.Data, error) {
	scope := mpass.Scope{Controller: controller, From: from, To: to}
	if run.Status != mpass.RunFinished || !run.Scope.Covers(scope) {
		return nil, mpass.Errorf(mpass.ENOTFOUND, "run %d does not cover %s %s..%s", run.ID, controller, from, to)
	}
	if !run.Frozen {
		return nil, mpass.Errorf(mpass.EINVALID, "run %d was stored before runs kept what they judged per day: audit %s %s..%s again for its report", run.ID, controller, from, to)
	}
	reg, err := a.DB.FindRegistry(ctx, run.RegistryVersion)
	if err != nil {
		return nil, err
	}
	d := &reports.Data{
		Controller: reg.Controller(controller),
		From:       from, To: to, Run: run,
		Registry: reports.RegistryInfo{Version: reg.Version, Digest: reg.Digest},
	}
	if run.From != from || run.To != to {
		d.RunScope = &run.Scope
	}
	only := []string{controller}

	// findings of the period, grouped by term, rule and SP
	terms := map[string]*reports.TermSummary{}
	for _, t := range a.Engine.Terms() {
		terms[t.ID] = &reports.TermSummary{Term: t, HasPrevious: run.Previous != 0}
	}
	groups := map[[5]string]*reports.FindingGroup{}
	spResults := map[string]*mpass.Summary{}
	spWorst := map[string]string{} // SP → the most severe of its failed or warned findings
	var digestLines []string
	err = a.DB.Findings(ctx, mpass.FindingFilter{RunID: run.ID, Controllers: only, From: from, To: to}, func(f *mpass.Finding) error {
		ts := terms[f.Term]
		if ts == nil {
			ts = &reports.TermSummary{Term: mpass.Term{ID: f.Term, Title: f.Term}, HasPrevious: run.Previous != 0}
			terms[f.Term] = ts
		}
		key := [5]string{f.Term, f.Rule, f.SP, f.Attribute, f.Purpose}
		g := groups[key]
		if g == nil {
			g = &reports.FindingGroup{Term: f.Term, Rule: f.Rule, SP: f.SP, Severity: f.Severity, Attribute: f.Attribute, Purpose: f.Purpose, First: f.Time, Last: f.Time}
			groups[key] = g
		}
		for _, c := range []*int64{resultCounter(f.Result, &ts.Fail, &ts.Warn, &ts.Skip, &ts.Error), resultCounter(f.Result, &g.Fail, &g.Warn, &g.Skip, &g.Error)} {
			if c != nil {
				*c++
			}
		}
		if f.Change == mpass.ChangeNew {
			ts.New++
		} else {
			ts.Persisting++
		}
		if f.Time.Before(g.First) {
			g.First = f.Time
		}
		if f.Time.After(g.Last) {
			g.Last = f.Time
		}
		if len(g.Records) < sampleRecords && !slices.Contains(g.Records, f.Record) {
			g.Records = append(g.Records, f.Record)
		}
		if len(g.Subjects) < sampleSubjects && !slices.Contains(g.Subjects, f.Subject) {
			g.Subjects = append(g.Subjects, f.Subject)
		}
		if spResults[f.SP] == nil {
			spResults[f.SP] = &mpass.Summary{}
		}
		spResults[f.SP].Add(f.Result, 1)
		if f.Result != mpass.ResultSkip && f.Result != mpass.ResultPass {
			if w, ok := spWorst[f.SP]; !ok || mpass.SeverityRank(f.Severity) < mpass.SeverityRank(w) {
				spWorst[f.SP] = f.Severity
			}
		}
		digestLines = append(digestLines, f.ID+";"+f.Result+";"+f.Exception)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if run.Previous != 0 {
		err = a.DB.Resolved(ctx, run.ID, run.Previous, only, func(f *mpass.Finding) error {
			day := f.Time.UTC().Format(time.DateOnly)
			if ts := terms[f.Term]; ts != nil && day >= from && day <= to {
				ts.Resolved++
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for _, t := range terms {
		d.Terms = append(d.Terms, *t)
	}
	slices.SortFunc(d.Terms, func(x, y reports.TermSummary) int { return termOrder(x.Term.ID, y.Term.ID) })
	friendly, err := a.Engine.FriendlyNames(ctx)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		g.AttributeName = friendly[g.Attribute]
		if sp, ok := reg.ServiceProvider(g.SP); ok {
			g.SPName = sp.Name
		}
		d.Groups = append(d.Groups, *g)
	}
	// what a DPO acts on first: the most severe, then the most frequent
	slices.SortFunc(d.Groups, func(x, y reports.FindingGroup) int {
		return cmp.Or(cmp.Compare(acceptedOnly(x), acceptedOnly(y)), // accepted risks after what needs acting on
			cmp.Compare(mpass.SeverityRank(x.Severity), mpass.SeverityRank(y.Severity)), cmp.Compare(y.Count(), x.Count()),
			termOrder(x.Term, y.Term), cmp.Compare(x.Rule, y.Rule), cmp.Compare(x.SP, y.SP), cmp.Compare(x.Attribute, y.Attribute))
	})
	sort.Strings(digestLines)
	h := sha256.New()
	for _, l := range digestLines {
		h.Write([]byte(l + "\n"))
	}
	d.FindingsDigest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	d.FindingCount = len(digestLines)

	if d.Schools, err = a.schoolSummaries(ctx, run, d.Controller, from, to); err != nil {
		return nil, err
	}
	if err := a.spSummaries(ctx, d, run, reg, controller, from, to, spResults, spWorst); err != nil {
		return nil, err
	}
	for i := range d.Terms { // a term judges every record of its kinds
		for _, k := range d.Terms[i].Term.Kinds {
			for _, src := range d.Evidence.Sources {
				if src.Kind == k {
					d.Terms[i].Judged += src.Records
				}
			}
		}
	}
	if reg.ControllerName(controller) == "" && d.Releases+d.Uses == 0 && d.FindingCount == 0 {
		return nil, mpass.Errorf(mpass.ENOTFOUND, "controller %s is neither in the registry nor in the records", controller)
	}
	// exceptions of this controller, and those of all controllers at an SP it uses
	used := map[string]bool{}
	for _, s := range d.SPs {
		used[s.ID] = true
	}
	for _, e := range reg.Exceptions {
		if (e.Controller == controller || (e.Controller == "" && used[e.SP])) && e.Expires >= from {
			d.Exceptions = append(d.Exceptions, e)
		}
	}
	return d, nil
}

// termOrder puts the four terms of TERMS.md first, in its order, then any others.
func termOrder(a, b string) int {
	order := []string{"identification-only", "no-age-inference", "no-direct-marketing-to-minors", "data-minimisation"}
	ia, ib := slices.Index(order, a), slices.Index(order, b)
	if ia < 0 {
		ia = len(order)
	}
	if ib < 0 {
		ib = len(order)
	}
	return cmp.Or(cmp.Compare(ia, ib), cmp.Compare(a, b))
}

func resultCounter(result string, fail, warn, skip, errs *int64) *int64 {
	switch result {
	case mpass.ResultFail:
		return fail
	case mpass.ResultWarn:
		return warn
	case mpass.ResultSkip:
		return skip
	case mpass.ResultError:
		return errs
	}
	return nil
}

// spSummaries fills the per-SP section, the weekly chart and the evidence from the
// run's frozen day counts.
func (a *Auditor) spSummaries(ctx context.Context, d *reports.Data, run *mpass.Run, reg *mpass.Registry, controller, from, to string, results map[string]*mpass.Summary, worst map[string]string) error {
	only := []string{controller}
	counts, err := a.DB.DayCounts(ctx, run.ID, controller, from, to)
	if err != nil {
		return err
	}
	if d.Evidence, err = evidence(counts, from, to); err != nil {
		return err
	}
	stats, err := a.DB.Stats(ctx, run.ID, only)
	if err != nil {
		return err
	}
	friendly, err := a.Engine.FriendlyNames(ctx)
	if err != nil {
		return err
	}
	name := func(canonical string) string { return cmp.Or(friendly[canonical], canonical) }
	byID := map[string]*reports.SPSummary{}
	get := func(id string) *reports.SPSummary {
		s := byID[id]
		if s == nil {
			s = &reports.SPSummary{ID: id, Name: id}
			for _, sp := range reg.ServiceProviders {
				if sp.ID == id {
					s.Name, s.Known, s.Commercial = cmp.Or(sp.Name, id), true, sp.Commercial
				}
			}
			byID[id] = s
		}
		return s
	}
	weeks := map[string]map[string]int64{} // SP → week → releases
	for _, c := range counts {
		s := get(c.SP)
		if c.Kind == mpass.KindUse {
			s.Uses += c.Records
			d.Uses += c.Records
			continue
		}
		s.Releases += c.Records
		d.Releases += c.Records
		t, _ := time.Parse(time.DateOnly, c.Day)
		y, w := t.ISOWeek()
		if weeks[c.SP] == nil {
			weeks[c.SP] = map[string]int64{}
		}
		weeks[c.SP][fmt.Sprintf("%04d-W%02d", y, w)] += c.Records
	}
	for _, st := range stats {
		s, ok := byID[st.SP]
		if !ok {
			continue // no records of this SP in the period
		}
		approved := approvedAttributes(reg, controller, st.SP, from, to)
		for _, attr := range sortedKeys(st.Attributes) {
			s.Received = append(s.Received, reports.AttributeCount{Name: name(attr), Count: st.Attributes[attr], Approved: approved[attr]})
		}
		for _, attr := range sortedKeys(st.Disclosures) {
			s.Disclosures = append(s.Disclosures, reports.AttributeCount{Name: name(attr), Count: st.Disclosures[attr], Approved: true})
		}
	}
	for id, s := range byID {
		if r := results[id]; r != nil {
			s.Summary = *r
		}
		s.Worst = worst[id]
		d.SPs = append(d.SPs, *s)
	}
	// the SPs to act on first: the most severe finding, then the most failed and warned,
	// then the most releases (a capped table keeps these)
	slices.SortFunc(d.SPs, func(x, y reports.SPSummary) int {
		return cmp.Or(cmp.Compare(worstRank(x.Worst), worstRank(y.Worst)), cmp.Compare(y.Summary.Fail+y.Summary.Warn+y.Summary.Error, x.Summary.Fail+x.Summary.Warn+x.Summary.Error),
			cmp.Compare(y.Releases, x.Releases), cmp.Compare(x.ID, y.ID))
	})

	// the weeks of the period, and the SPs with the most releases
	start, _ := time.Parse(time.DateOnly, from)
	end, _ := time.Parse(time.DateOnly, to)
	daysIn := map[string]int{}
	for t := start; !t.After(end); t = t.AddDate(0, 0, 1) {
		y, w := t.ISOWeek()
		wk := fmt.Sprintf("%04d-W%02d", y, w)
		if !slices.Contains(d.Weekly.Weeks, wk) {
			d.Weekly.Weeks = append(d.Weekly.Weeks, wk)
		}
		daysIn[wk]++
	}
	for _, wk := range d.Weekly.Weeks {
		if daysIn[wk] < 7 {
			d.Weekly.Partial = append(d.Weekly.Partial, wk)
		}
	}
	top := slices.Clone(d.SPs)
	slices.SortFunc(top, func(x, y reports.SPSummary) int {
		return cmp.Or(cmp.Compare(y.Releases, x.Releases), cmp.Compare(x.ID, y.ID))
	})
	for _, s := range top[:min(weeklySPs, len(top))] {
		if s.Releases == 0 {
			continue
		}
		series := reports.Series{SP: s.Name}
		for _, wk := range d.Weekly.Weeks {
			series.Counts = append(series.Counts, weeks[s.ID][wk])
		}
		d.Weekly.Series = append(d.Weekly.Series, series)
	}
	return nil
}

// acceptedOnly is 1 for a group of exceptions only (accepted risks), else 0.
func acceptedOnly(g reports.FindingGroup) int {
	if g.Fail+g.Warn+g.Error == 0 {
		return 1
	}
	return 0
}

// worstRank orders SPs by their most severe failed or warned finding; none last.
func worstRank(severity string) int {
	if severity == "" {
		return len(mpass.Severities) + 1
	}
	return mpass.SeverityRank(severity)
}

// approvedAttributes is what the SP may receive from the controller at some time in
// the period: its registry list and the agreements valid in it.
func approvedAttributes(reg *mpass.Registry, controller, sp, from, to string) map[string]bool {
	ok := map[string]bool{}
	for _, s := range reg.ServiceProviders {
		if s.ID == sp {
			for _, a := range s.Attributes {
				ok[a] = true
			}
		}
	}
	for _, ag := range reg.Agreements {
		if ag.Controller == controller && ag.SP == sp && (ag.Valid.From == "" || ag.Valid.From <= to) && (ag.Valid.To == "" || ag.Valid.To >= from) {
			for _, a := range ag.Attributes {
				ok[a] = true
			}
		}
	}
	return ok
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// schoolSummaries counts the period's releases per school, a school being one whether
// releases name it by its code or by its OID (mpass.Controller.School); most releases
// first. Releases that name no school are not listed. The counts are the run's frozen
// ones.
func (a *Auditor) schoolSummaries(ctx context.Context, run *mpass.Run, c mpass.Controller, from, to string) ([]reports.SchoolSummary, error) {
	counts, err := a.DB.FrozenSchoolCounts(ctx, run.ID, c.OID, from, to)
	if err != nil {
		return nil, err
	}
	byKey := map[string]*reports.SchoolSummary{}
	for ref, n := range counts {
		if ref == "" {
			continue
		}
		s, known := c.School(ref)
		if !known {
			s = mpass.School{Name: ref}
			if strings.HasPrefix(ref, mpass.OPHArc) {
				s.OID = ref
			} else {
				s.Code = ref
			}
		}
		key := cmp.Or(s.OID, s.Code)
		if byKey[key] == nil {
			byKey[key] = &reports.SchoolSummary{School: s, Known: known}
		}
		byKey[key].Releases += n
	}
	out := make([]reports.SchoolSummary, 0, len(byKey))
	for _, s := range byKey {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b reports.SchoolSummary) int {
		return cmp.Or(cmp.Compare(b.Releases, a.Releases), strings.Compare(a.School.Name, b.School.Name), strings.Compare(a.School.OID+a.School.Code, b.School.OID+b.School.Code))
	})
	return out, nil
}

// evidence is what a period's verdicts rest on, from a run's day counts of one
// controller in the period (days from and to, inclusive): the records per source
// (kind) with their first and last time, and the days without any record.
func evidence(counts []mpass.DayCount, from, to string) (reports.Evidence, error) {
	var e reports.Evidence
	src := []reports.EvidenceSource{{Kind: mpass.KindRelease}, {Kind: mpass.KindUse}}
	seen := map[string]bool{}
	for _, c := range counts {
		s := &src[0]
		if c.Kind == mpass.KindUse {
			s = &src[1]
		}
		if c.Records == 0 {
			continue
		}
		if s.Records == 0 || c.First.Before(s.First) {
			s.First = c.First
		}
		if s.Records == 0 || c.Last.After(s.Last) {
			s.Last = c.Last
		}
		s.Records += c.Records
		seen[c.Day] = true
	}
	e.Sources = src
	start, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return e, mpass.Errorf(mpass.EINVALID, "from %q: not a date", from)
	}
	end, err := time.Parse(time.DateOnly, to)
	if err != nil {
		return e, mpass.Errorf(mpass.EINVALID, "to %q: not a date", to)
	}
	var gaps []reports.DayRange
	extending := false // the day before was empty too: the last gap goes on
	for t := start; !t.After(end); t = t.AddDate(0, 0, 1) {
		e.Days++
		day := t.Format(time.DateOnly)
		if seen[day] {
			extending = false
			continue
		}
		e.EmptyDays++
		if extending {
			gaps[len(gaps)-1].To = day
			continue
		}
		gaps = append(gaps, reports.DayRange{From: day, To: day})
		extending = true
	}
	e.Gaps = gaps[:min(len(gaps), reports.MaxGaps)]
	e.MoreGaps = len(gaps) - len(e.Gaps)
	return e, nil
}
