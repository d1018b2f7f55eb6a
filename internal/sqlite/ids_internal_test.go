package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// idRecord is a release (or, with use, a use) of id at minute m of 2026-10-05, read
// from file at line.
func idRecord(id string, m int, subject, file string, line int, use bool) mpass.Record {
	r := mpass.Record{Kind: mpass.KindRelease, ID: id, Time: time.Date(2026, 10, 5, 8, m, 0, 0, time.UTC),
		SP: "https://sp.example.fi", Controller: "1.2.246.562.10.00000000001", Subject: subject,
		Attributes: map[string]mpass.AttributeFacts{"urn:oid:2.5.4.42": {Values: true}},
		Source:     file, Line: line}
	if use {
		r.Kind, r.Purpose, r.Attributes = mpass.KindUse, "essential.service.authentication", map[string]mpass.AttributeFacts{}
	}
	return r
}

// insert stores records as one batch, as ingest does, without settling them.
func insert(t *testing.T, db *DB, recs ...mpass.Record) (IngestCounts, []mpass.Rejection) {
	t.Helper()
	rows := make([]Row, len(recs))
	for i := range recs {
		var err error
		if rows[i], err = db.Encode(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	c, conflicts, err := db.InsertBatch(context.Background(), rows, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	return c, conflicts
}

// checkIDInvariant fails when an id is held by two rows of a kind, or when record_ids
// and the settled rows disagree: what MergeIDs must never leave behind.
func checkIDInvariant(t *testing.T, db *DB) {
	t.Helper()
	for _, k := range idKinds {
		var dup, missing, extra int
		q := func(query string, into *int) {
			if err := db.db.QueryRow(query, k.kind).Scan(into); err != nil {
				t.Fatal(err)
			}
		}
		q(`SELECT COUNT(*) FROM (SELECT id FROM `+k.table+` WHERE ?1 = ?1 GROUP BY id HAVING COUNT(*) > 1)`, &dup)
		q(`SELECT COUNT(*) FROM `+k.table+` t WHERE t.seq <= (SELECT seq FROM ids_watermark WHERE kind = ?1)
			AND NOT EXISTS (SELECT 1 FROM record_ids r WHERE r.kind = ?1 AND r.id = t.id AND r.seq = t.seq)`, &missing)
		q(`SELECT COUNT(*) FROM record_ids r WHERE r.kind = ?1 AND NOT EXISTS (SELECT 1 FROM `+k.table+` t WHERE t.seq = r.seq AND t.id = r.id)`, &extra)
		if dup+missing+extra > 0 {
			t.Errorf("%s: %d ids held twice, %d settled rows missing from record_ids, %d entries without their row", k.table, dup, missing, extra)
		}
	}
}

// TestIDsHeldOnce: a record id is held by one row of its kind. The same time and id is
// decided at once (a duplicate when identical, a conflict otherwise); the same id with
// another time when the rows are settled — in a later ingest, in the same batch, after
// a killed ingest — the later row deleted and rejected with its own source and line,
// and with the digest the immediate check gives the same row.
func TestIDsHeldOnce(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, NewDB(filepath.Join(t.TempDir(), "ids.db")))
	settle := func(keep int) IDConflicts {
		t.Helper()
		c, err := db.Settle(ctx, keep)
		if err != nil {
			t.Fatal(err)
		}
		checkIDInvariant(t, db)
		return c
	}
	count := func(table string) (n int) {
		t.Helper()
		if err := db.db.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// a first file: r-1 and u-1, r-1 again at another minute in the same batch
	c, _ := insert(t, db, idRecord("r-1", 0, "s1", "a.jsonl", 1, false), idRecord("u-1", 1, "s1", "a.jsonl", 2, true),
		idRecord("r-1", 2, "s1", "a.jsonl", 3, false))
	if c.Stored != 3 {
		t.Fatalf("inserted %+v: the other time is for the merge to find", c)
	}
	releasesCounted := func() (n int64) {
		t.Helper()
		counts, err := db.Counts(ctx, "1.2.246.562.10.00000000001", "2026-10-05", "2026-10-05")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range counts {
			n += c.Releases
		}
		return n
	}
	if n := releasesCounted(); n != 0 {
		t.Errorf("a report counts %d releases not settled yet (one may be an id conflict)", n)
	}
	got := settle(10)
	if n := releasesCounted(); n != 1 {
		t.Errorf("a report counts %d releases once settled, want the first r-1", n)
	}
	if got.N != 1 || len(got.Listed) != 1 || got.Listed[0].Source != "a.jsonl" || got.Listed[0].Line != 3 ||
		got.Listed[0].Field != "id" || got.Listed[0].Reason != ReasonIDConflict {
		t.Fatalf("within a batch: %+v", got)
	}
	if n := count("releases"); n != 1 {
		t.Fatalf("%d releases kept, want the first r-1", n)
	}

	// a later file: identical r-1 (a duplicate), r-1 at another time and u-1 at the
	// same time with another subject (an immediate conflict), a use may share a release's id
	c, conflicts := insert(t, db, idRecord("r-1", 0, "s1", "b.jsonl", 1, false), idRecord("r-1", 5, "s1", "b.jsonl", 2, false),
		idRecord("u-1", 1, "s2", "b.jsonl", 3, true), idRecord("r-1", 9, "s1", "b.jsonl", 4, true))
	if c.Stored != 2 || c.Duplicate != 1 || len(conflicts) != 1 || conflicts[0].Line != 3 {
		t.Fatalf("later: %+v %v", c, conflicts)
	}
	got = settle(10)
	if got.N != 1 || len(got.Listed) != 1 || got.Listed[0].Line != 2 {
		t.Fatalf("later, settled: %+v", got)
	}
	if r, u := count("releases"), count("uses"); r != 1 || u != 2 {
		t.Fatalf("%d releases and %d uses, want 1 and 2 (u-1 and the use r-1)", r, u)
	}

	// the digest of a conflict is the row's, however it was found: the same row read
	// at the time of the stored one is an immediate conflict
	_, now := insert(t, db, idRecord("r-1", 0, "s9", "c.jsonl", 7, false))
	insert(t, db, idRecord("r-2", 0, "s9", "c.jsonl", 8, false))
	insert(t, db, idRecord("r-2", 3, "s9", "c.jsonl", 9, false))
	later := settle(10)
	if len(now) != 1 || later.N != 1 || !strings.HasPrefix(now[0].Digest, "row:") || len(later.Listed[0].Digest) != len(now[0].Digest) {
		t.Fatalf("immediate %v, settled %+v", now, later)
	}

	// keep bounds what is listed and stored; every conflict is still rejected
	for i := range 5 {
		insert(t, db, idRecord("r-1", 10+i, "s1", "d.jsonl", 10+i, false))
	}
	got = settle(2)
	if got.N != 5 || len(got.Listed) != 2 || got.Listed[1].Line != 11 || got.FirstUnlisted != 12 {
		t.Fatalf("bounded: %+v", got)
	}

	// a purge frees the ids of what it deletes: r-1 may be stored again, at any time
	if _, err := db.Purge(ctx, "2026-10-06"); err != nil {
		t.Fatal(err)
	}
	checkIDInvariant(t, db)
	if n := count("record_ids"); n != 0 {
		t.Fatalf("%d ids left after everything was purged", n)
	}
	insert(t, db, idRecord("r-1", 30, "s1", "e.jsonl", 1, false))
	if got = settle(10); got.N != 0 || count("releases") != 1 {
		t.Fatalf("after the purge: %+v, %d releases", got, count("releases"))
	}
	// seqs are never reused: a settled seq the purge freed is not taken again
	var seq int64
	if err := db.db.QueryRow(`SELECT seq FROM releases`).Scan(&seq); err != nil || seq <= 4 {
		t.Fatalf("seq %d %v: reused", seq, err)
	}
}

// TestMigrationMergesStoredIDs: a database made before migration 0015 keeps its rows,
// their seqs and their ids, and a record with one of those ids and another time is an
// id conflict after it.
func TestMigrationMergesStoredIDs(t *testing.T) {
	ctx := context.Background()
	old, path := mustOpenBefore(t, "0015")
	for i, q := range []string{
		`INSERT INTO names (id, name) VALUES (1, 'https://sp.example.fi'), (2, '1.2.246.562.10.00000000001'), (3, 'essential.service.authentication')`,
		`INSERT INTO shapes (id, facts) VALUES (1, '{}')`,
		`INSERT INTO releases (seq, id, time, sp, controller, subject, role, shape, fingerprints) VALUES
			(7, 'r-1', 1759651200000000000, 1, 2, 's1', 2, 1, x''), (9, 'r-2', 1759651260000000000, 1, 2, 's1', 2, 1, x'')`,
		`INSERT INTO uses (seq, id, time, sp, controller, subject, purpose, shape) VALUES (4, 'u-1', 1759651200000000000, 1, NULL, 's1', 3, 1)`,
	} {
		if _, err := old.db.Exec(q); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
	}
	old.Close()

	db := mustOpen(t, NewDB(path))
	checkIDInvariant(t, db)
	var n int
	if err := db.db.QueryRow(`SELECT COUNT(*) FROM record_ids r JOIN releases t ON r.kind = 0 AND t.seq = r.seq AND t.id = r.id`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d release ids merged (%v), want 2", n, err)
	}
	insert(t, db, idRecord("r-2", 59, "s1", "new.jsonl", 1, false), idRecord("r-3", 0, "s1", "new.jsonl", 2, false))
	got, err := db.Settle(ctx, 10)
	if err != nil || got.N != 1 || got.Listed[0].Line != 1 {
		t.Fatalf("after the migration: %+v %v", got, err)
	}
	var seq int64
	if err := db.db.QueryRow(`SELECT seq FROM releases WHERE id = 'r-3'`).Scan(&seq); err != nil || seq <= 9 {
		t.Fatalf("r-3 has seq %d (%v): a seq at or below the migrated ones", seq, err)
	}
	checkIDInvariant(t, db)
}
