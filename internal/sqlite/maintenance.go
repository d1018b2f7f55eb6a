package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"

	"github.com/mattn/go-sqlite3"

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
		query string
		n     *int64
	}{
		{`DELETE FROM releases WHERE seq IN (SELECT seq FROM releases WHERE time < ? LIMIT 50000)`, &c.Releases},
		{`DELETE FROM uses WHERE seq IN (SELECT seq FROM uses WHERE time < ? LIMIT 50000)`, &c.Uses},
		{`DELETE FROM rejections WHERE id IN (SELECT id FROM rejections WHERE rejected < ? LIMIT 50000)`, &c.Rejections},
	} {
		for {
			res, err := db.db.ExecContext(ctx, t.query, cut)
			if err != nil {
				return c, err
			}
			n, _ := res.RowsAffected()
			*t.n += n
			if n == 0 {
				break
			}
		}
	}
	return c, nil
}

// Backup writes a consistent copy of the database to path with SQLite's online backup,
// while ingests, audits and the service go on.
func (db *DB) Backup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err == nil {
		return mpass.Errorf(mpass.EINVALID, "%s exists; a backup never overwrites a file", path)
	}
	dest, err := sql.Open(driverName, "file:"+path)
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
	return dconn.Raw(func(d any) error {
		return sconn.Raw(func(s any) error {
			b, err := d.(*sqlite3.SQLiteConn).Backup("main", s.(*sqlite3.SQLiteConn), "main")
			if err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			// page by page, so writers are not held up for the whole copy
			for {
				done, err := b.Step(1024)
				if err != nil {
					b.Finish()
					return fmt.Errorf("backup: %w", err)
				}
				if done {
					return b.Finish()
				}
				if ctx.Err() != nil {
					b.Finish()
					return ctx.Err()
				}
			}
		})
	})
}
