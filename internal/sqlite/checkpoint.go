package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"
)

// checkpointer checkpoints the WAL (copies it into the database file and syncs that)
// for an ingest's batches, on a connection of its own, while the next batch is parsed
// and written: done in a batch's commit, as SQLite's autocheckpoint does, the
// checkpoints were a third of the writer's time at 10M records (25 s of 80), and the
// parsing workers waited for them.
//
// A WAL starts over only at a write that finds it all copied. A batch therefore waits
// for the checkpoints, and has the rest copied, once the WAL holds walRestartBytes;
// until then its commits go on appending beside the running checkpoint. At 10M diverse
// records: batches that waited every time, 131 s; every 64 MiB, 125.8 s; every 256
// MiB, 116.8 s; never, 115.6 s, but the WAL grew to the size of the database.
type checkpointer struct {
	mu      sync.Mutex
	conn    *sql.Conn     // opened at the first checkpoint, kept until close (see afterBatch)
	running chan struct{} // closed when the last checkpoint started is done; nil: none started
	frames  int64         // the WAL's frames (pages) when the last checkpoint ran
	rows    int           // rows stored since the last checkpoint started
	// restartFrames, when set, replaces walRestartBytes in frames (a test's small WAL)
	restartFrames int64
	closed        bool // by close: no checkpoint starts and no connection opens after it
}

const (
	// checkpointEvery is how many stored rows a checkpoint follows (a row is a few
	// hundred bytes of pages).
	checkpointEvery = 10_000
	// walRestartBytes is the WAL's size at which the next batch waits for it to be
	// copied whole (an ingest's WAL file stays under about 300 MB).
	walRestartBytes = 256 << 20
)

// beforeBatch is called before a batch writes anything: when the WAL has grown to
// walRestartBytes, it waits for the running checkpoint and copies what is left, so
// that the batch's first write starts the WAL over.
func (c *checkpointer) beforeBatch(ctx context.Context, db *DB) {
	c.mu.Lock()
	frames, restart := c.frames, c.restartFrames
	c.mu.Unlock()
	if restart == 0 {
		restart = pagesOf(walRestartBytes, db.pageSize) // a WAL frame holds a page
	}
	if frames < restart {
		return
	}
	c.wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil {
		if frames, copied, ok := checkpoint(ctx, c.conn); ok && frames == copied {
			c.frames = 0 // copied whole: the batch's first write starts the WAL over
		}
	}
}

// afterBatch counts a committed batch's rows and, after checkpointEvery of them,
// starts a passive checkpoint unless one is running. A failed checkpoint is left for
// the next one, or for any other commit's autocheckpoint. ctx bounds the wait for a
// connection of the pool, the first time; the checkpoint itself runs to its end.
func (c *checkpointer) afterBatch(ctx context.Context, db *DB, stored int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if c.rows += stored; c.rows < checkpointEvery {
		return
	}
	if c.running != nil {
		select {
		case <-c.running:
		default:
			return // the next batch starts one
		}
	}
	if c.conn == nil {
		// kept: a connection from the pool handed the writer's connection, with its 64
		// MiB page cache, to the checkpoints, and the writer warmed a second one (+50 MB
		// peak at 10M records)
		conn, err := db.db.Conn(ctx)
		if err != nil {
			return
		}
		c.conn = conn
	}
	c.rows = 0
	done := make(chan struct{})
	c.running = done
	conn := c.conn // close waits for done before it closes conn
	go func() {
		defer close(done)
		if frames, _, ok := checkpoint(context.Background(), conn); ok {
			c.mu.Lock()
			c.frames = frames
			c.mu.Unlock()
		}
	}()
}

// noAutocheckpoint turns conn's autocheckpoint off, for a writer whose commits leave
// the checkpoints to db.checkpoints (beforeBatch and afterBatch around each), and
// returns what turns it back on: a connection that cannot have it back never returns
// to the pool. Per connection; cheap to repeat. restore is the real one on an error
// too: SQLite applies the pragma when it prepares it, so a step that then failed (a
// cancelled context) may have left autocheckpoint off.
func (db *DB) noAutocheckpoint(ctx context.Context, conn *sql.Conn) (restore func(), err error) {
	restore = func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", autocheckpointPages(db.pageSize))); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}
	_, err = conn.ExecContext(ctx, `PRAGMA wal_autocheckpoint = 0`)
	return restore, err
}

// checkpoint runs one passive checkpoint on conn and returns the WAL's frames and how
// many of them are copied; ok is false when it failed (left for the next, and the
// frames counted before stand, so that a restart due is not forgotten).
func checkpoint(ctx context.Context, conn *sql.Conn) (frames, copied int64, ok bool) {
	var busy int64
	if err := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
		return 0, 0, false
	}
	return frames, copied, true
}

// wait waits for the running checkpoint, if any.
func (c *checkpointer) wait() {
	c.mu.Lock()
	running := c.running
	c.mu.Unlock()
	if running != nil {
		<-running
	}
}

// close waits for the running checkpoint and gives the connection back; a batch
// committed after it (an ingest still running while the service shuts down) starts no
// checkpoint.
func (c *checkpointer) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}
