package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// interner keeps a text column stored once, referred to by id, with an in-memory map
// both ways. Rows are only ever added, so a cached id stays right.
type interner struct {
	table, column string
	mu            sync.RWMutex
	// ids maps a 128-bit hash of each value (two maphash sums with the interner's
	// random seeds) to its id. Encode looks up every record's names and shape: a string
	// key's comparison read the stored value, mostly from memory the cache had lost (a
	// school among thousands, a shape's 300 bytes), where a hash is compared in the
	// map's own slot. Two values sharing a hash (2^-128 a pair) would share an id.
	ids    map[[2]uint64]int64
	seeds  [2]maphash.Seed
	values map[int64]string
	// valueStmt reads a value by id, prepared once (an audit reads thousands of
	// shapes: preparing each query was half its time); under stmtMu, closed by close
	stmtMu    sync.Mutex
	valueStmt *sql.Stmt
}

func newInterner(table, column string) *interner {
	return &interner{table: table, column: column, ids: map[[2]uint64]int64{}, values: map[int64]string{},
		seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
}

// key is v's key in ids.
func (in *interner) key(v string) [2]uint64 {
	return [2]uint64{maphash.String(in.seeds[0], v), maphash.String(in.seeds[1], v)}
}

// keyBytes is key of a value in bytes, which it does not copy.
func (in *interner) keyBytes(v []byte) [2]uint64 {
	return [2]uint64{maphash.Bytes(in.seeds[0], v), maphash.Bytes(in.seeds[1], v)}
}

// id is the id of a value ensure has stored; 0 for one it has not.
func (in *interner) id(v string) int64 {
	in.mu.RLock()
	defer in.mu.RUnlock()
	return in.ids[in.key(v)]
}

func (in *interner) remember(id int64, v string) {
	in.mu.Lock()
	in.ids[in.key(v)], in.values[id] = id, v
	in.mu.Unlock()
}

// ensure stores the values not stored yet, in a transaction of their own.
func (in *interner) ensure(ctx context.Context, db *sql.DB, values map[string]bool) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	found, err := in.ensureIn(ctx, tx, values, nil)
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for v, id := range found {
		in.remember(id, v)
	}
	return nil
}

// ensureIn stores in tx the values neither remembered nor in pending (stored earlier in
// tx) and answers their ids, for the caller to remember once tx commits: an id of a
// transaction rolled back would name nothing, or another value later.
func (in *interner) ensureIn(ctx context.Context, tx *sql.Tx, values map[string]bool, pending map[string]int64) (map[string]int64, error) {
	var missing []string
	in.mu.RLock()
	for v := range values {
		if _, ok := in.ids[in.key(v)]; !ok {
			if _, ok := pending[v]; !ok {
				missing = append(missing, v)
			}
		}
	}
	in.mu.RUnlock()
	if len(missing) == 0 {
		return nil, nil
	}
	insert, err := tx.PrepareContext(ctx, fmt.Sprintf(`INSERT INTO %s (%s) VALUES (?) ON CONFLICT DO NOTHING`, in.table, in.column))
	if err != nil {
		return nil, err
	}
	defer insert.Close()
	find, err := tx.PrepareContext(ctx, fmt.Sprintf(`SELECT id FROM %s WHERE %s = ?`, in.table, in.column))
	if err != nil {
		return nil, err
	}
	defer find.Close()
	found := make(map[string]int64, len(missing))
	for _, v := range missing {
		if _, err := insert.ExecContext(ctx, v); err != nil {
			return nil, err
		}
		var id int64
		if err := find.QueryRowContext(ctx, v).Scan(&id); err != nil {
			return nil, err
		}
		found[v] = id
	}
	return found, nil
}

// value is the value of an id, read from the store when not cached.
func (in *interner) value(ctx context.Context, db *sql.DB, id int64) (string, error) {
	in.mu.RLock()
	v, ok := in.values[id]
	in.mu.RUnlock()
	if ok {
		return v, nil
	}
	stmt, err := in.stmt(ctx, db)
	if err != nil {
		return "", err
	}
	err = stmt.QueryRowContext(ctx, id).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", mpass.Errorf(mpass.EINTERNAL, "%s %d missing", in.table, id)
	} else if err != nil {
		return "", err
	}
	in.remember(id, v)
	return v, nil
}

// stmt is the interner's prepared read of a value by id (a failed preparation is
// tried again on the next call).
func (in *interner) stmt(ctx context.Context, db *sql.DB) (*sql.Stmt, error) {
	in.stmtMu.Lock()
	defer in.stmtMu.Unlock()
	if in.valueStmt == nil {
		stmt, err := db.PrepareContext(ctx, fmt.Sprintf(`SELECT %s FROM %s WHERE id = ?`, in.column, in.table))
		if err != nil {
			return nil, err
		}
		in.valueStmt = stmt
	}
	return in.valueStmt, nil
}

// close closes the prepared read, if any.
func (in *interner) close() {
	in.stmtMu.Lock()
	defer in.stmtMu.Unlock()
	if in.valueStmt != nil {
		in.valueStmt.Close()
		in.valueStmt = nil
	}
}

// lookup is the id of a stored value, or 0 when it was never stored.
func (in *interner) lookup(ctx context.Context, db *sql.DB, v string) (int64, error) {
	if id := in.id(v); id != 0 {
		return id, nil
	}
	var id int64
	err := db.QueryRowContext(ctx, fmt.Sprintf(`SELECT id FROM %s WHERE %s = ?`, in.table, in.column), v).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	in.remember(id, v)
	return id, nil
}

// Name is the SP id, controller OID or purpose key stored as id.
func (db *DB) Name(ctx context.Context, id int64) (string, error) {
	return db.names.value(ctx, db.db, id)
}

// Shape is the facts JSON of a shape id.
func (db *DB) Shape(ctx context.Context, id int64) (string, error) {
	return db.shapes.value(ctx, db.db, id)
}

// NameID is the id of a stored name, or 0 when no record has it.
func (db *DB) NameID(ctx context.Context, name string) (int64, error) {
	return db.names.lookup(ctx, db.db, name)
}
