package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/opetushallitus/mpass-audit/internal/atomicfile"
	"github.com/opetushallitus/mpass-audit/internal/audit"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/progress"
	"github.com/opetushallitus/mpass-audit/reports"
)

func (m *Main) reportCommand() *cobra.Command {
	var controller, period, lang, out string
	var runID int64
	var all bool
	cmd := &cobra.Command{
		Use:         "report --controller OID --period YYYY-MM|FROM..TO -o FILE.pdf",
		Annotations: readOnlyCommand(),
		Short:       "Write a controller's PDF compliance report (fi, sv or en)",
		Long: `Uses the newest finished run whose scope covers the controller and period (a run
without bounds covers all), its findings limited to the period; where there is none,
it runs that audit first. --run picks a run.

--all writes the report of every controller of the newest registry into the directory
-o names (OID-PERIOD-LANG.pdf), from one run of all controllers covering the period,
with progress on a terminal; one controller's failure is reported and the others go on.`,
		Example: `  mpass-audit report --controller 1.2.246.562.10.44444444440 --period 2026-10 --lang sv -o report.pdf
  mpass-audit report --all --period 2026-10 --lang fi -o reports/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if all {
				return m.reportAll(ctx, period, lang, out, runID)
			}
			if err := mpass.CheckControllerOID(controller); err != nil {
				return mpass.Errorf(mpass.EINVALID, "--controller %v", err)
			}
			if out == "" {
				return mpass.Errorf(mpass.EINVALID, "-o FILE.pdf required")
			}
			if err := atomicfile.CheckTarget(out, false); err != nil {
				return mpass.Errorf(mpass.EINVALID, "-o: %v", err)
			}
			if _, err := reports.LoadTexts(lang); err != nil {
				return err
			}
			a, err := m.auditor(ctx)
			if err != nil {
				return err
			}
			from, to, err := audit.ParsePeriod(period)
			if err != nil {
				return err
			}
			scope := mpass.Scope{Controller: controller, From: from, To: to}
			var run *mpass.Run
			if runID != 0 {
				run, err = a.DB.FindRun(ctx, runID)
			} else {
				run, err = a.RunForReport(ctx, scope)
			}
			if err != nil {
				return err
			}
			data, err := a.ReportData(ctx, run, controller, from, to)
			if err != nil {
				return err
			}
			mode, err := m.fileMode()
			if err != nil {
				return err
			}
			// rendered into a temporary file that replaces out only when whole: a
			// render error or a full disk leaves the previous report as it was
			if err := atomicfile.WriteFile(out, mode, func(w io.Writer) error {
				return reports.RenderContext(ctx, w, data, lang)
			}); err != nil {
				return err
			}
			noun := "findings"
			if data.FindingCount == 1 {
				noun = "finding"
			}
			fmt.Fprintf(m.Stdout, "%s: %s %s, run %d, %d %s\n", out, controller, period, run.ID, data.FindingCount, noun)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&controller, "controller", "", "controller OID")
	f.StringVar(&period, "period", "", "YYYY-MM or FROM..TO (YYYY-MM-DD)")
	f.StringVar(&lang, "lang", "fi", "fi, sv or en")
	f.Int64Var(&runID, "run", 0, "the audit run to report (default: the newest that covers the period)")
	f.StringVarP(&out, "output", "o", "", "PDF file to write (with --all, a directory)")
	f.BoolVar(&all, "all", false, "every controller of the newest registry, into the directory -o")
	return cmd
}

// reportAll writes every registry controller's report of a period into dir, from one
// run of all controllers that covers it (or run), a progress bar on a terminal. A
// controller whose report fails is named on stderr and the others go on; the command
// then fails (exit 2) naming how many.
func (m *Main) reportAll(ctx context.Context, period, lang, dir string, runID int64) error {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return mpass.Errorf(mpass.EINVALID, "-o %s: with --all, an existing directory", dir)
	}
	if _, err := reports.LoadTexts(lang); err != nil {
		return err
	}
	from, to, err := audit.ParsePeriod(period)
	if err != nil {
		return err
	}
	a, err := m.auditor(ctx)
	if err != nil {
		return err
	}
	reg, err := a.DB.LatestRegistry(ctx)
	if err != nil {
		return err
	}
	var run *mpass.Run
	if runID != 0 {
		run, err = a.DB.FindRun(ctx, runID)
	} else {
		run, err = a.RunForReport(ctx, mpass.Scope{From: from, To: to})
	}
	if err != nil {
		return err
	}
	mode, err := m.fileMode()
	if err != nil {
		return err
	}
	bar := m.progressBar(int64(len(reg.Controllers)), progress.Records, "reports")
	defer bar.Finish()
	failed := 0
	for _, c := range reg.Controllers {
		if err := ctx.Err(); err != nil {
			return err
		}
		out := filepath.Join(dir, fmt.Sprintf("%s-%s-%s.pdf", c.OID, period, lang))
		err := func() error {
			data, err := a.ReportData(ctx, run, c.OID, from, to)
			if err != nil {
				return err
			}
			return atomicfile.WriteFile(out, mode, func(w io.Writer) error { return reports.RenderContext(ctx, w, data, lang) })
		}()
		bar.Add(1)
		if err != nil {
			failed++
			fmt.Fprintf(m.Stderr, "mpass-audit: %s: %v\n", c.OID, mpass.Printable(err.Error()))
			continue
		}
	}
	fmt.Fprintf(m.Stdout, "%s: %d of %d controllers' reports for %s, run %d\n", dir, len(reg.Controllers)-failed, len(reg.Controllers), period, run.ID)
	if failed > 0 {
		return mpass.Errorf(mpass.EINTERNAL, "%d of %d reports failed", failed, len(reg.Controllers))
	}
	return nil
}
