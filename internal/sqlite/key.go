package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrKeyMismatch is BindKey's answer to a key whose check value is not the one the
// database stored.
var ErrKeyMismatch = errors.New("the key's check value is not the one stored in the database")

// KeyState is what the database knows of the pseudonymisation key.
type KeyState struct {
	// Check is the stored check value, "" where none was stored yet.
	Check string
	// Empty says nothing keyed is stored yet (no records, registry versions or runs),
	// so a new key takes nothing away.
	Empty bool
}

// KeyState reads the stored key check value and whether the database is empty.
func (db *DB) KeyState(ctx context.Context) (KeyState, error) {
	var s KeyState
	err := db.db.QueryRowContext(ctx, `SELECT value FROM key_check WHERE id = 1`).Scan(&s.Check)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("key check: %w", err)
	}
	var n int
	if err := db.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM releases) + EXISTS (SELECT 1 FROM uses)
		+ EXISTS (SELECT 1 FROM registry_versions) + EXISTS (SELECT 1 FROM runs)`).Scan(&n); err != nil {
		return s, fmt.Errorf("key check: %w", err)
	}
	s.Empty = n == 0
	return s, nil
}

// BindKey stores check as the database's key check value where it has none (a new
// database, or one made before the value existed) and returns ErrKeyMismatch where
// it holds another: the key is then not the one its pseudonyms were made with.
func (db *DB) BindKey(ctx context.Context, check string) error {
	tx, err := db.db.BeginTx(ctx, nil) // immediate: two first opens agree on one value
	if err != nil {
		return fmt.Errorf("key check: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO key_check (id, value, created) VALUES (1, ?, ?) ON CONFLICT DO NOTHING`,
		check, nanos(db.Now())); err != nil {
		return fmt.Errorf("key check: %w", err)
	}
	var stored string
	if err := tx.QueryRowContext(ctx, `SELECT value FROM key_check WHERE id = 1`).Scan(&stored); err != nil {
		return fmt.Errorf("key check: %w", err)
	}
	if stored != check {
		return ErrKeyMismatch
	}
	return tx.Commit()
}

// ReplaceKeyCheck stores check as the key check value where the stored one is old
// (ErrKeyMismatch where it is not): the one way a database takes a new key.
func (db *DB) ReplaceKeyCheck(ctx context.Context, old, check string) error {
	res, err := db.db.ExecContext(ctx, `UPDATE key_check SET value = ?, created = ? WHERE id = 1 AND value = ?`, check, nanos(db.Now()), old)
	if err != nil {
		return fmt.Errorf("key check: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("key check: %w", err)
	} else if n != 1 {
		return ErrKeyMismatch
	}
	return nil
}
