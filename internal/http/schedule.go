package http

import (
	"bytes"
	"context"
	"fmt"
	"io"
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
	sched, err := ParseSchedule(spec)
	if err != nil {
		return err
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

// ParseSchedule checks a --schedule cron spec (five fields: minute, hour, day of month,
// month, day of week; or a descriptor such as @monthly) and answers its schedule, or an
// EINVALID error naming the spec, so serve refuses a bad one at start.
func ParseSchedule(spec string) (cron.Schedule, error) {
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, mpass.Errorf(mpass.EINVALID, "--schedule %q: not a cron spec of five fields (minute hour day-of-month month day-of-week, e.g. \"0 3 1 * *\"): %v", spec, err)
	}
	return sched, nil
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
//
// Once the audit has run, due is handled whatever becomes of the reports: a report that
// cannot be made (its data, its drawing, even a panic) is logged with its controller
// and language and the others go on, so one controller's hostile data never stops
// another's report, and a restart does not run (and fail) the same due time again. The
// answer is then an error counting the failed reports. Only the audit failing, or ctx
// ending, leaves due unhandled for the next start.
func (s *Server) ScheduledAudit(ctx context.Context, spec string, due time.Time) error {
	month := time.Date(due.Year(), due.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	period := month.Format("2006-01")
	scope := mpass.Scope{From: month.Format(time.DateOnly), To: month.AddDate(0, 1, -1).Format(time.DateOnly)}
	s.auditing.Lock()
	run, err := s.Auditor.Run(ctx, scope)
	s.auditing.Unlock()
	if err != nil {
		return fmt.Errorf("scheduled audit of %s: %w", period, err)
	}
	stats, err := s.DB.Stats(ctx, run.ID, nil)
	if err != nil {
		return fmt.Errorf("scheduled audit of %s, run %d: %w", period, run.ID, err)
	}
	langs := s.Langs
	if len(langs) == 0 {
		langs = reports.Langs
	}
	done := map[string]bool{}
	failed, stored := 0, 0
	for _, st := range stats {
		if done[st.Controller] || st.Controller == "" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err // shutting down: the next start handles due
		}
		done[st.Controller] = true
		for _, err := range s.storeReports(ctx, run, st.Controller, period, scope, langs) {
			if ctx.Err() != nil {
				return ctx.Err() // shutting down: the next start handles due
			}
			failed++
			s.Logger.Error("scheduled report failed", "run", run.ID, "controller", st.Controller, "period", period, "err", err)
		}
		stored += len(langs)
	}
	stored -= failed
	if err := s.DB.SetScheduleHandled(ctx, spec, due); err != nil {
		return fmt.Errorf("scheduled audit of %s, run %d: %w", period, run.ID, err)
	}
	s.Logger.Info("scheduled audit finished", "run", run.ID, "period", period, "controllers", len(done), "reports", stored, "failed", failed)
	if failed > 0 {
		return mpass.Errorf(mpass.EINTERNAL, "scheduled audit of %s, run %d: %d of %d reports failed (each is logged)", period, run.ID, failed, stored+failed)
	}
	return nil
}

// storeReports makes and stores one controller's report in each language, and answers
// the failures: one per language, or one for all where its data could not be
// gathered. A panic is recovered as a failure of this controller alone.
func (s *Server) storeReports(ctx context.Context, run *mpass.Run, controller, period string, scope mpass.Scope, langs []string) (errs []error) {
	defer func() {
		if p := recover(); p != nil {
			errs = append(errs, mpass.Errorf(mpass.EINTERNAL, "report of %s for %s: panic: %v", controller, period, p))
		}
	}()
	data, err := s.Auditor.ReportData(ctx, run, controller, scope.From, scope.To)
	if err != nil {
		return []error{fmt.Errorf("report data of %s for %s: %w", controller, period, err)}
	}
	for _, lang := range langs {
		var buf bytes.Buffer
		if err := s.drawReport(ctx, &buf, data, lang); err != nil {
			errs = append(errs, fmt.Errorf("report of %s for %s in %s: %w", controller, period, lang, err))
			if ctx.Err() != nil {
				return errs
			}
			continue
		}
		if err := s.DB.StoreReport(ctx, run.ID, controller, period, lang, buf.Bytes()); err != nil {
			errs = append(errs, fmt.Errorf("store the report of %s for %s in %s: %w", controller, period, lang, err))
		}
	}
	return errs
}

// drawReport draws a report with the Server's Render hook, reports.RenderContext unless a
// test injects a failing one, through reports.Drawn: a failure that is not the
// context's comes back as EINTERNAL naming the controller and period.
func (s *Server) drawReport(ctx context.Context, w io.Writer, d *reports.Data, lang string) error {
	render := reports.RenderContext
	if s.Render != nil {
		render = s.Render
	}
	return reports.Drawn(d, lang, func() error { return render(ctx, w, d, lang) })
}
