package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/opetushallitus/mpass-audit/internal/atomicfile"
	"github.com/opetushallitus/mpass-audit/internal/audit"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/reports"
)

func (m *Main) reportCommand() *cobra.Command {
	var controller, period, lang, out string
	var runID int64
	cmd := &cobra.Command{
		Use:         "report --controller OID --period YYYY-MM|FROM..TO -o FILE.pdf",
		Annotations: readOnlyCommand(),
		Short:       "Write a controller's PDF compliance report (fi, sv or en)",
		Long: `Uses the newest finished run whose scope covers the controller and period (a run
without bounds covers all), its findings limited to the period; where there is none,
it runs that audit first. --run picks a run.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
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
	f.StringVarP(&out, "output", "o", "", "PDF file to write")
	return cmd
}
