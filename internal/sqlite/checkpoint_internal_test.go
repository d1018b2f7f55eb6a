package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// TestBatchesKeepTheWALSmall: an ingest's batches do not checkpoint in their commits;
// checkpoints of their own run beside them, and once the WAL holds restartFrames the
// next batch waits for it to be copied whole, so that it starts over instead of
// growing with the ingest. Without that wait the WAL of 60,000 releases grew to the
// size of the database.
func TestBatchesKeepTheWALSmall(t *testing.T) {
	db := NewDB(filepath.Join(t.TempDir(), "audit.db"))
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.checkpoints.restartFrames = 100 // 400 kB, less than a batch
	at := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var batches [][]Row // encoded first: the batches then follow each other at once
	for b := range 6 {
		rows := make([]Row, 0, 10_000)
		for i := range 10_000 {
			n := b*10_000 + i
			r := &mpass.Record{Kind: mpass.KindRelease, ID: fmt.Sprintf("_%032x", n), Source: fmt.Sprintf("a.jsonl:%d", n+1),
				Time: at.Add(time.Duration(n) * time.Second), SP: fmt.Sprintf("https://sp%d.example/shibboleth", n%50),
				Controller: "1.2.246.562.10.44444444440", Subject: fmt.Sprintf("%032x", n%5000),
				Attributes: map[string]mpass.AttributeFacts{"urn:oid:0.9.2342.19200300.100.1.3": {Values: true, Fingerprint: fmt.Sprintf("%016x", n)}}}
			row, err := db.Encode(r)
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, row)
		}
		batches = append(batches, rows)
	}
	for b, rows := range batches {
		if c, _, err := db.InsertBatch(context.Background(), rows, nil, 0); err != nil || c.Stored != len(rows) {
			t.Fatalf("batch %d: %+v, %v", b, c, err)
		}
	}
	db.checkpoints.wait()
	size := func(path string) int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	wal, data := size(db.Path+"-wal"), size(db.Path)
	t.Logf("WAL %d kB, database %d kB", wal>>10, data>>10)
	if wal > data/2 {
		t.Errorf("the WAL grew to %d kB beside a database of %d kB: it did not start over", wal>>10, data>>10)
	}
}
