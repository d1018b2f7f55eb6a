package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

var _ mpass.RunService = (*DB)(nil)

// failInterruptedRuns marks failed the runs left "running" by a process that no longer
// exists (killed mid-audit), so an interrupted audit is never shown as finished. A run
// of a live process (another audit on the same database right now) is left alone.
func (db *DB) failInterruptedRuns(ctx context.Context) error {
	rows, err := db.db.QueryContext(ctx, `SELECT id, pid FROM runs WHERE status = 'running'`)
	if err != nil {
		return err
	}
	var dead []int64
	err = scanRows(ctx, rows, func() error {
		var id int64
		var pid int
		if err := rows.Scan(&id, &pid); err != nil {
			return err
		}
		if !processAlive(pid) {
			dead = append(dead, id)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range dead {
		if err := db.FailRun(ctx, id, "interrupted: the process ended before the audit finished"); err != nil {
			return err
		}
	}
	return nil
}

// processAlive reports whether a process with that id exists on this machine.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// CreateRun stores a new running run and sets its id and start time.
func (db *DB) CreateRun(ctx context.Context, run *mpass.Run) error {
	run.Started = db.Now()
	run.Status = mpass.RunRunning
	res, err := db.db.ExecContext(ctx, `INSERT INTO runs (started, status, controller, from_day, to_day, policy_digest, registry_version, pid)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, nanos(run.Started), run.Status, run.Controller, run.From, run.To, run.PolicyDigest, run.RegistryVersion, os.Getpid())
	if err != nil {
		return err
	}
	run.ID, err = res.LastInsertId()
	return err
}

// FinishRun marks a run finished with its summary and previous run.
func (db *DB) FinishRun(ctx context.Context, run *mpass.Run) error {
	run.Finished = db.Now()
	run.Status = mpass.RunFinished
	summary, _ := json.Marshal(run.Summary)
	var prev any
	if run.Previous != 0 {
		prev = run.Previous
	}
	_, err := db.db.ExecContext(ctx, `UPDATE runs SET finished = ?, status = ?, summary = ?, previous = ? WHERE id = ?`,
		nanos(run.Finished), run.Status, string(summary), prev, run.ID)
	return err
}

// FailRun marks a run failed; its findings stay for inspection but it is never listed.
func (db *DB) FailRun(ctx context.Context, id int64, reason string) error {
	_, err := db.db.ExecContext(ctx, `UPDATE runs SET finished = ?, status = 'failed', error = ? WHERE id = ?`, nanos(db.Now()), reason, id)
	return err
}

const runColumns = `id, started, COALESCE(finished, 0), status, controller, from_day, to_day, policy_digest, registry_version, summary, COALESCE(previous, 0), frozen`

func scanRun(row interface{ Scan(...any) error }) (*mpass.Run, error) {
	var r mpass.Run
	var started, finished int64
	var summary string
	if err := row.Scan(&r.ID, &started, &finished, &r.Status, &r.Controller, &r.From, &r.To, &r.PolicyDigest, &r.RegistryVersion, &summary, &r.Previous, &r.Frozen); err != nil {
		return nil, err
	}
	r.Started = fromNanos(started)
	if finished != 0 {
		r.Finished = fromNanos(finished)
	}
	if err := json.Unmarshal([]byte(summary), &r.Summary); err != nil {
		return nil, err
	}
	return &r, nil
}

// FindRun returns one run.
func (db *DB) FindRun(ctx context.Context, id int64) (*mpass.Run, error) {
	r, err := scanRun(db.db.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mpass.Errorf(mpass.ENOTFOUND, "run %d not found", id)
	}
	return r, err
}

// FindRuns lists finished runs newest first. With controllers not nil, only runs that
// cover one of them: all-controller runs and their own.
func (db *DB) FindRuns(ctx context.Context, controllers []string) ([]*mpass.Run, error) {
	query := `SELECT ` + runColumns + ` FROM runs WHERE status = 'finished'`
	var args []any
	if controllers != nil {
		query += ` AND (controller = ''` + strings.Repeat(` OR controller = ?`, len(controllers)) + `)`
		for _, c := range controllers {
			args = append(args, c)
		}
	}
	return db.queryRuns(ctx, query+` ORDER BY id DESC`, args...)
}

// queryRuns reads the runs a query of runColumns answers.
func (db *DB) queryRuns(ctx context.Context, query string, args ...any) ([]*mpass.Run, error) {
	rows, err := db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	var runs []*mpass.Run
	err = scanRows(ctx, rows, func() error {
		r, err := scanRun(rows)
		runs = append(runs, r)
		return err
	})
	return runs, err
}

// PreviousRun is the newest finished run of the same scope before run, or nil.
func (db *DB) PreviousRun(ctx context.Context, run *mpass.Run) (*mpass.Run, error) {
	r, err := scanRun(db.db.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs
		WHERE status = 'finished' AND controller = ? AND from_day = ? AND to_day = ? AND id < ?
		ORDER BY id DESC LIMIT 1`, run.Controller, run.From, run.To, run.ID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return r, err
}

// LatestRunCovering is the newest finished run whose scope covers s and whose figures
// are frozen (a report can be drawn from it), or nil.
func (db *DB) LatestRunCovering(ctx context.Context, s mpass.Scope) (*mpass.Run, error) {
	runs, err := db.FindRuns(ctx, []string{s.Controller})
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		if r.Frozen && r.Scope.Covers(s) {
			return r, nil
		}
	}
	return nil, nil
}

// MarkPersisting marks the findings of run that prev also had as persisting, in the
// store: a national run's previous findings need not be held in memory.
func (db *DB) MarkPersisting(ctx context.Context, run, prev int64) error {
	_, err := db.db.ExecContext(ctx, `UPDATE findings SET change = 'persisting'
		WHERE seq IN (SELECT c.seq FROM finding_ids c JOIN finding_ids p ON p.run_id = ? AND p.finding = c.finding WHERE c.run_id = ?)`, prev, run)
	return err
}

// FindingWriter stores the findings of one run. It stages them, as they come, in a
// temporary table of its own connection (appended, no index), and Close moves them
// into findings in the listing order (term, rule, SP, record, attribute, finding),
// then their ids into finding_ids in id order, in transactions of perCommit. Written
// as they came (in record order, their ids hashes) each finding landed at a random
// page of two indexes larger than any cache — at 10M diverse records 2.1 million
// findings took 167 s (sqlite3 CLI, 2 MiB cache); in listing order, with the ids
// apart, every index grows at its end: 48 s. A transaction still ends often enough
// for an ingest running at the same time to get its turn within the busy timeout. A
// run's findings are seen only once Close begins storing them; an aborted writer
// stores none, and a Close that fails midway leaves the (failed) run what it stored.
type FindingWriter struct {
	db        *DB
	conn      *sql.Conn // the staging table's
	tx        *sql.Tx
	stmt      *sql.Stmt
	pending   int // staged in tx
	perCommit int
	err       error // of opening the connection, answered by Write and Close
}

// findingsPerCommit is how many findings one transaction of a FindingWriter holds,
// staging or storing.
const findingsPerCommit = 50_000

// NewFindingWriter returns a writer; Close stores what it staged.
func (db *DB) NewFindingWriter(ctx context.Context) *FindingWriter {
	w := &FindingWriter{db: db, perCommit: findingsPerCommit}
	if w.conn, w.err = db.db.Conn(ctx); w.err != nil {
		return w
	}
	for _, q := range []string{
		`DROP TABLE IF EXISTS temp.staged_findings`,
		`CREATE TEMP TABLE staged_findings AS SELECT ` + findingColumns + ` FROM findings WHERE 0`,
	} {
		if _, w.err = w.conn.ExecContext(ctx, q); w.err != nil {
			return w
		}
	}
	return w
}

// Write stages findings.
func (w *FindingWriter) Write(ctx context.Context, findings []mpass.Finding) error {
	if w.err != nil {
		return w.err
	}
	if w.tx == nil {
		tx, err := w.conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO temp.staged_findings (`+findingColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			tx.Rollback()
			return err
		}
		w.tx, w.stmt = tx, stmt
	}
	for _, f := range findings {
		if _, err := w.stmt.ExecContext(ctx, f.RunID, f.ID, f.Term, f.Rule, f.Result, f.Severity, f.Message, f.Record, string(f.Kind), nanos(f.Time),
			f.SP, f.Controller, f.Subject, f.Attribute, f.Fingerprint, f.Exception, f.ExceptionNotApplied, f.Change, f.Purpose); err != nil {
			w.Abort()
			return fmt.Errorf("finding %s: %w", f.ID, err)
		}
	}
	if w.pending += len(findings); w.pending >= w.perCommit {
		return w.commitStaged()
	}
	return nil
}

func (w *FindingWriter) commitStaged() error {
	if w.tx == nil {
		return nil
	}
	w.stmt.Close()
	err := w.tx.Commit()
	w.tx, w.stmt, w.pending = nil, nil, 0
	return err
}

// Close stores the staged findings in listing order and releases the connection;
// closing again does nothing. When ctx ends midway, the findings stored by then stay
// (the run is failed by its caller, as when a write fails).
func (w *FindingWriter) Close(ctx context.Context) error {
	if w.conn == nil {
		return w.err
	}
	defer w.release()
	if err := w.commitStaged(); err != nil {
		return err
	}
	// the staged rows in listing order, numbered by the order table's rowid
	if _, err := w.conn.ExecContext(ctx, `CREATE TEMP TABLE staged_order AS SELECT rowid AS r FROM temp.staged_findings
		ORDER BY term, rule, sp, record, attribute, finding`); err != nil {
		return err
	}
	if err := w.inChunks(ctx, "temp.staged_order", `INSERT INTO findings (`+findingColumns+`)
		SELECT `+prefixColumns("s.", findingColumns)+` FROM temp.staged_order o JOIN temp.staged_findings s ON s.rowid = o.r
		WHERE o.rowid > ? AND o.rowid <= ? ORDER BY o.rowid`); err != nil {
		return fmt.Errorf("store findings: %w", err)
	}
	// then their ids, in id order: each run's (run_id, finding) pages are written once,
	// at the end of finding_ids. A run id the staged findings name (one per writer).
	if _, err := w.conn.ExecContext(ctx, `CREATE TEMP TABLE staged_ids AS SELECT f.run_id, f.finding, f.seq FROM findings f
		WHERE f.run_id IN (SELECT DISTINCT run_id FROM temp.staged_findings) ORDER BY f.run_id, f.finding`); err != nil {
		return err
	}
	if err := w.inChunks(ctx, "temp.staged_ids", `INSERT INTO finding_ids (run_id, finding, seq)
		SELECT run_id, finding, seq FROM temp.staged_ids WHERE rowid > ? AND rowid <= ? ORDER BY rowid`); err != nil {
		return fmt.Errorf("store finding ids: %w", err)
	}
	return nil
}

// inChunks runs insert, whose two arguments bound the rowids of table it copies
// (lo, hi], once for every perCommit rows of table, each in a transaction of its own.
func (w *FindingWriter) inChunks(ctx context.Context, table, insert string) error {
	var n int64
	if err := w.conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(rowid), 0) FROM `+table).Scan(&n); err != nil {
		return err
	}
	for lo := int64(0); lo < n; lo += int64(w.perCommit) {
		if _, err := w.conn.ExecContext(ctx, insert, lo, lo+int64(w.perCommit)); err != nil {
			return err
		}
	}
	return nil
}

// Abort drops what was staged.
func (w *FindingWriter) Abort() {
	if w.tx != nil {
		w.stmt.Close()
		w.tx.Rollback()
		w.tx, w.stmt, w.pending = nil, nil, 0
	}
	w.release()
}

// release drops the staging tables and gives the connection back to the pool.
func (w *FindingWriter) release() {
	if w.conn == nil {
		return
	}
	w.conn.ExecContext(context.Background(), `DROP TABLE IF EXISTS temp.staged_order`)
	w.conn.ExecContext(context.Background(), `DROP TABLE IF EXISTS temp.staged_ids`)
	w.conn.ExecContext(context.Background(), `DROP TABLE IF EXISTS temp.staged_findings`)
	w.conn.Close()
	w.conn = nil
}

// prefixColumns prefixes every column of a comma-separated list.
func prefixColumns(prefix, cols string) string {
	fields := strings.Split(cols, ",")
	for i, f := range fields {
		fields[i] = prefix + strings.TrimSpace(f)
	}
	return strings.Join(fields, ", ")
}

const findingColumns = `run_id, finding, term, rule, result, severity, message, record, kind, time, sp, controller, subject, attribute,
	fingerprint, exception, exception_not_applied, change, purpose`

// Findings streams the findings that match the filter to fn, ordered by policy, rule,
// sp, record, attribute and finding id.
func (db *DB) Findings(ctx context.Context, f mpass.FindingFilter, fn func(*mpass.Finding) error) error {
	conds := []string{"run_id = ?"}
	args := []any{f.RunID}
	if f.Controllers != nil {
		conds = append(conds, "controller IN ("+placeholders(len(f.Controllers))+")")
		for _, c := range f.Controllers {
			args = append(args, c)
		}
	}
	for _, c := range [...]struct{ col, v string }{{"term", f.Term}, {"rule", f.Rule}, {"sp", f.SP}, {"result", f.Result}, {"severity", f.Severity}} {
		if c.v != "" {
			conds = append(conds, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	if f.From != "" {
		n, err := dayStart(f.From)
		if err != nil {
			return mpass.Errorf(mpass.EINVALID, "from %q: not a date", f.From)
		}
		conds, args = append(conds, "time >= ?"), append(args, n)
	}
	if f.To != "" {
		n, err := dayEnd(f.To)
		if err != nil {
			return mpass.Errorf(mpass.EINVALID, "to %q: not a date", f.To)
		}
		conds, args = append(conds, "time < ?"), append(args, n)
	}
	if a := f.After; a != nil {
		if f.BySeverity {
			return mpass.Errorf(mpass.EINVALID, "a keyset page is in the findings' own order, not by severity")
		}
		// a row value: SQLite walks findings_order from the key on, no OFFSET to skip
		conds = append(conds, "(term, rule, sp, record, attribute, finding) > (?, ?, ?, ?, ?, ?)")
		args = append(args, a.Term, a.Rule, a.SP, a.Record, a.Attribute, a.Finding)
	}
	// finding last: a release and a use may share a record id, and a page must end
	// between two findings, never inside a tie
	order := `term, rule, sp, record, attribute, finding`
	if f.BySeverity {
		var rank strings.Builder
		for i, s := range mpass.Severities { // the store's words, not input: no placeholder needed
			fmt.Fprintf(&rank, " WHEN '%s' THEN %d", s, i)
		}
		order = `CASE severity` + rank.String() + fmt.Sprintf(` ELSE %d END, `, len(mpass.Severities)) + order
	}
	query := `SELECT ` + findingColumns + ` FROM findings WHERE ` + strings.Join(conds, " AND ") + ` ORDER BY ` + order
	if f.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d OFFSET %d", f.Limit, max(0, f.Offset))
	}
	rows, err := db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	return scanFindings(ctx, rows, fn)
}

// Resolved streams the findings of prev that run no longer has, in result order.
func (db *DB) Resolved(ctx context.Context, run, prev int64, controllers []string, fn func(*mpass.Finding) error) error {
	query := `SELECT ` + findingColumns + ` FROM findings p WHERE run_id = ? AND result != 'pass'
		AND NOT EXISTS (SELECT 1 FROM finding_ids c WHERE c.run_id = ? AND c.finding = p.finding)`
	query, args := inControllers(query, []any{prev, run}, controllers)
	rows, err := db.db.QueryContext(ctx, query+` ORDER BY term, rule, sp, record, attribute`, args...)
	if err != nil {
		return err
	}
	return scanFindings(ctx, rows, fn)
}

func placeholders(n int) string {
	if n == 0 {
		return "NULL"
	}
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// scanFindings streams rows of findingColumns to fn, reusing one Finding.
func scanFindings(ctx context.Context, rows *sql.Rows, fn func(*mpass.Finding) error) error {
	var x mpass.Finding
	return scanRows(ctx, rows, func() error {
		var t int64
		var kind string
		if err := rows.Scan(&x.RunID, &x.ID, &x.Term, &x.Rule, &x.Result, &x.Severity, &x.Message, &x.Record, &kind, &t, &x.SP,
			&x.Controller, &x.Subject, &x.Attribute, &x.Fingerprint, &x.Exception, &x.ExceptionNotApplied, &x.Change, &x.Purpose); err != nil {
			return err
		}
		x.Kind, x.Time = mpass.Kind(kind), fromNanos(t)
		return fn(&x)
	})
}

// insertStats stores a run's per-controller, per-SP aggregates.
func insertStats(ctx context.Context, tx *sql.Tx, runID int64, stats []*mpass.SPStats) error {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO run_stats (run_id, controller, sp, releases, uses, attributes, disclosures, summary)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, s := range stats {
		attrs, _ := json.Marshal(s.Attributes)
		disc, _ := json.Marshal(s.Disclosures)
		summary, _ := json.Marshal(s.Summary)
		if _, err := stmt.ExecContext(ctx, runID, s.Controller, s.SP, s.Releases, s.Uses, string(attrs), string(disc), string(summary)); err != nil {
			return fmt.Errorf("run stats of %q at %s: %w", s.Controller, s.SP, err)
		}
	}
	return nil
}

// inControllers adds "AND controller IN (...)" for a non-nil list.
func inControllers(query string, args []any, controllers []string) (string, []any) {
	if controllers == nil {
		return query, args
	}
	for _, c := range controllers {
		args = append(args, c)
	}
	return query + ` AND controller IN (` + placeholders(len(controllers)) + `)`, args
}

// Stats returns a run's aggregates for the given controllers (all when nil), ordered by
// controller and SP.
func (db *DB) Stats(ctx context.Context, runID int64, controllers []string) ([]*mpass.SPStats, error) {
	query, args := inControllers(`SELECT controller, sp, releases, uses, attributes, disclosures, summary FROM run_stats WHERE run_id = ?`, []any{runID}, controllers)
	rows, err := db.db.QueryContext(ctx, query+` ORDER BY controller, sp`, args...)
	if err != nil {
		return nil, err
	}
	var out []*mpass.SPStats
	err = scanRows(ctx, rows, func() error {
		var s mpass.SPStats
		var attrs, disc, summary string
		if err := rows.Scan(&s.Controller, &s.SP, &s.Releases, &s.Uses, &attrs, &disc, &summary); err != nil {
			return err
		}
		for _, x := range []struct {
			text string
			into any
		}{{attrs, &s.Attributes}, {disc, &s.Disclosures}, {summary, &s.Summary}} {
			if err := json.Unmarshal([]byte(x.text), x.into); err != nil {
				return err
			}
		}
		out = append(out, &s)
		return nil
	})
	return out, err
}

// RunTotals is what a run judged over some controllers: releases and uses, and of
// them the uses whose controller could not be found with their results.
type RunTotals struct {
	Releases, Uses int64
	UnknownUses    int64
	Unknown        mpass.Summary
}

// RunTotals adds up a run's stored per-SP aggregates over the given controllers (all
// when nil; the uses without a controller are in no list of controllers). Sums in SQL:
// a national run has tens of thousands of rows, and decoding their JSON was slow.
func (db *DB) RunTotals(ctx context.Context, runID int64, controllers []string) (RunTotals, error) {
	var t RunTotals
	query, args := inControllers(`SELECT COALESCE(SUM(releases), 0), COALESCE(SUM(uses), 0) FROM run_stats WHERE run_id = ?`, []any{runID}, controllers)
	if err := db.db.QueryRowContext(ctx, query, args...).Scan(&t.Releases, &t.Uses); err != nil {
		return t, fmt.Errorf("run %d totals: %w", runID, err)
	}
	if controllers != nil {
		return t, nil
	}
	rows, err := db.db.QueryContext(ctx, `SELECT uses, summary FROM run_stats WHERE run_id = ? AND controller = ''`, runID)
	if err != nil {
		return t, fmt.Errorf("run %d totals: %w", runID, err)
	}
	err = scanRows(ctx, rows, func() error {
		var uses int64
		var summary string
		var s mpass.Summary
		if err := rows.Scan(&uses, &summary); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(summary), &s); err != nil {
			return err
		}
		t.UnknownUses += uses
		t.Unknown.Merge(s)
		return nil
	})
	return t, err
}

// SetRunPID records which process works on a run (tests simulate a killed one).
func (db *DB) SetRunPID(ctx context.Context, id int64, pid int) error {
	_, err := db.db.ExecContext(ctx, `UPDATE runs SET pid = ? WHERE id = ?`, pid, id)
	return err
}

// FindingCounts counts a run's findings by term, SP, result and whether they are new,
// for the controllers given (all when nil), ordered by term and SP: for pages and
// outputs that show counts only (a national run has hundreds of thousands of findings,
// and reading each for the table was a tenth of the audit).
func (db *DB) FindingCounts(ctx context.Context, runID int64, controllers []string) ([]mpass.FindingTally, error) {
	query, args := inControllers(`SELECT term, sp, result, change = 'new', COUNT(*) FROM findings WHERE run_id = ?`, []any{runID}, controllers)
	rows, err := db.db.QueryContext(ctx, query+` GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`, args...)
	if err != nil {
		return nil, err
	}
	var out []mpass.FindingTally
	err = scanRows(ctx, rows, func() error {
		var c mpass.FindingTally
		err := rows.Scan(&c.Term, &c.SP, &c.Result, &c.New, &c.N)
		out = append(out, c)
		return err
	})
	return out, err
}
