package main

import (
	"github.com/spf13/cobra"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/output"
)

func (m *Main) auditCommand() *cobra.Command {
	var scope mpass.Scope
	var format, failOn string
	var exact bool
	cmd := &cobra.Command{
		Use: "audit",
		// reads the stored records; writes only the run (INTERFACE.md's read-only list)
		Annotations: readOnlyCommand(),
		Short:       "Run an audit over the stored records and print its findings",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			out, err := output.Get(format)
			if err != nil {
				return err
			}
			if failOn != "" && failOn != mpass.ResultFail && failOn != mpass.ResultWarn {
				return mpass.Errorf(mpass.EINVALID, "--fail-on %q: fail or warn", failOn)
			}
			a, err := m.auditor(ctx)
			if err != nil {
				return err
			}
			a.Exact = exact
			run, err := a.Run(ctx, scope)
			if err != nil {
				return err
			}
			view, err := a.View(ctx, run.ID, nil)
			if err != nil {
				return err
			}
			if err := out.Output(m.Stdout, view); err != nil {
				return err
			}
			s := run.Summary
			if (failOn == mpass.ResultFail && s.Fail > 0) || (failOn == mpass.ResultWarn && s.Fail+s.Warn > 0) {
				m.exit = exitFindings
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&scope.Controller, "controller", "", "audit one controller (OID); default all")
	f.StringVar(&scope.From, "from", "", "first day (YYYY-MM-DD), inclusive")
	f.StringVar(&scope.To, "to", "", "last day (YYYY-MM-DD), inclusive")
	f.StringVar(&format, "format", "table", "table, json or csv")
	f.StringVar(&failOn, "fail-on", "", "exit 1 when a result is at least: fail or warn")
	f.BoolVar(&exact, "exact", false, "evaluate every record on its own (the baseline of make bench; slow)")
	return cmd
}
