package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/gen"
	"github.com/opetushallitus/mpass-audit/internal/ingest"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
)

// TestMain lets the tests run this binary as mpass-audit itself, so the crash tests
// kill a real process.
func TestMain(m *testing.M) {
	if os.Getenv("MPASS_AUDIT_AS_MAIN") == "1" {
		// a file size limit stands in for a full disk (files_test.go)
		if v := os.Getenv("MPASS_AUDIT_TEST_FSIZE"); v != "" {
			n, _ := strconv.ParseUint(v, 10, 64)
			if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: n}); err != nil {
				panic(err)
			}
		}
		main()
		return
	}
	os.Exit(m.Run())
}

const testKey = "0123456789abcdef0123456789abcdef"

// workload writes n generated records and their registry into dir.
func workload(t *testing.T, dir string, n int) (records, registry string) {
	t.Helper()
	g := gen.New(gen.Config{Records: n, Seed: 5, Controllers: 30, SPs: 40})
	records, registry = filepath.Join(dir, "records.jsonl"), filepath.Join(dir, "registry.yaml")
	for path, write := range map[string]func(*os.File) error{
		records:  func(f *os.File) error { return g.WriteRecords(f) },
		registry: func(f *os.File) error { return g.WriteRegistry(f) },
	} {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := write(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	return records, registry
}

// killAfter starts mpass-audit with args and kills it with SIGKILL at the n-th log line
// that contains marker; it fails if the process ends first.
func killAfter(t *testing.T, marker string, n int, args ...string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "MPASS_AUDIT_AS_MAIN=1", "MPASS_AUDIT_LOG=info", "MPASS_AUDIT_KEY="+testKey)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	seen := 0
	for sc.Scan() {
		if strings.Contains(sc.Text(), marker) {
			if seen++; seen == n {
				cmd.Process.Kill()
				break
			}
		}
	}
	go func() { // drain, so the child never blocks on a full pipe before it dies
		for sc.Scan() {
		}
	}()
	err = cmd.Wait()
	if seen < n {
		t.Fatalf("%v ended (%v) before %d %q lines", args, err, n, marker)
	}
}

func openDB(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db := sqlite.NewDB(path)
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s, err := db.IntegrityCheck(context.Background()); err != nil || s != "ok" {
		t.Fatalf("integrity_check: %q %v", s, err)
	}
	return db
}

// TestKillDuringIngestAndAudit kills the real process with SIGKILL in the middle of an
// ingest and of an audit: the database stays sound, every transaction of batches is whole or absent, the
// interrupted audit is failed and never listed, and a re-run completes.
func TestKillDuringIngestAndAudit(t *testing.T) {
	if testing.Short() {
		t.Skip("kills real processes")
	}
	const n, batch = 120_000, 1000
	dir := t.TempDir()
	records, registry := workload(t, dir, n)
	path := filepath.Join(dir, "a.db")
	env := map[string]string{"MPASS_AUDIT_KEY": testKey}
	if code, _, errs := run(t, dir, env, "", "registry", "load", registry); code != 0 {
		t.Fatal(errs)
	}

	killAfter(t, "ingest batches committed", 3, "--db", path, "ingest", "--batch", "1000", records)
	db := openDB(t, path)
	rel, uses, err := db.CountRecords(context.Background())
	db.Close()
	// a file's batches are committed by threes (ingest.FileBatchesPerCommit)
	if perCommit := int64(batch * ingest.FileBatchesPerCommit(batch)); err != nil || (rel+uses)%perCommit != 0 || rel+uses == 0 || rel+uses == n {
		t.Fatalf("after kill -9: %d records (%v), want whole transactions of %d, fewer than %d", rel+uses, err, perCommit, n)
	}
	code, out, errs := run(t, dir, env, "", "ingest", records)
	if code != 0 || !strings.Contains(out, "rejected 0") {
		t.Fatalf("re-run: %d %s %s", code, out, errs)
	}
	db = openDB(t, path)
	if rel, uses, _ := db.CountRecords(context.Background()); rel+uses != n {
		t.Fatalf("after the re-run %d records, want %d", rel+uses, n)
	}
	db.Close()

	killAfter(t, "audit progress", 1, "--db", path, "audit", "--format", "table")
	db = openDB(t, path)
	run1, err := db.FindRun(context.Background(), 1)
	if err != nil || run1.Status != mpass.RunFailed {
		t.Fatalf("killed audit: %+v %v, want failed", run1, err)
	}
	if runs, _ := db.FindRuns(context.Background(), nil); len(runs) != 0 {
		t.Fatalf("an interrupted run is listed: %+v", runs[0])
	}
	db.Close()
	if code, out, errs := run(t, dir, env, "", "audit", "--format", "table"); code != 0 || !strings.Contains(out, "Audit run 2") {
		t.Fatalf("audit re-run: %d %s %s", code, out, errs)
	}

	// a backup killed midway leaves nothing at its target that could pass for a good
	// backup: either no file, or (where it finished before the kill) the whole database
	backup := filepath.Join(dir, "backup.db")
	killAfter(t, "backup progress", 1, "--db", path, "backup", backup)
	if _, err := os.Stat(backup); err == nil {
		t.Log("the backup finished before the kill")
		db = openDB(t, backup)
		if rel, uses, _ := db.CountRecords(context.Background()); rel+uses != n {
			t.Errorf("a backup at its target holds %d records, want %d", rel+uses, n)
		}
		db.Close()
	} else if !os.IsNotExist(err) {
		t.Fatal(err)
	} else if code, out, errs := run(t, dir, env, "", "backup", backup); code != 0 {
		t.Fatalf("backup after the killed one: %d %s %s", code, out, errs)
	}
}

// TestConcurrentIngestsAndAudit: two ingests and an audit on one database at once all
// succeed; SQLite's busy timeout queues the writers.
func TestConcurrentIngestsAndAudit(t *testing.T) {
	dir := t.TempDir()
	records, registry := workload(t, dir, 30_000)
	env := map[string]string{"MPASS_AUDIT_KEY": testKey}
	if code, _, errs := run(t, dir, env, "", "registry", "load", registry); code != 0 {
		t.Fatal(errs)
	}
	b, err := os.ReadFile(records)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	half := filepath.Join(dir, "half.jsonl")
	os.WriteFile(half, []byte(strings.Join(lines[len(lines)/2:], "")), 0o644)
	var wg sync.WaitGroup
	results := make([]string, 3)
	codes := make([]int, 3)
	for i, args := range [][]string{{"ingest", records}, {"ingest", half}, {"audit", "--format", "csv"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var errs string
			codes[i], results[i], errs = run(t, dir, env, "", args...)
			results[i] += errs
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != 0 {
			t.Errorf("command %d exited %d: %s", i, c, results[i])
		}
	}
	db := openDB(t, filepath.Join(dir, "a.db"))
	defer db.Close()
	if rel, uses, _ := db.CountRecords(context.Background()); rel+uses != 30_000 {
		t.Errorf("%d records, want 30000", rel+uses)
	}
}
