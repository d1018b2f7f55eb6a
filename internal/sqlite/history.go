package sqlite

import (
	"context"
	"fmt"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// AllRuns lists every run, finished, running or failed, newest first (`runs list`).
func (db *DB) AllRuns(ctx context.Context) ([]*mpass.Run, error) {
	return db.queryRuns(ctx, `SELECT `+runColumns+` FROM runs ORDER BY id DESC`)
}

// Changes of a finding between two runs (DiffFindings).
const (
	DiffNew        = "new"        // in the second run only
	DiffResolved   = "resolved"   // in the first run only
	DiffPersisting = "persisting" // in both
)

// DiffFindings streams the findings (fail, warn, skip, error) that differ or persist
// between runs a and b, compared by their stable id: first the new ones (b's rows),
// then the resolved (a's rows), then the persisting (b's rows), each in policy, rule,
// sp, record, attribute order.
func (db *DB) DiffFindings(ctx context.Context, a, b int64, fn func(change string, f *mpass.Finding) error) error {
	const other = `SELECT 1 FROM finding_ids i JOIN findings o ON o.seq = i.seq JOIN decisions d ON d.id = o.decision
		WHERE i.run_id = ? AND i.finding = f.finding AND d.result != 'pass'`
	for _, q := range []struct {
		change      string
		run, other  int64
		existsOther bool
	}{
		{DiffNew, b, a, false},
		{DiffResolved, a, b, false},
		{DiffPersisting, b, a, true},
	} {
		cond := `NOT EXISTS`
		if q.existsOther {
			cond = `EXISTS`
		}
		rows, err := db.db.QueryContext(ctx, `SELECT `+findingColumns+` FROM finding_rows f WHERE f.run_id = ? AND f.result != 'pass'
			AND `+cond+` (`+other+`) ORDER BY seq`, q.run, q.other)
		if err != nil {
			return err
		}
		if err := scanFindings(ctx, rows, func(f *mpass.Finding) error { return fn(q.change, f) }); err != nil {
			return err
		}
	}
	return nil
}

// ListRejections streams the stored rejections in source and line order; source, when
// not "", limits them to that source (a file name, "-" for stdin).
func (db *DB) ListRejections(ctx context.Context, source string, fn func(StoredRejection) error) error {
	query, args := `SELECT id, source, line, field, reason, digest, rejected FROM rejections`, []any(nil)
	if source != "" {
		query, args = query+` WHERE source = ?`, append(args, source)
	}
	rows, err := db.db.QueryContext(ctx, query+` ORDER BY source, line, id`, args...)
	if err != nil {
		return err
	}
	return scanRows(ctx, rows, func() error {
		var r StoredRejection
		var t int64
		if err := rows.Scan(&r.ID, &r.Source, &r.Line, &r.Field, &r.Reason, &r.Digest, &t); err != nil {
			return err
		}
		r.Rejected = fromNanos(t)
		return fn(r)
	})
}

// ShapeCount is how many releases of one controller to one SP on one day (Month is
// its month) had one shape (the attribute names they carried); a caller adds the days
// of a month up.
type ShapeCount struct {
	Controller, SP string
	Month          string // YYYY-MM, UTC
	Shape          int64  // shapes id (Shape gives its facts)
	Releases       int64
}

// ReleaseShapeCounts counts the stored releases in scope per controller, SP, UTC month
// and shape, in SQL over the stored rows (the statistics' source: a shape lists the
// attribute names, so per-attribute counts need no per-row work).
func (db *DB) ReleaseShapeCounts(ctx context.Context, scope mpass.Scope, fn func(ShapeCount) error) error {
	where, args, err := db.scopeWhere(ctx, scope, "t.controller")
	if err != nil {
		return err
	}
	// grouped by day (an integer division) and the days folded into months here: SQLite's
	// strftime on every row cost more than the grouping
	if where == "" {
		where = " WHERE t." + settledReleases
	} else {
		where += " AND t." + settledReleases
	}
	rows, err := db.db.QueryContext(ctx, `SELECT t.controller, t.sp, t.time / ?, t.shape, COUNT(*)
		FROM releases t`+where+` GROUP BY 1, 2, 3, 4`, append([]any{nanosPerDay}, args...)...)
	if err != nil {
		return fmt.Errorf("release counts: %w", err)
	}
	return scanRows(ctx, rows, func() error {
		var c ShapeCount
		var ctl, sp, day int64
		if err := rows.Scan(&ctl, &sp, &day, &c.Shape, &c.Releases); err != nil {
			return err
		}
		c.Month = fromNanos(day * nanosPerDay).Format("2006-01")
		var err error
		if c.Controller, err = db.Name(ctx, ctl); err != nil {
			return err
		}
		if c.SP, err = db.Name(ctx, sp); err != nil {
			return err
		}
		return fn(c)
	})
}
