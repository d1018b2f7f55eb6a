package main

import (
	"context"
	"sync"

	"github.com/spf13/cobra"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/output"
	"github.com/opetushallitus/mpass-audit/internal/progress"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
)

func (m *Main) auditCommand() *cobra.Command {
	var scope mpass.Scope
	var format, failOn, sp string
	var exact bool
	cmd := &cobra.Command{
		Use: "audit",
		// reads the stored records; writes only the run (INTERFACE.md's read-only list)
		Annotations: readOnlyCommand(),
		Short:       "Run an audit over the stored records and print its findings",
		Long: `Runs an audit over the stored records of the scope (--controller, --from, --to),
stores it as an audit run and prints its findings: every fail, warn, skip and error,
each new or persisting against the previous run of the same scope.

--sp limits what is printed to one SP: its findings, summary and resolved findings.
The run stored is still the whole scope's (the SP is not part of a run's scope), so
runs list, runs show and the reports see every SP of it; --fail-on counts the SP's
findings only.`,
		Example: `  mpass-audit audit
  mpass-audit audit --controller 1.2.246.562.10.44444444440 --from 2026-10-01 --to 2026-10-31 --format json
  mpass-audit audit --sp https://sp.example.fi --format csv --fail-on fail`,
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
			if sp != "" {
				if err := knownSP(ctx, a.DB, sp); err != nil {
					return err
				}
			}
			if progress.OnTerminal(m.Stderr, m.Quiet) {
				a.OnProgress = auditProgress(m)
			}
			run, err := a.Run(ctx, scope)
			m.finishProgress()
			if err != nil {
				return err
			}
			view, err := a.View(ctx, run.ID, nil)
			if err != nil {
				return err
			}
			if sp != "" {
				if err := a.LimitSP(ctx, view, nil, sp); err != nil {
					return err
				}
			}
			if err := out.Output(m.Stdout, view); err != nil {
				return err
			}
			s := view.Summary
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
	f.StringVar(&sp, "sp", "", "print the findings of one SP (its id) only; the run stored covers the whole scope")
	f.StringVar(&format, "format", "table", "table, json or csv")
	f.StringVar(&failOn, "fail-on", "", "exit 1 when a result is at least: fail or warn")
	f.BoolVar(&exact, "exact", false, "evaluate every record on its own (the baseline of make bench; slow)")
	return cmd
}

// knownSP refuses an SP that is in neither the latest registry nor any record: a
// typo would print an empty report, as if the SP had no findings.
func knownSP(ctx context.Context, db *sqlite.DB, sp string) error {
	reg, err := db.LatestRegistry(ctx)
	if err != nil {
		return err
	}
	if _, ok := reg.ServiceProvider(sp); ok {
		return nil
	}
	id, err := db.NameID(ctx, sp)
	if err != nil {
		return err
	}
	if id == 0 {
		return mpass.Errorf(mpass.ENOTFOUND, "--sp %s is in neither the registry nor any record", sp)
	}
	return nil
}

// auditProgress draws the audit's progress on stderr (records judged, rate, time left),
// the bar made at the first report, once the run's total is known; the judging workers
// call it concurrently.
func auditProgress(m *Main) func(done, total int64) {
	var mu sync.Mutex
	var last int64
	return func(done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		if m.bar == nil {
			m.bar = m.progressBar(total, progress.Records, "audit")
		}
		if done > last {
			m.bar.Add(done - last)
			last = done
		}
	}
}

// finishProgress completes a bar that audit drew, if any.
func (m *Main) finishProgress() {
	if m.bar != nil {
		m.bar.Finish()
		m.bar = nil
	}
}
