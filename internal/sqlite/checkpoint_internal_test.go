package sqlite

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
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
	db := mustOpen(t, NewDB(filepath.Join(t.TempDir(), "audit.db")))
	db.checkpoints.restartFrames = 400 << 10 / pageSize // 400 kB, less than a batch
	// encoded first: the batches then follow each other at once
	var batches [][]Row
	for b := range 6 {
		batches = append(batches, releaseRows(t, db, b*10_000, 10_000))
	}
	for b, rows := range batches {
		if c, _, err := db.InsertBatch(context.Background(), rows, nil, 0); err != nil || c.Stored != len(rows) {
			t.Fatalf("batch %d: %+v, %v", b, c, err)
		}
		// the checkpoint a batch starts is done before the next batch: how many batches
		// go by while one runs is the machine's timing (in CI, under load, three went by
		// and the WAL held them all). What is tested is that the batches start the
		// checkpoints that let the WAL start over (it fails when afterBatch starts none);
		// how far a lagging checkpoint lets the WAL grow is not asserted
		db.checkpoints.wait()
	}
	walStartedOver(t, db, true)
}

// TestChunksKeepTheWALSmall: the transactions of inChunks (the findings' storing)
// leave the WAL's checkpoints to the checkpointer, and the WAL starts over (their
// commits turned autocheckpoint off, and none started a checkpoint of its own); the
// connection goes back to the pool with autocheckpoint on again.
func TestChunksKeepTheWALSmall(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, NewDB(filepath.Join(t.TempDir(), "audit.db")))
	db.checkpoints.restartFrames = 400 << 10 / pageSize // 400 kB, less than a chunk
	run := &mpass.Run{}
	if err := db.CreateRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	conn, err := db.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const rows = 200_000
	for _, q := range []string{
		`CREATE TEMP TABLE staged (run_id, finding, seq)`,
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
			INSERT INTO temp.staged SELECT %d, printf('%%024x', i * 7919), i FROM n`, rows, run.ID),
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.inChunks(ctx, conn, 5_000, "temp.staged", `INSERT INTO finding_ids (run_id, finding, seq)
		SELECT run_id, finding, seq FROM temp.staged WHERE rowid > ? AND rowid <= ? ORDER BY rowid`); err != nil {
		t.Fatal(err)
	}
	var pages int64
	if err := conn.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&pages); err != nil || pages != autocheckpointPages(pageSize) {
		t.Errorf("the connection's autocheckpoint %d (%v) afterwards, want %d", pages, err, autocheckpointPages(pageSize))
	}
	conn.Close()
	walStartedOver(t, db, false)
}

// TestNoCheckpointAfterClose: a batch committed while the database closes (an ingest
// still storing when the service shuts down) opens no connection and starts no
// checkpoint, and a checkpoint running meanwhile ends on the connection it began on
// (it read the field close clears: a nil connection, a panic, under -race a race).
func TestNoCheckpointAfterClose(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, NewDB(filepath.Join(t.TempDir(), "audit.db")))
	c := &db.checkpoints
	c.afterBatch(ctx, db, checkpointEvery) // opens the connection and starts one
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 200 {
			c.afterBatch(ctx, db, checkpointEvery)
		}
	}()
	c.close()
	wg.Wait()
	c.afterBatch(ctx, db, checkpointEvery)
	c.wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil {
		t.Error("a batch after close opened a checkpoint connection, never to be closed")
	}
}

// releaseRows encodes n releases numbered from first: fifty SPs, 5,000 subjects, one
// e-mail address each, ids random like SAML assertion ids, a second apart.
func releaseRows(tb testing.TB, db *DB, first, n int) []Row {
	return releaseRowsTo(tb, db, first, n, "https://sp%d.example/shibboleth")
}

// releaseRowsTo is releaseRows to the SPs that sp (a format of one %d) makes.
func releaseRowsTo(tb testing.TB, db *DB, first, n int, sp string) []Row {
	at := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	rows := make([]Row, 0, n)
	for n := range n {
		n += first
		id := sha256.Sum256(fmt.Appendf(nil, "%d", n))
		r := &mpass.Record{Kind: mpass.KindRelease, ID: "_" + hex.EncodeToString(id[:16]), Source: "a.jsonl", Line: n + 1,
			Time: at.Add(time.Duration(n) * time.Second), SP: fmt.Sprintf(sp, n%50),
			Controller: "1.2.246.562.10.44444444440", Subject: fmt.Sprintf("%032x", n%5000),
			Attributes: map[string]mpass.AttributeFacts{"urn:oid:0.9.2342.19200300.100.1.3": {Values: true, Fingerprint: mpass.Fingerprint([]byte(fmt.Sprintf("%08d", n)))}}}
		row, err := db.Encode(r)
		if err != nil {
			tb.Fatal(err)
		}
		rows = append(rows, row)
	}
	return rows
}

// BenchmarkInsertBatch stores batches of 20,000 releases (random ids) one after the
// other into one database: the ingest writer's work per batch, encoding apart.
func BenchmarkInsertBatch(b *testing.B) {
	db := mustOpen(b, NewDB(filepath.Join(b.TempDir(), "audit.db")))
	const size = 20_000
	n := 0
	for b.Loop() {
		b.StopTimer()
		rows := releaseRows(b, db, n*size, size)
		n++
		b.StartTimer()
		if c, _, err := db.InsertBatch(context.Background(), rows, nil, 0); err != nil || c.Stored != size {
			b.Fatalf("%+v, %v", c, err)
		}
	}
	b.ReportMetric(float64(n*size)/b.Elapsed().Seconds(), "rows/s")
}

// walStartedOver waits for the running checkpoint and fails t when the WAL never
// started over: the checkpoint sequence number of its header (bytes 12–15, big-endian;
// SQLite adds one each time the WAL starts over from its first frame) is still 0. With
// bounded, it also fails t when the WAL grew to half the database's size or more: a
// test whose batches wait for the checkpoints they start bounds the WAL, where one that
// does not (inChunks) leaves its growth to how fast the machine's syncs are (in CI,
// under the other packages' tests, a WAL of 8 MB beside a database of 8.4 MB that had
// started over).
func walStartedOver(t *testing.T, db *DB, bounded bool) {
	t.Helper()
	db.checkpoints.wait()
	size := func(path string) int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	wal, data := size(db.Path+"-wal"), size(db.Path)
	f, err := os.Open(db.Path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var hdr [32]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		t.Fatal(err)
	}
	restarts := binary.BigEndian.Uint32(hdr[12:16])
	t.Logf("WAL %d kB, database %d kB, started over %d times", wal>>10, data>>10, restarts)
	if restarts == 0 {
		t.Errorf("the WAL never started over (%d kB beside a database of %d kB)", wal>>10, data>>10)
	}
	if bounded && wal > data/2 {
		t.Errorf("the WAL grew to %d kB beside a database of %d kB", wal>>10, data>>10)
	}
}
