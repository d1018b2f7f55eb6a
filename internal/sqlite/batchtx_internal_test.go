package sqlite

import (
	"context"
	"errors"
	"testing"
)

// storedSPs answers each stored release's id with the name its sp column refers to.
func storedSPs(t *testing.T, db *DB) map[string]string {
	t.Helper()
	rows, err := db.db.Query(`SELECT r.id, n.name FROM releases r JOIN names n ON n.id = r.sp`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]string{}
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			t.Fatal(err)
		}
		got[id] = name
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestBatchTx: batches sharing a transaction are stored when it commits, with the
// names a batch brought found by the batches after it; a rolled-back transaction leaves
// neither rows nor remembered names, so that the id a rolled-back name had, taken by
// another name since, never names the first one's rows (a value stored under a wrong
// name would put findings on the wrong SP).
func TestBatchTx(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, NewDB(t.TempDir()+"/tx.db"))

	// a rolled-back transaction: two batches, new SPs and shapes
	rolled := releaseRowsTo(t, db, 0, 300, "https://rolled%d.example/sp")
	tx, err := db.BeginBatches(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]Row{rolled[:150], rolled[150:]} {
		if c, _, err := tx.Insert(ctx, b, nil, 0); err != nil || c.Stored != len(b) {
			t.Fatalf("insert: %+v, %v", c, err)
		}
	}
	tx.Rollback()
	if id := db.names.id("https://rolled0.example/sp"); id != 0 {
		t.Errorf("a name of a rolled-back transaction is remembered as %d", id)
	}
	if _, _, err := tx.Insert(ctx, rolled, nil, 0); err == nil {
		t.Error("a rolled-back transaction took another batch")
	}

	// other names take the ids the rolled-back ones had; then the same rows again, in
	// one transaction of three batches, the first bringing the names the others use
	others := releaseRowsTo(t, db, 1000, 100, "https://other%d.example/sp")
	if c, _, err := db.InsertBatch(ctx, others, nil, 0); err != nil || c.Stored != len(others) {
		t.Fatalf("others: %+v, %v", c, err)
	}
	tx, err = db.BeginBatches(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]Row{rolled[:100], rolled[100:200], rolled[200:]} {
		if c, _, err := tx.Insert(ctx, b, nil, 0); err != nil || c.Stored != len(b) {
			t.Fatalf("insert: %+v, %v", c, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got := storedSPs(t, db)
	for _, row := range append(others, rolled...) {
		if got[row.Record.ID] != row.Record.SP {
			t.Fatalf("release %s is stored to %q, want %q", row.Record.ID, got[row.Record.ID], row.Record.SP)
		}
	}
	if len(got) != len(others)+len(rolled) {
		t.Errorf("%d releases stored, want %d", len(got), len(others)+len(rolled))
	}
	if db.names.id("https://rolled0.example/sp") == 0 {
		t.Error("the committed transaction's names are not remembered")
	}
}

// TestBatchTxFailureRollsBackEveryBatch: an insert that fails (here, its context
// cancelled) ends the transaction with every batch before it.
func TestBatchTxFailureRollsBackEveryBatch(t *testing.T) {
	db := mustOpen(t, NewDB(t.TempDir()+"/tx.db"))
	rows := releaseRows(t, db, 0, 200)
	tx, err := db.BeginBatches(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := tx.Insert(context.Background(), rows[:100], nil, 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := tx.Insert(ctx, rows[100:], nil, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("insert with a cancelled context: %v", err)
	}
	if err := tx.Commit(context.Background()); err == nil {
		t.Error("a failed transaction committed")
	}
	if got := storedSPs(t, db); len(got) != 0 {
		t.Errorf("%d releases stored after the failure, want none", len(got))
	}
}
