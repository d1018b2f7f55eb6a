package sqlite

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// nanosPerDay is one UTC day in nanoseconds: a record's day is its time / nanosPerDay.
const nanosPerDay = int64(24 * time.Hour)

// RunDay is what a run judged of one controller on one UTC day, by name ids (names are
// only ever added, so an id stays right): per SP and kind, and per school the releases
// name. It is what FreezeRun stores in run_days.
type RunDay struct {
	Controller     int64 // names; 0 for uses whose controller could not be found
	Day            int64 // UTC days since 1970-01-01
	Releases, Uses int64
	// First and Last are the first and last record's time of the day, per kind
	// (0 releases, 1 uses), in unix nanoseconds; 0 where the day has none of the kind.
	First, Last [2]int64
	// sps and schools are encoded as run_days stores them (see 0009_run_days.sql).
	sps, schools []byte
}

// AddSP adds an SP's records of one kind (a use, else a release); each SP and kind
// once per day.
func (d *RunDay) AddSP(sp int64, use bool, records int64) {
	kind := uint64(0)
	if use {
		kind, d.Uses = 1, d.Uses+records
	} else {
		d.Releases += records
	}
	d.sps = binary.AppendUvarint(d.sps, uint64(sp))
	d.sps = binary.AppendUvarint(d.sps, kind)
	d.sps = binary.AppendUvarint(d.sps, uint64(records))
}

// AddTimes widens the day's first and last time of a kind to first and last.
func (d *RunDay) AddTimes(use bool, first, last int64) {
	k := 0
	if use {
		k = 1
	}
	if d.First[k] == 0 || first < d.First[k] {
		d.First[k] = first
	}
	d.Last[k] = max(d.Last[k], last)
}

// AddSchool adds the releases that name a school (names id: the code or OID as stored;
// 0 for releases that name none); each school once per day.
func (d *RunDay) AddSchool(school, releases int64) {
	d.schools = binary.AppendUvarint(d.schools, uint64(school))
	d.schools = binary.AppendUvarint(d.schools, uint64(releases))
}

// FreezeRun stores, in one transaction, a run's per-controller, per-SP aggregates and
// what it judged per controller and day, and marks the run frozen: its reports are
// drawn from these alone from then on. stats may yield one SPStats again and again,
// refilled: each is stored before the next is asked for. The transaction holds the
// database's write lock from its first row, so the rows' encoding is kept cheap (an
// audit's findings wait on it: 57,000 pairs of a 1M diverse run).
func (db *DB) FreezeRun(ctx context.Context, runID int64, stats iter.Seq[*mpass.SPStats], days []RunDay) error {
	if err := db.freezeRun(ctx, runID, stats, days); err != nil {
		return fmt.Errorf("freeze run %d: %w", runID, err)
	}
	return nil
}

func (db *DB) freezeRun(ctx context.Context, runID int64, stats iter.Seq[*mpass.SPStats], days []RunDay) error {
	// encoded before the transaction: it holds the write lock from its first row, and
	// the findings' storing waits for it (the rows of a 1M diverse run: about 20 MB)
	statsRows := encodeStats(runID, stats)
	var dayRows encodedRows
	for _, d := range days {
		b := appendInt(appendInt(appendInt(dayRows.buf, runID), d.Controller), d.Day)
		b = appendInt(appendInt(b, d.Releases), d.Uses)
		b = appendInt(appendInt(appendInt(appendInt(b, d.First[0]), d.Last[0]), d.First[1]), d.Last[1])
		dayRows.buf = appendBlob(appendBlob(b, d.sps), d.schools) // empty blobs, never NULL
		dayRows.row()
	}

	conn, err := db.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ex := db.newExecer(conn)
	defer ex.close()
	if err := statsRows.exec(ctx, ex, `INSERT INTO run_stats (run_id, controller, sp, releases, uses, attributes, disclosures, summary)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, 8, "run stats"); err != nil {
		return err
	}
	if err := dayRows.exec(ctx, ex, `INSERT INTO run_days (run_id, controller, day, releases, uses, release_first, release_last, use_first, use_last, sps, schools)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, 11, "days"); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET frozen = 1 WHERE id = ?`, runID); err != nil {
		return err
	}
	return tx.Commit()
}

// rowsPerExec is how many rows FreezeRun hands the execer in one call.
const rowsPerExec = 1024

// runDays streams the stored days of a run's controller ("" = uses whose controller
// could not be found) in a period (days, inclusive; "" unbounded), in day order.
func (db *DB) runDays(ctx context.Context, runID int64, controller, from, to string, fn func(day int64, first, last [2]int64, sps, schools []byte) error) error {
	var ctl int64
	if controller != "" {
		var err error
		if ctl, err = db.names.lookup(ctx, db.db, controller); err != nil {
			return err
		}
		if ctl == 0 {
			return nil // no record ever named it
		}
	}
	lo, hi := int64(-1<<62), int64(1<<62)
	if from != "" {
		n, err := dayStart(from)
		if err != nil {
			return mpass.Errorf(mpass.EINVALID, "from %q: not a date", from)
		}
		lo = n / nanosPerDay
	}
	if to != "" {
		n, err := dayStart(to)
		if err != nil {
			return mpass.Errorf(mpass.EINVALID, "to %q: not a date", to)
		}
		hi = n / nanosPerDay
	}
	rows, err := db.db.QueryContext(ctx, `SELECT day, release_first, release_last, use_first, use_last, sps, schools FROM run_days WHERE run_id = ? AND controller = ? AND day BETWEEN ? AND ? ORDER BY day`,
		runID, ctl, lo, hi)
	if err != nil {
		return err
	}
	var sps, schools []byte
	return scanRows(ctx, rows, func() error {
		var day int64
		var first, last [2]int64
		if err := rows.Scan(&day, &first[0], &last[0], &first[1], &last[1], &sps, &schools); err != nil {
			return err
		}
		return fn(day, first, last, sps, schools)
	})
}

// uvarints reads n uvarints from b; ok is false when b ends early or is malformed.
func uvarints(b []byte, out []uint64) (rest []byte, ok bool) {
	for i := range out {
		v, k := binary.Uvarint(b)
		if k <= 0 {
			return b, false
		}
		out[i], b = v, b[k:]
	}
	return b, true
}

// DayCounts is what a frozen run judged of a controller ("" = uses whose controller
// could not be found) per SP, UTC day and kind in a period (days, inclusive; ""
// unbounded), ordered by day, SP and kind (releases first). It reads the run's stored
// figures only, never the records.
func (db *DB) DayCounts(ctx context.Context, runID int64, controller, from, to string) ([]mpass.DayCount, error) {
	var out []mpass.DayCount
	var v [3]uint64
	err := db.runDays(ctx, runID, controller, from, to, func(day int64, first, last [2]int64, b, _ []byte) error {
		start := len(out)
		for len(b) > 0 {
			var ok bool
			if b, ok = uvarints(b, v[:]); !ok {
				return fmt.Errorf("run %d: run_days of %q on day %d: malformed", runID, controller, day)
			}
			sp, err := db.Name(ctx, int64(v[0]))
			if err != nil {
				return err
			}
			kind := mpass.KindRelease
			if v[1] == 1 {
				kind = mpass.KindUse
			}
			out = append(out, mpass.DayCount{Controller: controller, SP: sp, Day: fromNanos(day * nanosPerDay).Format(time.DateOnly), Kind: kind,
				Records: int64(v[2]), First: fromNanos(first[v[1]&1]), Last: fromNanos(last[v[1]&1])})
		}
		slices.SortFunc(out[start:], func(x, y mpass.DayCount) int {
			return cmp.Or(cmp.Compare(x.SP, y.SP), cmp.Compare(x.Kind, y.Kind))
		})
		return nil
	})
	return out, err
}

// FrozenSchoolCounts counts a frozen run's releases of a controller per school they
// name in a period (days, inclusive): the school's code or OID as stored ("" for
// releases that name none). It reads the run's stored figures only.
func (db *DB) FrozenSchoolCounts(ctx context.Context, runID int64, controller, from, to string) (map[string]int64, error) {
	out := map[string]int64{}
	var v [2]uint64
	err := db.runDays(ctx, runID, controller, from, to, func(day int64, _, _ [2]int64, _, b []byte) error {
		for len(b) > 0 {
			var ok bool
			if b, ok = uvarints(b, v[:]); !ok {
				return fmt.Errorf("run %d: run_days of %q on day %d: malformed schools", runID, controller, day)
			}
			var school string
			if v[0] != 0 {
				var err error
				if school, err = db.Name(ctx, int64(v[0])); err != nil {
					return err
				}
			}
			out[school] += int64(v[1])
		}
		return nil
	})
	return out, err
}
