package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/opetushallitus/mpass-audit/internal/atomicfile"
	"github.com/opetushallitus/mpass-audit/internal/gen"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

func (m *Main) genCommand() *cobra.Command {
	var cfg gen.Config
	var out, reg string
	cmd := &cobra.Command{
		Use:   "gen --records N [--seed S]",
		Short: "Write N synthetic records (JSON Lines) and a matching registry, for demos and benchmarks",
		RunE: func(cmd *cobra.Command, args []string) error {
			if cfg.Records <= 0 {
				return mpass.Errorf(mpass.EINVALID, "--records must be positive")
			}
			if cfg.Controllers <= 0 || cfg.SPs <= 0 || cfg.Subjects < 0 {
				return mpass.Errorf(mpass.EINVALID, "--controllers and --sps must be positive, --subjects at least 0 (0: the workload's default)")
			}
			if cfg.Workload != gen.WorkloadNational && cfg.Workload != gen.WorkloadDiverse {
				return mpass.Errorf(mpass.EINVALID, "--workload: want %s or %s, not %q", gen.WorkloadNational, gen.WorkloadDiverse, mpass.Printable(cfg.Workload))
			}
			if reg == "" {
				reg = "registry.yaml"
				if out != "" && out != "-" {
					reg = filepath.Join(filepath.Dir(out), "registry.yaml")
				}
			}
			mode, err := m.fileMode()
			if err != nil {
				return err
			}
			g := gen.New(cfg)
			// each file is whole or left as it was: a benchmark never reads half a workload
			where := "stdout"
			if out == "" || out == "-" {
				if err := g.WriteRecords(m.Stdout); err != nil {
					return fmt.Errorf("gen: write the records: %w", err)
				}
			} else if err := atomicfile.WriteFile(out, mode, g.WriteRecords); err != nil {
				return err
			} else {
				where = out
			}
			if err := atomicfile.WriteFile(reg, mode, g.WriteRegistry); err != nil {
				return err
			}
			// what was written goes to stderr: stdout may be the records themselves
			n := g.Summary()
			fmt.Fprintf(m.Stderr, "gen: wrote %d records (%d releases, %d uses) to %s\n",
				cfg.Records, n.Releases, n.Uses, mpass.Printable(where))
			fmt.Fprintf(m.Stderr, "gen: wrote the registry to %s: %d controllers, %d service providers, %d agreements, %d consents, %d exceptions\n",
				mpass.Printable(reg), n.Controllers, n.SPs, n.Agreements, n.Consents, n.Exceptions)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Records, "records", 0, "how many records")
	f.Uint64Var(&cfg.Seed, "seed", 1, "random seed: the same seed writes the same bytes")
	f.IntVar(&cfg.Controllers, "controllers", 300, "how many controllers")
	f.IntVar(&cfg.SPs, "sps", 200, "how many service providers")
	f.StringVar(&cfg.Workload, "workload", gen.WorkloadNational, "national (a subject per five records, small rates of every violation) or diverse (2–15 schools per controller, 2–7 data-model 1.4 attributes per SP, a third OIDC clients, 50,000 subjects, letters as \\u escapes; docs/performance.md states both)")
	f.IntVar(&cfg.Subjects, "subjects", 0, "how many users log in (default: a fifth of --records for national, 50,000 for diverse)")
	f.StringVarP(&out, "output", "o", "", "records file (default stdout)")
	f.StringVar(&reg, "registry", "", "registry file (default registry.yaml beside the records)")
	return cmd
}
