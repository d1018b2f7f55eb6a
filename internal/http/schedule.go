package http

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/reports"
)

// Schedule runs the monthly audit at each time of the cron spec (e.g. "0 3 1 * *"): the
// previous month, all controllers, and every controller's report stored in s.Langs.
// A due time missed while the service was down runs once at start. It returns when ctx
// ends.
func (s *Server) Schedule(ctx context.Context, spec string, now func() time.Time) error {
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return mpass.Errorf(mpass.EINVALID, "--schedule %q: %v", spec, err)
	}
	if err := s.CatchUp(ctx, spec, sched, now()); err != nil {
		s.Logger.Error("scheduled audit", "err", err)
	}
	for {
		next := sched.Next(now())
		timer := time.NewTimer(next.Sub(now()))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
		if err := s.ScheduledAudit(ctx, spec, next); err != nil {
			s.Logger.Error("scheduled audit", "due", next, "err", err)
		}
	}
}

// CatchUp runs the latest due time after the last one handled, once. On the very first
// start nothing is due: the schedule starts from now.
func (s *Server) CatchUp(ctx context.Context, spec string, sched cron.Schedule, now time.Time) error {
	handled, err := s.DB.ScheduleHandled(ctx, spec)
	if err != nil {
		return err
	}
	if handled.IsZero() {
		return s.DB.SetScheduleHandled(ctx, spec, now)
	}
	var due time.Time
	for t := sched.Next(handled); !t.After(now); t = sched.Next(t) {
		due = t
	}
	if due.IsZero() {
		return nil
	}
	s.Logger.Info("running a missed scheduled audit", "due", due)
	return s.ScheduledAudit(ctx, spec, due)
}

// ScheduledAudit audits the month before due for all controllers, stores each
// controller's report, and records due as handled. It waits for a running audit.
func (s *Server) ScheduledAudit(ctx context.Context, spec string, due time.Time) error {
	month := time.Date(due.Year(), due.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	period := month.Format("2006-01")
	scope := mpass.Scope{From: month.Format(time.DateOnly), To: month.AddDate(0, 1, -1).Format(time.DateOnly)}
	s.auditing.Lock()
	run, err := s.Auditor.Run(ctx, scope)
	s.auditing.Unlock()
	if err != nil {
		return err
	}
	stats, err := s.DB.Stats(ctx, run.ID, nil)
	if err != nil {
		return err
	}
	langs := s.Langs
	if len(langs) == 0 {
		langs = reports.Langs
	}
	done := map[string]bool{}
	for _, st := range stats {
		if done[st.Controller] || st.Controller == "" {
			continue
		}
		done[st.Controller] = true
		data, err := s.Auditor.ReportData(ctx, run, st.Controller, scope.From, scope.To)
		if err != nil {
			return err
		}
		for _, lang := range langs {
			var buf bytes.Buffer
			if err := reports.Render(&buf, data, lang); err != nil {
				return fmt.Errorf("report %s %s: %w", st.Controller, lang, err)
			}
			if err := s.DB.StoreReport(ctx, run.ID, st.Controller, period, lang, buf.Bytes()); err != nil {
				return err
			}
		}
	}
	s.Logger.Info("scheduled audit finished", "run", run.ID, "period", period, "reports", len(done))
	return s.DB.SetScheduleHandled(ctx, spec, due)
}
