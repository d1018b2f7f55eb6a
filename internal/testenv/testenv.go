// Package testenv builds the real parts tests run against: a SQLite database in a
// temporary directory, the built-in policies, and an extractor with a fixed key.
// Never a mock: every test that stores goes through mattn/go-sqlite3.
package testenv

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/facts"
	"github.com/opetushallitus/mpass-audit/internal/gen"
	"github.com/opetushallitus/mpass-audit/internal/ingest"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/policy"
	"github.com/opetushallitus/mpass-audit/internal/registry"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
)

// Key is the pseudonymisation key of test extractors.
const Key = "test-key-0123456789abcdef"

// MustGenerate writes a generated workload: its records (JSON Lines) and registry (YAML).
func MustGenerate(tb testing.TB, cfg gen.Config) (records, registry string) {
	tb.Helper()
	g := gen.New(cfg)
	var r, reg strings.Builder
	if err := g.WriteRecords(&r); err != nil {
		tb.Fatal(err)
	}
	if err := g.WriteRegistry(&reg); err != nil {
		tb.Fatal(err)
	}
	return r.String(), reg.String()
}

// MustOpenDB opens a fresh database file in tb's temporary directory, closed at cleanup.
func MustOpenDB(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "audit.db"))
	if err := db.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

var (
	engineOnce sync.Once
	engine     *policy.Engine
	engineErr  error
)

// MustEngine returns the built-in policies, compiled once per test binary.
func MustEngine(tb testing.TB) *policy.Engine {
	tb.Helper()
	engineOnce.Do(func() { engine, engineErr = policy.Load(context.Background(), "") })
	if engineErr != nil {
		tb.Fatal(engineErr)
	}
	return engine
}

// MustExtractor returns an extractor with Key and the built-in attribute catalog.
func MustExtractor(tb testing.TB) *facts.Extractor {
	tb.Helper()
	attrs, err := MustEngine(tb).Attributes(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	cat, err := facts.NewCatalog(attrs)
	if err != nil {
		tb.Fatal(err)
	}
	return facts.NewExtractor([]byte(Key), cat)
}

// MustLoadRegistry parses YAML and stores it as a new registry version.
func MustLoadRegistry(tb testing.TB, db *sqlite.DB, yaml string) *mpass.Registry {
	tb.Helper()
	ctx := context.Background()
	purposes, rules, err := MustEngine(tb).Vocabulary(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	reg, _, err := registry.Parse("registry.yaml", []byte(yaml), MustExtractor(tb), registry.Vocabulary{Purposes: purposes, Rules: rules})
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.CreateRegistry(ctx, reg); err != nil {
		tb.Fatal(err)
	}
	return reg
}

// MustIngest ingests text in the given format and fails on a read or store error.
func MustIngest(tb testing.TB, db *sqlite.DB, format, text string) ingest.Result {
	tb.Helper()
	in := &ingest.Ingester{Store: db, Extractor: MustExtractor(tb), Options: ingest.Options{Format: format}}
	res, err := in.Ingest(context.Background(), "test."+format, strings.NewReader(text))
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// Fixed is a clock for deterministic runs.
func Fixed(t time.Time) func() time.Time { return func() time.Time { return t } }

// root is the module's directory: the nearest one above the test's with a go.mod.
func root(tb testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

// MustReadFile reads a file given from the module root.
func MustReadFile(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(root(tb), path))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// MustLoadDemo loads testdata/demo (registry and records) into db.
func MustLoadDemo(tb testing.TB, db *sqlite.DB) {
	tb.Helper()
	MustLoadRegistry(tb, db, MustReadFile(tb, "testdata/demo/registry.yaml"))
	if res := MustIngest(tb, db, "jsonl", MustReadFile(tb, "testdata/demo/records.jsonl")); res.Rejected != 0 {
		tb.Fatalf("demo records rejected: %v", res.Rejections)
	}
}
