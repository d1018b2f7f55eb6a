package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"

	"github.com/mattn/go-sqlite3"

	"github.com/opetushallitus/mpass-audit/internal/atomicfile"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// PurgeCounts says what a purge deleted.
type PurgeCounts struct {
	Releases, Uses, Rejections int64
}

// Purge deletes the records and rejected lines before a day (exclusive), in batches so
// ingests and audits go on meanwhile. Runs and their findings stay: a finding keeps
// its record's id, time, SP, controller and subject, so old reports stay readable.
func (db *DB) Purge(ctx context.Context, before string) (PurgeCounts, error) {
	var c PurgeCounts
	cut, err := dayStartExact(before)
	if errors.Is(err, errTimeRange) {
		return c, mpass.Errorf(mpass.EINVALID, "--before %s: %v", before, err)
	} else if err != nil {
		return c, mpass.Errorf(mpass.EINVALID, "--before %q: not a date (YYYY-MM-DD)", before)
	}
	for _, t := range []struct {
		ids   string // the record_ids entries of the rows deleted next, first
		query string
		n     *int64
	}{
		{`DELETE FROM record_ids WHERE kind = 0 AND (id, seq) IN (SELECT id, seq FROM releases WHERE time < ?1 ORDER BY time LIMIT 50000)`,
			`DELETE FROM releases WHERE seq IN (SELECT seq FROM releases WHERE time < ?1 ORDER BY time LIMIT 50000)`, &c.Releases},
		{`DELETE FROM record_ids WHERE kind = 1 AND (id, seq) IN (SELECT id, seq FROM uses WHERE time < ?1 ORDER BY time LIMIT 50000)`,
			`DELETE FROM uses WHERE seq IN (SELECT seq FROM uses WHERE time < ?1 ORDER BY time LIMIT 50000)`, &c.Uses},
		{"", `DELETE FROM rejections WHERE id IN (SELECT id FROM rejections WHERE rejected < ?1 LIMIT 50000)`, &c.Rejections},
	} {
		for {
			n, err := purgeStep(ctx, db.db, t.ids, t.query, cut)
			if err != nil {
				return c, err
			}
			*t.n += n
			if n == 0 {
				break
			}
		}
	}
	return c, nil
}

// purgeStep runs one step of a purge in a transaction of its own: ids, when not "",
// deletes the record_ids entries of the rows query deletes next (an id no row holds
// may be stored again), then query deletes them. It returns how many query deleted.
func purgeStep(ctx context.Context, db *sql.DB, ids, query string, cut int64) (int64, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if ids != "" {
		if _, err := tx.ExecContext(ctx, ids, cut); err != nil {
			return 0, err
		}
	}
	res, err := tx.ExecContext(ctx, query, cut)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	return n, tx.Commit()
}

// Backup writes a consistent copy of the database to path with SQLite's online backup,
// while ingests, audits and the service go on. The copy is made in a temporary file
// beside path and takes its name only when complete and synced, so a backup killed
// midway leaves no file at path that could pass for a good one; path is never
// overwritten. A path SQLite would read as anything but a plain file (a file: URI,
// parameters after ?, :memory:) is refused: it used to say "written" and write nothing.
// progress, where not nil, is told the pages copied and their total after each step.
func (db *DB) Backup(ctx context.Context, path string, progress func(copied, total int)) error {
	if err := checkBackupPath(path); err != nil {
		return err
	}
	err := atomicfile.CreateByName(path, db.mode(), func(tmp string) error {
		return db.backupTo(ctx, tmp, progress)
	})
	if errors.Is(err, fs.ErrExist) {
		return mpass.Errorf(mpass.EINVALID, "%s exists; a backup never overwrites a file", path)
	} else if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// checkBackupPath refuses what is not a plain file path, and a directory or special
// file, before anything is copied.
func checkBackupPath(path string) error {
	switch {
	case path == "" || path == ":memory:" || strings.HasPrefix(path, ":memory:"):
		return mpass.Errorf(mpass.EINVALID, "backup %q: give a file path", path)
	case strings.HasPrefix(strings.ToLower(path), "file:"):
		return mpass.Errorf(mpass.EINVALID, "backup %q: a URI, not a file path; give a plain file path", path)
	case strings.ContainsAny(path, "?#"):
		return mpass.Errorf(mpass.EINVALID, "backup %q: ? and # would be read as URI parameters; give a plain file path without them", path)
	}
	if err := atomicfile.CheckTarget(path, true); errors.Is(err, fs.ErrExist) {
		return mpass.Errorf(mpass.EINVALID, "%s exists; a backup never overwrites a file", path)
	} else if err != nil {
		return mpass.Errorf(mpass.EINVALID, "backup: %v", err)
	}
	return nil
}

// backupStepBytes is how much of the database a backup copies before it lets
// writers in again.
const backupStepBytes = 4 << 20

// backupTo copies the database into the (empty) file tmp, page by page.
func (db *DB) backupTo(ctx context.Context, tmp string, progress func(copied, total int)) error {
	dest, err := sql.Open(driverName, "file:"+url.PathEscape(tmp))
	if err != nil {
		return err
	}
	defer dest.Close()
	dconn, err := dest.Conn(ctx)
	if err != nil {
		return err
	}
	defer dconn.Close()
	sconn, err := db.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer sconn.Close()
	err = dconn.Raw(func(d any) error {
		return sconn.Raw(func(s any) error {
			b, err := d.(*sqlite3.SQLiteConn).Backup("main", s.(*sqlite3.SQLiteConn), "main")
			if err != nil {
				return err
			}
			// 4 MiB at a time, so writers are not held up for the whole copy
			for {
				done, err := b.Step(int(pagesOf(backupStepBytes, db.pageSize)))
				if err != nil {
					b.Finish()
					return err
				}
				if done {
					return b.Finish()
				}
				if progress != nil {
					progress(b.PageCount()-b.Remaining(), b.PageCount())
				}
				if ctx.Err() != nil {
					b.Finish()
					return ctx.Err()
				}
			}
		})
	})
	if err != nil {
		return err
	}
	// closed before the file is synced and named: SQLite's handles are then all gone
	if err := dconn.Close(); err != nil {
		return err
	}
	return dest.Close()
}
