package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/audit"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

func demoRegistry(t *testing.T) string {
	b, err := os.ReadFile("../../testdata/demo/registry.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func releases(from, n int, day string) string {
	var b strings.Builder
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, `{"kind":"release","id":"r-%d","time":"%sT08:00:00Z","sp":"https://oppimisalusta.example.fi/sp","controller":"1.2.246.562.10.44444444440","subject":"s%d","attributes":{"mail":["a@b.fi"]}}`+"\n", i, day, i)
	}
	return b.String()
}

// TestPurgeKeepsRunsReadable: records before the day go; the run and its findings stay.
func TestPurgeKeepsRunsReadable(t *testing.T) {
	ctx := context.Background()
	db := testenv.MustOpenDB(t)
	testenv.MustLoadRegistry(t, db, demoRegistry(t))
	testenv.MustIngest(t, db, "jsonl", releases(0, 10, "2026-09-15")+releases(10, 5, "2026-10-15")+"not json\n")
	a := &audit.Auditor{DB: db, Engine: testenv.MustEngine(t)}
	run, err := a.Run(ctx, mpass.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.Purge(ctx, "2026-10-01")
	if err != nil || c.Releases != 10 {
		t.Fatalf("purge: %+v %v", c, err)
	}
	if rel, _, _ := db.CountRecords(ctx); rel != 5 {
		t.Errorf("%d releases left, want 5", rel)
	}
	view, err := a.View(ctx, run.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	view.Findings(func(f *mpass.Finding) error { n++; return nil })
	if n != 15 { // one unapproved mail per release, purged or not
		t.Errorf("%d findings readable after the purge, want 15", n)
	}
	if _, err := db.Purge(ctx, "1.10.2026"); mpass.ErrorCode(err) != mpass.EINVALID {
		t.Errorf("bad date: %v", err)
	}
}

// TestBackupWhileWriting: an online backup taken while an ingest writes is sound and
// holds a consistent database.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	db := testenv.MustOpenDB(t)
	testenv.MustLoadRegistry(t, db, demoRegistry(t))
	testenv.MustIngest(t, db, "jsonl", releases(0, 2000, "2026-10-15"))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		testenv.MustIngest(t, db, "jsonl", releases(2000, 20000, "2026-10-16"))
	}()
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := db.Backup(ctx, path, nil); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	b := sqlite.NewDB(path)
	if err := b.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if s, err := b.IntegrityCheck(ctx); err != nil || s != "ok" {
		t.Fatalf("backup integrity: %q %v", s, err)
	}
	rel, _, _ := b.CountRecords(ctx)
	if rel < 2000 || (rel-2000)%5000 != 0 && rel != 22000 {
		t.Errorf("backup holds %d releases: not the state after a whole batch", rel)
	}
	if _, err := b.LatestRegistry(ctx); err != nil {
		t.Errorf("backup lacks the registry: %v", err)
	}
	if err := db.Backup(ctx, path, nil); mpass.ErrorCode(err) != mpass.EINVALID {
		t.Errorf("backup over a file: %v", err)
	}
}

// TestPurgeBeforeOutOfRange (issue 14, item 5): a --before day whose instant unix
// nanoseconds cannot hold is refused, never wrapped (9999-01-01 would cut at 1816).
func TestPurgeBeforeOutOfRange(t *testing.T) {
	ctx := context.Background()
	db := testenv.MustOpenDB(t)
	testenv.MustLoadRegistry(t, db, demoRegistry(t))
	testenv.MustIngest(t, db, "jsonl", releases(0, 3, "2026-09-15"))
	for _, day := range []string{"9999-01-01", "2262-04-12", "1600-01-01"} {
		if _, err := db.Purge(ctx, day); err == nil || !strings.Contains(err.Error(), "outside the times the store holds") {
			t.Errorf("purge --before %s: %v", day, err)
		}
	}
	if rel, _, _ := db.CountRecords(ctx); rel != 3 {
		t.Errorf("%d releases left, want 3", rel)
	}
}

// TestOpenPeriodBounds (issue 14, item 5): an audit's bound beyond what unix
// nanoseconds hold ("to 9999-12-31", an open end) bounds nothing; it wrapped to a
// day in 1816 and the audit judged no record.
func TestOpenPeriodBounds(t *testing.T) {
	ctx := context.Background()
	db := testenv.MustOpenDB(t)
	testenv.MustLoadRegistry(t, db, demoRegistry(t))
	testenv.MustIngest(t, db, "jsonl", releases(0, 3, "2026-09-15"))
	a := &audit.Auditor{DB: db, Engine: testenv.MustEngine(t)}
	for _, scope := range []mpass.Scope{{To: "9999-12-31"}, {From: "0001-01-01"}} {
		run, err := a.Run(ctx, scope)
		if err != nil {
			t.Fatal(err)
		}
		if s := run.Summary; s.Pass+s.Fail+s.Warn == 0 {
			t.Errorf("%+v judged nothing: %+v", scope, s)
		}
	}
}
