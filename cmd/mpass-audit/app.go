package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/opetushallitus/mpass-audit/internal/audit"
	"github.com/opetushallitus/mpass-audit/internal/facts"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/policy"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
)

// Exit statuses of INTERFACE.md.
const (
	exitOK       = 0
	exitFindings = 1 // --fail-on met, or ingest rejected records
	exitUsage    = 2 // bad usage, unreadable file, or any other error
)

// Main wires the program: configuration in, services out. Nothing here is global, so
// tests run many Mains side by side.
type Main struct {
	DBPath     string
	PolicyPath string
	// RunTimeout bounds one audit run or `policy test` (0: the policy package's default).
	RunTimeout time.Duration
	Stdin      io.Reader
	Stdout     io.Writer
	Stderr     io.Writer
	Getenv     func(string) string
	Logger     *slog.Logger

	// CPUProfile names a file for a CPU profile of the command (for tuning).
	CPUProfile  string
	stopProfile func()

	db        *sqlite.DB
	engine    *policy.Engine
	extractor *facts.Extractor
	// exit is set by a command that succeeded but must exit non-zero (findings).
	exit int
}

// NewMain returns a Main on the process's standard streams and environment.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

// Close closes what the commands opened.
func (m *Main) Close() error {
	if m.stopProfile != nil {
		m.stopProfile()
	}
	if m.db != nil {
		return m.db.Close()
	}
	return nil
}

// Run runs one command line and returns the exit status.
func (m *Main) Run(ctx context.Context, args []string) int {
	if m.Logger == nil {
		level := slog.LevelWarn
		if m.Getenv("MPASS_AUDIT_LOG") == "info" {
			level = slog.LevelInfo
		}
		m.Logger = slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: level}))
	}
	root := m.rootCommand()
	root.SetArgs(args)
	root.SetIn(m.Stdin)
	root.SetOut(m.Stdout)
	root.SetErr(m.Stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(m.Stderr, "mpass-audit: "+oneLine(err))
		return exitUsage
	}
	return m.exit
}

func oneLine(err error) string {
	msg := err.Error()
	var e *mpass.Error
	if errors.As(err, &e) {
		msg = e.Message
	}
	return strings.ReplaceAll(strings.TrimSpace(msg), "\n", "; ")
}

func (m *Main) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "mpass-audit",
		Short:         "Audit how pupils' data flows through MPASSid against its terms",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	dbDefault := "mpass-audit.db"
	if v := m.Getenv("MPASS_AUDIT_DB"); v != "" {
		dbDefault = v
	}
	root.PersistentFlags().StringVar(&m.DBPath, "db", dbDefault, "SQLite database (env MPASS_AUDIT_DB)")
	root.PersistentFlags().StringVar(&m.PolicyPath, "policy", "", "policy directory or OPA bundle (.tar.gz) instead of the built-in policies")
	runTimeout, envErr := policy.DefaultRunTimeout, error(nil)
	if v := m.Getenv("MPASS_AUDIT_RUN_TIMEOUT"); v != "" {
		if runTimeout, envErr = time.ParseDuration(v); envErr == nil && runTimeout <= 0 {
			envErr = errors.New("not positive")
		}
		if envErr != nil {
			envErr = mpass.Errorf(mpass.EINVALID, "MPASS_AUDIT_RUN_TIMEOUT=%q: a duration such as 90m is needed (%v)", v, envErr)
		}
	}
	root.PersistentFlags().DurationVar(&m.RunTimeout, "run-timeout", runTimeout, "longest an audit run or policy test may take; each evaluation has 2s (env MPASS_AUDIT_RUN_TIMEOUT)")
	root.PersistentFlags().StringVar(&m.CPUProfile, "cpuprofile", "", "write a CPU profile of the command to this file")
	root.PersistentFlags().MarkHidden("cpuprofile")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if envErr != nil && !cmd.Flags().Changed("run-timeout") {
			return envErr
		}
		if m.RunTimeout <= 0 {
			return mpass.Errorf(mpass.EINVALID, "--run-timeout %s: must be positive", m.RunTimeout)
		}
		if m.CPUProfile == "" {
			return nil
		}
		f, err := os.Create(m.CPUProfile)
		if err != nil {
			return err
		}
		m.stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
		return pprof.StartCPUProfile(f)
	}
	root.AddCommand(
		m.registryCommand(),
		m.ingestCommand(),
		m.auditCommand(),
		m.reportCommand(),
		m.serveCommand(),
		m.tokenCommand(),
		m.purgeCommand(),
		m.backupCommand(),
		m.policyCommand(),
		m.pseudonymCommand(),
		m.genCommand(),
	)
	return root
}

// openDB opens the database once.
func (m *Main) openDB(ctx context.Context) (*sqlite.DB, error) {
	if m.db != nil {
		return m.db, nil
	}
	db := sqlite.NewDB(m.DBPath)
	if err := db.Open(ctx); err != nil {
		return nil, err
	}
	m.db = db
	return db, nil
}

// openEngine loads the policies once.
func (m *Main) openEngine(ctx context.Context) (*policy.Engine, error) {
	if m.engine != nil {
		return m.engine, nil
	}
	e, err := policy.Load(ctx, m.PolicyPath, policy.WithLimits(policy.Limits{RunTimeout: m.RunTimeout}))
	if err != nil {
		return nil, err
	}
	m.engine = e
	return e, nil
}

// openExtractor builds the pseudonym and fact extractor from the key and the policies'
// attribute catalog.
func (m *Main) openExtractor(ctx context.Context) (*facts.Extractor, error) {
	if m.extractor != nil {
		return m.extractor, nil
	}
	key, err := m.key()
	if err != nil {
		return nil, err
	}
	e, err := m.openEngine(ctx)
	if err != nil {
		return nil, err
	}
	attrs, err := e.Attributes(ctx)
	if err != nil {
		return nil, err
	}
	cat, err := facts.NewCatalog(attrs)
	if err != nil {
		return nil, mpass.Errorf(mpass.EINVALID, "policies: %v", err)
	}
	m.extractor = facts.NewExtractor(key, cat)
	return m.extractor, nil
}

// key is the pseudonymisation key: MPASS_AUDIT_KEY, else a key file beside the
// database, made (0600) on first use. Losing it breaks the link between old and new
// pseudonyms, so it is never made anew over an unreadable one.
func (m *Main) key() ([]byte, error) {
	if v := m.Getenv("MPASS_AUDIT_KEY"); v != "" {
		if len(v) < 16 {
			return nil, mpass.Errorf(mpass.EINVALID, "MPASS_AUDIT_KEY is too short: use at least 16 characters (32 random bytes, hex)")
		}
		return []byte(v), nil
	}
	path := m.DBPath + ".key"
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			return nil, err
		}
		b = []byte(hex.EncodeToString(raw) + "\n")
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return m.key() // another process made it first
		} else if err != nil {
			return nil, fmt.Errorf("create key file %s: %w", path, err)
		}
		if _, err := f.Write(b); err != nil {
			f.Close()
			return nil, fmt.Errorf("write key file %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("key file %s is unreadable (%v); set MPASS_AUDIT_KEY or fix its permissions", path, err)
	}
	k := strings.TrimSpace(string(b))
	if len(k) < 16 {
		return nil, fmt.Errorf("key file %s is empty or too short", path)
	}
	return []byte(k), nil
}

func (m *Main) auditor(ctx context.Context) (*audit.Auditor, error) {
	db, err := m.openDB(ctx)
	if err != nil {
		return nil, err
	}
	e, err := m.openEngine(ctx)
	if err != nil {
		return nil, err
	}
	return &audit.Auditor{DB: db, Engine: e, Logger: m.Logger}, nil
}
