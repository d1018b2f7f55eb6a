package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/opetushallitus/mpass-audit/internal/facts"
	"github.com/opetushallitus/mpass-audit/internal/ingest"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/progress"
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
			x, vocab, err := m.registryVocabulary(ctx)
			if err != nil {
				return err
			}
			reg, warnings, err := registry.Parse(args[0], data, x, vocab)
			if err != nil {
				return err
			}
			for _, w := range warnings {
				fmt.Fprintln(m.Stderr, "warning: "+mpass.Printable(w))
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
	cmd.AddCommand(m.registryImportCommand(), m.registryShowCommand())
	return cmd
}

// registryImportCommand builds a registry version from MPASSid's own systems
// (RECORDS.md "The registry from MPASSid's own systems"): the management service's
// exports, the organisation service's hierarchy and a local YAML overlay.
func (m *Main) registryImportCommand() *cobra.Command {
	var files struct{ services, identityProviders, sets, organisations, overlay string }
	cmd := &cobra.Command{
		Use:   "import --services F --identity-providers F [--sets F] [--organisations F] [--overlay F.yaml]",
		Short: "Build a registry version from the MPASSid management service's exports and the organisation service",
		Long: `Builds one registry version: controllers from the identity providers (names and
schools from the organisation service's hierarchy), SPs from the services (approved for
the data model's attributes), and the services each controller allows with the time of
each change, kept across imports. The YAML overlay adds what no OPH system holds:
commercial, an SP's narrower attributes and purposes, agreements, consents, exceptions
and name maps. Prints what it imported; warnings go to stderr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			// open every file first: an unreadable one is a usage error before anything is read
			var src registry.Sources
			for _, f := range []struct {
				path string
				in   *registry.Input
			}{
				{files.services, &src.Services}, {files.identityProviders, &src.IdentityProviders},
				{files.sets, &src.Sets}, {files.organisations, &src.Organisations}, {files.overlay, &src.Overlay},
			} {
				if f.path == "" {
					continue
				}
				file, err := os.Open(f.path)
				if err != nil {
					return err
				}
				defer file.Close()
				*f.in = registry.Input{Name: f.path, R: bufio.NewReaderSize(file, 64<<10)}
			}
			x, vocab, err := m.registryVocabulary(ctx)
			if err != nil {
				return err
			}
			dataModel, err := m.engine.DataModel(ctx)
			if err != nil {
				return err
			}
			// a new database is made only for a sound import: a failed one leaves no file
			var db *sqlite.DB
			var prev *mpass.Registry
			now := time.Now().UTC()
			if _, err := os.Stat(m.DBPath); err == nil {
				if db, err = m.openDB(ctx); err != nil {
					return err
				}
				if prev, err = lastImport(ctx, db); err != nil {
					return fmt.Errorf("the registry in use: %w", err)
				}
				now = db.Now().UTC()
			}
			im := &registry.Importer{Extractor: x, Vocabulary: vocab, DataModel: dataModel}
			reg, warnings, err := im.Import(ctx, src, prev, now)
			for _, w := range warnings {
				fmt.Fprintln(m.Stderr, "warning: "+mpass.Printable(w))
			}
			if err != nil {
				return err
			}
			if db == nil {
				if db, err = m.openDB(ctx); err != nil {
					return err
				}
			}
			if err := db.CreateRegistry(ctx, reg); err != nil {
				return fmt.Errorf("store the registry: %w", err)
			}
			printImport(m.Stdout, reg)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&files.services, "services", "", `FILE: the management service's services export {"services":[…]}`)
	f.StringVar(&files.identityProviders, "identity-providers", "", `FILE: its identity-provider export {"identityProviders":[…]}, with permissions`)
	f.StringVar(&files.sets, "sets", "", `FILE: its service sets {"integrationGroups":[…]}`)
	f.StringVar(&files.organisations, "organisations", "", `FILE: the organisation service's hierarchy {"organisaatiot":[…]} (api/hierarkia/hae)`)
	f.StringVar(&files.overlay, "overlay", "", "FILE.yaml: a registry YAML of what no OPH system holds (commercial, DPAs, agreements, consents, exceptions, names)")
	cmd.MarkFlagRequired("services")
	cmd.MarkFlagRequired("identity-providers")
	return cmd
}

// printImport says what an import stored: one line of counts, then the controllers
// the service-not-allowed rule cannot judge, one a line.
func printImport(w io.Writer, reg *mpass.Registry) {
	schools, open := 0, 0
	var blind []mpass.Controller
	for _, c := range reg.Controllers {
		schools += len(c.Schools)
		if !c.PermissionData {
			blind = append(blind, c)
		}
	}
	for _, p := range reg.Permissions {
		if p.To == nil {
			open++
		}
	}
	fmt.Fprintf(w, "registry version %d: %d controllers, %d schools, %d service providers, %d sets, %d identity providers, %d permissions (%d open, %d closed), %d agreements, %d consents, %d exceptions\n",
		reg.Version, len(reg.Controllers), schools, len(reg.ServiceProviders), len(registrySets(reg)), len(reg.IdentityProviders),
		len(reg.Permissions), open, len(reg.Permissions)-open, len(reg.Agreements), len(reg.Consents), len(reg.Exceptions))
	fmt.Fprintf(w, "controllers without permission data: %d", len(blind))
	if len(blind) > 0 {
		fmt.Fprint(w, " (service-not-allowed cannot be checked for them)")
	}
	fmt.Fprintln(w)
	for _, c := range blind {
		fmt.Fprintf(w, "  %s  %s\n", mpass.Printable(c.OID), mpass.Printable(c.Name))
	}
}

// registrySets are the ids of the service sets a registry knows: those its SPs belong
// to and those its permissions were given through, sorted.
func registrySets(reg *mpass.Registry) []string {
	var sets []string
	for _, sp := range reg.ServiceProviders {
		sets = append(sets, sp.Sets...)
	}
	for _, p := range reg.Permissions {
		if p.Set != "" {
			sets = append(sets, p.Set)
		}
	}
	slices.Sort(sets)
	return slices.Compact(sets)
}

// registryShowCommand prints the registry version in use.
func (m *Main) registryShowCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:         "show [--format table|json]",
		Annotations: readOnlyCommand(),
		Short:       "Print the registry version in use: controllers, schools, SPs, allowed services, agreements, consents, exceptions, sources",
		Example: `  mpass-audit registry show
  mpass-audit registry show --format json | jq '.service_providers[].id'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return mpass.Errorf(mpass.EINVALID, "--format %q: want table or json", format)
			}
			db, err := m.openDB(cmd.Context())
			if err != nil {
				return err
			}
			reg, err := db.LatestRegistry(cmd.Context())
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(m.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(reg)
			}
			return writeRegistryTable(m.Stdout, reg)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	return cmd
}

func (m *Main) ingestCommand() *cobra.Command {
	var opts ingest.Options
	var scopes, flows []string
	var namesFile string
	cmd := &cobra.Command{
		Use:   "ingest [FILE...]",
		Short: "Store release and use records (- or no file: stdin)",
		Long: `Reads JSON Lines, CSV or the Shibboleth IdP audit log, validates every record,
reduces values to facts, and stores the good records. Bad records are rejected with
file:line: field: reason; the exit status is 1 when any was rejected. A gzip file
(a rotated log) is read as it is.

A Shibboleth line's controller is --controller; else its --flow-field value mapped by
--flow; else its principal's scope (user@SCOPE) mapped by --scope; else a scope that
is itself an organisation OID.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if len(args) == 0 {
				args = []string{"-"}
			}
			if err := shibbolethFlags(&opts, flows, scopes); err != nil {
				return err
			}
			// the bar counts the bytes of the files as read (stdin's size is unknown)
			size := int64(0)
			for _, name := range args {
				st, err := os.Stat(name)
				if name == "-" || err != nil || !st.Mode().IsRegular() {
					size = -1
					break
				}
				size += st.Size()
			}
			bar := m.progressBar(size, progress.Bytes, "ingest")
			defer bar.Finish()
			// open every file first: an unreadable one is a usage error before anything is stored
			readers := make([]io.Reader, len(args))
			for i, name := range args {
				r, closer, err := openInput(name, m.Stdin, bar)
				if err != nil {
					return err
				}
				defer closer.Close()
				readers[i] = r
			}
			x, err := m.openExtractor(ctx)
			if err != nil {
				return err
			}
			var names map[string]string
			if namesFile != "" {
				data, err := os.ReadFile(namesFile)
				if err != nil {
					return err
				}
				if names, err = registry.ParseNames(namesFile, data, x.Catalog()); err != nil {
					return err
				}
			}
			db, err := m.openDB(ctx)
			if err != nil {
				return err
			}
			if x, err = ingest.WithNames(ctx, db, x, names); err != nil {
				if namesFile != "" {
					return fmt.Errorf("--names %s: %w", namesFile, err)
				}
				return err
			}
			if opts.FlowField != "" && len(flows) == 0 {
				if err := m.registryFlows(ctx, db, &opts); err != nil {
					return err
				}
			}
			opts.Progress = func(c sqlite.IngestCounts) {
				m.Logger.Info("ingest batches committed", "stored", c.Stored, "duplicate", c.Duplicate, "rejected", c.Rejected)
			}
			in := &ingest.Ingester{Store: db, Extractor: x, Options: opts}
			var total ingest.Result
			for i, name := range args {
				// a regular file's batches share transactions; stdin (a pipe) may wait
				// while the write lock is held
				in.Options.BatchesPerCommit = 1
				if st, err := os.Stat(name); name != "-" && err == nil && st.Mode().IsRegular() {
					in.Options.BatchesPerCommit = ingest.FileBatchesPerCommit(in.Options.BatchSize)
				}
				res, err := in.Ingest(ctx, name, readers[i])
				for _, r := range res.Rejections { // the first ingest.DefaultMaxRejections
					fmt.Fprintln(m.Stderr, r.Error())
				}
				if res.Unlisted > 0 {
					fmt.Fprintf(m.Stderr, "%s: %s\n", name, ingest.UnlistedReason(res.Unlisted, ingest.DefaultMaxRejections))
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
	f.StringVar(&opts.LogFormat, "log-format", ingest.LogFormatIdP4, "Shibboleth IdP audit log format: idp4 (also IdP 5), idp3, or a format string")
	f.StringVar(&opts.Controller, "controller", "", "OID: the controller of every Shibboleth log line")
	f.StringVar(&opts.FlowField, "flow-field", "", "CODE: the Shibboleth log field holding the authentication flow (e.g. %flow), mapped by --flow")
	f.StringArrayVar(&flows, "flow", nil, "NAME=OID: controller of Shibboleth lines whose --flow-field is NAME (repeatable)")
	f.StringArrayVar(&scopes, "scope", nil, "SCOPE=OID: controller of Shibboleth principals user@SCOPE, any letter case (repeatable)")
	f.StringVar(&opts.SubjectField, "subject-field", "", "CODE: the Shibboleth log field holding the subject (default %u)")
	f.StringVar(&namesFile, "names", "", "FILE.yaml: another deployment's attribute names, name: canonical-URN (beside the registry's names:)")
	f.IntVar(&opts.BatchSize, "batch", ingest.DefaultBatchSize, "lines per batch (a regular file's batches are committed by threes, up to 60,000 lines)")
	return cmd
}

// registryVocabulary is what reading a registry needs of the policies: the extractor
// (names and pseudonyms) and the purposes and rules an entry may name.
func (m *Main) registryVocabulary(ctx context.Context) (*facts.Extractor, registry.Vocabulary, error) {
	x, err := m.openExtractor(ctx) // opens the engine too
	if err != nil {
		return nil, registry.Vocabulary{}, err
	}
	purposes, rules, err := m.engine.Vocabulary(ctx)
	return x, registry.Vocabulary{Purposes: purposes, Rules: rules}, err
}

// lastImport is the newest registry version that `registry import` made, or nil: the
// history of permissions goes on from it, even where a `registry load` came between.
func lastImport(ctx context.Context, db *sqlite.DB) (*mpass.Registry, error) {
	reg, err := db.LatestRegistry(ctx)
	for ; err == nil; reg, err = db.FindRegistry(ctx, reg.Version-1) {
		if slices.ContainsFunc(reg.Sources, func(s mpass.Source) bool { return s.Kind == registry.SourceKindServices }) {
			return reg, nil
		}
		if reg.Version <= 1 {
			return nil, nil
		}
	}
	if mpass.ErrorCode(err) == mpass.ENOTFOUND {
		return nil, nil
	}
	return nil, err
}

// registryFlows maps a Shibboleth log's flows to controllers with the identity
// providers of the registry in use (`registry import`), where no --flow is given.
func (m *Main) registryFlows(ctx context.Context, db *sqlite.DB, opts *ingest.Options) error {
	reg, err := db.LatestRegistry(ctx)
	if err != nil && mpass.ErrorCode(err) != mpass.ENOTFOUND {
		return err
	}
	if reg != nil {
		var ambiguous []string
		opts.Flows, ambiguous = ingest.RegistryFlows(reg)
		for _, name := range ambiguous {
			fmt.Fprintf(m.Stderr, "warning: flow %s belongs to identity providers of two controllers in the registry: not mapped\n", mpass.Printable(name))
		}
	}
	if len(opts.Flows) == 0 {
		return mpass.Errorf(mpass.EINVALID, "--flow-field %s: give --flow NAME=OID for its values, or import the identity providers (registry import)", opts.FlowField)
	}
	return nil
}

// shibbolethFlags puts --flow and --scope into opts and checks every Shibboleth flag,
// so that a bad OID or field is a usage error before anything is read or stored.
func shibbolethFlags(opts *ingest.Options, flows, scopes []string) error {
	if opts.Controller != "" {
		if err := mpass.CheckControllerOID(opts.Controller); err != nil {
			return mpass.Errorf(mpass.EINVALID, "--controller %v", err)
		}
	}
	opts.Flows = map[string]string{}
	for _, s := range flows {
		name, oid, ok := strings.Cut(s, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return mpass.Errorf(mpass.EINVALID, "--flow %q: want NAME=OID", s)
		}
		if err := mpass.CheckControllerOID(oid); err != nil {
			return mpass.Errorf(mpass.EINVALID, "--flow %s: %v", name, err)
		}
		if prev, ok := opts.Flows[name]; ok && prev != oid {
			return mpass.Errorf(mpass.EINVALID, "--flow %s: mapped to both %s and %s", name, prev, oid)
		}
		opts.Flows[name] = oid
	}
	// --flow-field without --flow: the registry's identity providers map the flows
	// (registryFlows, once the database is open)
	opts.Scopes = map[string]string{}
	for _, s := range scopes {
		scope, oid, ok := strings.Cut(s, "=")
		if !ok || strings.TrimSpace(scope) == "" {
			return mpass.Errorf(mpass.EINVALID, "--scope %q: want SCOPE=OID", s)
		}
		if err := mpass.CheckControllerOID(oid); err != nil {
			return mpass.Errorf(mpass.EINVALID, "--scope %s: %v", scope, err)
		}
		opts.Scopes[scope] = oid
	}
	switch opts.Format {
	case ingest.FormatShibboleth, ingest.FormatAuto, "":
		return ingest.CheckShibbolethOptions(*opts)
	}
	return nil
}

// gzipMagic starts every gzip file (RFC 1952).
var gzipMagic = []byte{0x1f, 0x8b}

// openInput opens a file to ingest ("-" is stdin), decompressing a gzip file (a
// rotated log) by its magic bytes, whatever its name. Only here: the service never
// decompresses a request body, whose few bytes could stand for gigabytes.
func openInput(name string, stdin io.Reader, bar *progress.Bar) (io.Reader, io.Closer, error) {
	var r io.Reader = stdin
	var closer io.Closer = io.NopCloser(nil)
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, nil, err
		}
		r, closer = f, f
	}
	r = bar.Reader(r) // the bytes as stored (a gzip file's compressed ones)
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(len(gzipMagic)); !bytes.Equal(magic, gzipMagic) {
		return br, closer, nil
	}
	z, err := gzip.NewReader(br) // concatenated members too, as gzip -d reads them
	if err != nil {
		closer.Close()
		return nil, nil, mpass.Errorf(mpass.EINVALID, "%s: a gzip file that cannot be read: %v", name, err)
	}
	return z, closer, nil
}

func (m *Main) pseudonymCommand() *cobra.Command {
	return &cobra.Command{
		Use:         "pseudonym ID",
		Annotations: readOnlyCommand(),
		Short:       "Print the pseudonym of a raw user id, to find a pupil's findings",
		Long: `Prints the pseudonym of a raw user id with the database's key (MPASS_AUDIT_KEY, else
the key file beside the database), so a controller can find a pupil's findings. It
only reads: a --db that does not exist, or a database whose key file is missing, is
refused (exit 2); it never makes a key, whose pseudonyms would match nothing stored.`,
		Example: `  mpass-audit pseudonym MPASSOID.391ea8eb34f1e27024ab1342603537bdbd494900
  mpass-audit --db /srv/mpass-audit/audit.db pseudonym MPASSOID.391ea8eb34f1e27024ab1342603537bdbd494900`,
		Args: cobra.ExactArgs(1),
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
