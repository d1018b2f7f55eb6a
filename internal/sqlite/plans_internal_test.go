package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestBoundsReadTheEndsNotTheRows: the queries that take a table's first and last id
// read both ends of its rowid, not every row (SQLite scanned the whole table for MIN and
// MAX in one SELECT: 3.4 s before a 10M audit could start). Checked on SQLite's own plan.
func TestBoundsReadTheEndsNotTheRows(t *testing.T) {
	db := mustOpen(t, NewDB(filepath.Join(t.TempDir(), "plans.db")))
	for name, query := range map[string]string{
		"seqRangeReleases": seqRangeReleases,
		"seqRangeUses":     seqRangeUses,
		"rejectionsSpan":   rejectionsSpan,
	} {
		rows, err := db.db.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+query)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN ") && step != "SCAN CONSTANT ROW" {
				t.Errorf("%s scans a table: %q in plan %q", name, step, plan)
			}
		}
	}
}
