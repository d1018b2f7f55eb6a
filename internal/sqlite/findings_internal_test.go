package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// TestFindingWriterStoresOnClose checks that staged findings are seen by no other
// connection until the writer closes, whatever the staging transactions; that an
// abort leaves nothing behind; and that Close stores them all, in listing order (the
// order the rowids then follow), across storing transactions of perCommit.
func TestFindingWriterStoresOnClose(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, NewDB(filepath.Join(t.TempDir(), "a.db")))
	next := 0
	findings := func(run int64, n int) []mpass.Finding {
		out := make([]mpass.Finding, n)
		for i := range out {
			next++
			out[i] = mpass.Finding{ID: fmt.Sprint("f", next), RunID: run, Term: "age", Rule: []string{"grade", "birth-year"}[next%2],
				Result: mpass.ResultFail, Record: fmt.Sprintf("r%03d", 100-next), Kind: mpass.KindRelease, Time: time.Unix(0, 0), Change: mpass.ChangeNew}
		}
		return out
	}
	stored := func(run int64) (ids []string) {
		rows, err := db.db.QueryContext(ctx, `SELECT finding FROM findings WHERE run_id = ? ORDER BY rowid`, run)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			rows.Scan(&id)
			ids = append(ids, id)
		}
		return ids
	}
	newRun := func() int64 {
		run := &mpass.Run{}
		if err := db.CreateRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		return run.ID
	}

	aborted := newRun()
	w := db.NewFindingWriter(ctx)
	w.perCommit = 3
	if err := w.Write(ctx, findings(aborted, 4)); err != nil { // a staging commit, and one pending
		t.Fatal(err)
	}
	if got := stored(aborted); len(got) != 0 {
		t.Errorf("staged findings seen before Close: %v", got)
	}
	w.Abort()
	if got := stored(aborted); len(got) != 0 {
		t.Errorf("an aborted writer stored %v", got)
	}

	run := newRun()
	w = db.NewFindingWriter(ctx)
	w.perCommit = 3
	var want []mpass.Finding
	for _, n := range []int{2, 2, 1, 3} {
		batch := findings(run, n)
		want = append(want, batch...)
		if err := w.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if got := stored(run); len(got) != 0 {
			t.Fatalf("staged findings seen before Close: %v", got)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatalf("closed again: %v", err)
	}
	slices.SortFunc(want, func(a, b mpass.Finding) int {
		return cmp.Or(strings.Compare(a.Rule, b.Rule), strings.Compare(a.Record, b.Record))
	})
	var ids []string
	for _, f := range want {
		ids = append(ids, f.ID)
	}
	if got := stored(run); !slices.Equal(got, ids) {
		t.Errorf("stored in the order %v, want the listing order %v", got, ids)
	}
}

// TestFindingsKeysetPages: pages after a key, of every size, together are the whole
// ordered list, ties of policy, rule, sp, record and attribute (a release and a use of
// one record id) included, under a filter too.
func TestFindingsKeysetPages(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, NewDB(filepath.Join(t.TempDir(), "a.db")))
	run := &mpass.Run{}
	if err := db.CreateRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	var in []mpass.Finding
	for i := range 40 {
		f := mpass.Finding{ID: fmt.Sprintf("f%02d", 39-i), RunID: run.ID, Term: []string{"a", "b"}[i%2], Rule: []string{"x", "y", "z"}[i%3],
			Result: []string{mpass.ResultFail, mpass.ResultWarn}[i%5%2], SP: "sp", Record: fmt.Sprint("r", i%4),
			Attribute: "n", Kind: mpass.KindRelease, Time: time.Unix(0, 0), Change: mpass.ChangeNew}
		in = append(in, f)
	}
	w := db.NewFindingWriter(ctx)
	if err := w.Write(ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	list := func(f mpass.FindingFilter) []string {
		var out []string
		f.RunID = run.ID
		if err := db.Findings(ctx, f, func(x *mpass.Finding) error { out = append(out, x.ID); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, result := range []string{"", mpass.ResultWarn} {
		whole := list(mpass.FindingFilter{Result: result})
		for limit := 1; limit <= len(whole)+1; limit++ {
			var got []string
			var after *mpass.FindingKey
			for {
				var page []mpass.Finding
				err := db.Findings(ctx, mpass.FindingFilter{RunID: run.ID, Result: result, After: after, Limit: limit}, func(x *mpass.Finding) error {
					page = append(page, *x)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range page {
					got = append(got, f.ID)
				}
				if len(page) < limit {
					break
				}
				k := page[len(page)-1].Key()
				after = &k
			}
			if fmt.Sprint(got) != fmt.Sprint(whole) {
				t.Errorf("result %q, limit %d: pages %v, whole %v", result, limit, got, whole)
			}
		}
	}
	// the whole list in the key's order (read in seq order: the order they were stored
	// in), and a key of no finding of the run pages from where it would be
	var all []mpass.FindingKey
	if err := db.Findings(ctx, mpass.FindingFilter{RunID: run.ID}, func(x *mpass.Finding) error { all = append(all, x.Key()); return nil }); err != nil {
		t.Fatal(err)
	}
	cmpKeys := func(x, y mpass.FindingKey) int {
		return cmp.Or(strings.Compare(x.Term, y.Term), strings.Compare(x.Rule, y.Rule), strings.Compare(x.SP, y.SP),
			strings.Compare(x.Record, y.Record), strings.Compare(x.Attribute, y.Attribute), strings.Compare(x.Finding, y.Finding))
	}
	if len(all) != len(in) || !slices.IsSortedFunc(all, cmpKeys) {
		t.Errorf("findings not in key order: %v", all)
	}
	foreign := mpass.FindingKey{Term: "a", Rule: "y", SP: "sp", Record: "r1", Attribute: "n", Finding: "f99"}
	var got []mpass.FindingKey
	if err := db.Findings(ctx, mpass.FindingFilter{RunID: run.ID, After: &foreign}, func(x *mpass.Finding) error { got = append(got, x.Key()); return nil }); err != nil {
		t.Fatal(err)
	}
	want := slices.DeleteFunc(slices.Clone(all), func(k mpass.FindingKey) bool { return cmpKeys(k, foreign) <= 0 })
	if len(want) == 0 || len(want) == len(all) || !slices.Equal(got, want) {
		t.Errorf("after a key of no finding: %v, want %v", got, want)
	}
	if err := db.Findings(ctx, mpass.FindingFilter{RunID: run.ID, BySeverity: true, After: &mpass.FindingKey{}}, func(*mpass.Finding) error { return nil }); mpass.ErrorCode(err) != mpass.EINVALID {
		t.Errorf("a keyset page by severity: %v, want EINVALID", err)
	}
}

// mustOpenBefore opens a new database at path with the migrations before the one
// numbered migration applied: a database an older build made.
func mustOpenBefore(t *testing.T, migration string) (old *DB, path string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "old.db")
	old = NewDB(path)
	old.migrations = func(name string) bool { return name < "migration/"+migration }
	return mustOpen(t, old), path
}

// mustOpen opens db (made with NewDB and set up as a test wants it), closed at cleanup.
func mustOpen(tb testing.TB, db *DB) *DB {
	tb.Helper()
	if err := db.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// TestMigrationKeepsFindings: findings stored before migration 0016 keep every field,
// get their ids in finding_ids, and compare with a later run's by id (the persisting
// mark); a finding id twice in one run is still refused.
func TestMigrationKeepsFindings(t *testing.T) {
	ctx := context.Background()
	old, path := mustOpenBefore(t, "0016")
	first := &mpass.Run{}
	if err := old.CreateRun(ctx, first); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"b", "a", "c"} {
		if _, err := old.db.Exec(`INSERT INTO findings (`+oldFindingColumns+`)
			VALUES (?, ?, 't', 'r', 'fail', 'high', 'm', 'rec-'||?, 'release', 0, 'sp', 'c', 's', '', '', '', '', 'new', '')`, first.ID, id, id); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	db := mustOpen(t, NewDB(path))
	var n int
	if err := db.db.QueryRow(`SELECT COUNT(*) FROM finding_ids i JOIN findings f ON f.seq = i.seq AND f.finding = i.finding AND f.run_id = i.run_id`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("%d findings with their id row (%v), want 3", n, err)
	}
	second := &mpass.Run{}
	if err := db.CreateRun(ctx, second); err != nil {
		t.Fatal(err)
	}
	w := db.NewFindingWriter(ctx)
	for _, id := range []string{"a", "d"} {
		if err := w.Write(ctx, []mpass.Finding{{ID: id, RunID: second.ID, Term: "t", Rule: "r", Result: mpass.ResultFail, Record: "rec-" + id,
			Kind: mpass.KindRelease, Time: time.Unix(0, 0), Change: mpass.ChangeNew}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkPersisting(ctx, second.ID, first.ID); err != nil {
		t.Fatal(err)
	}
	changes := map[string]string{}
	if err := db.Findings(ctx, mpass.FindingFilter{RunID: second.ID}, func(f *mpass.Finding) error { changes[f.ID] = f.Change; return nil }); err != nil {
		t.Fatal(err)
	}
	if changes["a"] != mpass.ChangePersisting || changes["d"] != mpass.ChangeNew {
		t.Errorf("changes %v: a persists from the migrated run, d is new", changes)
	}

	third := &mpass.Run{}
	if err := db.CreateRun(ctx, third); err != nil {
		t.Fatal(err)
	}
	w = db.NewFindingWriter(ctx)
	twice := mpass.Finding{ID: "x", RunID: third.ID, Term: "t", Rule: "r", Result: mpass.ResultFail, Kind: mpass.KindRelease, Time: time.Unix(0, 0)}
	if err := w.Write(ctx, []mpass.Finding{twice, twice}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(ctx); err == nil {
		t.Error("a finding id twice in a run was stored")
	}
}

// TestMigrationKeepsFindingFields: migration 0017 (findings by reference) keeps every
// field of findings stored before it — texts, names no record has, no controller or
// purpose (empty) — in listing order, and files each under its controller for a DPO's
// query.
func TestMigrationKeepsFindingFields(t *testing.T) {
	ctx := context.Background()
	old, path := mustOpenBefore(t, "0017")
	run := &mpass.Run{}
	if err := old.CreateRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	in := []mpass.Finding{
		{ID: "f1", RunID: run.ID, Term: "age", Rule: "grade", Result: mpass.ResultFail, Severity: "critical", Message: "grade level released",
			Record: "r1", Kind: mpass.KindRelease, Time: time.Unix(0, 1_700_000_000_000_000_000).UTC(), SP: "https://sp.example/a",
			Controller: "1.2.246.562.10.1", Subject: "s1", Attribute: "grade", Fingerprint: "0011223344556677", Change: mpass.ChangeNew},
		{ID: "f2", RunID: run.ID, Term: "age", Rule: "grade", Result: mpass.ResultWarn, Severity: "medium", Message: "another text",
			Record: "r2", Kind: mpass.KindRelease, Time: time.Unix(5, 0).UTC(), SP: "https://sp.example/b",
			Controller: "1.2.246.562.10.2", Subject: "s2", Attribute: "grade", Exception: "E-1", ExceptionNotApplied: "expired", Change: mpass.ChangePersisting},
		{ID: "f3", RunID: run.ID, Term: "marketing", Rule: "minor", Result: mpass.ResultFail, Severity: "high", Message: "m",
			Record: "u1", Kind: mpass.KindUse, Time: time.Unix(9, 0).UTC(), SP: "https://sp.example/a",
			Subject: "s3", Purpose: "marketing", Change: mpass.ChangeNew}, // no controller
	}
	for _, f := range in {
		if _, err := old.db.Exec(`INSERT INTO findings (`+oldFindingColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			f.RunID, f.ID, f.Term, f.Rule, f.Result, f.Severity, f.Message, f.Record, string(f.Kind), nanos(f.Time),
			f.SP, f.Controller, f.Subject, f.Attribute, f.Fingerprint, f.Exception, f.ExceptionNotApplied, f.Change, f.Purpose); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	db := mustOpen(t, NewDB(path))
	list := func(controllers []string) (out []mpass.Finding) {
		err := db.Findings(ctx, mpass.FindingFilter{RunID: run.ID, Controllers: controllers}, func(f *mpass.Finding) error {
			out = append(out, *f)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := list(nil); !slices.Equal(got, in) {
		t.Errorf("after the migration\n got %+v\nwant %+v", got, in)
	}
	if got := list([]string{"1.2.246.562.10.2", "1.2.246.562.10.9"}); len(got) != 1 || got[0] != in[1] {
		t.Errorf("the findings of controller ...2: %+v", got)
	}
	if got := list([]string{""}); len(got) != 1 || got[0] != in[2] {
		t.Errorf("the findings without a controller: %+v", got)
	}
	if got := list([]string{}); len(got) != 0 {
		t.Errorf("no controllers, findings %+v", got)
	}
}

// oldFindingColumns are the columns of findings before migration 0017.
const oldFindingColumns = `run_id, finding, term, rule, result, severity, message, record, kind, time, sp, controller, subject, attribute,
	fingerprint, exception, exception_not_applied, change, purpose`

// TestFindingWriterStagesWithoutTheWriteLock: staging holds no write lock on the
// database, so a finding naming what no record does can be staged in any batch (its
// name stored by another connection) and others write meanwhile (an ingest, another
// run). A staging transaction that took the lock made the second batch wait out the
// busy timeout and fail.
func TestFindingWriterStagesWithoutTheWriteLock(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, NewDB(filepath.Join(t.TempDir(), "a.db")))
	run := &mpass.Run{}
	if err := db.CreateRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	finding := func(id, sp string) []mpass.Finding {
		return []mpass.Finding{{ID: id, RunID: run.ID, Term: "t", Rule: "r", Result: mpass.ResultFail, Record: "r-" + id,
			Kind: mpass.KindRelease, Time: time.Unix(0, 0), SP: sp, Change: mpass.ChangeNew}}
	}
	w := db.NewFindingWriter(ctx)
	if err := w.Write(ctx, finding("f1", "https://sp.example/one")); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, finding("f2", "https://sp.example/two")); err != nil { // a name no record has
		t.Fatal(err)
	}
	other := &mpass.Run{} // another connection writes while the batch is staged
	if err := db.CreateRun(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var sps []string
	if err := db.Findings(ctx, mpass.FindingFilter{RunID: run.ID}, func(f *mpass.Finding) error { sps = append(sps, f.SP); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sps, []string{"https://sp.example/one", "https://sp.example/two"}) {
		t.Errorf("stored SPs %v", sps)
	}
}
