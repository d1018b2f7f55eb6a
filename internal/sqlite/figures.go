package sqlite

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
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
	Controller int64 // names; 0 for uses whose controller could not be found
	Day        int64 // UTC days since 1970-01-01
	SPs        []SPDay
	Schools    []SchoolDay
}

// SPDay is one SP's records of one kind on a RunDay.
type SPDay struct {
	SP          int64 // names
	Use         bool  // a use; else a release
	Records     int64
	First, Last int64 // unix nanoseconds of the first and last record
}

// SchoolDay is the releases of a RunDay that name one school.
type SchoolDay struct {
	School   int64 // names: the code or OID as stored; 0 for releases that name none
	Releases int64
}

// FreezeRun stores, in one transaction, a run's per-controller, per-SP aggregates and
// what it judged per controller and day, and marks the run frozen: its reports are
// drawn from these alone from then on.
func (db *DB) FreezeRun(ctx context.Context, runID int64, stats []*mpass.SPStats, days []RunDay) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("freeze run %d: %w", runID, err)
	}
	defer tx.Rollback()
	if err := insertStats(ctx, tx, runID, stats); err != nil {
		return fmt.Errorf("freeze run %d: %w", runID, err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO run_days (run_id, controller, day, releases, uses, sps, schools) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("freeze run %d: %w", runID, err)
	}
	defer stmt.Close()
	sps, schools := []byte{}, []byte{} // never nil: an empty blob is not NULL
	for _, d := range days {
		var releases, uses int64
		sps, schools = sps[:0], schools[:0]
		for _, s := range d.SPs {
			kind := uint64(0)
			if s.Use {
				kind, uses = 1, uses+s.Records
			} else {
				releases += s.Records
			}
			sps = binary.AppendUvarint(sps, uint64(s.SP))
			sps = binary.AppendUvarint(sps, kind)
			sps = binary.AppendUvarint(sps, uint64(s.Records))
			sps = binary.AppendUvarint(sps, uint64(s.First-d.Day*nanosPerDay))
			sps = binary.AppendUvarint(sps, uint64(s.Last-s.First))
		}
		for _, s := range d.Schools {
			schools = binary.AppendUvarint(schools, uint64(s.School))
			schools = binary.AppendUvarint(schools, uint64(s.Releases))
		}
		if _, err := stmt.ExecContext(ctx, runID, d.Controller, d.Day, releases, uses, sps, schools); err != nil {
			return fmt.Errorf("freeze run %d: day %d of controller %d: %w", runID, d.Day, d.Controller, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET frozen = 1 WHERE id = ?`, runID); err != nil {
		return fmt.Errorf("freeze run %d: %w", runID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("freeze run %d: %w", runID, err)
	}
	return nil
}

// runDays streams the stored days of a run's controller ("" = uses whose controller
// could not be found) in a period (days, inclusive; "" unbounded), in day order.
func (db *DB) runDays(ctx context.Context, runID int64, controller, from, to string, fn func(day int64, sps, schools []byte) error) error {
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
	rows, err := db.db.QueryContext(ctx, `SELECT day, sps, schools FROM run_days WHERE run_id = ? AND controller = ? AND day BETWEEN ? AND ? ORDER BY day`,
		runID, ctl, lo, hi)
	if err != nil {
		return err
	}
	var sps, schools []byte
	return scanRows(ctx, rows, func() error {
		var day int64
		if err := rows.Scan(&day, &sps, &schools); err != nil {
			return err
		}
		return fn(day, sps, schools)
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
	var v [5]uint64
	err := db.runDays(ctx, runID, controller, from, to, func(day int64, b, _ []byte) error {
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
			first := day*nanosPerDay + int64(v[3])
			out = append(out, mpass.DayCount{Controller: controller, SP: sp, Day: fromNanos(day * nanosPerDay).Format(time.DateOnly), Kind: kind,
				Records: int64(v[2]), First: fromNanos(first), Last: fromNanos(first + int64(v[4]))})
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
	err := db.runDays(ctx, runID, controller, from, to, func(day int64, _, b []byte) error {
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
