package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// mustOpenTemp opens a fresh database in t's temporary directory.
func mustOpenTemp(t *testing.T) *DB {
	t.Helper()
	return mustOpen(t, NewDB(filepath.Join(t.TempDir(), "batch.db")))
}

// queryEachSQL is queryEach row by row through database/sql: what the batch reader must
// answer (the tests' reference).
func (db *DB) queryEachSQL(ctx context.Context, query string, args []any, dest []any, each func() error) error {
	rows, err := db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	return scanRows(ctx, rows, func() error {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		return each()
	})
}

// scanAll is every row a reader gave, each column as database/sql would print it.
func scanAll(t *testing.T, read func(ctx context.Context, query string, args []any, dest []any, each func() error) error, query string, args ...any) []string {
	t.Helper()
	var n, i int64
	var s, b sql.RawBytes
	var rows []string
	err := read(context.Background(), query, args, []any{&n, &s, &b, &i}, func() error {
		rows = append(rows, fmt.Sprintf("%d|%q|%v/%x|%d", n, s, b == nil, []byte(b), i))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestBatchReaderAnswersAsDatabaseSQL: the batch reader gives every row database/sql
// gives, in order, column for column — across batch boundaries, with rows larger than
// a batch, empty and NULL texts and blobs, NUL bytes and any alphabet, floats into
// integers, and bound arguments of every kind it takes.
func TestBatchReaderAnswersAsDatabaseSQL(t *testing.T) {
	db := mustOpenTemp(t)
	ctx := context.Background()
	if _, err := db.db.ExecContext(ctx, `CREATE TABLE t (n INTEGER, s TEXT, b BLOB, f)`); err != nil {
		t.Fatal(err)
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	values := []string{"", "a", "ääkkö\x00sámi ŋ", "𝔘nicode", strings.Repeat("x", 200)}
	big := map[int]string{1234: strings.Repeat("x", batchBytes+17), 1235: strings.Repeat("ü", 3*batchBytes), 4000: strings.Repeat("y", batchBytes-40)}
	for i := range 5000 {
		s := any(values[i%len(values)])
		var b any = []byte(values[(i+1)%len(values)])
		if v, ok := big[i]; ok {
			s, b = v, []byte(v)
		}
		if i%7 == 3 {
			s = nil
		}
		if i%11 == 5 {
			b = nil
		}
		if i%13 == 6 {
			b = []byte{}
		}
		var f any = int64(i) * 3
		if i%5 == 0 {
			f = float64(i) + 0.75 // read CAST in SQL: into an int64 an error (TestBatchReaderErrors)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO t VALUES (?, ?, ?, ?)`, int64(i)-2500, s, b, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if !batchSupported {
		t.Fatal("the binary's SQLite lacks what the batch reader calls")
	}
	for _, q := range []struct {
		query string
		args  []any
	}{
		{`SELECT n, s, b, CAST(f AS INTEGER) FROM t ORDER BY rowid`, nil},
		{`SELECT n, s, b, f FROM t WHERE typeof(f) = 'integer' ORDER BY rowid`, nil},
		{`SELECT n, s, b, n FROM t WHERE n BETWEEN ? AND ? AND s != ? AND (b IS ? OR b != ?) ORDER BY rowid DESC`,
			[]any{-100, int64(900), "a", nil, []byte("ääkkö\x00sámi ŋ")}},
		{`SELECT n, s, b, n FROM t WHERE n > ? AND ?`, []any{4000, true}},
		{`SELECT n, s, b, n FROM t WHERE n < ?`, []any{-1e9}},
	} {
		want := scanAll(t, db.queryEachSQL, q.query, q.args...)
		// in C packed, in C column by column, and encoded from database/sql
		for _, mode := range []struct{ off, packed bool }{{false, true}, {false, false}, {true, false}} {
			db.batchOff, rowSupported = mode.off, mode.packed
			got := scanAll(t, db.queryEach, q.query, q.args...)
			if len(got) != len(want) {
				t.Fatalf("%s (%+v): %d rows, database/sql %d", q.query, mode, len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%s (%+v): row %d: %.200s, database/sql %.200s", q.query, mode, i, got[i], want[i])
				}
			}
		}
		db.batchOff, rowSupported = false, true
	}
}

// TestBatchReaderUsesTheHandle: the reader finds mattn/go-sqlite3's handle and reads
// an audit's queries packed with it (a version of the package that renamed the field
// would send every scan through database/sql, and an SQLite that refused the packing
// would read column by column: slower, and unnoticed).
func TestBatchReaderUsesTheHandle(t *testing.T) {
	db := mustOpenTemp(t)
	conn, err := db.db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Raw(func(dc any) error {
		if handleOf(dc) == nil {
			return errors.New("no sqlite3 handle in the driver's connection")
		}
		if handleOf(struct{}{}) != nil {
			return errors.New("a handle from another driver's connection")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// and reads the queries of an audit's scan and role set packed, on any connection
	for _, q := range []string{
		`SELECT t.id, t.time, t.sp, t.controller, t.subject, t.shape, t.school, t.fingerprints,
			CASE WHEN t.role = 2 THEN 3 ELSE COALESCE((SELECT s.learner * 2 + s.role_known FROM subject_roles s WHERE s.subject = t.subject AND s.sp = t.sp), 0) | (t.role > 0) END
		FROM releases t WHERE t.seq BETWEEN ? AND ? ORDER BY t.seq`,
		`SELECT subject, sp, learner, role_known FROM subject_roles WHERE subject < '8'`,
		`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c LIMIT 3) SELECT i, i * 2 FROM c`,
	} {
		for range 2 { // the function made on the first, there on the second
			if packed, err := db.readsPacked(context.Background(), q); err != nil || !packed {
				t.Fatalf("%.60s…: packed %v (%v)", q, packed, err)
			}
		}
	}
}

// onHandle runs fn on one connection's sqlite3 handle (and its driver connection).
func onHandle(t *testing.T, db *DB, fn func(c *sqlite3.SQLiteConn, h handle) error) {
	t.Helper()
	conn, err := db.db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Raw(func(dc any) error {
		h := handleOf(dc)
		if h == nil {
			return errors.New("no handle")
		}
		return fn(dc.(*sqlite3.SQLiteConn), h)
	}); err != nil {
		t.Fatal(err)
	}
}

// readRaw is every batch byte query gives on h, read packed where the reader packs it,
// or column by column.
func readRaw(ctx context.Context, h handle, query string, packed bool, bufSize int) ([]byte, error) {
	defer func(was bool) { rowSupported = was }(rowSupported)
	rowSupported = packed
	var out []byte
	err := batchQuery(ctx, h, query, nil, func() ([]byte, error) { return make([]byte, bufSize), nil }, func(b []byte, rows, ncol int) error {
		out = append(out, b...)
		return nil
	})
	return out, err
}

// TestPackedRowsKeepTheirTypes: a query read packed gives every value with the type
// and bytes it has read column by column, and a query whose wrapping would change one
// (a compound SQLite cannot flatten, its first arm REAL: the other arms' INTEGERs read
// as FLOATs through the CTE) is read column by column.
func TestPackedRowsKeepTheirTypes(t *testing.T) {
	db := mustOpenTemp(t)
	ctx := context.Background()
	if _, err := db.db.ExecContext(ctx, `CREATE TABLE t (n INTEGER, s TEXT, r REAL, x NUMERIC, b BLOB)`); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		if _, err := db.db.ExecContext(ctx, `INSERT INTO t VALUES (?, ?, ?, ?, ?)`, i, fmt.Sprint(i), float64(i)+0.5, fmt.Sprint(i*10), []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		query  string
		packed bool
	}{
		{`SELECT r FROM t WHERE n < 5 UNION SELECT n FROM t WHERE n > 35`, false},
		{`SELECT r FROM t WHERE n < 5 UNION ALL SELECT n FROM t WHERE n > 35`, false},
		{`SELECT CAST(n AS REAL) FROM t WHERE n < 5 UNION SELECT n FROM t WHERE n > 35`, true},
		{`SELECT s FROM t WHERE n < 5 UNION SELECT n FROM t WHERE n > 35`, true},
		{`SELECT x FROM t UNION SELECT s FROM t UNION SELECT b FROM t`, true},
		{`SELECT n, s, r, x, b FROM t ORDER BY n DESC LIMIT 7`, true},
		{`SELECT s, row_number() OVER (ORDER BY r) FROM t`, true},
		{`SELECT count(*), s, max(r) FROM t GROUP BY s`, true},
		{`SELECT DISTINCT x FROM t`, true},
		{`SELECT * FROM (SELECT r FROM t LIMIT 3) UNION SELECT n FROM t`, true},
	} {
		onHandle(t, db, func(_ *sqlite3.SQLiteConn, h handle) error {
			packed, err := packsOn(h, c.query)
			if err != nil {
				return err
			}
			// which queries pack is SQLite's to change; that the values stay is not
			if c.packed && !packed {
				t.Logf("%s: read column by column", c.query)
			}
			if !c.packed && packed {
				t.Errorf("%s: packed, its values changed by the wrapping", c.query)
			}
			want, err := readRaw(ctx, h, c.query, false, batchBytes)
			if err != nil {
				return err
			}
			got, err := readRaw(ctx, h, c.query, true, batchBytes)
			if err != nil {
				return err
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: packed %x, column by column %x", c.query, got, want)
			}
			return nil
		})
	}
}

// TestPackedRowLeftPendingSurvivesAnotherQuery: a packed row left pending (it did not
// fit the batch) is read whole after another packed query ran on the same connection
// in between (a row handed over as the connection's scratch, SQLITE_STATIC, was that
// query's last row by then).
func TestPackedRowLeftPendingSurvivesAnotherQuery(t *testing.T) {
	db := mustOpenTemp(t)
	ctx := context.Background()
	outer := `WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 30)
		SELECT i, printf('%.*c', 1000 + i, char(64 + i % 26)) FROM k`
	inner := `WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 5)
		SELECT -i, printf('%.*c', 3000, 'z') FROM k`
	onHandle(t, db, func(_ *sqlite3.SQLiteConn, h handle) error {
		want, err := readRaw(ctx, h, outer, false, batchBytes)
		if err != nil {
			return err
		}
		var got []byte
		batches := 0
		err = batchQuery(ctx, h, outer, nil, func() ([]byte, error) { return make([]byte, 2500), nil }, func(b []byte, rows, ncol int) error {
			got = append(got, b...)
			batches++
			_, err := readRaw(ctx, h, inner, true, batchBytes) // while outer's next row is pending
			return err
		})
		if err != nil {
			return err
		}
		if batches < 10 || !bytes.Equal(got, want) {
			t.Errorf("%d batches; rows read around another query differ from the rows alone", batches)
		}
		return nil
	})
}

// TestPackedRowOverTheLengthLimit: a row whose values are each under SQLite's length
// limit but packed are over it is read column by column when no batch has been handed
// on yet, and is an error naming the limit after one has (its rows cannot be read
// again without handing some twice).
func TestPackedRowOverTheLengthLimit(t *testing.T) {
	db := mustOpenTemp(t)
	ctx := context.Background()
	onHandle(t, db, func(c *sqlite3.SQLiteConn, h handle) error {
		was := c.SetLimit(sqlite3.SQLITE_LIMIT_LENGTH, 1000)
		defer c.SetLimit(sqlite3.SQLITE_LIMIT_LENGTH, was)
		q := `SELECT printf('%.*c', 600, 'a'), printf('%.*c', 600, 'b')`
		want, err := readRaw(ctx, h, q, false, batchBytes)
		if err != nil {
			return err
		}
		if got, err := readRaw(ctx, h, q, true, batchBytes); err != nil || !bytes.Equal(got, want) {
			t.Errorf("the row alone: %d bytes, %v; want %d", len(got), err, len(want))
		}
		late := `WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 100)
			SELECT printf('%.*c', CASE WHEN i < 100 THEN 10 ELSE 600 END, 'a'), printf('%.*c', 600, 'b') FROM k`
		if _, err := readRaw(ctx, h, late, true, 4096); err == nil || !strings.Contains(err.Error(), "length limit") {
			t.Errorf("the row after batches: %v, want an error naming the length limit", err)
		}
		return nil
	})
}

// TestBatchReaderErrors: a NULL into an integer, a destination or an argument it does
// not take, SQL that does not prepare and a failing step are errors naming what failed;
// the connection serves the next query.
func TestBatchReaderErrors(t *testing.T) {
	db := mustOpenTemp(t)
	ctx := context.Background()
	var n int64
	var f float64
	var raw sql.RawBytes
	var str string
	for _, c := range []struct {
		query string
		args  []any
		dest  []any
		want  string
	}{
		{`SELECT NULL`, nil, []any{&n}, "column 0: NULL into int64"},
		{`SELECT 'x'`, nil, []any{&n}, "column 0: TEXT into int64"},
		{`SELECT 1.5`, nil, []any{&f}, "*float64 not supported"},
		{`SELECT 2.75`, nil, []any{&n}, "FLOAT 2.75 into int64"},
		{`SELECT 1e20`, nil, []any{&n}, "FLOAT 1e+20 into int64"},
		{`SELECT 9e999`, nil, []any{&n}, "FLOAT +Inf into int64"},
		{`SELECT 123`, nil, []any{&raw}, "INTEGER into RawBytes"},
		{`SELECT 1.5`, nil, []any{&str}, "FLOAT into string"},
		{`SELECT ?`, []any{uint8(1)}, []any{&n}, "argument 1: uint8 not supported"},
		{`SELEKT 1`, nil, []any{&n}, "syntax error"},
		{`SELECT 1, 2`, nil, []any{&n}, "1 destinations for 2 columns"},
		{`SELECT abs(-9223372036854775807 - 1)`, nil, []any{&n}, "integer overflow"},
	} {
		err := db.queryEach(ctx, c.query, c.args, c.dest, func() error { return nil })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.query, err, c.want)
		}
	}
	stop := errors.New("stop")
	if err := db.queryEach(ctx, `SELECT 1 UNION ALL SELECT 2`, nil, []any{&n}, func() error { return stop }); err != stop {
		t.Errorf("each's error: %v", err)
	}
	// a whole FLOAT is an int64, as database/sql has it; a nil []byte binds NULL, as
	// mattn/go-sqlite3 binds it
	if err := db.queryEach(ctx, `SELECT 3.0`, nil, []any{&n}, func() error { return nil }); err != nil || n != 3 {
		t.Errorf("SELECT 3.0: %d %v", n, err)
	}
	if err := db.queryEach(ctx, `SELECT ? IS NULL`, []any{[]byte(nil)}, []any{&n}, func() error { return nil }); err != nil || n != 1 {
		t.Errorf("a nil []byte: IS NULL %d %v", n, err)
	}
	var got []int64
	if err := db.queryEach(ctx, `SELECT 7 UNION ALL SELECT 8`, nil, []any{&n}, func() error { got = append(got, n); return nil }); err != nil || len(got) != 2 || got[1] != 8 {
		t.Errorf("after the errors: %v %v", got, err)
	}
}

// TestBatchReaderStopsWithItsContext: a context that ends mid-scan, or in the middle of
// a long step, ends the scan with its error, and leaves no interruption behind for the
// connection's next query.
func TestBatchReaderStopsWithItsContext(t *testing.T) {
	db := mustOpenTemp(t)
	db.db.SetMaxOpenConns(1) // the next query gets the same connection
	ctx, cancel := context.WithCancel(context.Background())
	var n int64
	rows := 0
	// an endless recursive query: only the interruption ends a step that never answers
	endless := `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c) SELECT i FROM c WHERE i < 0`
	err := db.queryEach(ctx, `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c) SELECT i FROM c`, nil, []any{&n}, func() error {
		if rows++; rows == 100_000 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || rows > 100_000+batchBytes/9 {
		t.Fatalf("after %d rows: %v", rows, err)
	}
	// the step that never answers has begun long before the deadline: not a measure of
	// speed, only a query the deadline must end
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := db.queryEach(ctx, endless, nil, []any{&n}, func() error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a long step: %v", err)
	}
	var s sql.RawBytes
	if err := db.queryEach(context.Background(), `SELECT 'next'`, nil, []any{&s}, func() error { return nil }); err != nil || !bytes.Equal(s, []byte("next")) {
		t.Fatalf("the next query: %q %v", s, err)
	}
}

// TestBatchReaderRowsAroundABatch: rows of every size about a batch's, ending in a
// NULL, a short text or an integer, each read whole, in a batch of its own or not (a
// row whose room was reckoned short once looped for ever).
func TestBatchReaderRowsAroundABatch(t *testing.T) {
	db := mustOpenTemp(t)
	ctx := context.Background()
	defer func() { db.batchOff, rowSupported = false, true }()
	for _, last := range []string{"NULL", "'ab'", "7", "x''"} {
		for _, mode := range []struct{ off, packed bool }{{false, true}, {false, false}, {true, false}} {
			db.batchOff, rowSupported = mode.off, mode.packed
			q := `WITH RECURSIVE k(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM k WHERE i < ?)
				SELECT length(zeroblob(i)), zeroblob(i), ` + last + ` FROM k`
			var size, number int64
			var blob, tail sql.RawBytes
			dest := []any{&size, &blob, &tail}
			if last == "7" {
				dest[2] = &number
			}
			rows := 0
			err := db.queryEach(ctx, q, []any{batchBytes - 24, batchBytes + 4}, dest, func() error {
				if int64(len(blob)) != size {
					return fmt.Errorf("a blob of %d read as %d bytes", size, len(blob))
				}
				rows++
				return nil
			})
			if err != nil || rows != 29 {
				t.Fatalf("last column %s (%+v): %d rows, %v", last, mode, rows, err)
			}
		}
	}
}

// dumpTable is every row of a query, each column as database/sql prints it.
func dumpTable(t *testing.T, db *DB, query string) []string {
	t.Helper()
	rows, err := db.db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var out []string
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := ""
		for _, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			row += fmt.Sprintf("%T:%q|", v, fmt.Sprint(v))
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestExecerStoresAsDatabaseSQL: the ingest's inserts and the audit's staged findings
// through the execer store what database/sql stores, row for row — new rows, a
// partial statement, duplicates, an id conflict with its rejection, and findings
// across staging commits.
func TestExecerStoresAsDatabaseSQL(t *testing.T) {
	ctx := context.Background()
	var dumps [2][]string
	for k, off := range []bool{false, true} {
		db := mustOpenTemp(t)
		db.batchOff = off
		db.Now = func() time.Time { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) }
		rows := releaseRows(t, db, 0, 1000) // 15 statements and a partial one
		var log []string
		for _, batch := range [][]Row{rows, rows[100:300]} { // the second all duplicates
			c, conflicts, err := db.InsertBatch(ctx, batch, nil, 10)
			if err != nil {
				t.Fatal(err)
			}
			log = append(log, fmt.Sprintf("%+v %d", c, len(conflicts)))
		}
		conflict := releaseRows(t, db, 5, 1)
		conflict[0].Record.Subject = "another"
		if c, conflicts, err := db.InsertBatch(ctx, conflict, nil, 10); err != nil || len(conflicts) != 1 {
			t.Fatalf("batchOff %v: a conflict: %+v %v %v", off, c, conflicts, err)
		}
		run := &mpass.Run{}
		if err := db.CreateRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		w := db.NewFindingWriter(ctx)
		w.perCommit = 70
		for b := range 5 {
			var fs []mpass.Finding
			for i := range 37 {
				n := b*37 + i
				fs = append(fs, mpass.Finding{ID: fmt.Sprintf("f%03d", n), RunID: run.ID, Term: "age", Rule: []string{"grade", "birth-year"}[n%2],
					Result: mpass.ResultFail, Severity: "high", Message: "ääkkö\x00s", Record: fmt.Sprintf("r%03d", 300-n), Kind: mpass.KindRelease,
					Time: time.Unix(int64(n), 0), SP: fmt.Sprintf("https://sp%d.example/shibboleth", n%3), Controller: "1.2.246.562.10.44444444440",
					Subject: "s", Attribute: "mail", Fingerprint: "ab", Change: mpass.ChangeNew})
			}
			if err := w.Write(ctx, fs); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		// names by name: they are numbered as a batch's map gives them
		dumps[k] = append(log, dumpTable(t, db, `SELECT r.seq, r.id, r.time, sp.name, c.name, r.subject, r.role, s.facts, r.fingerprints, r.school, r.line
			FROM releases r JOIN names sp ON sp.id = r.sp JOIN names c ON c.id = r.controller JOIN shapes s ON s.id = r.shape ORDER BY r.seq`)...)
		// (a conflict's digest hashes the row's name numbers: not compared)
		dumps[k] = append(dumps[k], dumpTable(t, db, `SELECT source, line, field, reason FROM rejections ORDER BY id`)...)
		dumps[k] = append(dumps[k], dumpTable(t, db, `SELECT `+findingColumns+` FROM finding_rows ORDER BY seq`)...)
	}
	if len(dumps[0]) < 1000+2+1+185 {
		t.Fatalf("%d rows in all", len(dumps[0]))
	}
	if !slices.Equal(dumps[0], dumps[1]) {
		for i := range min(len(dumps[0]), len(dumps[1])) {
			if dumps[0][i] != dumps[1][i] {
				t.Fatalf("row %d: %s, through database/sql %s", i, dumps[0][i], dumps[1][i])
			}
		}
		t.Fatalf("%d rows, through database/sql %d", len(dumps[0]), len(dumps[1]))
	}
}

// TestExecerErrors: a statement that fails names its run and SQLite's reason, keeps
// the runs before it, and leaves the statement ready for the next call; an argument of
// a type the C side does not write runs through database/sql — in C and without it.
func TestExecerErrors(t *testing.T) {
	for _, off := range []bool{false, true} {
		db := mustOpenTemp(t)
		db.batchOff = off
		ctx := context.Background()
		if _, err := db.db.ExecContext(ctx, `CREATE TABLE t (n INTEGER NOT NULL, s TEXT)`); err != nil {
			t.Fatal(err)
		}
		conn, err := db.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ex := db.newExecer(conn)
		var args []byte
		args = appendText(appendInt(args, 1), "a")
		args, _ = appendBatchValue(args, nil)
		args = appendText(args, "b")
		n, err := ex.execEach(ctx, `INSERT INTO t VALUES (?, ?)`, 2, 2, args)
		if n != 1 || err == nil || !strings.Contains(err.Error(), "run 2") || !strings.Contains(err.Error(), "NOT NULL constraint failed") {
			t.Fatalf("batchOff %v: %d, %v", off, n, err)
		}
		if n, err := ex.exec(ctx, `INSERT INTO t VALUES (?, ?)`, []any{7, []byte(nil)}); err != nil || n != 1 {
			t.Fatalf("batchOff %v: the next call: %d %v", off, n, err)
		}
		if n, err := ex.exec(ctx, `INSERT INTO t VALUES (?, ?)`, []any{uint8(9), "x"}); err != nil || n != 1 {
			t.Fatalf("batchOff %v: a uint8: %d %v", off, n, err)
		}
		ex.close()
		conn.Close()
		want := []string{`int64:"1"|string:"a"|`, `int64:"7"|<nil>:"<nil>"|`, `int64:"9"|string:"x"|`}
		if got := dumpTable(t, db, `SELECT n, s FROM t ORDER BY n`); !slices.Equal(got, want) {
			t.Fatalf("batchOff %v: stored %v", off, got)
		}
	}
}
