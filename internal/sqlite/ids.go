package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// IDConflicts are the rows MergeIDs rejected: rows whose id a row with another time
// holds.
type IDConflicts struct {
	N int // rejected
	// Listed are the first of them (MergeIDs' keep), in source and line order, and
	// stored as rejections; FirstUnlisted is the line of the first not listed (0: none).
	Listed        []mpass.Rejection
	FirstUnlisted int
}

// idKinds are the tables whose ids MergeIDs merges, with their kind in record_ids and
// the content columns of releaseCols and useCols as the rejection digest hashes them
// (the types InsertBatch binds, so that a row rejected here and one rejected when it
// was inserted have the same digest).
var idKinds = [...]struct {
	kind  int
	table string
	scan  func(*sql.Rows) ([]any, string, int64, error)
}{
	{0, "releases", func(rows *sql.Rows) ([]any, string, int64, error) {
		var id, subject, file string
		var t, sp, controller, role, shape, school, line int64
		var fingerprints []byte
		err := rows.Scan(&id, &t, &sp, &controller, &subject, &role, &shape, &fingerprints, &school, &file, &line)
		return []any{id, t, sp, controller, subject, role, shape, fingerprints, school}, file, line, err
	}},
	{1, "uses", func(rows *sql.Rows) ([]any, string, int64, error) {
		var id, subject, file string
		var t, sp, purpose, shape, line int64
		var controller sql.NullInt64
		err := rows.Scan(&id, &t, &sp, &controller, &subject, &purpose, &shape, &file, &line)
		var ctl any // nil for none, as InsertBatch binds it
		if controller.Valid {
			ctl = controller.Int64
		}
		return []any{id, t, sp, ctl, subject, purpose, shape}, file, line, err
	}},
}

// Settle makes the rows stored since it last ran what readers may count on: it merges
// their ids (MergeIDs, keep as there) and then brings subject_roles up to date
// (UpdateRoles), so that a rejected row's role is never counted. Ingest settles when
// its batches are in, and before them (a killed ingest's rows); an audit when it
// starts.
func (db *DB) Settle(ctx context.Context, keep int) (IDConflicts, error) {
	db.checkpoints.wait()
	c, err := db.MergeIDs(ctx, keep)
	if err != nil {
		return c, err
	}
	return c, db.UpdateRoles(ctx)
}

// LockIngest waits until no other ingest of this process stores or settles rows and
// keeps it so until unlock: each ingest then reports the id conflicts of its own rows
// (MergeIDs finds those of every unsettled row). Another process's ingest is not held
// back; its conflicts are still rejected, by whichever ingest settles them.
func (db *DB) LockIngest() (unlock func()) {
	db.ingesting.Lock()
	return db.ingesting.Unlock
}

// MergeIDs merges the ids of the rows stored since it last ran into record_ids, and
// rejects every new row whose id a row with another time holds: one stored before, or
// one earlier in the same rows (by seq, the order they were stored in). Such a row is
// deleted and counted; the first keep of them are listed and stored as rejections with
// their source and line. A row with the same time and id as a stored one never gets
// this far: InsertBatch finds it a duplicate or a conflict at once.
//
// The ids are merged in their sorted order, one pass for all new rows, instead of a
// UNIQUE index taking each random id at a random page as it comes. Ingest calls it
// when it ends and an audit when it starts (after a killed ingest); until then a new
// row's id is not checked against rows with other times.
func (db *DB) MergeIDs(ctx context.Context, keep int) (IDConflicts, error) {
	var c IDConflicts
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return c, err
	}
	defer tx.Rollback()
	for _, k := range idKinds {
		if err := mergeIDs(ctx, tx, k.kind, k.table, k.scan, nanos(db.Now()), keep, &c); err != nil {
			return c, fmt.Errorf("merge %s ids: %w", k.table, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return c, err
	}
	slices.SortStableFunc(c.Listed, func(a, b mpass.Rejection) int {
		return cmp.Or(strings.Compare(a.Source, b.Source), cmp.Compare(a.Line, b.Line))
	})
	return c, nil
}

// pending is the seq range (from, to] of the rows of table stored since a watermark,
// which the query (with args) reads; empty (to <= from) when there are none.
func pending(ctx context.Context, tx *sql.Tx, table, watermark string, args ...any) (from, to int64, err error) {
	if err := tx.QueryRowContext(ctx, watermark, args...).Scan(&from); err != nil {
		return 0, 0, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM `+table).Scan(&to); err != nil {
		return 0, 0, err
	}
	return from, to, nil
}

func mergeIDs(ctx context.Context, tx *sql.Tx, kind int, table string, scan func(*sql.Rows) ([]any, string, int64, error), now int64, keep int, c *IDConflicts) error {
	from, to, err := pending(ctx, tx, table, `SELECT seq FROM ids_watermark WHERE kind = ?`, kind)
	if err != nil || to <= from {
		return err
	}
	restore, err := sortPragmas(ctx, tx)
	if err != nil {
		return err
	}
	defer restore()
	res, err := tx.ExecContext(ctx, `INSERT INTO record_ids (kind, id, seq)
		SELECT ?, id, seq FROM `+table+` WHERE seq > ? AND seq <= ? ORDER BY id, seq
		ON CONFLICT (kind, id) DO NOTHING`, kind, from, to)
	if err != nil {
		return err
	}
	merged, err := res.RowsAffected()
	if err != nil {
		return err
	}
	// The new rows are at most to - from (seqs are unique); when that many were merged,
	// none lost its id. Otherwise count them: seqs have gaps where an insert skipped a
	// duplicate, and counting reads every new row (3.1 s at 10M releases, one core).
	n := to - from
	if merged < n {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE seq > ? AND seq <= ?`, from, to).Scan(&n); err != nil {
			return err
		}
	}
	if merged < n { // some new row's id is held by another row: find them all
		if err := rejectLosers(ctx, tx, kind, table, scan, from, to, now, keep, c); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, `UPDATE ids_watermark SET seq = ? WHERE kind = ?`, to, kind)
	return err
}

// rejectLosers deletes and rejects the new rows (seq in (from, to]) that do not hold
// their id in record_ids. The losers are collected in a temporary table first, so that
// any number of them (a month ingested again with every time shifted) costs disk, not
// memory.
func rejectLosers(ctx context.Context, tx *sql.Tx, kind int, table string, scan func(*sql.Rows) ([]any, string, int64, error), from, to, now int64, keep int, c *IDConflicts) error {
	for _, q := range []string{
		`DROP TABLE IF EXISTS temp.id_losers`,
		`CREATE TEMP TABLE id_losers (seq INTEGER PRIMARY KEY)`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO temp.id_losers (seq)
		SELECT n.seq FROM `+table+` n JOIN record_ids r ON r.kind = ? AND r.id = n.id
		WHERE n.seq > ? AND n.seq <= ? AND r.seq <> n.seq`, kind, from, to)
	if err != nil {
		return err
	}
	lost, err := res.RowsAffected()
	if err != nil {
		return err
	}
	cols := releaseCols
	if kind == 1 {
		cols = useCols
	}
	room := max(keep-len(c.Listed), 0)
	content := strings.Split(cols, ", ")
	content = content[:len(content)-originCols]
	rows, err := tx.QueryContext(ctx, `SELECT t.`+strings.Join(content, ", t.")+`, COALESCE(s.name, ''), t.line
		FROM temp.id_losers l JOIN `+table+` t ON t.seq = l.seq LEFT JOIN sources s ON s.id = t.source
		ORDER BY COALESCE(s.name, ''), t.line LIMIT ?`, room+1)
	if err != nil {
		return err
	}
	var listed []mpass.Rejection
	err = scanRows(ctx, rows, func() error {
		values, file, line, err := scan(rows)
		if err != nil {
			return err
		}
		if len(listed) == room {
			if c.FirstUnlisted == 0 || int(line) < c.FirstUnlisted {
				c.FirstUnlisted = int(line)
			}
			return nil
		}
		listed = append(listed, conflictRejection(file, line, values))
		return nil
	})
	if err != nil {
		return err
	}
	for _, q := range []string{
		`DELETE FROM ` + table + ` WHERE seq IN (SELECT seq FROM temp.id_losers)`,
		`DROP TABLE temp.id_losers`, // not left on the pooled connection
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	if err := insertRejections(ctx, tx, listed, now); err != nil {
		return err
	}
	c.N += int(lost)
	c.Listed = append(c.Listed, listed...)
	return nil
}
