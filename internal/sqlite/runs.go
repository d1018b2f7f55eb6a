package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sync/errgroup"

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
// temporary table of its own connection (appended, no index), each referring to its
// decision and names by number (migration 0017), and Close moves them into findings
// in the listing order (term, rule, SP, record, attribute, finding), then their ids
// into finding_ids in id order and their controllers into finding_controllers in
// controller order, in transactions of perCommit. Written as they came (in record
// order, their ids hashes) each finding landed at a random page of indexes larger
// than any cache — at 10M diverse records 2.1 million findings took 167 s (sqlite3
// CLI, 2 MiB cache); in listing order, with the ids apart, every index grows at its
// end. Staging takes no lock on the database; a storing transaction ends often enough
// for an ingest running at the same time to get its turn within the busy timeout. A
// run's findings are seen only once Close begins storing them; an aborted writer
// stores none, and a Close that fails midway leaves the (failed) run what it stored.
type FindingWriter struct {
	db   *DB
	conn *sql.Conn // the staging tables'
	// staging is a deferred transaction of conn's own (BEGIN, not the pool's BEGIN
	// IMMEDIATE): it writes temporary tables only, so it never holds the database's
	// write lock, which an ingest, another run's storing, this run's freeze and the
	// names of findings take meanwhile
	staging   bool
	ex        *execer // stages a Write's findings in one call into C
	args      []byte  // their arguments, for ex
	pending   int     // staged in the open transaction
	perCommit int
	err       error // of opening the connection, answered by Write and Close
	// decisions are the distinct decisions staged, numbered from 1 in the order first
	// seen; Close stores them in decisions
	decisions map[decisionText]int64
	names     map[string]int64 // SP, controller and purpose names staged → names id
	runs      map[int64]bool   // the runs of the findings staged
}

// decisionText is what a finding says of its decision, stored once in decisions.
type decisionText struct {
	term, rule, result, severity, message, attribute, exception, exceptionNotApplied string
}

// findingsPerCommit is how many findings one transaction of a FindingWriter holds,
// staging or storing.
const findingsPerCommit = 50_000

// NewFindingWriter returns a writer; Close stores what it staged.
func (db *DB) NewFindingWriter(ctx context.Context) *FindingWriter {
	w := &FindingWriter{db: db, perCommit: findingsPerCommit, decisions: map[decisionText]int64{}, names: map[string]int64{"": 0}, runs: map[int64]bool{}}
	if w.conn, w.err = db.db.Conn(ctx); w.err != nil {
		return w
	}
	w.ex = db.newExecer(w.conn)
	for _, q := range []string{
		`DROP TABLE IF EXISTS temp.staged_findings`,
		`CREATE TEMP TABLE staged_findings (` + stagedColumns + `)`,
	} {
		if _, w.err = w.conn.ExecContext(ctx, q); w.err != nil {
			return w
		}
	}
	return w
}

// stagedColumns are a staged finding's: findings' own, decision the writer's number.
const stagedColumns = `run_id, finding, decision, record, kind, time, sp, controller, subject, fingerprint, change, purpose`

// Write stages findings.
func (w *FindingWriter) Write(ctx context.Context, findings []mpass.Finding) error {
	if w.err != nil {
		return w.err
	}
	if err := w.nameIDs(ctx, findings); err != nil {
		return err
	}
	if !w.staging {
		if _, err := w.conn.ExecContext(ctx, `BEGIN DEFERRED`); err != nil {
			return err
		}
		w.staging = true
	}
	w.args = w.args[:0]
	for i := range findings {
		f := &findings[i]
		w.runs[f.RunID] = true
		k := decisionText{f.Term, f.Rule, f.Result, f.Severity, f.Message, f.Attribute, f.Exception, f.ExceptionNotApplied}
		d := w.decisions[k]
		if d == 0 {
			d = int64(len(w.decisions) + 1)
			w.decisions[k] = d
		}
		b := appendText(appendInt(w.args, f.RunID), f.ID)
		b = appendText(appendInt(b, d), f.Record)
		b = appendInt(appendText(b, string(f.Kind)), nanos(f.Time))
		b = appendInt(appendInt(b, w.names[f.SP]), w.names[f.Controller])
		b = appendText(appendText(b, f.Subject), f.Fingerprint)
		w.args = appendInt(appendText(b, f.Change), w.names[f.Purpose])
	}
	const insert = `INSERT INTO temp.staged_findings (` + stagedColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	if _, err := w.ex.execEach(ctx, insert, 12, len(findings), w.args); err != nil {
		w.Abort()
		return fmt.Errorf("stage findings: %w", err)
	}
	if cap(w.args) > 1<<20 { // a run's biggest Write is not kept for the rest of it
		w.args = nil
	}
	if w.pending += len(findings); w.pending >= w.perCommit {
		return w.commitStaged(ctx)
	}
	return nil
}

// nameIDs adds the names of findings to w.names, storing those no record has (a
// finding of the registry alone, or a test's): the SPs, controllers and purposes an
// audit names are nearly always known already, so this is map lookups.
func (w *FindingWriter) nameIDs(ctx context.Context, findings []mpass.Finding) error {
	var missing map[string]bool
	for i := range findings {
		for _, n := range [...]string{findings[i].SP, findings[i].Controller, findings[i].Purpose} {
			if _, ok := w.names[n]; ok {
				continue
			}
			if id := w.db.names.id(n); id != 0 {
				w.names[n] = id
				continue
			}
			if missing == nil {
				missing = map[string]bool{}
			}
			missing[n] = true
		}
	}
	if missing == nil {
		return nil
	}
	if err := w.db.names.ensure(ctx, w.db.db, missing); err != nil {
		return fmt.Errorf("names of findings: %w", err)
	}
	for n := range missing {
		w.names[n] = w.db.names.id(n)
	}
	return nil
}

func (w *FindingWriter) commitStaged(ctx context.Context) error {
	if !w.staging {
		return nil
	}
	_, err := w.conn.ExecContext(ctx, `COMMIT`)
	w.staging, w.pending = err != nil, 0 // a failed COMMIT leaves it open, for Abort
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
	if err := w.commitStaged(ctx); err != nil {
		return err
	}
	if err := w.storeDecisions(ctx); err != nil {
		return err
	}
	// the staged rows sorted whole into listing order, numbered by the sorted table's
	// rowid: the sorter reads and writes in sequence, where a join from sorted rowids
	// back to the staged rows read them at random. Ranks stand for the texts. The
	// sorter's helper thread takes the core the run's freeze leaves (2,147,180 findings
	// of a 10M diverse run, sqlite3 shell: 9.5 s, 5.2 s with it; a 16 MiB cache instead
	// 8.3 s); its cache stays the default, as does the memory it sorts in.
	if _, err := w.conn.ExecContext(ctx, `PRAGMA threads = 2`); err != nil {
		return err
	}
	_, err := w.conn.ExecContext(ctx, `CREATE TEMP TABLE staged_order AS
		SELECT s.run_id, s.finding, d.id AS decision, s.record, s.kind, s.time, s.sp, s.controller, s.subject, s.fingerprint, s.change, s.purpose
		FROM temp.staged_findings s JOIN temp.staged_decisions d ON d.local = s.decision JOIN temp.staged_names n ON n.id = s.sp
		ORDER BY s.run_id, d.term_rule, n.rank, s.record, d.attribute, s.finding`)
	// back to no helper thread, on an error too: the side tables' sorts below, and
	// whoever gets the connection from the pool, run without it
	if _, rerr := w.conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA threads = 0`); err == nil {
		err = rerr
	}
	if err != nil {
		return err
	}
	if _, err := w.conn.ExecContext(ctx, `DROP TABLE temp.staged_findings`); err != nil {
		return err
	}
	var lo, hi int64 // the seqs of the stored findings, with any other writer's between
	if err := w.conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM findings`).Scan(&lo); err != nil {
		return err
	}
	if err := w.db.inChunks(ctx, w.conn, w.perCommit, "temp.staged_order", `INSERT INTO findings (`+stagedColumns+`)
		SELECT `+stagedColumns+` FROM temp.staged_order WHERE rowid > ? AND rowid <= ? ORDER BY rowid`); err != nil {
		return fmt.Errorf("store findings: %w", err)
	}
	if err := w.conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM findings`).Scan(&hi); err != nil {
		return err
	}
	// then their ids in id order and their controllers in controller order: each run's
	// pages of finding_ids and finding_controllers are written once, at their end. The
	// two are sorted at once, each on a connection of its own (a sort into a temporary
	// table takes no lock on the database; their inserts take the write lock in turn):
	// at 10M diverse records 7.8 s one after the other, 4.7 s at once.
	runs := slices.Sorted(maps.Keys(w.runs))
	g, gctx := errgroup.WithContext(ctx)
	for i, side := range []struct{ table, cols string }{
		{"finding_ids", "run_id, finding, seq"},
		{"finding_controllers", "run_id, controller, seq"},
	} {
		conn := w.conn
		if i > 0 {
			var err error
			if conn, err = w.db.db.Conn(ctx); err != nil {
				return errors.Join(err, g.Wait())
			}
			defer conn.Close()
		}
		g.Go(func() error {
			if err := w.db.storeSide(gctx, conn, side.table, side.cols, lo, hi, runs, w.perCommit); err != nil {
				return fmt.Errorf("store %s: %w", side.table, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// storeSide fills a side table of findings (finding_ids, finding_controllers) with the
// findings of runs whose seq is in (lo, hi], in the order of its columns: sorted whole
// into a temporary table (+run_id: the findings read by seq, in the order they were
// just written, not through an index), then copied in chunks.
func (db *DB) storeSide(ctx context.Context, conn *sql.Conn, table, cols string, lo, hi int64, runs []int64, perCommit int) error {
	staged := "temp.staged_" + table
	if _, err := conn.ExecContext(ctx, `DROP TABLE IF EXISTS `+staged); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS `+staged) // not left on a pooled connection
	args := []any{lo, hi}
	for _, r := range runs {
		args = append(args, r)
	}
	if _, err := conn.ExecContext(ctx, `CREATE TEMP TABLE staged_`+table+` AS SELECT `+cols+` FROM findings
		WHERE seq > ? AND seq <= ? AND +run_id IN (`+placeholders(len(runs))+`) ORDER BY `+cols, args...); err != nil {
		return err
	}
	return db.inChunks(ctx, conn, perCommit, staged, `INSERT INTO `+table+` (`+cols+`)
		SELECT `+cols+` FROM `+staged+` WHERE rowid > ? AND rowid <= ? ORDER BY rowid`)
}

// storeDecisions stores the staged decisions that decisions lacks and fills the
// staging connection's tables that map a staged finding to them and order it:
// staged_decisions (the writer's number → id, with the rank of its term and rule and
// of its attribute) and staged_names (an SP's id → the rank of its name), ranks in
// byte order as SQLite compares text.
func (w *FindingWriter) storeDecisions(ctx context.Context) error {
	texts := slices.Collect(maps.Keys(w.decisions))
	termRules := map[[2]string]int{}
	attributes := map[string]int{}
	for _, d := range texts {
		termRules[[2]string{d.term, d.rule}] = 0
		attributes[d.attribute] = 0
	}
	for i, k := range slices.SortedFunc(maps.Keys(termRules), func(x, y [2]string) int {
		return cmp.Or(strings.Compare(x[0], y[0]), strings.Compare(x[1], y[1]))
	}) {
		termRules[k] = i
	}
	for i, k := range slices.Sorted(maps.Keys(attributes)) {
		attributes[k] = i
	}
	names := slices.Sorted(maps.Keys(w.names))
	tx, err := w.conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{
		`DROP TABLE IF EXISTS temp.staged_decisions`,
		`CREATE TEMP TABLE staged_decisions (local INTEGER PRIMARY KEY, id INTEGER NOT NULL, term_rule INTEGER NOT NULL, attribute INTEGER NOT NULL)`,
		`DROP TABLE IF EXISTS temp.staged_names`,
		`CREATE TEMP TABLE staged_names (id INTEGER PRIMARY KEY, rank INTEGER NOT NULL)`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	for i, n := range names {
		if _, err := tx.ExecContext(ctx, `INSERT INTO temp.staged_names (id, rank) VALUES (?, ?)`, w.names[n], i); err != nil {
			return err
		}
	}
	for _, d := range texts {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO decisions (term, rule, result, severity, message, attribute, exception, exception_not_applied)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET term = excluded.term RETURNING id`,
			d.term, d.rule, d.result, d.severity, d.message, d.attribute, d.exception, d.exceptionNotApplied).Scan(&id)
		if err != nil {
			return fmt.Errorf("decision %s/%s: %w", d.term, d.rule, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO temp.staged_decisions (local, id, term_rule, attribute) VALUES (?, ?, ?, ?)`,
			w.decisions[d], id, termRules[[2]string{d.term, d.rule}], attributes[d.attribute]); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// inChunks runs insert, whose two arguments bound the rowids of table it copies
// (lo, hi], once for every perCommit rows of table, each in a transaction of its own.
// Its commits leave the WAL's checkpoints to db.checkpoints, as an ingest's batches do:
// done in a commit, a checkpoint (0.5 s of a 1M diverse audit) stood in the way of the
// findings' storing, with a core free beside it. While the other side table's sort
// reads the findings, the WAL cannot start over: it grows by what is written meanwhile.
func (db *DB) inChunks(ctx context.Context, conn *sql.Conn, perCommit int, table, insert string) error {
	var n int64
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(rowid), 0) FROM `+table).Scan(&n); err != nil {
		return err
	}
	restore, err := db.noAutocheckpoint(ctx, conn)
	defer restore()
	if err != nil {
		return err
	}
	for lo := int64(0); lo < n; lo += int64(perCommit) {
		db.checkpoints.beforeBatch(ctx, db)
		res, err := conn.ExecContext(ctx, insert, lo, lo+int64(perCommit))
		if err != nil {
			return err
		}
		stored, _ := res.RowsAffected()
		db.checkpoints.afterBatch(ctx, db, int(stored))
	}
	return nil
}

// Abort drops what was staged.
func (w *FindingWriter) Abort() {
	if w.staging {
		w.conn.ExecContext(context.Background(), `ROLLBACK`)
		w.staging, w.pending = false, 0
	}
	w.release()
}

// release drops the staging tables and gives the connection back to the pool.
func (w *FindingWriter) release() {
	if w.conn == nil {
		return
	}
	w.ex.close()
	for _, t := range []string{"staged_order", "staged_names", "staged_decisions", "staged_findings"} { // storeSide drops its own
		w.conn.ExecContext(context.Background(), `DROP TABLE IF EXISTS temp.`+t)
	}
	w.conn.Close()
	w.conn = nil
}

const findingColumns = `run_id, finding, term, rule, result, severity, message, record, kind, time, sp, controller, subject, attribute,
	fingerprint, exception, exception_not_applied, change, purpose`

// Findings streams the findings that match the filter to fn, ordered by policy, rule,
// sp, record, attribute and finding id: the order a run's findings are stored in
// (FindingWriter), so seq order.
func (db *DB) Findings(ctx context.Context, f mpass.FindingFilter, fn func(*mpass.Finding) error) error {
	conds := []string{"run_id = ?"}
	args := []any{f.RunID}
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
		seq, err := db.findingSeq(ctx, f.RunID, *a)
		if err != nil {
			return err
		}
		if seq != 0 { // the key of a finding of the run, as a page's last one is
			conds, args = append(conds, "seq > ?"), append(args, seq)
		} else { // any other key: compared as a row value, reading the run's rows
			conds = append(conds, "(term, rule, sp, record, attribute, finding) > (?, ?, ?, ?, ?, ?)")
			args = append(args, a.Term, a.Rule, a.SP, a.Record, a.Attribute, a.Finding)
		}
	}
	order := `seq`
	if f.BySeverity {
		var rank strings.Builder
		for i, s := range mpass.Severities { // the store's words, not input: no placeholder needed
			fmt.Fprintf(&rank, " WHEN '%s' THEN %d", s, i)
		}
		order = `CASE severity` + rank.String() + fmt.Sprintf(` ELSE %d END, `, len(mpass.Severities)) + order
	}
	query, args := inFindingControllers(`SELECT `+findingColumns+` FROM finding_rows WHERE `+strings.Join(conds, " AND "), args, f.RunID, f.Controllers)
	query += ` ORDER BY ` + order
	if f.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d OFFSET %d", f.Limit, max(0, f.Offset))
	}
	rows, err := db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	return scanFindings(ctx, rows, fn)
}

// findingSeq is the seq of the run's finding whose key k is, 0 when the run has none.
func (db *DB) findingSeq(ctx context.Context, run int64, k mpass.FindingKey) (int64, error) {
	var seq int64
	err := db.db.QueryRowContext(ctx, `SELECT f.seq FROM finding_ids i JOIN finding_rows f ON f.seq = i.seq
		WHERE i.run_id = ? AND i.finding = ? AND f.term = ? AND f.rule = ? AND f.sp = ? AND f.record = ? AND f.attribute = ?`,
		run, k.Finding, k.Term, k.Rule, k.SP, k.Record, k.Attribute).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, err
}

// inFindingControllers adds to a query of findings (or finding_rows) the condition that
// keeps run's findings of the controllers named ("" the findings without one), through
// finding_controllers, for a non-nil list: inControllers' twin for the findings, which
// keep their controller by number.
func inFindingControllers(query string, args []any, run int64, controllers []string) (string, []any) {
	if controllers == nil {
		return query, args
	}
	args = append(args, run)
	for _, c := range controllers {
		args = append(args, c)
	}
	none := ""
	if slices.Contains(controllers, "") {
		none = ` UNION ALL SELECT 0`
	}
	return query + ` AND seq IN (SELECT fc.seq FROM finding_controllers fc WHERE fc.run_id = ? AND fc.controller IN
		(SELECT n.id FROM names n WHERE n.name IN (` + placeholders(len(controllers)) + `)` + none + `))`, args
}

// Resolved streams the findings of prev that run no longer has, in result order.
func (db *DB) Resolved(ctx context.Context, run, prev int64, controllers []string, fn func(*mpass.Finding) error) error {
	query := `SELECT ` + findingColumns + ` FROM finding_rows p WHERE run_id = ? AND result != 'pass'
		AND NOT EXISTS (SELECT 1 FROM finding_ids c WHERE c.run_id = ? AND c.finding = p.finding)`
	query, args := inFindingControllers(query, []any{prev, run}, prev, controllers)
	rows, err := db.db.QueryContext(ctx, query+` ORDER BY seq`, args...)
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

// encodedRows are rows encoded for execEach (appendInt, appendText...), in chunks of
// rowsPerExec rows, each chunk a buffer of its own.
type encodedRows struct {
	buf    []byte // the chunk being written: append a row to it, then call row
	rows   int    // in buf
	chunks []encodedChunk
}

type encodedChunk struct {
	args []byte
	rows int
}

// row ends a row appended to r.buf.
func (r *encodedRows) row() {
	if r.rows++; r.rows == rowsPerExec {
		r.chunks = append(r.chunks, encodedChunk{r.buf, r.rows})
		r.buf, r.rows = make([]byte, 0, len(r.buf)), 0
	}
}

// exec runs query once per row, nargs arguments a row; an error names the rows of the
// failing call (counted from 1) and what they are.
func (r *encodedRows) exec(ctx context.Context, ex *execer, query string, nargs int, what string) error {
	if r.rows > 0 {
		r.chunks = append(r.chunks, encodedChunk{r.buf, r.rows})
		r.buf, r.rows = nil, 0
	}
	done := 0
	for _, c := range r.chunks {
		if _, err := ex.execEach(ctx, query, nargs, c.rows, c.args); err != nil {
			return fmt.Errorf("%s %d–%d: %w", what, done+1, done+c.rows, err)
		}
		done += c.rows
	}
	return nil
}

// encodeStats encodes a run's per-controller, per-SP aggregates as run_stats rows.
func encodeStats(runID int64, stats iter.Seq[*mpass.SPStats]) *encodedRows {
	var r encodedRows
	var text []byte
	keys := countKeys{}
	for s := range stats {
		b := appendInt(appendText(appendText(appendInt(r.buf, runID), s.Controller), s.SP), s.Releases)
		b = appendInt(b, s.Uses)
		for _, m := range []map[string]int64{s.Attributes, s.Disclosures} {
			text = keys.appendJSON(text[:0], m)
			b = appendText(b, text)
		}
		text = appendSummaryJSON(text[:0], s.Summary)
		r.buf = appendText(b, text)
		r.row()
	}
	return &r
}

// countKeys holds the JSON form of the names a run's counts are keyed by, each
// quoted once by encoding/json.
type countKeys map[string][]byte

// appendJSON appends m as encoding/json writes a map[string]int64: keys sorted
// bytewise, quoted and escaped as it quotes them ({} for an empty or nil map).
func (k countKeys) appendJSON(b []byte, m map[string]int64) []byte {
	b = append(b, '{')
	for i, name := range slices.Sorted(maps.Keys(m)) {
		q := k[name]
		if q == nil {
			q, _ = json.Marshal(name) // a string always encodes
			k[name] = q
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(append(append(b, q...), ':'), m[name], 10)
	}
	return append(b, '}')
}

// appendSummaryJSON appends s as encoding/json writes it (its fields in order).
func appendSummaryJSON(b []byte, s mpass.Summary) []byte {
	b = strconv.AppendInt(append(b, `{"pass":`...), s.Pass, 10)
	b = strconv.AppendInt(append(b, `,"fail":`...), s.Fail, 10)
	b = strconv.AppendInt(append(b, `,"warn":`...), s.Warn, 10)
	b = strconv.AppendInt(append(b, `,"error":`...), s.Error, 10)
	b = strconv.AppendInt(append(b, `,"skip":`...), s.Skip, 10)
	return append(b, '}')
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
	// counted by number, then named: the few hundred groups are joined, not each finding
	query, args := inFindingControllers(`SELECT decision, sp, change = 'new' AS new, COUNT(*) AS n FROM findings WHERE run_id = ?`,
		[]any{runID}, runID, controllers)
	rows, err := db.db.QueryContext(ctx, `SELECT d.term, COALESCE(s.name, ''), d.result, x.new, SUM(x.n)
		FROM (`+query+` GROUP BY 1, 2, 3) x JOIN decisions d ON d.id = x.decision LEFT JOIN names s ON s.id = x.sp
		GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`, args...)
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
