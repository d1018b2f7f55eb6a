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
	db := NewDB(filepath.Join(t.TempDir(), "a.db"))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
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
