package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// pragmas answers a database's page size, journal mode and a pool connection's
// autocheckpoint.
func pragmas(t *testing.T, db *DB) (size int64, mode string, autocheckpoint int64) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for q, dest := range map[string]any{`PRAGMA page_size`: &size, `PRAGMA journal_mode`: &mode, `PRAGMA wal_autocheckpoint`: &autocheckpoint} {
		if err := conn.QueryRowContext(ctx, q).Scan(dest); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return size, mode, autocheckpoint
}

// TestPageSize: a database Open makes, from no file or an empty one, has pageSize pages
// and WAL mode; one made before with SQLite's default 4 KiB pages keeps them, takes its
// rows, and checkpoints by the same bytes (autocheckpoint and the batches' restart are
// counted in its own pages).
func TestPageSize(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	fresh := mustOpen(t, NewDB(filepath.Join(dir, "fresh.db")))
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	touched := mustOpen(t, NewDB(empty))

	old := filepath.Join(dir, "old.db")
	made, err := sql.Open(driverName, "file:"+url.PathEscape(old))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`PRAGMA page_size = 4096`, `PRAGMA journal_mode = WAL`, `CREATE TABLE before (a)`} {
		if _, err := made.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	made.Close()
	older := mustOpen(t, NewDB(old))

	for _, c := range []struct {
		name string
		db   *DB
		want int64
	}{{"new file", fresh, pageSize}, {"empty file", touched, pageSize}, {"4 KiB database", older, 4096}} {
		size, mode, auto := pragmas(t, c.db)
		if size != c.want || mode != "wal" || auto != walAutocheckpointBytes/c.want {
			t.Errorf("%s: page size %d, %s, autocheckpoint %d pages; want %d, wal, %d", c.name, size, mode, auto, c.want, walAutocheckpointBytes/c.want)
		}
		if c.db.pageSize != c.want {
			t.Errorf("%s: the checkpoints count pages of %d bytes, want %d", c.name, c.db.pageSize, c.want)
		}
		rows := releaseRows(t, c.db, 0, 1000)
		if n, _, err := c.db.InsertBatch(ctx, rows, nil, 0); err != nil || n.Stored != len(rows) {
			t.Errorf("%s: stored %+v, %v", c.name, n, err)
		}
	}
}

// TestSimultaneousCreation: two opens of one new database at the same moment both
// succeed, and it has pageSize pages (one waits out the other's creation).
func TestSimultaneousCreation(t *testing.T) {
	dir := t.TempDir()
	for i := range 20 {
		path := filepath.Join(dir, fmt.Sprintf("new-%d.db", i))
		dbs := []*DB{NewDB(path), NewDB(path)}
		errs := make(chan error, len(dbs))
		for _, db := range dbs {
			go func() { errs <- db.Open(context.Background()) }()
		}
		for range dbs {
			if err := <-errs; err != nil {
				t.Errorf("try %d: %v", i, err)
			}
		}
		for _, db := range dbs {
			if db.pageSize != pageSize {
				t.Errorf("try %d: page size %d, want %d", i, db.pageSize, pageSize)
			}
			db.Close()
		}
	}
}
