package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// TestFindingWriterCommitsWholeTransactions checks that findings become visible to
// other connections only when a full transaction commits or the writer closes, and
// that an aborted transaction leaves nothing behind.
func TestFindingWriterCommitsWholeTransactions(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, NewDB(filepath.Join(t.TempDir(), "a.db")))
	run := &mpass.Run{}
	if err := db.CreateRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	next := 0
	findings := func(n int) []mpass.Finding {
		out := make([]mpass.Finding, n)
		for i := range out {
			next++
			out[i] = mpass.Finding{ID: fmt.Sprint("f", next), RunID: run.ID, Term: "age", Rule: "grade", Result: mpass.ResultFail,
				Record: fmt.Sprint("r", next), Kind: mpass.KindRelease, Time: time.Unix(0, 0), Change: mpass.ChangeNew}
		}
		return out
	}
	stored := func() int {
		var n int
		if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM findings WHERE run_id = ?`, run.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	w := db.NewFindingWriter()
	w.perCommit = 3
	for _, step := range []struct {
		name   string
		do     func() error
		stored int
	}{
		{"two written", func() error { return w.Write(ctx, findings(2)) }, 0},
		{"two more fill the transaction", func() error { return w.Write(ctx, findings(2)) }, 4},
		{"one written", func() error { return w.Write(ctx, findings(1)) }, 4},
		{"and aborted", func() error { w.Abort(); return nil }, 4},
		{"one more and closed", func() error {
			if err := w.Write(ctx, findings(1)); err != nil {
				return err
			}
			return w.Close()
		}, 5},
		{"closed again", w.Close, 5},
	} {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if got := stored(); got != step.stored {
			t.Errorf("%s: %d findings visible, want %d", step.name, got, step.stored)
		}
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
	w := db.NewFindingWriter()
	if err := w.Write(ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
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
	if err := db.Findings(ctx, mpass.FindingFilter{RunID: run.ID, BySeverity: true, After: &mpass.FindingKey{}}, func(*mpass.Finding) error { return nil }); mpass.ErrorCode(err) != mpass.EINVALID {
		t.Errorf("a keyset page by severity: %v, want EINVALID", err)
	}
}

// mustOpen opens db (made with NewDB and set up as a test wants it), closed at cleanup.
func mustOpen(t *testing.T, db *DB) *DB {
	t.Helper()
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
