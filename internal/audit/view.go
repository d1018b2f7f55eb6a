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
	r := &output.Report{Run: run, Summary: run.Summary, Terms: a.Engine.Terms()}
	if controllers != nil {
		stats, err := a.DB.Stats(ctx, run.ID, controllers)
		if err != nil {
			return nil, err
		}
		r.Summary = mpass.Summary{}
		for _, s := range stats {
			r.Summary.Merge(s.Summary)
		}
	}
	r.Findings = func(fn func(*mpass.Finding) error) error {
		return a.DB.Findings(ctx, mpass.FindingFilter{RunID: run.ID, Controllers: controllers}, fn)
	}
	if run.Previous != 0 {
		r.Resolved = func(fn func(*mpass.Finding) error) error {
			return a.DB.Resolved(ctx, run.ID, run.Previous, controllers, fn)
		}
	}
	return r, nil
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
