package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
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

// InsertBatch stores records and rejections in one transaction: the whole batch is in
// or none of it is. A record whose id is already stored counts as a duplicate.
func (db *DB) InsertBatch(ctx context.Context, records []mpass.Record, rejections []mpass.Rejection) (IngestCounts, error) {
	var c IngestCounts
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return c, err
	}
	defer tx.Rollback()

	rel, err := tx.PrepareContext(ctx, `INSERT INTO releases (id, time, sp, controller, subject, role, attributes, fingerprints)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		return c, err
	}
	defer rel.Close()
	use, err := tx.PrepareContext(ctx, `INSERT INTO uses (id, time, sp, controller, subject, purpose, attributes)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		return c, err
	}
	defer use.Close()
	role, err := tx.PrepareContext(ctx, `INSERT INTO subject_roles (subject, sp, learner, role_known, last_time, last_controller)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (subject, sp) DO UPDATE SET
			learner = max(learner, excluded.learner),
			role_known = max(role_known, excluded.role_known),
			last_controller = CASE WHEN excluded.last_time >= last_time THEN excluded.last_controller ELSE last_controller END,
			last_time = max(last_time, excluded.last_time)`)
	if err != nil {
		return c, err
	}
	defer role.Close()

	for i := range records {
		r := &records[i]
		var res sql.Result
		switch r.Kind {
		case mpass.KindRelease:
			facts, fps, err := encodeAttributes(r.Attributes)
			if err != nil {
				return c, fmt.Errorf("%s: %w", r.Source, err)
			}
			res, err = rel.ExecContext(ctx, r.ID, nanos(r.Time), r.SP, r.Controller, r.Subject, int(r.Role), facts, fps)
			if err != nil {
				return c, fmt.Errorf("%s: %w", r.Source, err)
			}
		case mpass.KindUse:
			names, _ := json.Marshal(sortedNames(r.Attributes))
			var controller any
			if r.Controller != "" {
				controller = r.Controller
			}
			if res, err = use.ExecContext(ctx, r.ID, nanos(r.Time), r.SP, controller, r.Subject, r.Purpose, string(names)); err != nil {
				return c, fmt.Errorf("%s: %w", r.Source, err)
			}
		default:
			return c, fmt.Errorf("%s: unknown kind %q", r.Source, r.Kind)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			c.Duplicate++
			continue
		}
		c.Stored++
		if r.Kind == mpass.KindRelease {
			learner, known := 0, 0
			if r.Role == mpass.RoleLearner {
				learner = 1
			}
			if r.Role != mpass.RoleUnknown {
				known = 1
			}
			if _, err := role.ExecContext(ctx, r.Subject, r.SP, learner, known, nanos(r.Time), r.Controller); err != nil {
				return c, fmt.Errorf("%s: %w", r.Source, err)
			}
		}
	}
	if err := insertRejections(ctx, tx, rejections, nanos(db.Now())); err != nil {
		return c, err
	}
	c.Rejected = len(rejections)
	return c, tx.Commit()
}

func insertRejections(ctx context.Context, tx *sql.Tx, rejections []mpass.Rejection, now int64) error {
	if len(rejections) == 0 {
		return nil
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
	defer rows.Close()
	var out []mpass.Rejection
	for rows.Next() {
		var r mpass.Rejection
		if err := rows.Scan(&r.Source, &r.Line, &r.Field, &r.Reason, &r.Digest); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func sortedNames(attrs map[string]mpass.AttributeFacts) []string {
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// encodeAttributes splits facts (what the policies see) from fingerprints (evidence).
// encoding/json sorts map keys, so equal facts give equal text.
func encodeAttributes(attrs map[string]mpass.AttributeFacts) (facts, fingerprints string, err error) {
	fps := make(map[string]string, len(attrs))
	for n, a := range attrs {
		if a.Fingerprint != "" {
			fps[n] = a.Fingerprint
		}
	}
	b, err := json.Marshal(attrs)
	if err != nil {
		return "", "", err
	}
	f, err := json.Marshal(fps)
	return string(b), string(f), err
}

// scopeWhere builds the WHERE clause of a scope over a table aliased t, with the
// controller expression ctl.
func scopeWhere(scope mpass.Scope, ctl string) (string, []any, error) {
	var conds []string
	var args []any
	if scope.Controller != "" {
		conds = append(conds, ctl+" = ?")
		args = append(args, scope.Controller)
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

// Raw is one stored record as the bytes of its columns. Its slices are valid only
// until the scan's fn returns: a caller that keeps a record copies it.
type Raw struct {
	Kind       mpass.Kind
	ID         []byte
	Time       int64 // unix nanoseconds
	SP         []byte
	Controller []byte
	Subject    []byte
	Purpose    []byte
	// Facts is the JSON of the attribute facts of a release, or of the attribute
	// names of a use; Fingerprints the JSON of a release's fingerprints.
	Facts        []byte
	Fingerprints []byte
	Learner      bool
	RoleKnown    bool
}

// Record decodes a raw record.
func (r *Raw) Record() (mpass.Record, error) {
	rec := mpass.Record{Kind: r.Kind, ID: string(r.ID), Time: fromNanos(r.Time), SP: string(r.SP), Controller: string(r.Controller),
		Subject: string(r.Subject), Purpose: string(r.Purpose), SubjectRole: mpass.SubjectRole{Learner: r.Learner, RoleKnown: r.RoleKnown}}
	if r.Kind == mpass.KindRelease {
		return rec, decodeAttributes(&rec, r.Facts, r.Fingerprints)
	}
	var list []string
	if err := json.Unmarshal(r.Facts, &list); err != nil {
		return rec, err
	}
	rec.Attributes = make(map[string]mpass.AttributeFacts, len(list))
	for _, n := range list {
		rec.Attributes[n] = mpass.AttributeFacts{}
	}
	return rec, nil
}

// SeqRange is the first and last seq of a kind's table (0, 0 when empty), so an audit
// can split the rows between its workers.
func (db *DB) SeqRange(ctx context.Context, kind mpass.Kind) (lo, hi int64, err error) {
	table := "releases"
	if kind == mpass.KindUse {
		table = "uses"
	}
	err = db.db.QueryRowContext(ctx, `SELECT COALESCE(MIN(seq), 0), COALESCE(MAX(seq), 0) FROM `+table).Scan(&lo, &hi)
	return lo, hi, err
}

// ScanRaw streams the records of one kind in scope whose seq is in [lo, hi] to fn,
// each with what all of its subject's releases to the SP say of the role. A use
// without a controller takes the one of the subject's latest release to that SP. Rows
// are read as raw bytes, without a copy: a national audit reads tens of millions.
func (db *DB) ScanRaw(ctx context.Context, scope mpass.Scope, kind mpass.Kind, lo, hi int64, fn func(*Raw) error) error {
	ctl := "t.controller"
	query := `SELECT t.id, t.time, t.sp, t.controller, t.subject, '', t.attributes, t.fingerprints,
			COALESCE(s.learner, 0), COALESCE(s.role_known, 0)
		FROM releases t LEFT JOIN subject_roles s ON s.subject = t.subject AND s.sp = t.sp`
	if kind == mpass.KindUse {
		ctl = "COALESCE(t.controller, s.last_controller, '')"
		query = `SELECT t.id, t.time, t.sp, ` + ctl + `, t.subject, t.purpose, t.attributes, '',
			COALESCE(s.learner, 0), COALESCE(s.role_known, 0)
		FROM uses t LEFT JOIN subject_roles s ON s.subject = t.subject AND s.sp = t.sp`
	}
	where, args, err := scopeWhere(scope, ctl)
	if err != nil {
		return err
	}
	if where == "" {
		where = " WHERE t.seq BETWEEN ? AND ?"
	} else {
		where += " AND t.seq BETWEEN ? AND ?"
	}
	rows, err := db.db.QueryContext(ctx, query+where+` ORDER BY t.seq`, append(args, lo, hi)...)
	if err != nil {
		return err
	}
	r := Raw{Kind: kind}
	var id, sp, controller, subj, purpose, facts, fps sql.RawBytes
	return scanRows(rows, func() error {
		if err := rows.Scan(&id, &r.Time, &sp, &controller, &subj, &purpose, &facts, &fps, &r.Learner, &r.RoleKnown); err != nil {
			return err
		}
		r.ID, r.SP, r.Controller, r.Subject, r.Purpose, r.Facts, r.Fingerprints = id, sp, controller, subj, purpose, facts, fps
		return fn(&r)
	})
}

// SPCount is how many releases and uses of one controller an SP had on one day.
type SPCount struct {
	SP       string
	Day      string
	Releases int64
	Uses     int64
}

// Counts counts a controller's releases and uses per SP and day in a period (days,
// inclusive): the exact numbers of a report whose period lies inside a wider run.
func (db *DB) Counts(ctx context.Context, controller, from, to string) ([]SPCount, error) {
	lo, err := dayStart(from)
	if err != nil {
		return nil, err
	}
	hi, err := dayEnd(to)
	if err != nil {
		return nil, err
	}
	const day = int64(24 * 60 * 60 * 1e9)
	rows, err := db.db.QueryContext(ctx, `SELECT sp, time / ?, COUNT(*), 0 FROM releases
			WHERE controller = ? AND time >= ? AND time < ? GROUP BY 1, 2
		UNION ALL
		SELECT t.sp, t.time / ?, 0, COUNT(*) FROM uses t LEFT JOIN subject_roles s ON s.subject = t.subject AND s.sp = t.sp
			WHERE COALESCE(t.controller, s.last_controller) = ? AND t.time >= ? AND t.time < ? GROUP BY 1, 2
		ORDER BY 1, 2`, day, controller, lo, hi, day, controller, lo, hi)
	if err != nil {
		return nil, err
	}
	var out []SPCount
	err = scanRows(rows, func() error {
		var c SPCount
		var d int64
		if err := rows.Scan(&c.SP, &d, &c.Releases, &c.Uses); err != nil {
			return err
		}
		c.Day = fromNanos(d * day).Format(time.DateOnly)
		if n := len(out); n > 0 && out[n-1].SP == c.SP && out[n-1].Day == c.Day {
			out[n-1].Releases += c.Releases
			out[n-1].Uses += c.Uses
			return nil
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

func scanRows(rows *sql.Rows, each func() error) error {
	defer rows.Close()
	for rows.Next() {
		if err := each(); err != nil {
			return err
		}
	}
	return rows.Err()
}

func decodeAttributes(r *mpass.Record, facts, fingerprints []byte) error {
	if err := json.Unmarshal(facts, &r.Attributes); err != nil {
		return err
	}
	var fps map[string]string
	if err := json.Unmarshal(fingerprints, &fps); err != nil {
		return err
	}
	for n, fp := range fps {
		a := r.Attributes[n]
		a.Fingerprint = fp
		r.Attributes[n] = a
	}
	return nil
}

// CountRecords counts the stored releases and uses.
func (db *DB) CountRecords(ctx context.Context) (releases, uses int64, err error) {
	if err = db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM releases`).Scan(&releases); err != nil {
		return
	}
	err = db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM uses`).Scan(&uses)
	return
}
