package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/opetushallitus/mpass-audit/internal/ingest"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/registry"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
)

func (m *Main) registryCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "registry", Short: "Manage the registry of controllers, SPs, agreements, consents and exceptions"}
	cmd.AddCommand(&cobra.Command{
		Use:   "load FILE.yaml",
		Short: "Load a registry file as a new registry version",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			x, err := m.openExtractor(ctx)
			if err != nil {
				return err
			}
			purposes, rules, err := m.engine.Vocabulary(ctx)
			if err != nil {
				return err
			}
			reg, err := registry.Parse(args[0], data, x, registry.Vocabulary{Purposes: purposes, Rules: rules})
			if err != nil {
				return err
			}
			db, err := m.openDB(ctx)
			if err != nil {
				return err
			}
			if err := db.CreateRegistry(ctx, reg); err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "registry version %d: %d controllers, %d service providers, %d agreements, %d consents, %d exceptions\n",
				reg.Version, len(reg.Controllers), len(reg.ServiceProviders), len(reg.Agreements), len(reg.Consents), len(reg.Exceptions))
			return nil
		},
	})
	return cmd
}

func (m *Main) ingestCommand() *cobra.Command {
	var opts ingest.Options
	var scopes []string
	cmd := &cobra.Command{
		Use:   "ingest [FILE...]",
		Short: "Store release and use records (- or no file: stdin)",
		Long: `Reads JSON Lines, CSV or the Shibboleth IdP audit log, validates every record,
reduces values to facts, and stores the good records. Bad records are rejected with
file:line: field: reason; the exit status is 1 when any was rejected.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if len(args) == 0 {
				args = []string{"-"}
			}
			opts.Scopes = map[string]string{}
			for _, s := range scopes {
				scope, oid, ok := strings.Cut(s, "=")
				if !ok || !mpass.ValidControllerOID(oid) {
					return mpass.Errorf(mpass.EINVALID, "--scope %q: want SCOPE=OID", s)
				}
				opts.Scopes[scope] = oid
			}
			// open every file first: an unreadable one is a usage error before anything is stored
			readers := make([]io.Reader, len(args))
			for i, name := range args {
				if name == "-" {
					readers[i] = m.Stdin
					continue
				}
				f, err := os.Open(name)
				if err != nil {
					return err
				}
				defer f.Close()
				readers[i] = f
			}
			x, err := m.openExtractor(ctx)
			if err != nil {
				return err
			}
			db, err := m.openDB(ctx)
			if err != nil {
				return err
			}
			opts.Progress = func(c sqlite.IngestCounts) {
				m.Logger.Info("ingest batch stored", "stored", c.Stored, "duplicate", c.Duplicate, "rejected", c.Rejected)
			}
			in := &ingest.Ingester{Store: db, Extractor: x, Options: opts}
			var total ingest.Result
			for i, name := range args {
				res, err := in.Ingest(ctx, name, readers[i])
				for _, r := range res.Rejections {
					fmt.Fprintln(m.Stderr, r.Error())
				}
				total.Add(res.IngestCounts)
				total.Skipped += res.Skipped
				if err != nil {
					return err
				}
			}
			fmt.Fprintf(m.Stdout, "stored %d, duplicate %d, rejected %d", total.Stored, total.Duplicate, total.Rejected)
			if total.Skipped > 0 {
				fmt.Fprintf(m.Stdout, ", skipped %d (not releases)", total.Skipped)
			}
			fmt.Fprintln(m.Stdout)
			if total.Rejected > 0 {
				m.exit = exitFindings
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Format, "format", ingest.FormatAuto, "auto, jsonl, csv or shibboleth")
	f.StringVar(&opts.LogFormat, "log-format", ingest.DefaultShibbolethFormat, "Shibboleth IdP audit log format")
	f.StringVar(&opts.Controller, "controller", "", "controller OID of Shibboleth log lines")
	f.StringArrayVar(&scopes, "scope", nil, "SCOPE=OID: controller of Shibboleth principals user@SCOPE (repeatable)")
	f.IntVar(&opts.BatchSize, "batch", ingest.DefaultBatchSize, "lines per transaction")
	return cmd
}

func (m *Main) pseudonymCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "pseudonym ID",
		Short: "Print the pseudonym of a raw user id, to find a pupil's findings",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			x, err := m.openExtractor(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintln(m.Stdout, x.Pseudonym(args[0]))
			return nil
		},
	}
}
