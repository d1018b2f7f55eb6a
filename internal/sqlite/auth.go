package sqlite

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

var _ mpass.TokenService = (*DB)(nil)

// tokenPrefix marks mpass-audit tokens, so a leaked one is recognised by scanners.
const tokenPrefix = "mpa_"

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// CreateToken makes a token and returns its secret, the only time it is shown:
// mpa_<id>_<secret>, of which only the id and a SHA-256 of the secret are stored.
func (db *DB) CreateToken(ctx context.Context, role, name string, controllers []string) (string, *mpass.Token, error) {
	switch role {
	case mpass.RoleDPO:
		if len(controllers) == 0 {
			return "", nil, mpass.Errorf(mpass.EINVALID, "a dpo token needs --controller")
		}
	case mpass.RoleAuditor, mpass.RoleIngest:
		if len(controllers) > 0 {
			return "", nil, mpass.Errorf(mpass.EINVALID, "--controller is for dpo tokens")
		}
	default:
		return "", nil, mpass.Errorf(mpass.EINVALID, "role %q: dpo, auditor or ingest", role)
	}
	for _, c := range controllers {
		if err := mpass.CheckControllerOID(c); err != nil {
			return "", nil, mpass.Errorf(mpass.EINVALID, "controller %v", err)
		}
	}
	if controllers == nil {
		controllers = []string{}
	}
	idBytes := make([]byte, 5)
	rand.Read(idBytes)
	t := &mpass.Token{ID: hex.EncodeToString(idBytes), Role: role, Controllers: controllers, Name: name, Created: db.Now()}
	secret := randomString(32)
	list, _ := json.Marshal(controllers)
	_, err := db.db.ExecContext(ctx, `INSERT INTO tokens (id, hash, role, controllers, name, created) VALUES (?, ?, ?, ?, ?, ?)`,
		t.ID, hashSecret(secret), role, string(list), name, nanos(t.Created))
	if err != nil {
		return "", nil, err
	}
	return tokenPrefix + t.ID + "_" + secret, t, nil
}

// TokenID returns the id of a token, mpa_<id>_<secret>, when the token has the shape
// CreateToken gives (a 10-digit lowercase hex id, a 43-character URL-safe base64
// secret): the service counts failed logins per token id, and an id it counts must be
// one a real token could have, not any string a client makes up.
func TokenID(full string) (string, bool) {
	rest, ok := strings.CutPrefix(full, tokenPrefix)
	id, secret, ok2 := strings.Cut(rest, "_")
	if !ok || !ok2 || len(id) != 10 || len(secret) != 43 {
		return "", false
	}
	for _, c := range []byte(id) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", false
		}
	}
	for _, c := range []byte(secret) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && c != '-' && c != '_' {
			return "", false
		}
	}
	return id, true
}

var errBadToken = mpass.Errorf(mpass.EUNAUTHORIZED, "invalid or revoked token")

// Authenticate finds a live token by its full secret, comparing hashes in constant time.
func (db *DB) Authenticate(ctx context.Context, full string) (*mpass.Token, error) {
	rest, ok := strings.CutPrefix(full, tokenPrefix)
	id, secret, ok2 := strings.Cut(rest, "_")
	if !ok || !ok2 || id == "" || secret == "" {
		return nil, errBadToken
	}
	t, hash, err := db.findToken(ctx, id)
	if err != nil {
		if mpass.ErrorCode(err) == mpass.ENOTFOUND {
			hashSecret(secret) // the same work whether or not the id exists
			return nil, errBadToken
		}
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(hash), []byte(hashSecret(secret))) != 1 || t.Revoked != nil {
		return nil, errBadToken
	}
	return t, nil
}

func (db *DB) findToken(ctx context.Context, id string) (*mpass.Token, string, error) {
	var t mpass.Token
	var hash, list string
	var created int64
	var revoked sql.NullInt64
	err := db.db.QueryRowContext(ctx, `SELECT id, hash, role, controllers, name, created, revoked FROM tokens WHERE id = ?`, id).
		Scan(&t.ID, &hash, &t.Role, &list, &t.Name, &created, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", mpass.Errorf(mpass.ENOTFOUND, "token %s not found", id)
	} else if err != nil {
		return nil, "", err
	}
	t.Created = fromNanos(created)
	if revoked.Valid {
		r := fromNanos(revoked.Int64)
		t.Revoked = &r
	}
	return &t, hash, json.Unmarshal([]byte(list), &t.Controllers)
}

// RevokeToken revokes a token by id and ends its sessions.
func (db *DB) RevokeToken(ctx context.Context, id string) error {
	res, err := db.db.ExecContext(ctx, `UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL`, nanos(db.Now()), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return mpass.Errorf(mpass.ENOTFOUND, "no live token %s", id)
	}
	_, err = db.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_id = ?`, id)
	return err
}

// Tokens lists tokens, newest first.
func (db *DB) Tokens(ctx context.Context) ([]*mpass.Token, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT id FROM tokens ORDER BY created DESC, id`)
	if err != nil {
		return nil, err
	}
	var ids []string
	if err := scanRows(ctx, rows, func() error {
		var id string
		ids = append(ids, id)
		return rows.Scan(&ids[len(ids)-1])
	}); err != nil {
		return nil, err
	}
	out := make([]*mpass.Token, 0, len(ids))
	for _, id := range ids {
		t, _, err := db.findToken(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// CreateSession starts a web session for a token; the secret goes into the cookie.
func (db *DB) CreateSession(ctx context.Context, t *mpass.Token, ttl time.Duration) (string, *mpass.Session, error) {
	secret := randomString(32)
	s := &mpass.Session{Token: t, CSRF: randomString(24), Expires: db.Now().Add(ttl)}
	_, err := db.db.ExecContext(ctx, `INSERT INTO sessions (hash, token_id, csrf, expires) VALUES (?, ?, ?, ?)`,
		hashSecret(secret), t.ID, s.CSRF, nanos(s.Expires))
	if err != nil {
		return "", nil, err
	}
	db.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires < ?`, nanos(db.Now()))
	return secret, s, nil
}

// FindSession returns a live session of a live token.
func (db *DB) FindSession(ctx context.Context, secret string) (*mpass.Session, error) {
	var s mpass.Session
	var tokenID string
	var expires int64
	err := db.db.QueryRowContext(ctx, `SELECT token_id, csrf, expires FROM sessions WHERE hash = ?`, hashSecret(secret)).Scan(&tokenID, &s.CSRF, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mpass.Errorf(mpass.EUNAUTHORIZED, "no session")
	} else if err != nil {
		return nil, err
	}
	if s.Expires = fromNanos(expires); !s.Expires.After(db.Now()) {
		return nil, mpass.Errorf(mpass.EUNAUTHORIZED, "session expired")
	}
	t, _, err := db.findToken(ctx, tokenID)
	if err != nil || t.Revoked != nil {
		return nil, mpass.Errorf(mpass.EUNAUTHORIZED, "token revoked")
	}
	s.Token = t
	return &s, nil
}

// DeleteSession ends a session.
func (db *DB) DeleteSession(ctx context.Context, secret string) error {
	_, err := db.db.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, hashSecret(secret))
	return err
}

// StoreReport keeps a rendered PDF of a run.
func (db *DB) StoreReport(ctx context.Context, runID int64, controller, period, lang string, pdf []byte) error {
	_, err := db.db.ExecContext(ctx, `INSERT INTO stored_reports (run_id, controller, period, lang, pdf) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO UPDATE SET pdf = excluded.pdf`, runID, controller, period, lang, pdf)
	return err
}

// StoredReport returns a kept PDF, or ENOTFOUND.
func (db *DB) StoredReport(ctx context.Context, runID int64, controller, period, lang string) ([]byte, error) {
	var pdf []byte
	err := db.db.QueryRowContext(ctx, `SELECT pdf FROM stored_reports WHERE run_id = ? AND controller = ? AND period = ? AND lang = ?`,
		runID, controller, period, lang).Scan(&pdf)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mpass.Errorf(mpass.ENOTFOUND, "no stored report")
	}
	return pdf, err
}

// ScheduleHandled is the last due time the scheduler handled, or zero.
func (db *DB) ScheduleHandled(ctx context.Context, schedule string) (time.Time, error) {
	var n int64
	err := db.db.QueryRowContext(ctx, `SELECT handled FROM schedule_state WHERE schedule = ?`, schedule).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	return fromNanos(n), err
}

// SetScheduleHandled records a handled due time.
func (db *DB) SetScheduleHandled(ctx context.Context, schedule string, due time.Time) error {
	_, err := db.db.ExecContext(ctx, `INSERT INTO schedule_state (schedule, handled) VALUES (?, ?)
		ON CONFLICT DO UPDATE SET handled = excluded.handled`, schedule, nanos(due))
	return err
}
