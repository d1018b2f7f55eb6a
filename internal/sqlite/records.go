package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// IngestCounts says what one batch did.
type IngestCounts struct {
	Stored    int `json:"stored"`
	Duplicate int `json:"duplicate"`
	Rejected  int `json:"rejected"`
}

// Add adds o to c.
func (c *IngestCounts) Add(o IngestCounts) {
	c.Stored += o.Stored
	c.Duplicate += o.Duplicate
	c.Rejected += o.Rejected
}

// Sub takes o, counted in c before, out of c (batches rolled back).
func (c *IngestCounts) Sub(o IngestCounts) {
	c.Stored -= o.Stored
	c.Duplicate -= o.Duplicate
	c.Rejected -= o.Rejected
}

// Row is a record encoded as it is stored: its facts as a shape and its fingerprints.
// Ingest encodes on its parsing workers (Encode needs no database), so that the one
// writer only writes.
type Row struct {
	Record       *mpass.Record
	facts        string
	fingerprints []byte
	ids          rowIDs
	file         string // Record.Source
	line         int64
}

// rowIDs are the ids of a row's names, shape and source file; 0 where not known (yet).
type rowIDs struct {
	sp, controller, purpose, school, shape, source int64
}

// Encode encodes a record (see the function Encode) and looks up the ids of its
// names and shape that are stored already, so that the writer need not: hashing every
// row's facts there was a quarter of its time. The row keeps the record, its
// Attributes set to nil (the caller may use the map again): it holds them encoded, rows
// wait for the writer in batches, and the attributes were most of their memory. It
// keeps the facts only when their shape is not stored yet.
func (db *DB) Encode(r *mpass.Record) (Row, error) {
	buf, _ := db.buffers.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	defer db.buffers.Put(buf)
	facts, fingerprints, err := encode((*buf)[:0], r)
	*buf = facts
	if err != nil {
		return Row{}, err
	}
	r.Attributes = nil
	row := Row{Record: r, fingerprints: fingerprints}
	row.file, row.line = r.Source, int64(r.Line)
	row.ids.source = db.sources.id(row.file)
	names, shapes := db.names, db.shapes
	names.mu.RLock() // once for the four names
	row.ids.sp, row.ids.controller, row.ids.purpose = names.ids[names.key(r.SP)], names.ids[names.key(r.Controller)], names.ids[names.key(r.Purpose)]
	if r.School != "" {
		row.ids.school = names.ids[names.key(r.School)]
	}
	names.mu.RUnlock()
	shapes.mu.RLock()
	row.ids.shape = shapes.ids[shapes.keyBytes(facts)] // no copy of the facts
	shapes.mu.RUnlock()
	if row.ids.shape == 0 {
		row.facts = string(facts)
	}
	return row, nil
}

// Encode encodes a record for InsertBatch: the facts as the shape's JSON (sorted keys,
// so equal facts are one shape) and the fingerprints in name order.
func Encode(r *mpass.Record) (Row, error) {
	facts, fingerprints, err := encode(nil, r)
	return Row{Record: r, facts: string(facts), fingerprints: fingerprints, file: r.Source, line: int64(r.Line)}, err
}

// encode appends a record's facts to buf and returns them with its fingerprints.
func encode(buf []byte, r *mpass.Record) (facts, fingerprints []byte, err error) {
	if r.Kind != mpass.KindRelease && r.Kind != mpass.KindUse {
		return buf, nil, fmt.Errorf("%s:%d: unknown kind %q", r.Source, r.Line, r.Kind)
	}
	var names [16]nameAt // most records have fewer attributes: no allocation
	var values [16]mpass.AttributeFacts
	order, vals := sortedAttributes(names[:0], values[:0], r.Attributes)
	facts = appendFacts(buf, order, vals)
	fingerprints = []byte{}
	if r.Kind == mpass.KindRelease {
		fingerprints = make([]byte, len(order)*fingerprintSize)
		for i, n := range order {
			copy(fingerprints[i*fingerprintSize:(i+1)*fingerprintSize], vals[n.at].Fingerprint[:])
		}
	}
	return facts, fingerprints, nil
}

// nameAt is an attribute's name and where its facts are.
type nameAt struct {
	name string
	at   int
}

// sortedAttributes appends the attributes of attrs to names, in name order, and their
// facts to values, in the map's: one pass over the map, where sorting its names and
// looking each up twice (facts, then fingerprint) was 3 % of a 10M-record ingest's CPU.
// The names are sorted by insertion, as a record has a few: sorting the facts (100
// bytes each) with a comparison function cost as much as the lookups had.
func sortedAttributes(names []nameAt, values []mpass.AttributeFacts, attrs map[string]mpass.AttributeFacts) ([]nameAt, []mpass.AttributeFacts) {
	for n, a := range attrs {
		values = append(values, a)
		names = append(names, nameAt{n, len(values) - 1})
		for i := len(names) - 1; i > 0 && names[i].name < names[i-1].name; i-- {
			names[i], names[i-1] = names[i-1], names[i]
		}
	}
	return names, values
}

// rowsPerInsert is how many rows one INSERT statement carries: a statement per row
// cost more in database/sql and cgo than SQLite spent on the row itself.
const rowsPerInsert = 64

// ReasonIDConflict rejects a record whose id is stored with other content.
const ReasonIDConflict = "id conflict: a record with this id and other content is stored (this one is not)"

// InsertBatch stores records and rejections in one transaction: the whole batch is in
// or none of it is. A record whose id is stored already is a duplicate when the stored
// row is the row it would store (RECORDS.md: only identical records are duplicates),
// and an id conflict otherwise: rejected, never a silent duplicate (a harmless use
// taking a critical one's id made its finding vanish). "Identical" is judged on what
// the store keeps of a record — time, SP, controller, pseudonymous subject, role,
// school, purpose, the facts' shape and the keyed fingerprints — so that no value and
// no digest of one need be stored for it, and a fresh ingest (nothing ignored) pays
// nothing: only a statement that stored fewer rows than it carried reads its ids back.
// Every conflict of the batch is returned (a batch's worth at most); the first keep of
// them are stored as rejections beside rejections, and c.Rejected counts them all.
// The names, shapes and source files the batch refers to are stored in the same
// transaction. InsertBatch is one batch of a BatchTx.
func (db *DB) InsertBatch(ctx context.Context, rows []Row, rejections []mpass.Rejection, keep int) (IngestCounts, []mpass.Rejection, error) {
	t, err := db.BeginBatches(ctx)
	if err != nil {
		return IngestCounts{}, nil, err
	}
	c, conflicts, err := t.Insert(ctx, rows, rejections, keep)
	if err != nil {
		return c, nil, err
	}
	if err := t.Commit(ctx); err != nil {
		return c, nil, err
	}
	return c, conflicts, nil
}

// BatchTx is a write transaction that consecutive batches of one ingest share (Insert
// each), so that a page the batches all touch — a controller's end of the (controller,
// time, sp) index, the tables' last pages — is written to the WAL once a commit rather
// than once a batch (1M diverse records: 7 % less time with three batches a commit). It
// holds the database's write lock until Commit or Rollback: its user commits before
// waiting for input or writing anything else. Not for concurrent use.
type BatchTx struct {
	db      *DB
	conn    *sql.Conn
	tx      *sql.Tx
	restore func()
	// the names, shapes and sources inserted in tx, remembered by their interners only
	// when it commits
	names, shapes, sources map[string]int64
	stored                 int // rows stored, for the checkpointer when committed
	done                   bool
}

// BeginBatches starts a BatchTx on a connection of its own.
func (db *DB) BeginBatches(ctx context.Context) (*BatchTx, error) {
	db.checkpoints.beforeBatch(ctx, db) // before anything is written, the names first
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	// The writer gets a larger page cache than readers: its inserts land all over the
	// indexes, and every page it must read back is a miss. Its commit does not
	// checkpoint (db.checkpoints does). Per connection; cheap to repeat.
	restore, err := db.noAutocheckpoint(ctx, conn)
	if err == nil {
		_, err = conn.ExecContext(ctx, `PRAGMA cache_size = -65536`)
	}
	var tx *sql.Tx
	if err == nil {
		tx, err = conn.BeginTx(ctx, nil)
	}
	if err != nil {
		restore()
		conn.Close()
		return nil, err
	}
	return &BatchTx{db: db, conn: conn, tx: tx, restore: restore,
		names: map[string]int64{}, shapes: map[string]int64{}, sources: map[string]int64{}}, nil
}

// Insert stores one batch of rows and rejections in t (see InsertBatch). An error rolls
// t back whole — every batch since BeginBatches — and ends it: an interrupted statement
// (a cancelled ctx) rolls SQLite's transaction back anyway, and ingesting the same
// lines again finds what was committed before duplicates.
func (t *BatchTx) Insert(ctx context.Context, rows []Row, rejections []mpass.Rejection, keep int) (IngestCounts, []mpass.Rejection, error) {
	if t.done {
		return IngestCounts{}, nil, fmt.Errorf("insert: the batch transaction is over")
	}
	c, conflicts, err := t.insert(ctx, rows, rejections, keep)
	if err != nil {
		t.Rollback()
		return c, nil, err
	}
	t.stored += c.Stored
	return c, conflicts, nil
}

func (t *BatchTx) insert(ctx context.Context, rows []Row, rejections []mpass.Rejection, keep int) (IngestCounts, []mpass.Rejection, error) {
	var c IngestCounts
	db, tx := t.db, t.tx
	if err := t.resolve(ctx, rows); err != nil {
		return c, nil, err
	}
	id := func(in *interner, pending map[string]int64, v string) int64 {
		if id := in.id(v); id != 0 {
			return id
		}
		return pending[v]
	}
	nameID := func(name string, known int64) arg {
		if name == "" {
			return argNull
		}
		if known == 0 {
			return argInt(id(db.names, t.names, name))
		}
		return argInt(known)
	}
	ex := db.newExecer(t.conn)
	defer ex.close()
	releases := &multiInsert{table: "releases", cols: releaseCols, ex: ex}
	uses := &multiInsert{table: "uses", cols: useCols, ex: ex}
	for i := range rows {
		r, row := rows[i].Record, &rows[i]
		sp, controller, shape := nameID(r.SP, row.ids.sp), nameID(r.Controller, row.ids.controller), row.ids.shape
		if shape == 0 {
			shape = id(db.shapes, t.shapes, row.facts)
		}
		source := row.ids.source
		if source == 0 {
			source = id(db.sources, t.sources, row.file)
		}
		var err error
		switch r.Kind {
		case mpass.KindRelease:
			school := nameID(r.School, row.ids.school)
			if school.kind == colNull {
				school = argInt(0)
			}
			err = releases.add(ctx, tx, row, argText(r.ID), argInt(nanos(r.Time)), sp, controller, argText(r.Subject), argInt(int64(r.Role)),
				argInt(shape), argBlob(row.fingerprints), school, argInt(source), argInt(row.line))
		case mpass.KindUse:
			err = uses.add(ctx, tx, row, argText(r.ID), argInt(nanos(r.Time)), sp, controller, argText(r.Subject), nameID(r.Purpose, row.ids.purpose),
				argInt(shape), argInt(source), argInt(row.line))
		}
		if err != nil {
			return c, nil, fmt.Errorf("%s:%d: %w", r.Source, r.Line, err)
		}
	}
	var conflicts []mpass.Rejection
	for _, m := range []*multiInsert{releases, uses} {
		if err := m.flush(ctx, tx); err != nil {
			return c, nil, err
		}
		m.close()
		conflicts = append(conflicts, m.conflicts...)
	}
	c.Stored = releases.stored + uses.stored
	c.Duplicate = len(rows) - c.Stored - len(conflicts)
	slices.SortStableFunc(conflicts, func(a, b mpass.Rejection) int { return a.Line - b.Line })
	stored := append(slices.Clip(rejections), conflicts[:min(max(keep, 0), len(conflicts))]...)
	if err := insertRejections(ctx, tx, stored, nanos(db.Now())); err != nil {
		return c, nil, err
	}
	c.Rejected = len(rejections) + len(conflicts)
	return c, conflicts, nil
}

// Commit commits every batch Insert stored in t, then lets the interners remember the
// names, shapes and sources t inserted, and the checkpointer count its rows.
func (t *BatchTx) Commit(ctx context.Context) error {
	if t.done {
		return fmt.Errorf("commit: the batch transaction is over")
	}
	t.done = true
	// the connection is given back last: the checkpointer's first takes one from the
	// pool, and taking the writer's, with its warm 64 MiB cache, made the writer warm a
	// second (+25 MB of peak RSS)
	defer t.conn.Close()
	defer t.restore()
	if err := t.tx.Commit(); err != nil {
		return err
	}
	for in, found := range map[*interner]map[string]int64{t.db.names: t.names, t.db.shapes: t.shapes, t.db.sources: t.sources} {
		for v, id := range found {
			in.remember(id, v)
		}
	}
	t.db.checkpoints.afterBatch(ctx, t.db, t.stored)
	return nil
}

// Rollback rolls back every batch Insert stored in t; nothing after Commit.
func (t *BatchTx) Rollback() {
	if t.done {
		return
	}
	t.done = true
	t.tx.Rollback()
	t.restore()
	t.conn.Close()
}

// The columns InsertBatch writes: what a record is (compared to tell a duplicate from
// an id conflict), then where it was read from (originCols, never compared: the same
// record read from another file is a duplicate).
const (
	releaseCols = "id, time, sp, controller, subject, role, shape, fingerprints, school, source, line"
	useCols     = "id, time, sp, controller, subject, purpose, shape, source, line"
	originCols  = 2
)

// conflictRejection is the rejection of a row whose id is stored with other content,
// read from file at line. Its digest is the SHA-256 of the row as it would have been
// stored (values: its content columns, as the statement's arguments), not of the
// line: the line was let go when it was parsed (keeping every line of a batch until
// the writer had them was 20 MB more peak memory for a rare event), and the row holds
// no value, only pseudonyms, keyed fingerprints and numbers.
func conflictRejection(file string, line int64, values []any) mpass.Rejection {
	r := mpass.Rejection{Source: file, Line: int(line), Field: "id", Reason: ReasonIDConflict}
	h := sha256.New()
	for _, v := range values {
		fmt.Fprintf(h, "%T:%v\x00", v, v)
	}
	r.Digest = "row:" + hex.EncodeToString(h.Sum(nil))
	return r
}

// multiInsert inserts rows of one table rowsPerInsert at a time, skipping ids already
// stored, counts what it stored and finds the id conflicts among what it skipped.
type multiInsert struct {
	table, cols string
	ex          *execer   // binds a statement's arguments in one call into C
	fullText    string    // the statement of rowsPerInsert rows
	fullCheck   *sql.Stmt // findConflicts of rowsPerInsert rows
	args        []arg
	rows        []*Row // of args, one per row
	stored      int
	conflicts   []mpass.Rejection // of rows whose id is stored with other content
}

func (m *multiInsert) add(ctx context.Context, tx *sql.Tx, row *Row, values ...arg) error {
	m.args = append(m.args, values...)
	m.rows = append(m.rows, row)
	if len(m.args) < rowsPerInsert*len(values) {
		return nil
	}
	if m.fullText == "" {
		m.fullText = m.statement(rowsPerInsert, len(values))
	}
	return m.exec(ctx, tx, m.fullText)
}

// flush inserts the rows that did not fill a whole statement.
func (m *multiInsert) flush(ctx context.Context, tx *sql.Tx) error {
	if len(m.args) == 0 {
		return nil
	}
	cols := strings.Count(m.cols, ",") + 1
	return m.exec(ctx, tx, m.statement(len(m.args)/cols, cols))
}

// exec runs the statement text over the rows gathered.
func (m *multiInsert) exec(ctx context.Context, tx *sql.Tx, text string) error {
	n, err := m.ex.execArgs(ctx, text, m.args)
	if err != nil {
		return err
	}
	m.stored += int(n)
	if int(n) < len(m.rows) {
		if err := m.findConflicts(ctx, tx); err != nil {
			return err
		}
	}
	clear(m.args)
	clear(m.rows)
	m.args, m.rows = m.args[:0], m.rows[:0]
	return nil
}

// findConflicts finds, among the rows of the last statement (which ignored some of
// them), each whose time and id are stored with other content: a conflict. SQLite
// compares, with the statement's own arguments (column by column with IS, NULL-safe),
// so that a re-ingest of a big file, every row a duplicate, costs one indexed query
// per statement and no Go allocation per row. A row equal to the stored one was
// stored by the statement or is an identical duplicate; InsertBatch tells them apart
// by count. A stored id with another time is found when the ids are merged (MergeIDs).
func (m *multiInsert) findConflicts(ctx context.Context, tx *sql.Tx) error {
	cols := strings.Split(m.cols, ", ")
	n := len(m.rows)
	values := anys(m.args) // as they were bound through database/sql
	args := make([]any, 0, n*(len(cols)+1))
	for i := range n {
		args = append(append(args, i), values[i*len(cols):(i+1)*len(cols)]...)
	}
	one := "(?" + strings.Repeat(", ?", len(cols)) + ")"
	var differs []string
	for j, c := range cols[2 : len(cols)-originCols] { // id and time are joined on
		differs = append(differs, "t."+c+" IS NOT v.column"+strconv.Itoa(j+4))
	}
	q := "SELECT v.column1 FROM (VALUES " + one + strings.Repeat(", "+one, n-1) + ") AS v JOIN " + m.table +
		" AS t ON t.time = v.column3 AND t.id = v.column2 WHERE " + strings.Join(differs, " OR ") + " ORDER BY v.column1"
	var rows *sql.Rows
	var err error
	if n == rowsPerInsert { // a whole statement's: prepared once a batch, as the insert is
		if m.fullCheck == nil {
			if m.fullCheck, err = tx.PrepareContext(ctx, q); err != nil {
				return err
			}
		}
		rows, err = m.fullCheck.QueryContext(ctx, args...)
	} else {
		rows, err = tx.QueryContext(ctx, q, args...)
	}
	if err != nil {
		return err
	}
	return scanRows(ctx, rows, func() error {
		var i int
		if err := rows.Scan(&i); err != nil {
			return err
		}
		row := m.rows[i]
		m.conflicts = append(m.conflicts, conflictRejection(row.file, row.line, values[i*len(cols):(i+1)*len(cols)-originCols]))
		return nil
	})
}

// statement is a multi-row INSERT OR IGNORE: ignoring is what ON CONFLICT (id) DO
// NOTHING did for a stored id, and unlike it lets SQLite skip the statement journal a
// multi-row statement that may abort needs (which made 64 rows cost more than 64
// statements). The other constraints, NOT NULL, cannot fail for a record Encode took.
func (m *multiInsert) statement(rows, cols int) string {
	one := "(?" + strings.Repeat(", ?", cols-1) + ")"
	return "INSERT OR IGNORE INTO " + m.table + " (" + m.cols + ") VALUES " + one + strings.Repeat(", "+one, rows-1)
}

func (m *multiInsert) close() {
	if m.fullCheck != nil {
		m.fullCheck.Close()
	}
}

// UpdateRoles brings subject_roles up to date with the releases stored since it last
// ran: one GROUP BY over the new releases, upserted in key order, instead of an upsert
// per release at random places of the index (which halved ingest's rate). Ingest runs
// it when it ends, and an audit when it starts, so a killed ingest is caught up before
// anything reads the roles.
func (db *DB) UpdateRoles(ctx context.Context) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	from, to, err := pending(ctx, tx, "releases", `SELECT seq FROM roles_watermark WHERE id = 1`)
	if err != nil {
		return err
	}
	// only rows whose ids are merged: a row another process stored since MergeIDs may
	// still be rejected, and its role must not be counted
	var merged int64
	if err := tx.QueryRowContext(ctx, `SELECT seq FROM ids_watermark WHERE kind = 0`).Scan(&merged); err != nil {
		return err
	}
	if to = min(to, merged); to <= from {
		return nil
	}
	// The GROUP BY sorts every new release. SQLite's sorter may use a helper thread
	// (the ingest's parsing workers are done by now) and sorts in runs of the page
	// cache's size: a small cache was faster than the writer's 64 MiB and kept the
	// peak RSS down (10M releases: 18.8 s and 138 MB → 10.8 s and 71 MB, sqlite3 CLI).
	restore, err := sortPragmas(ctx, tx)
	if err != nil {
		return err
	}
	defer restore() // on an error path too (no-op once the transaction has ended)
	// the bare controller column comes from the row of max(time): SQLite's rule for a
	// max() aggregate
	_, err = tx.ExecContext(ctx, `INSERT INTO subject_roles (subject, sp, learner, role_known, last_time, last_controller)
		SELECT subject, sp, max(role = 2), max(role > 0), max(time), controller
		FROM releases WHERE seq > ? AND seq <= ? GROUP BY subject, sp
		ON CONFLICT (subject, sp) DO UPDATE SET
			learner = max(learner, excluded.learner),
			role_known = max(role_known, excluded.role_known),
			last_controller = CASE WHEN excluded.last_time >= last_time THEN excluded.last_controller ELSE last_controller END,
			last_time = max(last_time, excluded.last_time)`, from, to)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE roles_watermark SET seq = ? WHERE id = 1`, to); err != nil {
		return err
	}
	restore()
	return tx.Commit()
}

// sortPragmas gives a transaction's (or a connection's) connection what a sort of
// every new row wants: the sorter's helper thread and a 16 MiB cache (it sorts in runs
// of the cache's size). restore, called before the transaction ends, sets the
// connection back to the pool's defaults, so that an audit's scan that later gets it
// does not fill 16 MiB of cache.
func sortPragmas(ctx context.Context, tx interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}) (restore func(), err error) {
	for _, pragma := range []string{`PRAGMA threads = 2`, `PRAGMA cache_size = -16384`} {
		if _, err := tx.ExecContext(ctx, pragma); err != nil {
			return nil, err
		}
	}
	return func() {
		tx.ExecContext(context.WithoutCancel(ctx), `PRAGMA threads = 0`)
		tx.ExecContext(context.WithoutCancel(ctx), `PRAGMA cache_size = `+defaultCacheSize)
	}, nil
}

// appendFacts appends attributes' facts as JSON in the names' order (sorted), the same
// text for the same facts (a shape). It writes what encoding/json would of the map,
// without its reflection: ingest encodes every record.
func appendFacts(b []byte, names []nameAt, values []mpass.AttributeFacts) []byte {
	b = append(b, '{')
	for i, n := range names {
		a := &values[n.at]
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, n.name)
		b = append(b, `:{"values":`...)
		b = strconv.AppendBool(b, a.Values)
		if a.IdentityCode {
			b = append(b, `,"identity_code":true`...)
		}
		if a.DateOfBirth {
			b = append(b, `,"dob":true`...)
		}
		if len(a.Years) > 0 {
			b = append(b, `,"years":[`...)
			for j, y := range a.Years {
				if j > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendInt(b, int64(y), 10)
			}
			b = append(b, ']')
		}
		if a.Grade != "" {
			b = append(b, `,"grade":`...)
			b = appendJSONString(b, a.Grade)
		}
		if len(a.Roles) > 0 {
			b = append(b, `,"roles":[`...)
			for j, r := range a.Roles {
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, '{')
				sep := ""
				for _, f := range [...]struct {
					key, value string
				}{{"controller", r.Controller}, {"school", r.School}, {"class", r.Class}} {
					if f.value != "" {
						b = append(append(append(b, sep...), '"'), f.key...)
						b = appendJSONString(append(b, `":`...), f.value)
						sep = ","
					}
				}
				if r.ClassGrade {
					b = append(append(b, sep...), `"class_grade":true`...)
					sep = ","
				}
				for _, f := range [...]struct {
					key, value string
				}{{"name", r.Name}, {"code", r.Code}} {
					if f.value != "" {
						b = append(append(append(b, sep...), '"'), f.key...)
						b = appendJSONString(append(b, `":`...), f.value)
						sep = ","
					}
				}
				b = append(b, '}')
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if jsonEscaped[s[i]] {
			q, _ := json.Marshal(s) // the rare name or value that needs escaping
			return append(b, q...)
		}
	}
	return append(append(append(b, '"'), s...), '"')
}

// jsonEscaped marks the bytes encoding/json escapes (or may, outside ASCII): a table,
// as every record's names go through appendJSONString.
var jsonEscaped = func() (t [256]bool) {
	for c := range t {
		t[c] = c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= 0x80
	}
	return t
}()

// fingerprintSize is the stored length of one attribute's fingerprint.
const fingerprintSize = 8

// resolve stores in t the names, shapes and source files of a batch that are not
// stored yet, their ids t's own until it commits. Rows encoded by DB.Encode carry the
// ids stored by then; only the others are looked at.
func (t *BatchTx) resolve(ctx context.Context, rows []Row) error {
	names, shapes, sources := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, row := range rows {
		if row.ids.source == 0 {
			sources[row.file] = true
		}
		r := row.Record
		for _, n := range [...]struct {
			name string
			id   int64
		}{{r.SP, row.ids.sp}, {r.Controller, row.ids.controller}, {r.Purpose, row.ids.purpose}, {r.School, row.ids.school}} {
			if n.name != "" && n.id == 0 {
				names[n.name] = true
			}
		}
		if row.ids.shape == 0 {
			shapes[row.facts] = true
		}
	}
	for _, x := range []struct {
		in      *interner
		values  map[string]bool
		pending map[string]int64
	}{{t.db.names, names, t.names}, {t.db.sources, sources, t.sources}, {t.db.shapes, shapes, t.shapes}} {
		found, err := x.in.ensureIn(ctx, t.tx, x.values, x.pending)
		if err != nil {
			return err
		}
		maps.Copy(x.pending, found)
	}
	return nil
}

// MaxStoredRejections bounds the rejections table as a whole: one ingest keeps its first
// 1,000 (ingest.DefaultMaxRejections), but every POST is an ingest of its own, and an
// ingest token posting junk must not fill the disk (issue 14: 200 posts of 6 KB made
// 205,000 rows and 120 MB). Past the bound rejections are still counted and answered,
// not stored, until `purge` makes room.
const MaxStoredRejections = 100_000

func insertRejections(ctx context.Context, tx *sql.Tx, rejections []mpass.Rejection, now int64) error {
	if len(rejections) == 0 {
		return nil
	}
	var stored int64
	if err := tx.QueryRowContext(ctx, rejectionsSpan).Scan(&stored); err != nil {
		return err
	}
	if room := MaxStoredRejections - stored; room <= 0 {
		return nil
	} else if int64(len(rejections)) > room {
		rejections = rejections[:room]
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO rejections (source, line, field, reason, digest, rejected)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, r := range rejections {
		if _, err := stmt.ExecContext(ctx, r.Source, r.Line, r.Field, r.Reason, r.Digest, now); err != nil {
			return err
		}
	}
	return nil
}

// Rejections lists stored rejections in source and line order.
func (db *DB) Rejections(ctx context.Context) ([]mpass.Rejection, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT source, line, field, reason, digest FROM rejections ORDER BY source, line`)
	if err != nil {
		return nil, err
	}
	var out []mpass.Rejection
	err = scanRows(ctx, rows, func() error {
		var r mpass.Rejection
		if err := rows.Scan(&r.Source, &r.Line, &r.Field, &r.Reason, &r.Digest); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// StoredRejection is a rejected line as stored: where, why and when, never its text;
// its id is a page's cursor.
type StoredRejection struct {
	ID int64
	mpass.Rejection
	Rejected time.Time
}

// RejectionPage lists at most limit stored rejections with an id above after, in id
// order (the order they were stored): a keyset page, and the last one's id is the next
// page's after.
func (db *DB) RejectionPage(ctx context.Context, after int64, limit int) ([]StoredRejection, error) {
	if limit <= 0 {
		return nil, mpass.Errorf(mpass.EINVALID, "limit %d: want at least 1", limit)
	}
	rows, err := db.db.QueryContext(ctx, `SELECT id, source, line, field, reason, digest, rejected FROM rejections
		WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("rejections: %w", err)
	}
	out := []StoredRejection{}
	err = scanRows(ctx, rows, func() error {
		var r StoredRejection
		var at int64
		if err := rows.Scan(&r.ID, &r.Source, &r.Line, &r.Field, &r.Reason, &r.Digest, &at); err != nil {
			return err
		}
		r.Rejected = fromNanos(at)
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rejections: %w", err)
	}
	return out, nil
}

// sortedNames appends the names of attrs to names, sorted.
func sortedNames(names []string, attrs map[string]mpass.AttributeFacts) []string {
	for n := range attrs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// scopeWhere builds the WHERE clause of a scope over a table aliased t, with the
// controller expression ctl (an id of names).
func (db *DB) scopeWhere(ctx context.Context, scope mpass.Scope, ctl string) (string, []any, error) {
	var conds []string
	var args []any
	if scope.Controller != "" {
		id, err := db.names.lookup(ctx, db.db, scope.Controller)
		if err != nil {
			return "", nil, err
		}
		conds = append(conds, ctl+" = ?")
		args = append(args, id) // 0 when never seen: matches nothing
	}
	if scope.From != "" {
		n, err := dayStart(scope.From)
		if err != nil {
			return "", nil, mpass.Errorf(mpass.EINVALID, "from %q: not a date (YYYY-MM-DD)", scope.From)
		}
		conds = append(conds, "t.time >= ?")
		args = append(args, n)
	}
	if scope.To != "" {
		n, err := dayEnd(scope.To)
		if err != nil {
			return "", nil, mpass.Errorf(mpass.EINVALID, "to %q: not a date (YYYY-MM-DD)", scope.To)
		}
		conds = append(conds, "t.time < ?")
		args = append(args, n)
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

// Raw is one stored record as the audit reads it: numbers for names and shapes, the
// rest as bytes valid only until the scan's fn returns (a caller that keeps a record
// copies it).
type Raw struct {
	Kind         mpass.Kind
	ID           []byte
	Time         int64 // unix nanoseconds
	SP           int64 // names
	Controller   int64 // names; 0 for a use whose controller is unknown
	Subject      []byte
	Purpose      int64 // names; uses
	Shape        int64 // shapes
	School       int64 // names: the school a release names (code or OID); 0 none, and for uses
	Fingerprints []byte
	Learner      bool
	RoleKnown    bool
}

// Record decodes a raw record with its names and shape.
func (db *DB) Record(ctx context.Context, r *Raw) (mpass.Record, error) {
	rec := mpass.Record{Kind: r.Kind, ID: string(r.ID), Time: fromNanos(r.Time), Subject: string(r.Subject),
		SubjectRole: mpass.SubjectRole{Learner: r.Learner, RoleKnown: r.RoleKnown}}
	var err error
	for _, x := range []struct {
		id   int64
		into *string
	}{{r.SP, &rec.SP}, {r.Controller, &rec.Controller}, {r.Purpose, &rec.Purpose}} {
		if x.id != 0 {
			if *x.into, err = db.Name(ctx, x.id); err != nil {
				return rec, err
			}
		}
	}
	facts, err := db.Shape(ctx, r.Shape)
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal([]byte(facts), &rec.Attributes); err != nil {
		return rec, err
	}
	for i, n := range sortedNames(nil, rec.Attributes) {
		if fp := fingerprintAt(r.Fingerprints, i); fp != (mpass.Fingerprint{}) {
			a := rec.Attributes[n]
			a.Fingerprint = fp
			rec.Attributes[n] = a
		}
	}
	return rec, nil
}

// Fingerprint is the fingerprint of the i-th attribute (in name order) of a record; ""
// for an attribute that has none (names only, or the grade level: eight zero bytes).
func Fingerprint(fingerprints []byte, i int) string { return fingerprintAt(fingerprints, i).String() }

// fingerprintAt is the i-th fingerprint of a row's fingerprints; zero where it has none.
func fingerprintAt(fingerprints []byte, i int) mpass.Fingerprint {
	if len(fingerprints) < (i+1)*fingerprintSize {
		return mpass.Fingerprint{}
	}
	return mpass.Fingerprint(fingerprints[i*fingerprintSize:])
}

// seqRangeReleases and seqRangeUses are SeqRange's queries. MIN and MAX each in a
// subquery of its own: SQLite reads one end of the rowid for a lone min() or max(),
// but scanned every row for the two in one SELECT (10M releases: 3.4 s, cold).
const (
	seqRangeReleases = `SELECT COALESCE((SELECT MIN(seq) FROM releases), 0), COALESCE((SELECT MAX(seq) FROM releases), 0),
		min((SELECT seq FROM ids_watermark WHERE kind = 0), (SELECT seq FROM roles_watermark WHERE id = 1))`
	seqRangeUses = `SELECT COALESCE((SELECT MIN(seq) FROM uses), 0), COALESCE((SELECT MAX(seq) FROM uses), 0),
		(SELECT seq FROM ids_watermark WHERE kind = 1)`
	// rejectionsSpan bounds how many rejections are stored (ids only grow; purge
	// deletes the oldest), from both ends of the rowid
	rejectionsSpan = `SELECT COALESCE((SELECT MAX(id) FROM rejections) - (SELECT MIN(id) FROM rejections) + 1, 0)`
)

// SeqRange is the first and last settled seq of a kind's table (0, 0 when none): the
// rows an audit judges. Rows an ingest has stored but not settled yet (Settle) are left
// to the next audit, since neither their ids nor their roles are checked.
func (db *DB) SeqRange(ctx context.Context, kind mpass.Kind) (lo, hi int64, err error) {
	query := seqRangeReleases
	if kind == mpass.KindUse {
		query = seqRangeUses
	}
	var settled int64
	if err = db.db.QueryRowContext(ctx, query).Scan(&lo, &hi, &settled); err != nil {
		return 0, 0, err
	}
	if hi = min(hi, settled); hi < lo {
		return 0, 0, nil
	}
	return lo, hi, err
}

// ScanRaw streams the records of one kind in scope whose seq is in [lo, hi] to fns, in
// seq order: each to fns[i] for the i of its controller–SP pair (a hash of the two ids
// modulo len(fns)), so that a pair is counted on one worker alone; fns[i] is called on
// a goroutine of its own. Each record comes with what all of its subject's releases to
// the SP say of the role: from roles where it is not nil (RoleSet), else from
// subject_roles. A use without a controller takes the one of the subject's latest
// release to that SP. The rows are read once, in batches (queryBatches) that every
// worker reads and takes its share of: a national audit reads tens of millions, and a
// read per worker stepped every row twice. An error of fns[i] ends the scan and is
// returned; so is ctx's end, seen within a few hundred rows.
func (db *DB) ScanRaw(ctx context.Context, scope mpass.Scope, kind mpass.Kind, lo, hi int64, roles *RoleSet, fns ...func(*Raw) error) error {
	ctl := "t.controller"
	// Nine columns, the last the role's flags (roleLearner | roleKnownFlag). A release
	// that shows a learner role (most of them) settles both flags itself; only the
	// others look their subject up, and CASE makes the lookup conditional (a LEFT JOIN
	// looks up every row: 5× slower over 10M releases). With roles, the last column is
	// the release's own role, for a lookup in roles.
	query := `SELECT t.id, t.time, t.sp, t.controller, t.subject, t.shape, t.school, t.fingerprints,
			CASE WHEN t.role = 2 THEN 3 ELSE COALESCE((SELECT s.learner * 2 + s.role_known FROM subject_roles s WHERE s.subject = t.subject AND s.sp = t.sp), 0) | (t.role > 0) END
		FROM releases t`
	if roles != nil {
		query = `SELECT t.id, t.time, t.sp, t.controller, t.subject, t.shape, t.school, t.fingerprints, t.role FROM releases t`
	}
	if kind == mpass.KindUse {
		ctl = "COALESCE(t.controller, s.last_controller, 0)"
		query = `SELECT t.id, t.time, t.sp, ` + ctl + `, t.subject, t.shape, t.purpose, x'', COALESCE(s.learner * 2 + s.role_known, 0)
		FROM uses t LEFT JOIN subject_roles s ON s.subject = t.subject AND s.sp = t.sp`
	}
	where, args, err := db.scopeWhere(ctx, scope, ctl)
	if err != nil {
		return err
	}
	if where == "" {
		where = " WHERE t.seq BETWEEN ? AND ?"
	} else {
		where += " AND t.seq BETWEEN ? AND ?"
	}
	args = append(args, lo, hi)

	if len(fns) == 0 {
		return nil // nobody to read for
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// a batch goes to every worker and back to the pool when the last is done with it;
	// a worker may be scanAhead batches ahead of another (a batch's rows are not shared
	// evenly), and the reader as many ahead of the slowest
	type batch struct {
		b          []byte
		rows, ncol int
		left       atomic.Int32
	}
	n := len(fns)
	pool := make(chan []byte, scanAhead*n+1)
	for range cap(pool) {
		pool <- make([]byte, batchBytes)
	}
	queues := make([]chan *batch, n)
	var wg sync.WaitGroup
	for i := range fns {
		queues[i] = make(chan *batch, scanAhead)
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := rawReader{db: db, kind: kind, share: i, shares: n, roles: roles, fn: fns[i]}
			for bt := range queues[i] {
				if context.Cause(ctx) == nil { // after an error, the batches are only let go
					if err := w.read(ctx, bt.b, bt.rows, bt.ncol); err != nil {
						cancel(err)
					}
				}
				if bt.left.Add(-1) == 0 { // a buffer for each taken: the pool never fills up
					if cap(bt.b) != batchBytes { // a large row's own, or grown
						bt.b = make([]byte, batchBytes)
					}
					pool <- bt.b[:batchBytes]
				}
			}
		}()
	}
	buffer := func() ([]byte, error) {
		select {
		case b := <-pool:
			return b, nil
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	err = db.queryBatches(ctx, query+where+` ORDER BY t.seq`, args, buffer, func(b []byte, rows, ncol int) error {
		bt := &batch{b: b, rows: rows, ncol: ncol}
		bt.left.Store(int32(n))
		for _, q := range queues {
			q <- bt
		}
		return nil
	})
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	if cause := context.Cause(ctx); cause != nil {
		return cause // a worker's error, or ctx's end, rather than what it made the read answer
	}
	return err
}

// scanAhead is how many batches (of batchBytes) ScanRaw's reader may be ahead of a worker.
const scanAhead = 8

// rawReader is one worker's reading of ScanRaw's batches.
type rawReader struct {
	db            *DB
	kind          mpass.Kind
	share, shares int
	roles         *RoleSet
	fn            func(*Raw) error
	r             Raw
	id, subj, fps sql.RawBytes
	flags         int64
	dest          []any
	seen          int
}

// read decodes a batch's rows and hands those of the worker's share to its fn.
func (w *rawReader) read(ctx context.Context, b []byte, rows, ncol int) error {
	r := &w.r
	if w.dest == nil {
		r.Kind = w.kind
		last := &r.School // the seventh column: a release's school, a use's purpose
		if w.kind == mpass.KindUse {
			last = &r.Purpose
		}
		w.dest = []any{&w.id, &r.Time, &r.SP, &r.Controller, &w.subj, &r.Shape, last, &w.fps, &w.flags}
	}
	if ncol != len(w.dest) {
		return fmt.Errorf("sqlite: %d columns for %d", ncol, len(w.dest))
	}
	lookup := w.roles != nil && w.kind == mpass.KindRelease
	for range rows {
		var err error
		if b, err = scanBatchRow(b, w.dest); err != nil {
			return err
		}
		// unsigned: every row has an owner, whatever its ids
		if w.shares > 1 && int(uint64(r.SP*1000003+r.Controller)%uint64(w.shares)) != w.share {
			continue
		}
		if w.seen++; w.seen%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		r.ID, r.Subject, r.Fingerprints = w.id, w.subj, w.fps
		flags := w.flags
		if lookup { // flags is the release's role
			if flags == 2 {
				flags = roleFlags
			} else {
				known := flags > 0
				learner, knownHere, ok := w.roles.Lookup(w.subj, r.SP)
				if !ok {
					if learner, knownHere, err = w.db.SubjectRole(ctx, w.subj, r.SP); err != nil {
						return err
					}
				}
				flags = 0
				if learner {
					flags |= roleLearner
				}
				if known || knownHere {
					flags |= roleKnownFlag
				}
			}
		}
		r.Learner, r.RoleKnown = flags&roleLearner != 0, flags&roleKnownFlag != 0
		if err := w.fn(r); err != nil {
			return err
		}
	}
	return nil
}

// settledReleases and settledUses keep a reader to the rows an ingest has settled
// (Settle): a killed ingest's last rows may hold an id conflict not yet rejected.
const (
	settledReleases = `seq <= (SELECT seq FROM ids_watermark WHERE kind = 0)`
	settledUses     = `seq <= (SELECT seq FROM ids_watermark WHERE kind = 1)`
)

// SPCount is how many releases and uses of one controller an SP had on one day.
type SPCount struct {
	SP       string
	Day      string
	Releases int64
	Uses     int64
}

// Counts counts a controller's releases and uses per SP and day in a period (days,
// inclusive): the exact numbers of a report, from the index.
func (db *DB) Counts(ctx context.Context, controller, from, to string) ([]SPCount, error) {
	ctl, lo, hi, err := db.controllerPeriod(ctx, controller, from, to)
	if err != nil || ctl == 0 {
		return nil, err
	}
	const day = int64(24 * 60 * 60 * 1e9)
	rows, err := db.db.QueryContext(ctx, `SELECT sp, time / ?, COUNT(*), 0 FROM releases
			WHERE controller = ? AND time >= ? AND time < ? AND `+settledReleases+` GROUP BY 1, 2
		UNION ALL
		SELECT t.sp, t.time / ?, 0, COUNT(*) FROM uses t LEFT JOIN subject_roles s ON s.subject = t.subject AND s.sp = t.sp
			WHERE COALESCE(t.controller, s.last_controller) = ? AND t.time >= ? AND t.time < ? AND t.`+settledUses+` GROUP BY 1, 2
		ORDER BY 1, 2`, day, ctl, lo, hi, day, ctl, lo, hi)
	if err != nil {
		return nil, err
	}
	var out []SPCount
	var sps []int64
	err = scanRows(ctx, rows, func() error {
		var c SPCount
		var sp, d int64
		if err := rows.Scan(&sp, &d, &c.Releases, &c.Uses); err != nil {
			return err
		}
		c.Day = fromNanos(d * day).Format(time.DateOnly)
		if n := len(out); n > 0 && sps[n-1] == sp && out[n-1].Day == c.Day {
			out[n-1].Releases += c.Releases
			out[n-1].Uses += c.Uses
			return nil
		}
		out, sps = append(out, c), append(sps, sp)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].SP, err = db.Name(ctx, sps[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scanRows calls each for every row, and stops with ctx's error once ctx ends: checked
// every checkEvery rows (a national audit reads tens of millions, ctx.Err takes a lock)
// and at the end, so a scan whose ctx ended answers its error whether database/sql
// closed the rows first or not.
func scanRows(ctx context.Context, rows *sql.Rows, each func() error) error {
	defer rows.Close()
	for n := 0; rows.Next(); n++ {
		if n%checkEvery == checkEvery-1 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := each(); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return rows.Err()
}

// checkEvery is how many rows a scan reads between two looks at its context.
const checkEvery = 256

// CountRecords counts the stored releases and uses.
func (db *DB) CountRecords(ctx context.Context) (releases, uses int64, err error) {
	if err = db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM releases`).Scan(&releases); err != nil {
		return
	}
	err = db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM uses`).Scan(&uses)
	return
}

// SchoolCounts counts a controller's releases per school they name in a period (days,
// inclusive): the school's code or OID as stored ("" for releases that name none).
// The controller's index narrows the rows; the school is read from each.
func (db *DB) SchoolCounts(ctx context.Context, controller, from, to string) (map[string]int64, error) {
	ctl, lo, hi, err := db.controllerPeriod(ctx, controller, from, to)
	if err != nil || ctl == 0 {
		return nil, err
	}
	rows, err := db.db.QueryContext(ctx, `SELECT COALESCE(n.name, ''), c FROM
		(SELECT school, COUNT(*) AS c FROM releases WHERE controller = ? AND time >= ? AND time < ? AND `+settledReleases+` GROUP BY school) r
		LEFT JOIN names n ON n.id = r.school`, ctl, lo, hi)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	err = scanRows(ctx, rows, func() error {
		var school string
		var n int64
		if err := rows.Scan(&school, &n); err != nil {
			return err
		}
		out[school] += n
		return nil
	})
	return out, err
}

// controllerPeriod is a controller's name id (0 where nothing of it is stored) and a
// period of days, inclusive, as [lo, hi) in UTC nanoseconds.
func (db *DB) controllerPeriod(ctx context.Context, controller, from, to string) (ctl, lo, hi int64, err error) {
	if lo, err = dayStart(from); err != nil {
		return 0, 0, 0, err
	}
	if hi, err = dayEnd(to); err != nil {
		return 0, 0, 0, err
	}
	ctl, err = db.names.lookup(ctx, db.db, controller)
	return ctl, lo, hi, err
}
