// Package sqlite is the only package that speaks SQL: records, registry versions, audit
// runs and findings in one SQLite file (mattn/go-sqlite3), its schema in embedded
// migrations applied at open.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/opetushallitus/mpass-audit/internal/atomicfile"
)

// driverName is mattn/go-sqlite3 with the pragmas the DSN cannot set.
const driverName = "sqlite3_mpass_audit"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		// Checkpoint the WAL every 64 MiB rather than every 4: a checkpoint syncs the
		// database file, and a bulk ingest would otherwise sync on nearly every batch.
		// (An ingest's batches checkpoint on a connection of their own: checkpointer.)
		size, err := connPageSize(c)
		if err != nil {
			return err
		}
		if _, err := c.Exec(fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", autocheckpointPages(size)), nil); err != nil {
			return err
		}
		return registerRow(c)
	}})
}

// pageSize is the page size of a database this package creates (PRAGMA page_size, in
// bytes; SQLite's default is defaultPageSize). A bulk ingest is mostly B-tree descents
// and pages written to the WAL: with 16 KiB pages its indexes are a level shallower and
// a commit writes fewer, larger frames (1M diverse records, 10 alternated rounds: 3–7 %
// less wall time, a fifth less system time; docs/performance.md, session 18). A
// database made before keeps its pages: SQLite cannot change a WAL database's page
// size in place.
const pageSize = 16384

// defaultPageSize is SQLite's own page size, taken where a size is not known.
const defaultPageSize = 4096

// pagesOf is how many pages of size bytes (defaultPageSize where size is not known)
// hold n bytes, at least one.
func pagesOf(n, size int64) int64 {
	if size <= 0 {
		size = defaultPageSize
	}
	return max(n/size, 1)
}

// walAutocheckpointBytes is how much WAL every connection's autocheckpoint lets grow
// before it copies the WAL into the database (PRAGMA wal_autocheckpoint, in pages of
// the database's own size).
const walAutocheckpointBytes = 64 << 20

// autocheckpointPages is PRAGMA wal_autocheckpoint for a database of pages of size
// bytes: walAutocheckpointBytes of them.
func autocheckpointPages(size int64) int64 { return pagesOf(walAutocheckpointBytes, size) }

// connPageSize answers PRAGMA page_size on a new connection: the database's page size,
// or the size a database not yet written would get.
func connPageSize(c *sqlite3.SQLiteConn) (int64, error) {
	rows, err := c.Query("PRAGMA page_size", nil)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	v := make([]driver.Value, 1)
	if err := rows.Next(v); err != nil {
		return 0, fmt.Errorf("PRAGMA page_size: %w", err)
	}
	size, _ := v[0].(int64)
	return size, nil
}

//go:embed migration/*.sql
var migrationFS embed.FS

// DB is an open database.
type DB struct {
	db   *sql.DB
	Path string
	// names, shapes and source file names are stored once and referred to by id
	names, shapes, sources *interner
	// buffers are Encode's, for a record's facts before they are known to be new
	buffers sync.Pool
	// ingesting lets one ingest at a time of this process store and settle its rows,
	// and an audit's catch-up wait for it (LockIngest)
	ingesting sync.Mutex
	// checkpoints checkpoint the WAL for an ingest's batches
	checkpoints checkpointer
	// pageSize is the database's page size in bytes (pageSize for a database Open made)
	pageSize int64
	// migrations, when set, says which migrations Open applies (a test's older database)
	migrations func(name string) bool
	// maxRoleSetPairs, when set, replaces MaxRoleSetPairs (a test's small bound)
	maxRoleSetPairs int64
	// batchOff, when set, reads batches through database/sql (a test of that path)
	batchOff bool
	// Now returns the current time; tests set it for deterministic runs.
	Now func() time.Time
	// Mode is the mode of the database file, its -wal and -shm and its backups:
	// 0600 unless set (atomicfile.GroupMode for a group's reader). SQLite gives the
	// -wal and -shm the database file's mode, so setting it on that file is enough.
	Mode fs.FileMode
}

// NewDB returns a DB for the file at path; call Open before use.
func NewDB(path string) *DB {
	return &DB{Path: path, Now: func() time.Time { return time.Now().UTC() },
		names: newInterner("names", "name"), shapes: newInterner("shapes", "facts"),
		sources: newInterner("sources", "name")}
}

// MaxConns bounds the connections a DB opens. An audit holds one per worker for its
// scan and one for its findings, and a worker's judging asks for one more now and then
// (a name, a role): an audit of w workers needs 2w + 1 at most, so it runs at most
// MaxAuditWorkers (with 8 connections, 7 workers waited for each other for ever).
// Idle connections beyond two are closed, so the bound costs nothing when not used.
const MaxConns = 2*MaxAuditWorkers + 8

// MaxAuditWorkers is the most workers an audit runs, whatever the cores.
const MaxAuditWorkers = 16

// defaultCacheSize is every connection's page cache (PRAGMA cache_size: negative KiB).
const defaultCacheSize = "-2048"

// Open opens the file, sets WAL, foreign keys and a busy timeout on every connection,
// applies pending migrations and marks runs left "running" by a killed process failed.
func (db *DB) Open(ctx context.Context) error {
	if db.Path == "" {
		return fmt.Errorf("sqlite: database path required")
	}
	if err := db.prepareFile(); err != nil {
		return err
	}
	if err := db.initPageSize(ctx); err != nil {
		return err
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", "10000")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate") // writers queue at BEGIN instead of deadlocking on upgrade
	// 2 MiB of page cache per connection, SQLite's default: readers mostly scan, and an
	// audit's four connections with 16 MiB each filled them all (65 MB of RSS at 10M
	// records) and ran no faster. The ingest writer and the roles' sort set their own.
	q.Set("_cache_size", defaultCacheSize)
	var err error
	if db.db, err = sql.Open(driverName, "file:"+url.PathEscape(db.Path)+"?"+q.Encode()); err != nil {
		return err
	}
	db.db.SetMaxOpenConns(MaxConns)
	if err := db.db.PingContext(ctx); err != nil {
		return fmt.Errorf("open %s: %w", db.Path, err)
	}
	if err := db.migrate(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", db.Path, err)
	}
	if err := db.db.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&db.pageSize); err != nil {
		return fmt.Errorf("open %s: page size: %w", db.Path, err)
	}
	return db.failInterruptedRuns(ctx)
}

// initPageSize gives a database not yet written (an empty file and no WAL) pageSize
// and WAL mode, before the pool's connections set WAL mode, after which SQLite keeps
// the page size it has. A process creating the same database at the same moment holds
// it locked for a moment, and changing the journal mode does not wait out a lock
// (SQLITE_BUSY at once, 1–3 % of simultaneous creations): it is tried again every
// initRetry, for up to initTimeout, unless the other process has made it meanwhile.
func (db *DB) initPageSize(ctx context.Context) error {
	deadline := time.Now().Add(initTimeout)
	for {
		err := db.tryInitPageSize(ctx)
		var se sqlite3.Error
		if err == nil || !errors.As(err, &se) || (se.Code != sqlite3.ErrBusy && se.Code != sqlite3.ErrLocked) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(initRetry):
		}
	}
}

// initRetry and initTimeout bound initPageSize's waiting for another process's creation.
const (
	initRetry   = 25 * time.Millisecond
	initTimeout = 10 * time.Second // the pool's busy timeout
)

// tryInitPageSize is one try of initPageSize: nothing when the database or its WAL
// has been written.
func (db *DB) tryInitPageSize(ctx context.Context) error {
	for _, p := range []string{db.Path, db.Path + "-wal"} {
		if st, err := os.Stat(p); err == nil && st.Size() > 0 {
			return nil
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("open %s: %w", db.Path, err)
		}
	}
	init, err := sql.Open(driverName, "file:"+url.PathEscape(db.Path))
	if err != nil {
		return err
	}
	defer init.Close()
	conn, err := init.Conn(ctx) // page_size is the connection's: both pragmas on one
	if err != nil {
		return fmt.Errorf("create %s: %w", db.Path, err)
	}
	defer conn.Close()
	for _, pragma := range []string{fmt.Sprintf("PRAGMA page_size = %d", pageSize), "PRAGMA journal_mode = WAL"} {
		if _, err := conn.ExecContext(ctx, pragma); err != nil {
			return fmt.Errorf("create %s: %s: %w", db.Path, pragma, err)
		}
	}
	if err := conn.Close(); err != nil {
		return err
	}
	return init.Close()
}

// mode is Mode or its default.
func (db *DB) mode() fs.FileMode {
	if db.Mode == 0 {
		return atomicfile.DefaultMode
	}
	return db.Mode
}

// prepareFile makes a new database file with the mode before SQLite opens it, since
// SQLite would create it 0644 less the umask (world-readable under the usual 022),
// and narrows an existing database, -wal and -shm that allow more than the mode (made
// by an older version): they hold pupils' pseudonyms. It never widens a mode.
func (db *DB) prepareFile() error {
	mode := db.mode()
	f, err := os.OpenFile(db.Path, os.O_RDWR|os.O_CREATE|os.O_EXCL, mode)
	if err == nil {
		err = f.Chmod(mode) // whatever the umask
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("create %s: %w", db.Path, err)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create %s: %w", db.Path, err)
	}
	for _, p := range []string{db.Path, db.Path + "-wal", db.Path + "-shm"} {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return fmt.Errorf("open %s: %w", db.Path, err)
		}
		if !st.Mode().IsRegular() {
			return fmt.Errorf("open %s: %s is not a regular file", db.Path, p)
		}
		if perm := st.Mode().Perm(); perm&^mode != 0 {
			if err := os.Chmod(p, perm&mode); err != nil {
				return fmt.Errorf("open %s: narrow the mode of %s from %04o to %04o: %w", db.Path, p, perm, perm&mode, err)
			}
		}
	}
	return nil
}

// Close closes the database.
func (db *DB) Close() error {
	if db.db == nil {
		return nil
	}
	db.checkpoints.close()
	for _, in := range []*interner{db.names, db.shapes, db.sources} {
		in.close()
	}
	return db.db.Close()
}

func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrationFS, "migration/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if db.migrations != nil && !db.migrations(name) {
			continue
		}
		if err := db.migrateFile(ctx, name); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func (db *DB) migrateFile(ctx context.Context, name string) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return err
	} else if n > 0 {
		return nil
	}
	buf, err := migrationFS.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(buf)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO migrations (name) VALUES (?)`, name); err != nil {
		return err
	}
	return tx.Commit()
}

// IntegrityCheck runs PRAGMA integrity_check and returns its answer ("ok" when sound).
func (db *DB) IntegrityCheck(ctx context.Context) (string, error) {
	var s string
	err := db.db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&s)
	return s, err
}

// nanos and fromNanos store times as UTC unix nanoseconds.
func nanos(t time.Time) int64 { return t.UTC().UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// dayStart is the first instant of a day ("2006-01-02") in unix nanoseconds; dayEnd
// the first after it. As bounds of an audit's period they are clamped to what the
// nanoseconds hold: no stored record lies outside (ingest rejects such times), so an
// open end "to 9999-12-31" bounds nothing, where the unchecked UnixNano wrapped it to a
// day in the past and the audit saw nothing. purge --before, which deletes, takes
// dayStartExact instead.
func dayStart(day string) (int64, error) {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return 0, err
	}
	return clampedNanos(t), nil
}

func dayEnd(day string) (int64, error) {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return 0, err
	}
	return clampedNanos(t.AddDate(0, 0, 1)), nil
}

// dayStartExact is dayStart, or errTimeRange where the nanoseconds would not hold it.
func dayStartExact(day string) (int64, error) {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return 0, err
	}
	return exactNanos(t)
}

// clampedNanos is t in unix nanoseconds, the least or greatest int64 where t is
// before or after what they hold.
func clampedNanos(t time.Time) int64 {
	if n, err := exactNanos(t); err == nil {
		return n
	}
	if t.Before(time.Unix(0, 0)) {
		return math.MinInt64
	}
	return math.MaxInt64
}

// errTimeRange is a time unix nanoseconds in an int64 cannot hold.
var errTimeRange = errors.New("outside the times the store holds exactly (from 1677-09-21T00:12:44Z to 2262-04-11T23:47:16Z)")

// exactNanos is t in unix nanoseconds, or errTimeRange where they would wrap.
func exactNanos(t time.Time) (int64, error) {
	n := t.UnixNano()
	if !time.Unix(0, n).Equal(t) {
		return 0, errTimeRange
	}
	return n, nil
}
