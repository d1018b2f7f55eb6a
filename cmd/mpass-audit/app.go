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

	"github.com/opetushallitus/mpass-audit/internal/atomicfile"
	"github.com/opetushallitus/mpass-audit/internal/audit"
	"github.com/opetushallitus/mpass-audit/internal/facts"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/policy"
	"github.com/opetushallitus/mpass-audit/internal/progress"
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

	// Quiet keeps progress bars off stderr even on a terminal (--quiet).
	Quiet bool
	bar   *progress.Bar // the audit's progress bar while it is drawn

	// CPUProfile names a file for a CPU profile of the command (for tuning).
	CPUProfile  string
	stopProfile func()

	db        *sqlite.DB
	engine    *policy.Engine
	extractor *facts.Extractor
	// key is the pseudonymisation key once read (and checked against the database
	// where there is one), keySource where it came from, for error messages.
	key       []byte
	keySource string
	// exit is set by a command that succeeded but must exit non-zero (findings).
	exit int
	// readOnly is set for a command that only reads (annotated readOnly): it refuses a
	// database that does not exist and never makes a key.
	readOnly bool
}

// annReadOnly marks a command (or a parent of it) that only reads the database
// (INTERFACE.md): it refuses a --db that does not exist instead of creating an empty
// one, and never creates a key file.
const annReadOnly = "mpass-audit/read-only"

// readOnlyCommand is the annotation of a command that only reads.
func readOnlyCommand() map[string]string { return map[string]string{annReadOnly: "true"} }

// requireDB refuses a database file that does not exist.
func (m *Main) requireDB() error {
	if _, err := os.Stat(m.DBPath); errors.Is(err, fs.ErrNotExist) {
		return mpass.Errorf(mpass.EINVALID, "no database at %s", m.DBPath)
	} else if err != nil {
		return fmt.Errorf("database %s: %w", m.DBPath, err)
	}
	return nil
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
		for _, line := range errorLines(err) {
			fmt.Fprintln(m.Stderr, "mpass-audit: "+line)
		}
		return exitUsage
	}
	return m.exit
}

// errorLines are the lines an error is printed as: one, but a list of problems (a
// registry file's errors, each at its file and line) one problem a line.
func errorLines(err error) []string {
	var e *mpass.Error
	if !errors.As(err, &e) || !e.PerLine {
		return []string{oneLine(err)}
	}
	var lines []string
	for line := range strings.SplitSeq(strings.TrimSpace(e.Message), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, mpass.Printable(line))
		}
	}
	return lines
}

// oneLine is an error as one line for stderr: the lines of a multi-line message joined
// with "; ", then every control character left (an error may quote a file name or
// other input) escaped, so no input reaches the terminal raw.
func oneLine(err error) string {
	msg := err.Error()
	var e *mpass.Error
	if errors.As(err, &e) {
		msg = e.Message
	}
	return mpass.Printable(strings.ReplaceAll(strings.TrimSpace(msg), "\n", "; "))
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
	root.PersistentFlags().BoolVarP(&m.Quiet, "quiet", "q", false, "no progress bars (they are shown only when stderr is a terminal)")
	root.PersistentFlags().StringVar(&m.CPUProfile, "cpuprofile", "", "write a CPU profile of the command to this file")
	root.PersistentFlags().MarkHidden("cpuprofile")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if envErr != nil && !cmd.Flags().Changed("run-timeout") {
			return envErr
		}
		if m.RunTimeout <= 0 {
			return mpass.Errorf(mpass.EINVALID, "--run-timeout %s: must be positive", m.RunTimeout)
		}
		for c := cmd; c != nil; c = c.Parent() {
			if c.Annotations[annReadOnly] != "" {
				m.readOnly = true // checked where the database is opened, after the flags
			}
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
		m.keyCommand(),
		m.statsCommand(),
		m.genCommand(),
		m.runsCommand(),
		m.rejectionsCommand(),
	)
	return root
}

// progressBar is a progress bar on stderr, or nil (quiet) where stderr is not a
// terminal or --quiet says so.
func (m *Main) progressBar(total int64, unit progress.Unit, description string) *progress.Bar {
	if !progress.OnTerminal(m.Stderr, m.Quiet) {
		return nil
	}
	return progress.New(m.Stderr, total, unit, description)
}

// openDB opens the database once.
func (m *Main) openDB(ctx context.Context) (*sqlite.DB, error) {
	if m.db != nil {
		return m.db, nil
	}
	mode, err := m.fileMode()
	if err != nil {
		return nil, err
	}
	if m.readOnly {
		if err := m.requireDB(); err != nil {
			return nil, err
		}
	}
	db := sqlite.NewDB(m.DBPath)
	db.Mode = mode
	if err := db.Open(ctx); err != nil {
		return nil, err
	}
	if m.key != nil {
		if err := m.bindKey(ctx, db); err != nil {
			db.Close()
			return nil, err
		}
	}
	m.db = db
	return db, nil
}

// fileMode is the mode of the files the product writes: 0600, or 0640 by
// MPASS_AUDIT_FILE_MODE. The key file is 0600 whatever it says.
func (m *Main) fileMode() (fs.FileMode, error) {
	mode, err := atomicfile.ParseMode(m.Getenv("MPASS_AUDIT_FILE_MODE"))
	if err != nil {
		return 0, mpass.Errorf(mpass.EINVALID, "%v", err)
	}
	return mode, nil
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
	key, err := m.keyFor(ctx)
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

// keyFor returns the pseudonymisation key: MPASS_AUDIT_KEY, else the key file beside
// the database. The key is what links a pupil's old findings to new ones, so it is
// never made anew over one that is lost: a key file is created only where the
// database does not exist yet or holds nothing keyed, and a key whose check value is
// not the one stored in the database (another key, or a new one where the key file
// was not copied with a backup) is refused. Only `key rotate --confirm` replaces it
// (keyCommand); pseudonyms are one-way, so stored ones are not re-keyed.
func (m *Main) keyFor(ctx context.Context) ([]byte, error) {
	if m.key != nil {
		return m.key, nil
	}
	if m.readOnly {
		if err := m.requireDB(); err != nil {
			return nil, err
		}
	}
	key, source, err := m.readKey()
	if err != nil {
		return nil, err
	}
	exists := false
	if st, err := os.Stat(m.DBPath); err == nil && st.Size() > 0 {
		exists = true
	}
	if key == nil { // no key file
		if m.readOnly {
			return nil, mpass.Errorf(mpass.EINVALID, "no key: the key file %s of database %s is missing; this command only reads, so it makes no key: restore the key file kept with the database or set MPASS_AUDIT_KEY", source, m.DBPath)
		}
		if exists {
			db, err := m.openDB(ctx)
			if err != nil {
				return nil, err
			}
			st, err := db.KeyState(ctx)
			if err != nil {
				return nil, err
			}
			if st.Check != "" || !st.Empty {
				return nil, mpass.Errorf(mpass.EINVALID, "the key file %s of database %s is missing: restore the key file kept with the database (mode 0600) or set MPASS_AUDIT_KEY to its key; no new key is made, since it would cut every pupil's stored pseudonyms off from new ones", source, m.DBPath)
			}
		}
		if key, err = createKeyFile(source); errors.Is(err, fs.ErrExist) {
			return m.keyFor(ctx) // another process made it first
		} else if err != nil {
			return nil, err
		}
	}
	m.key, m.keySource = key, source
	if m.db != nil {
		err = m.bindKey(ctx, m.db)
	} else if exists {
		_, err = m.openDB(ctx) // binds the key
	}
	if err != nil {
		m.key = nil
		return nil, err
	}
	return key, nil
}

// bindKey checks m.key against db's stored check value, storing it where db has none.
func (m *Main) bindKey(ctx context.Context, db *sqlite.DB) error {
	err := db.BindKey(ctx, facts.KeyCheck(m.key))
	if errors.Is(err, sqlite.ErrKeyMismatch) {
		return mpass.Errorf(mpass.EINVALID, "the key of %s is not the key of database %s (its stored key check value differs): use the key the database was made with; a key is never replaced, since pseudonyms made with another would not match the stored ones", m.keySource, m.DBPath)
	}
	return err
}

// readKey reads MPASS_AUDIT_KEY or the key file, and returns a nil key (and the file's
// path as source) where there is no key file. A key file that group or others may
// read is refused: whoever reads it can re-identify pupils from their pseudonyms.
func (m *Main) readKey() (key []byte, source string, err error) {
	if v := m.Getenv("MPASS_AUDIT_KEY"); v != "" {
		if len(v) < 16 {
			return nil, "", mpass.Errorf(mpass.EINVALID, "MPASS_AUDIT_KEY is too short: use at least 16 characters (32 random bytes, hex)")
		}
		return []byte(v), "MPASS_AUDIT_KEY", nil
	}
	path := m.DBPath + ".key"
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, path, nil
	} else if err != nil {
		return nil, "", fmt.Errorf("key file %s is unreadable (%v); set MPASS_AUDIT_KEY or fix its permissions", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, "", fmt.Errorf("key file %s: %w", path, err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, "", mpass.Errorf(mpass.EINVALID, "key file %s has mode %04o: group or others may read it; make it its owner's only with: chmod 600 %s", path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return nil, "", fmt.Errorf("key file %s is unreadable (%v); set MPASS_AUDIT_KEY or fix its permissions", path, err)
	}
	k := strings.TrimSpace(string(b))
	if len(k) < 16 {
		return nil, "", fmt.Errorf("key file %s is empty or too short", path)
	}
	return []byte(k), path, nil
}

// newKey is a new random key: 32 bytes, hex.
func newKey() (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("new key: %w", err)
	}
	return hex.EncodeToString(raw), nil
}

// createKeyFile makes a new random key file at path, 0600 whatever the umask, whole
// or not at all; fs.ErrExist where another process made it first.
func createKeyFile(path string) ([]byte, error) {
	k, err := newKey()
	if err != nil {
		return nil, err
	}
	err = atomicfile.CreateByName(path, 0o600, func(tmp string) error {
		return os.WriteFile(tmp, []byte(k+"\n"), 0o600)
	})
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	return []byte(k), err
}

func (m *Main) auditor(ctx context.Context) (*audit.Auditor, error) {
	// the policies first: a bad policy is reported before the database is looked at
	e, err := m.openEngine(ctx)
	if err != nil {
		return nil, err
	}
	db, err := m.openDB(ctx)
	if err != nil {
		return nil, err
	}
	return &audit.Auditor{DB: db, Engine: e, Logger: m.Logger}, nil
}
