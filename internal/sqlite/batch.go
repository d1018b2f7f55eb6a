package sqlite

/*
// The SQLite that mattn/go-sqlite3 compiles into the binary (or links, with its
// libsqlite3 tag), called on a connection of its own. Declared here rather than
// included: that package's header is not on this package's include path. Weak, so that
// cgo's own link of this package alone (to find its dynamic imports) leaves them
// unresolved instead of failing; the binary's link resolves them to mattn's
// definitions, and batchSupported checks that it did.
typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;
extern int sqlite3_prepare_v2(sqlite3*, const char*, int, sqlite3_stmt**, const char**) __attribute__((weak));
extern int sqlite3_step(sqlite3_stmt*) __attribute__((weak));
extern int sqlite3_finalize(sqlite3_stmt*) __attribute__((weak));
extern int sqlite3_column_count(sqlite3_stmt*) __attribute__((weak));
extern int sqlite3_column_type(sqlite3_stmt*, int) __attribute__((weak));
extern long long sqlite3_column_int64(sqlite3_stmt*, int) __attribute__((weak));
extern double sqlite3_column_double(sqlite3_stmt*, int) __attribute__((weak));
extern const unsigned char *sqlite3_column_text(sqlite3_stmt*, int) __attribute__((weak));
extern const void *sqlite3_column_blob(sqlite3_stmt*, int) __attribute__((weak));
extern int sqlite3_column_bytes(sqlite3_stmt*, int) __attribute__((weak));
extern int sqlite3_bind_int64(sqlite3_stmt*, int, long long) __attribute__((weak));
extern int sqlite3_bind_double(sqlite3_stmt*, int, double) __attribute__((weak));
extern int sqlite3_bind_text(sqlite3_stmt*, int, const char*, int, void(*)(void*)) __attribute__((weak));
extern int sqlite3_bind_blob(sqlite3_stmt*, int, const void*, int, void(*)(void*)) __attribute__((weak));
extern int sqlite3_bind_null(sqlite3_stmt*, int) __attribute__((weak));
extern const char *sqlite3_errmsg(sqlite3*) __attribute__((weak));
extern void sqlite3_interrupt(sqlite3*) __attribute__((weak));
extern int sqlite3_reset(sqlite3_stmt*) __attribute__((weak));
extern int sqlite3_clear_bindings(sqlite3_stmt*) __attribute__((weak));
extern int sqlite3_changes(sqlite3*) __attribute__((weak));
typedef struct sqlite3_context sqlite3_context;
typedef struct sqlite3_value sqlite3_value;
extern int sqlite3_create_function_v2(sqlite3*, const char*, int, int, void*,
	void (*)(sqlite3_context*, int, sqlite3_value**), void (*)(sqlite3_context*, int, sqlite3_value**),
	void (*)(sqlite3_context*), void (*)(void*)) __attribute__((weak));
extern void *sqlite3_user_data(sqlite3_context*) __attribute__((weak));
extern int sqlite3_value_type(sqlite3_value*) __attribute__((weak));
extern long long sqlite3_value_int64(sqlite3_value*) __attribute__((weak));
extern double sqlite3_value_double(sqlite3_value*) __attribute__((weak));
extern const unsigned char *sqlite3_value_text(sqlite3_value*) __attribute__((weak));
extern const void *sqlite3_value_blob(sqlite3_value*) __attribute__((weak));
extern int sqlite3_value_bytes(sqlite3_value*) __attribute__((weak));
extern void sqlite3_result_blob(sqlite3_context*, const void*, int, void(*)(void*)) __attribute__((weak));
extern void sqlite3_result_error_nomem(sqlite3_context*) __attribute__((weak));
extern void sqlite3_result_error_toobig(sqlite3_context*) __attribute__((weak));
extern sqlite3 *sqlite3_context_db_handle(sqlite3_context*) __attribute__((weak));
extern int sqlite3_limit(sqlite3*, int, int) __attribute__((weak));

#include <stdlib.h>
#include <string.h>

static int batch_supported(void) {
	return sqlite3_prepare_v2 && sqlite3_step && sqlite3_finalize && sqlite3_column_count &&
		sqlite3_column_type && sqlite3_column_int64 && sqlite3_column_double &&
		sqlite3_column_text && sqlite3_column_blob && sqlite3_column_bytes &&
		sqlite3_bind_int64 && sqlite3_bind_double && sqlite3_bind_text && sqlite3_bind_blob &&
		sqlite3_bind_null && sqlite3_errmsg && sqlite3_interrupt && sqlite3_reset &&
		sqlite3_clear_bindings && sqlite3_changes;
}

// row_supported is whether the binary's SQLite has what a packed row (row_func) needs.
static int row_supported(void) {
	return sqlite3_create_function_v2 && sqlite3_user_data && sqlite3_value_type && sqlite3_value_int64 &&
		sqlite3_value_double && sqlite3_value_text && sqlite3_value_blob && sqlite3_value_bytes &&
		sqlite3_result_blob && sqlite3_result_error_nomem && sqlite3_result_error_toobig &&
		sqlite3_context_db_handle && sqlite3_limit;
}

// A packed row: the SQL function mpass_batch_row(a, b, ...) answers its arguments
// encoded as put_row writes columns, as one BLOB, so that a batch takes a row with two
// column calls rather than two or three a column, each of which takes the connection's
// mutex (the arguments' sqlite3_value_* calls take none). The row is built in the
// connection's scratch and handed to SQLite as SQLITE_TRANSIENT: the statement keeps its
// own copy (in a result register it reuses), so a row left pending survives another
// statement's packing on the connection. A scratch grown past ROW_SCRATCH_KEEP for a
// large row is let go once used, so that a pooled connection does not hold it.
struct row_scratch { unsigned char *p; long cap; };
#define ROW_SCRATCH_KEEP (64L << 10)

static void row_scratch_free(void *x) {
	struct row_scratch *s = x;
	free(s->p);
	free(s);
}

static void row_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
	struct row_scratch *s = sqlite3_user_data(ctx);
	long n = 0;
	for (int i = 0; i < argc; i++) {
		int t = sqlite3_value_type(argv[i]);
		if (t == 3) sqlite3_value_text(argv[i]); // the text form first, then its length
		if (t == 3 || t == 4) n += 5 + (long)sqlite3_value_bytes(argv[i]);
		else n += t == 5 ? 1 : 9;
	}
	// SQLITE_LIMIT_LENGTH (0): SQLite would refuse the BLOB; SQLITE_TOOBIG, which the
	// reader answers by reading the query column by column
	if (n > (long)sqlite3_limit(sqlite3_context_db_handle(ctx), 0, -1)) {
		sqlite3_result_error_toobig(ctx);
		return;
	}
	if (n > s->cap) {
		long c = s->cap * 2 > n ? s->cap * 2 : n;
		if (c < 4096) c = 4096;
		unsigned char *p = realloc(s->p, c);
		if (!p) {
			sqlite3_result_error_nomem(ctx);
			return;
		}
		s->p = p;
		s->cap = c;
	}
	unsigned char *p = s->p;
	for (int i = 0; i < argc; i++) {
		int t = sqlite3_value_type(argv[i]);
		*p++ = (unsigned char)t;
		if (t == 1) {
			long long v = sqlite3_value_int64(argv[i]);
			memcpy(p, &v, 8); p += 8;
		} else if (t == 2) {
			double v = sqlite3_value_double(argv[i]);
			memcpy(p, &v, 8); p += 8;
		} else if (t == 3 || t == 4) {
			const void *b = t == 3 ? (const void*)sqlite3_value_text(argv[i]) : sqlite3_value_blob(argv[i]);
			int k = sqlite3_value_bytes(argv[i]);
			memcpy(p, &k, 4); p += 4;
			if (k > 0) memcpy(p, b, k);
			p += k;
		}
	}
	sqlite3_result_blob(ctx, s->p, (int)n, (void(*)(void*))-1); // SQLITE_TRANSIENT
	if (s->cap > ROW_SCRATCH_KEEP) {
		free(s->p);
		s->p = 0;
		s->cap = 0;
	}
}

// row_register makes mpass_batch_row on db (SQLITE_UTF8 | SQLITE_DIRECTONLY: not from a
// trigger or view), its scratch freed when db closes.
static int row_register(sqlite3 *db) {
	struct row_scratch *s = calloc(1, sizeof *s);
	if (!s) return 7; // SQLITE_NOMEM
	return sqlite3_create_function_v2(db, "mpass_batch_row", -1, 1 | 0x000080000, s, row_func, 0, 0, row_scratch_free);
}

static int batch_prepare(sqlite3 *db, const char *sql, int n, sqlite3_stmt **st) {
	return sqlite3_prepare_v2(db, sql, n, st, 0);
}

// SQLITE_TRANSIENT: SQLite copies the bound bytes before the call returns
static int batch_bind_text(sqlite3_stmt *st, int i, const char *p, int n) {
	return sqlite3_bind_text(st, i, p, n, (void(*)(void*))-1);
}
static int batch_bind_blob(sqlite3_stmt *st, int i, const void *p, int n) {
	return sqlite3_bind_blob(st, i, n > 0 ? p : "", n, (void(*)(void*))-1); // NULL would bind NULL
}

// put_row writes the current row at p if it fits in cap bytes and answers its size,
// or -1: per column its type (SQLite's code) and then an INTEGER's or FLOAT's 8 bytes,
// or a TEXT's or BLOB's 4-byte length and bytes, in the host's byte order. One pass:
// each sqlite3_column_* call takes the connection's mutex. The room asked for is exactly
// what is written, so a buffer of row_size's bytes always takes the row.
static long put_row(sqlite3_stmt *st, int ncol, unsigned char *p, long cap) {
	unsigned char *start = p, *end = p + cap;
	for (int i = 0; i < ncol; i++) {
		int t = sqlite3_column_type(st, i);
		if (end - p < 1) return -1;
		*p++ = (unsigned char)t;
		if (t == 1) {
			long long v = sqlite3_column_int64(st, i);
			if (end - p < 8) return -1;
			memcpy(p, &v, 8); p += 8;
		} else if (t == 2) {
			double v = sqlite3_column_double(st, i);
			if (end - p < 8) return -1;
			memcpy(p, &v, 8); p += 8;
		} else if (t == 3 || t == 4) {
			const void *b = t == 3 ? (const void*)sqlite3_column_text(st, i) : sqlite3_column_blob(st, i);
			int n = sqlite3_column_bytes(st, i);
			if (end - p < 4 + (long)n) return -1;
			memcpy(p, &n, 4); p += 4;
			if (n > 0) memcpy(p, b, n);
			p += n;
		}
	}
	return p - start;
}

// put_packed writes the current row's one column, a packed row (row_func), at p if it
// fits in cap bytes and answers its size, or -1.
static long put_packed(sqlite3_stmt *st, unsigned char *p, long cap) {
	const void *b = sqlite3_column_blob(st, 0);
	long n = sqlite3_column_bytes(st, 0);
	if (n > cap) return -1;
	if (n > 0) memcpy(p, b, n);
	return n;
}

// row_size is what put_row writes for the current row.
static long row_size(sqlite3_stmt *st, int ncol) {
	long n = 0;
	for (int i = 0; i < ncol; i++) {
		int t = sqlite3_column_type(st, i);
		if (t == 3) sqlite3_column_text(st, i);
		if (t == 3 || t == 4) n += 5 + sqlite3_column_bytes(st, i);
		else n += t == 5 ? 1 : 9;
	}
	return n;
}

// batch_fill writes rows into buf until it is full or the statement is done: the row
// the statement stands on first when pending. packed: each row is one packed row
// (mpass_batch_row), copied as it is. It answers SQLite's code: SQLITE_ROW (100)
// when a stepped row is left pending (*need is its size when it alone does not fit),
// SQLITE_DONE (101) at the end, or the error of a step.
static int batch_fill(sqlite3_stmt *st, int ncol, int packed, int pending, unsigned char *buf, long cap, long *used, long *rows, long *need) {
	long off = 0, n = 0;
	*need = 0;
	for (;;) {
		if (!pending) {
			int rc = sqlite3_step(st);
			if (rc != 100) { *used = off; *rows = n; return rc; }
		}
		pending = 0;
		long size = packed ? put_packed(st, buf + off, cap - off) : put_row(st, ncol, buf + off, cap - off);
		if (size < 0) {
			*used = off; *rows = n;
			if (n == 0) *need = packed ? sqlite3_column_bytes(st, 0) : row_size(st, ncol);
			return 100;
		}
		off += size; n++;
	}
}
static int exec_once(sqlite3 *db, sqlite3_stmt *st, const unsigned char **pp, int nargs, long long *changes);

// batch_exec runs the statement times times, each with the next nargs arguments at p
// (written as put_row writes columns), and answers SQLite's code (0 when all are done)
// and the rows they changed; *done is how many ran. The arguments are bound without a
// copy and unbound before it returns: they are Go memory, valid for the call only.
static int batch_exec(sqlite3 *db, sqlite3_stmt *st, const unsigned char *p, int nargs, int times, long long *changes, int *done) {
	*changes = 0;
	*done = 0;
	for (int k = 0; k < times; k++) {
		int rc = exec_once(db, st, &p, nargs, changes);
		if (rc != 0) return rc;
		(*done)++;
	}
	return 0;
}

// exec_once binds nargs arguments from *p on, steps once and unbinds.
static int exec_once(sqlite3 *db, sqlite3_stmt *st, const unsigned char **pp, int nargs, long long *changes) {
	const unsigned char *p = *pp;
	int rc = 0;
	for (int i = 1; i <= nargs && rc == 0; i++) {
		int t = *p++;
		if (t == 1) {
			long long v; memcpy(&v, p, 8); p += 8;
			rc = sqlite3_bind_int64(st, i, v);
		} else if (t == 2) {
			double v; memcpy(&v, p, 8); p += 8;
			rc = sqlite3_bind_double(st, i, v);
		} else if (t == 3 || t == 4) {
			int n; memcpy(&n, p, 4); p += 4;
			rc = t == 3 ? sqlite3_bind_text(st, i, (const char*)p, n, 0)
				: sqlite3_bind_blob(st, i, n > 0 ? (const void*)p : (const void*)"", n, 0); // NULL would bind NULL
			p += n;
		} else {
			rc = sqlite3_bind_null(st, i);
		}
	}
	if (rc == 0) {
		rc = sqlite3_step(st);
		if (rc == 101) {
			rc = 0;
			*changes += sqlite3_changes(db);
		}
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	*pp = p;
	return rc;
}
*/
import "C"

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unsafe"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// batchBytes is the batch reader's buffer: about 400 releases a call into C.
const batchBytes = 64 << 10

// SQLite's column types and result codes, as batch_fill writes and answers them.
const (
	colInteger = 1
	colFloat   = 2
	colText    = 3
	colBlob    = 4
	colNull    = 5

	resultTooBig = 18
	resultRow    = 100
	resultDone   = 101
)

// batchSupported is whether the binary's SQLite has what the batch reader calls.
var batchSupported = C.batch_supported() != 0

// handleOf is the sqlite3* of a mattn/go-sqlite3 connection: its unexported field db,
// read by reflection (the package exports no handle). It is nil when the field is not
// there, as in a version of the package that renamed it: the caller then reads through
// database/sql.
func handleOf(dc any) *C.sqlite3 {
	c, ok := dc.(*sqlite3.SQLiteConn)
	if !ok || c == nil {
		return nil
	}
	f := reflect.ValueOf(c).Elem().FieldByName("db")
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.Type().Elem().Name() != "_Ctype_struct_sqlite3" {
		return nil // renamed, or no longer a sqlite3*
	}
	return (*C.sqlite3)(f.UnsafePointer())
}

// batchFunc takes a batch of rows: b holds rows whole rows of ncol columns each, as
// batch_fill writes them (scanBatchRow reads one); b is the batch's own until the next
// call.
type batchFunc func(b []byte, rows, ncol int) error

// queryBatches runs query on one connection of its own and hands its rows to fn in
// batches written into the buffers buffer gives (a row larger than one gets a buffer of
// its own): one call into SQLite's C a batch instead of one a row through database/sql
// (at 10M releases the driver's per-row work was a fifth of an audit's CPU). Where the
// batch reader cannot run (another driver, or a mattn/go-sqlite3 without the handle it
// reads) the rows come through database/sql, encoded the same. ctx's end interrupts the
// statement and is the error returned.
func (db *DB) queryBatches(ctx context.Context, query string, args []any, buffer func() ([]byte, error), fn batchFunc) error {
	if !batchSupported || db.batchOff {
		return db.queryBatchesSQL(ctx, query, args, buffer, fn)
	}
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	fallback := false
	err = conn.Raw(func(dc any) error {
		h := handleOf(dc)
		if h == nil {
			fallback = true
			return nil
		}
		return batchQuery(ctx, h, query, args, buffer, fn)
	})
	if fallback {
		return db.queryBatchesSQL(ctx, query, args, buffer, fn)
	}
	return err
}

// queryEach runs query (queryBatches) and scans each row into dest before calling each.
// dest holds *int64, *sql.RawBytes (valid until the next call of each) or *string. Its
// conversions are its own, stricter than database/sql's, and an error where they differ:
// an INTEGER or a FLOAT is not formatted into text, nor a TEXT parsed into a number; a
// FLOAT goes into an int64 only when it is a whole number in range; a NULL only into
// RawBytes (nil). An empty TEXT or BLOB is an empty RawBytes, never nil.
func (db *DB) queryEach(ctx context.Context, query string, args []any, dest []any, each func() error) error {
	buf := make([]byte, batchBytes) // a batch is done with when the next is written
	return db.queryBatches(ctx, query, args, func() ([]byte, error) { return buf, nil }, func(b []byte, rows, ncol int) error {
		if ncol != len(dest) {
			return fmt.Errorf("sqlite: %d destinations for %d columns", len(dest), ncol)
		}
		for i := range rows {
			if i%checkEvery == checkEvery-1 { // as scanRows: a batch holds thousands of small rows
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			var err error
			if b, err = scanBatchRow(b, dest); err != nil {
				return err
			}
			if err := each(); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
}

// queryBatchesSQL is queryBatches through database/sql: rows read one at a time and
// encoded as batch_fill writes them.
func (db *DB) queryBatchesSQL(ctx context.Context, query string, args []any, buffer func() ([]byte, error), fn batchFunc) error {
	rows, err := db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var b, row []byte
	n := 0
	flush := func() error {
		err := fn(b, n, len(cols))
		b, n = nil, 0
		return err
	}
	err = scanRows(ctx, rows, func() error {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		row = row[:0]
		for _, v := range vals {
			if row, err = appendBatchValue(row, v); err != nil {
				return err
			}
		}
		if n > 0 && len(b)+len(row) > cap(b) { // full: the row starts the next batch
			if err := flush(); err != nil {
				return err
			}
		}
		if b == nil {
			if b, err = buffer(); err != nil {
				return err
			}
			b = b[:0]
		}
		b = append(b, row...) // a row larger than a buffer: the batch's own, grown
		n++
		return nil
	})
	if err == nil && n > 0 {
		err = flush()
	}
	return err
}

// appendBatchValue appends v, a value database/sql scanned into an any, as batch_fill
// writes a column.
func appendBatchValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, colNull), nil
	case int64:
		return appendInt(b, v), nil
	case bool: // mattn/go-sqlite3's answer for a column declared BOOLEAN
		var i uint64
		if v {
			i = 1
		}
		return binary.NativeEndian.AppendUint64(append(b, colInteger), i), nil
	case float64:
		return binary.NativeEndian.AppendUint64(append(b, colFloat), math.Float64bits(v)), nil
	case string:
		return appendText(b, v), nil
	case []byte:
		if v == nil { // NULL, as mattn/go-sqlite3 binds it
			return append(b, colNull), nil
		}
		return appendBlob(b, v), nil
	}
	return nil, fmt.Errorf("sqlite: a column's %T has no batch form", v)
}

// batchQuery prepares, binds and reads query on h in batches.
func batchQuery(ctx context.Context, h *C.sqlite3, query string, args []any, buffer func() ([]byte, error), fn batchFunc) (err error) {
	var st *C.sqlite3_stmt
	var ncol int
	var packed C.int
	defer func() { C.sqlite3_finalize(st) }() // of NULL: nothing
	start := func(pack bool) error {
		C.sqlite3_finalize(st)
		if st, ncol, packed, err = prepareBatch(h, query, pack); err != nil {
			return err
		}
		return bindAll(h, st, args)
	}
	if err := start(true); err != nil {
		return err
	}
	// ctx's end interrupts a step (a scope's WHERE may step far between two rows)
	interrupted := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		C.sqlite3_interrupt(h)
		close(interrupted)
	})
	defer func() {
		if !stop() { // begun: a late interruption would stop the connection's next query
			<-interrupted
		}
	}()
	var buf []byte
	pending := C.int(0)
	handed := false
	for {
		if buf == nil {
			if buf, err = buffer(); err != nil {
				return err
			}
		}
		var used, rows, need C.long
		rc := C.batch_fill(st, C.int(ncol), packed, pending, (*C.uchar)(unsafe.Pointer(&buf[0])), C.long(len(buf)), &used, &rows, &need)
		if rc != resultRow && rc != resultDone {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			if rc == resultTooBig && packed == 1 {
				// a row over SQLite's length limit once packed, each of its values under
				// it: read column by column, from the start if no batch has gone yet
				if !handed {
					if err := start(false); err != nil {
						return err
					}
					pending = 0
					continue
				}
				return fmt.Errorf("sqlite: a row over SQLite's length limit once packed, after rows before it were read: %w", batchError(h, rc))
			}
			return batchError(h, rc)
		}
		pending = 0
		if rc == resultRow {
			pending = 1
			if need > 0 { // one row alone larger than the buffer: a buffer of its own
				if int(need) <= len(buf) {
					return fmt.Errorf("sqlite: a row of %d bytes does not fit %d", int(need), len(buf))
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				buf = make([]byte, int(need))
				continue
			}
		}
		if rows > 0 {
			if err := fn(buf[:used], int(rows), ncol); err != nil {
				return err
			}
			buf, handed = nil, true
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if rc == resultDone {
			return nil
		}
	}
}

// rowSupported is whether the binary's SQLite has what a packed row needs.
var rowSupported = C.row_supported() != 0

// registerRow makes mpass_batch_row on a new connection (the driver's ConnectHook), so
// that a query the packing cannot wrap is never a reason to make it again: making a
// function expires the connection's prepared statements. A connection without it reads
// column by column.
func registerRow(c *sqlite3.SQLiteConn) error {
	if C.row_supported() == 0 {
		return nil
	}
	h := handleOf(c)
	if h == nil {
		return nil
	}
	if rc := C.row_register(h); rc != 0 {
		return fmt.Errorf("make mpass_batch_row: %w", batchError(h, rc))
	}
	return nil
}

// prepareBatch prepares query on h and answers its statement, its columns and whether
// it reads packed rows: query's rows, each as one BLOB mpass_batch_row wrote (see
// row_func), which batch_fill copies whole. Unless pack, a query of no columns, or one
// the packing cannot wrap or would change (packingKeepsValues), is read column by column.
func prepareBatch(h *C.sqlite3, query string, pack bool) (st *C.sqlite3_stmt, ncol int, packed C.int, err error) {
	st, rc := prepareOn(h, query)
	if rc != 0 {
		return nil, 0, 0, batchError(h, rc)
	}
	ncol = int(C.sqlite3_column_count(st))
	if !pack || !rowSupported || ncol == 0 {
		return st, ncol, 0, nil
	}
	// the query's columns by position (a CTE's column list names them), packed
	cols := make([]string, ncol)
	for i := range cols {
		cols[i] = "c" + strconv.Itoa(i)
	}
	list := strings.Join(cols, ", ")
	wrapped := "WITH mpass_batch(" + list + ") AS (" + query + ") SELECT mpass_batch_row(" + list + ") FROM mpass_batch"
	if !packingKeepsValues(h, query, wrapped) {
		return st, ncol, 0, nil
	}
	ws, rc := prepareOn(h, wrapped)
	if rc != 0 {
		return st, ncol, 0, nil
	}
	C.sqlite3_finalize(st)
	return ws, ncol, 1, nil
}

// prepareOn prepares q on h: the statement, or SQLite's code.
func prepareOn(h *C.sqlite3, q string) (*C.sqlite3_stmt, C.int) {
	cq := C.CString(q)
	defer C.free(unsafe.Pointer(cq))
	var st *C.sqlite3_stmt
	rc := C.batch_prepare(h, cq, C.int(len(q)), &st)
	return st, rc
}

// passOn are the VDBE opcodes that move a value on as it is, or control flow: all that
// wrapping a query in mpass_batch may add to its program when SQLite flattens the CTE
// or runs it as a co-routine (measured on SQLite 3.54: Function, String8, Copy, Move,
// InitCoroutine, Yield, EndCoroutine, Goto, ClrSubtype). A CTE SQLite cannot flatten otherwise
// applies its columns' affinity as it reads them (a compound whose first arm is REAL
// turns the other arms' INTEGERs into FLOATs: RealAffinity; a materialized CTE: an
// Affinity or MakeRecord's), which the query alone does not.
var passOn = map[string]bool{
	"Function": true, "PureFunc": true, "String8": true, "Copy": true, "SCopy": true,
	"Move": true, "IntCopy": true, "InitCoroutine": true, "Yield": true, "EndCoroutine": true,
	"Goto": true, "Null": true, "Once": true, "Noop": true, "Explain": true,
	"ClrSubtype": true, // an argument's JSON subtype, not its value
}

// packingKeepsValues reports whether wrapped's program (EXPLAIN) has no more of any
// opcode than query's, other than those that pass a value on (passOn): whether its rows
// are query's, type for type. An EXPLAIN that fails is a no.
func packingKeepsValues(h *C.sqlite3, query, wrapped string) bool {
	plain, ok := opcodes(h, query)
	if !ok {
		return false
	}
	packed, ok := opcodes(h, wrapped)
	if !ok {
		return false
	}
	for op, n := range packed {
		if n > plain[op] && !passOn[op] {
			return false
		}
	}
	return true
}

// opcodes counts the opcodes of query's program (EXPLAIN's second column).
func opcodes(h *C.sqlite3, query string) (map[string]int, bool) {
	st, rc := prepareOn(h, "EXPLAIN "+query)
	if rc != 0 {
		return nil, false
	}
	defer C.sqlite3_finalize(st)
	ops := map[string]int{}
	for {
		switch C.sqlite3_step(st) {
		case resultRow:
			op := C.sqlite3_column_text(st, 1)
			ops[C.GoStringN((*C.char)(unsafe.Pointer(op)), C.sqlite3_column_bytes(st, 1))]++
		case resultDone:
			return ops, true
		default:
			return nil, false
		}
	}
}

// handle is a connection's sqlite3*, as handleOf answers it.
type handle = *C.sqlite3

// readsPacked reports whether queryBatches reads query's rows packed (a test's check
// that an upgraded SQLite still takes the wrapping: unpacked is right, but slower).
func (db *DB) readsPacked(ctx context.Context, query string) (bool, error) {
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	var packed bool
	err = conn.Raw(func(dc any) error {
		h := handleOf(dc)
		if h == nil {
			return errors.New("no handle")
		}
		packed, err = packsOn(h, query)
		return err
	})
	return packed, err
}

// packsOn reports whether batchQuery reads query's rows on h packed.
func packsOn(h handle, query string) (bool, error) {
	st, _, packed, err := prepareBatch(h, query, true)
	if err != nil {
		return false, err
	}
	C.sqlite3_finalize(st)
	return packed == 1, nil
}

// scanBatchRow decodes one row that batch_fill wrote at the start of b into dest and
// answers what follows it.
func scanBatchRow(b []byte, dest []any) ([]byte, error) {
	for i, d := range dest {
		var t byte
		var num uint64
		var bytes []byte
		t, num, bytes, b = nextBatchValue(b)
		switch d := d.(type) {
		case *int64:
			switch t {
			case colInteger:
				*d = int64(num)
			case colFloat: // a whole number in range, as database/sql converts it; else an error
				f := math.Float64frombits(num)
				if f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
					return nil, fmt.Errorf("sqlite: column %d: FLOAT %v into int64", i, f)
				}
				*d = int64(f)
			default:
				return nil, fmt.Errorf("sqlite: column %d: %s into int64", i, colName(t))
			}
		case *sql.RawBytes:
			switch t {
			case colText, colBlob:
				*d = bytes
			case colNull:
				*d = nil
			default:
				return nil, fmt.Errorf("sqlite: column %d: %s into RawBytes", i, colName(t))
			}
		case *string:
			if t != colText && t != colBlob {
				return nil, fmt.Errorf("sqlite: column %d: %s into string", i, colName(t))
			}
			*d = string(bytes)
		default:
			return nil, fmt.Errorf("sqlite: column %d: destination %T not supported", i, d)
		}
	}
	return b, nil
}

// nextBatchValue reads the value at the start of b, as batch_fill writes a column and
// batch_exec reads an argument: its type, an INTEGER's or FLOAT's bits, a TEXT's or
// BLOB's bytes (within b); rest is what follows it.
func nextBatchValue(b []byte) (t byte, num uint64, bytes, rest []byte) {
	t, b = b[0], b[1:]
	switch t {
	case colInteger, colFloat:
		num, b = binary.NativeEndian.Uint64(b), b[8:]
	case colText, colBlob:
		n := binary.NativeEndian.Uint32(b)
		bytes, b = b[4:4+n:4+n], b[4+n:]
	}
	return t, num, bytes, b
}

func colName(t byte) string {
	switch t {
	case colInteger:
		return "INTEGER"
	case colFloat:
		return "FLOAT"
	case colText:
		return "TEXT"
	case colBlob:
		return "BLOB"
	}
	return "NULL"
}

// bindAll binds the query's arguments: integers, floats, strings, byte slices and nil.
func bindAll(h *C.sqlite3, st *C.sqlite3_stmt, args []any) error {
	for i, a := range args {
		p := C.int(i + 1)
		var rc C.int
		switch v := a.(type) {
		case nil:
			rc = C.sqlite3_bind_null(st, p)
		case int:
			rc = C.sqlite3_bind_int64(st, p, C.longlong(v))
		case int64:
			rc = C.sqlite3_bind_int64(st, p, C.longlong(v))
		case bool:
			b := 0
			if v {
				b = 1
			}
			rc = C.sqlite3_bind_int64(st, p, C.longlong(b))
		case float64:
			rc = C.sqlite3_bind_double(st, p, C.double(v))
		case string:
			cs := C.CString(v)
			rc = C.batch_bind_text(st, p, cs, C.int(len(v)))
			C.free(unsafe.Pointer(cs))
		case []byte:
			if v == nil { // as mattn/go-sqlite3 binds it
				rc = C.sqlite3_bind_null(st, p)
				break
			}
			var ptr unsafe.Pointer
			if len(v) > 0 {
				ptr = C.CBytes(v)
				defer C.free(ptr)
			}
			rc = C.batch_bind_blob(st, p, ptr, C.int(len(v)))
		default:
			return fmt.Errorf("sqlite: argument %d: %T not supported", i+1, a)
		}
		if rc != 0 {
			return batchError(h, rc)
		}
	}
	return nil
}

// batchError is SQLite's message for a result code on h.
func batchError(h *C.sqlite3, rc C.int) error {
	msg := C.GoString(C.sqlite3_errmsg(h))
	if msg == "" {
		return fmt.Errorf("sqlite: error %d", int(rc))
	}
	return errors.New("sqlite: " + msg)
}

// execer runs statements on one connection with SQLite's C API, each prepared once and
// its arguments bound in one call into C: mattn/go-sqlite3 binds each argument in a call
// of its own, and a multi-row INSERT of the ingest has hundreds (a fifth of its writer's
// work). It runs inside whatever transaction the connection is in. Where the handle
// cannot be had, or an argument is of a type it does not write, the statement runs
// through database/sql on the same connection, with the same answers.
type execer struct {
	conn     *sql.Conn
	off      bool // no handle: every statement through database/sql
	stmts    map[string]*C.sqlite3_stmt
	sqlStmts map[string]*sql.Stmt // where off
	args     []byte
}

// newExecer makes an execer on conn (which it does not close): off where the batch
// reader is.
func (db *DB) newExecer(conn *sql.Conn) *execer {
	return &execer{conn: conn, off: !batchSupported || db.batchOff, stmts: map[string]*C.sqlite3_stmt{}, sqlStmts: map[string]*sql.Stmt{}}
}

// exec runs query with args and answers the rows it changed: in C where every argument
// is an integer, float, string, byte slice, bool or nil, else through database/sql.
func (e *execer) exec(ctx context.Context, query string, args []any) (changes int64, err error) {
	if !e.off {
		e.args = e.args[:0]
		for _, a := range args {
			if i, isInt := a.(int); isInt {
				a = int64(i)
			}
			if e.args, err = appendBatchValue(e.args, a); err != nil {
				return e.execSQL(ctx, query, args)
			}
		}
		return e.execEach(ctx, query, len(args), 1, e.args)
	}
	return e.execSQL(ctx, query, args)
}

// arg is an argument of a multi-row insert, not boxed in an interface: the twelve
// values of a release, each boxed, were six allocations a row on the one writer.
type arg struct {
	kind byte // colNull, colInteger, colText or colBlob
	i    int64
	s    string
	b    []byte
}

var argNull = arg{kind: colNull}

func argInt(i int64) arg   { return arg{kind: colInteger, i: i} }
func argText(s string) arg { return arg{kind: colText, s: s} }

// argBlob is b, or NULL for nil (as mattn/go-sqlite3 binds a nil []byte).
func argBlob(b []byte) arg {
	if b == nil {
		return argNull
	}
	return arg{kind: colBlob, b: b}
}

// any is a as database/sql binds it: nil, int64, string or []byte.
func (a arg) any() any {
	switch a.kind {
	case colInteger:
		return a.i
	case colText:
		return a.s
	case colBlob:
		return a.b
	}
	return nil
}

// anys are args as database/sql binds them.
func anys(args []arg) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a.any()
	}
	return out
}

// execArgs is exec of args that are no interfaces.
func (e *execer) execArgs(ctx context.Context, query string, args []arg) (changes int64, err error) {
	if e.off {
		return e.execSQL(ctx, query, anys(args))
	}
	e.args = e.args[:0]
	for _, a := range args {
		switch a.kind {
		case colInteger:
			e.args = appendInt(e.args, a.i)
		case colText:
			e.args = appendText(e.args, a.s)
		case colBlob:
			e.args = appendBlob(e.args, a.b)
		default:
			e.args = append(e.args, colNull)
		}
	}
	return e.execEach(ctx, query, len(args), 1, e.args)
}

// execEach runs query times times, each with the next nargs of the arguments in args
// (written by appendBatchValue, or appendInt and appendText), in one call into C, and
// answers the rows they changed. On an error, the runs before the failing one stay done
// (the caller's transaction decides).
func (e *execer) execEach(ctx context.Context, query string, nargs, times int, args []byte) (changes int64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if !e.off {
		err = e.conn.Raw(func(dc any) error {
			h := handleOf(dc)
			if h == nil {
				e.off = true
				return nil
			}
			st := e.stmts[query]
			if st == nil {
				cq := C.CString(query)
				defer C.free(unsafe.Pointer(cq))
				if rc := C.batch_prepare(h, cq, C.int(len(query)), &st); rc != 0 {
					return batchError(h, rc)
				}
				e.stmts[query] = st
			}
			var p *C.uchar
			if len(args) > 0 {
				p = (*C.uchar)(unsafe.Pointer(&args[0]))
			}
			var n C.longlong
			var done C.int
			rc := C.batch_exec(h, st, p, C.int(nargs), C.int(times), &n, &done)
			changes = int64(n)
			if rc != 0 {
				return fmt.Errorf("run %d: %w", int(done)+1, batchError(h, rc))
			}
			return nil
		})
		if !e.off {
			return changes, err
		}
	}
	// through database/sql: the arguments read back, as batch_exec reads them
	vals := make([]any, nargs)
	for k := range times {
		for i := range vals {
			t, num, bytes, rest := nextBatchValue(args)
			args = rest
			switch t {
			case colInteger:
				vals[i] = int64(num)
			case colFloat:
				vals[i] = math.Float64frombits(num)
			case colText:
				vals[i] = string(bytes)
			case colBlob:
				vals[i] = bytes
			default:
				vals[i] = nil
			}
		}
		n, err := e.execSQL(ctx, query, vals)
		changes += n
		if err != nil {
			return changes, fmt.Errorf("run %d: %w", k+1, err)
		}
	}
	return changes, nil
}

// execSQL runs query with args through database/sql on the execer's connection,
// prepared once.
func (e *execer) execSQL(ctx context.Context, query string, args []any) (int64, error) {
	stmt := e.sqlStmts[query]
	if stmt == nil {
		var err error
		if stmt, err = e.conn.PrepareContext(ctx, query); err != nil {
			return 0, err
		}
		e.sqlStmts[query] = stmt
	}
	res, err := stmt.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// appendInt appends an INTEGER argument for execEach.
func appendInt(b []byte, v int64) []byte {
	return binary.NativeEndian.AppendUint64(append(b, colInteger), uint64(v))
}

// appendText appends a TEXT argument for execEach.
func appendText[S string | []byte](b []byte, s S) []byte {
	return appendSized(b, colText, s)
}

// appendBlob appends a BLOB argument for execEach (an empty blob for nil, not NULL).
func appendBlob(b, v []byte) []byte {
	return appendSized(b, colBlob, v)
}

// appendSized appends a TEXT's or BLOB's type, 4-byte length and bytes.
func appendSized[S string | []byte](b []byte, t byte, s S) []byte {
	return append(binary.NativeEndian.AppendUint32(append(b, t), uint32(len(s))), s...)
}

// close finalizes the execer's statements.
func (e *execer) close() {
	for _, stmt := range e.sqlStmts {
		stmt.Close()
	}
	clear(e.sqlStmts)
	if len(e.stmts) == 0 {
		return
	}
	e.conn.Raw(func(any) error {
		for _, st := range e.stmts {
			C.sqlite3_finalize(st)
		}
		return nil
	})
	clear(e.stmts)
}
