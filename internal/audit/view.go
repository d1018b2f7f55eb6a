package audit

import (
	"context"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/output"
)

// View is a run as one reader may see it. controllers limits it to those controllers
// (a DPO's); nil shows all (an auditor). A run of another controller answers not found,
// exactly like a run that does not exist.
func (a *Auditor) View(ctx context.Context, runID int64, controllers []string) (*output.Report, error) {
	// one answer for a missing, unfinished or invisible run: nothing tells them apart
	notFound := mpass.Errorf(mpass.ENOTFOUND, "run not found")
	run, err := a.DB.FindRun(ctx, runID)
	if mpass.ErrorCode(err) == mpass.ENOTFOUND {
		return nil, notFound
	} else if err != nil {
		return nil, err
	}
	if run.Status != mpass.RunFinished || !visible(run, controllers) {
		return nil, notFound
	}
	summary, err := a.Summary(ctx, run, controllers)
	if err != nil {
		return nil, err
	}
	r := &output.Report{Run: run, Summary: summary, Terms: a.Engine.Terms()}
	if err := a.judged(ctx, r, controllers); err != nil {
		return nil, err
	}
	r.Findings = func(fn func(*mpass.Finding) error) error {
		return a.DB.Findings(ctx, mpass.FindingFilter{RunID: run.ID, Controllers: controllers}, fn)
	}
	r.Tally = func(fn func(mpass.FindingTally) error) error {
		counts, err := a.DB.FindingCounts(ctx, run.ID, controllers)
		for _, c := range counts {
			if err == nil {
				err = fn(c)
			}
		}
		return err
	}
	if run.Previous != 0 {
		r.Resolved = func(fn func(*mpass.Finding) error) error {
			return a.DB.Resolved(ctx, run.ID, run.Previous, controllers, fn)
		}
	}
	return r, nil
}

// Summary is a run's summary counted over the given controllers only (all when nil).
func (a *Auditor) Summary(ctx context.Context, run *mpass.Run, controllers []string) (mpass.Summary, error) {
	if controllers == nil {
		return run.Summary, nil
	}
	stats, err := a.DB.Stats(ctx, run.ID, controllers)
	if err != nil {
		return mpass.Summary{}, err
	}
	var sum mpass.Summary
	for _, s := range stats {
		sum.Merge(s.Summary)
	}
	return sum, nil
}

// judged fills a view's per-term judged counts and, for a view of all controllers, the
// bucket of uses whose controller could not be found, from the run's stored per-SP
// aggregates: a term judges every record of its kinds, so it judged the releases
// and uses of the run's controllers (the reader's) in those kinds.
func (a *Auditor) judged(ctx context.Context, r *output.Report, controllers []string) error {
	t, err := a.DB.RunTotals(ctx, r.Run.ID, controllers)
	if err != nil {
		return err
	}
	if controllers == nil {
		r.ControllerUnknown = &output.Bucket{Uses: t.UnknownUses, Summary: t.Unknown}
	}
	r.Judged = map[string]int64{}
	for _, term := range r.Terms {
		for _, k := range term.Kinds {
			switch k {
			case mpass.KindRelease:
				r.Judged[term.ID] += t.Releases
			case mpass.KindUse:
				r.Judged[term.ID] += t.Uses
			}
		}
	}
	return nil
}

func visible(run *mpass.Run, controllers []string) bool {
	if controllers == nil || run.Controller == "" {
		return true
	}
	for _, c := range controllers {
		if c == run.Controller {
			return true
		}
	}
	return false
}

// LimitSP limits a view (of View, over the same controllers) to one SP: its findings,
// their tally and the resolved ones, and its summary, judged counts and bucket of uses
// without a controller from the run's per-SP aggregates. The run itself is not limited:
// it judged every SP of its scope (`audit --sp` prints one SP of it).
func (a *Auditor) LimitSP(ctx context.Context, r *output.Report, controllers []string, sp string) error {
	stats, err := a.DB.Stats(ctx, r.Run.ID, controllers)
	if err != nil {
		return err
	}
	var sum mpass.Summary
	var releases, uses int64
	var unknown *output.Bucket
	if r.ControllerUnknown != nil {
		unknown = &output.Bucket{}
	}
	for _, s := range stats {
		if s.SP != sp {
			continue
		}
		sum.Merge(s.Summary)
		releases, uses = releases+s.Releases, uses+s.Uses
		if s.Controller == "" && unknown != nil {
			unknown.Uses += s.Uses
			unknown.Summary.Merge(s.Summary)
		}
	}
	r.Summary, r.ControllerUnknown = sum, unknown
	r.Judged = map[string]int64{}
	for _, term := range r.Terms {
		for _, k := range term.Kinds {
			switch k {
			case mpass.KindRelease:
				r.Judged[term.ID] += releases
			case mpass.KindUse:
				r.Judged[term.ID] += uses
			}
		}
	}
	r.Findings = func(fn func(*mpass.Finding) error) error {
		return a.DB.Findings(ctx, mpass.FindingFilter{RunID: r.Run.ID, Controllers: controllers, SP: sp}, fn)
	}
	if tally := r.Tally; tally != nil {
		r.Tally = func(fn func(mpass.FindingTally) error) error {
			return tally(func(t mpass.FindingTally) error {
				if t.SP != sp {
					return nil
				}
				return fn(t)
			})
		}
	}
	if resolved := r.Resolved; resolved != nil {
		r.Resolved = func(fn func(*mpass.Finding) error) error {
			return resolved(func(f *mpass.Finding) error {
				if f.SP != sp {
					return nil
				}
				return fn(f)
			})
		}
	}
	return nil
}
