package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"maps"
	"slices"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

var _ mpass.RegistryService = (*DB)(nil)

// CreateRegistry stores r as a new version and sets r.Version and r.Loaded.
func (db *DB) CreateRegistry(ctx context.Context, r *mpass.Registry) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	r.Loaded = db.Now()
	res, err := tx.ExecContext(ctx, `INSERT INTO registry_versions (loaded, digest) VALUES (?, ?)`, nanos(r.Loaded), r.Digest)
	if err != nil {
		return err
	}
	id, _ := res.LastInsertId()
	v := int(id)
	exec := func(query string, args ...any) {
		if err == nil {
			_, err = tx.ExecContext(ctx, query, append([]any{v}, args...)...)
		}
	}
	for _, c := range r.Controllers {
		exec(`INSERT INTO controllers (version, oid, name) VALUES (?, ?, ?)`, c.OID, c.Name)
		for _, s := range c.Schools {
			exec(`INSERT INTO schools (version, controller, code, name) VALUES (?, ?, ?, ?)`, c.OID, s.Code, s.Name)
		}
	}
	for _, sp := range r.ServiceProviders {
		exec(`INSERT INTO service_providers (version, id, name, commercial, valid_from, valid_to, attributes, purposes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			sp.ID, sp.Name, sp.Commercial, sp.Valid.From, sp.Valid.To, jsonList(sp.Attributes), jsonList(sp.Purposes))
	}
	for i, a := range r.Agreements {
		exec(`INSERT INTO agreements (version, seq, controller, sp, valid_from, valid_to, attributes, purposes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			i, a.Controller, a.SP, a.Valid.From, a.Valid.To, jsonList(a.Attributes), jsonList(a.Purposes))
	}
	for i, c := range r.Consents {
		var withdrawn any
		if c.Withdrawn != nil {
			withdrawn = nanos(*c.Withdrawn)
		}
		exec(`INSERT INTO consents (version, seq, subject, sp, purpose, given_by, given, withdrawn) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			i, c.Subject, c.SP, c.Purpose, c.GivenBy, nanos(c.Given), withdrawn)
	}
	for _, name := range slices.Sorted(maps.Keys(r.Names)) {
		exec(`INSERT INTO attribute_names (version, name, canonical) VALUES (?, ?, ?)`, name, r.Names[name])
	}
	for _, e := range r.Exceptions {
		exec(`INSERT INTO exceptions (version, id, term, rule, sp, controller, attribute, reason, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, e.Term, e.Rule, e.SP, e.Controller, e.Attribute, e.Reason, e.Expires)
	}
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	r.Version = v
	return nil
}

func jsonList(s []string) string {
	if s == nil {
		s = []string{}
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// LatestRegistry returns the newest registry version.
func (db *DB) LatestRegistry(ctx context.Context) (*mpass.Registry, error) {
	var v int
	err := db.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM registry_versions`).Scan(&v)
	if err != nil {
		return nil, err
	} else if v == 0 {
		return nil, mpass.Errorf(mpass.ENOTFOUND, "no registry loaded: run `mpass-audit registry load FILE.yaml` first")
	}
	return db.FindRegistry(ctx, v)
}

// FindRegistry returns one registry version.
func (db *DB) FindRegistry(ctx context.Context, version int) (*mpass.Registry, error) {
	r := &mpass.Registry{Version: version}
	var loaded int64
	err := db.db.QueryRowContext(ctx, `SELECT loaded, digest FROM registry_versions WHERE version = ?`, version).Scan(&loaded, &r.Digest)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mpass.Errorf(mpass.ENOTFOUND, "registry version %d not found", version)
	} else if err != nil {
		return nil, err
	}
	r.Loaded = fromNanos(loaded)

	q := func(query string, each func(rows *sql.Rows) error) {
		if err != nil {
			return
		}
		var rows *sql.Rows
		if rows, err = db.db.QueryContext(ctx, query, version); err != nil {
			return
		}
		err = scanRows(rows, func() error { return each(rows) })
	}
	schools := map[string][]mpass.School{}
	q(`SELECT controller, code, name FROM schools WHERE version = ? ORDER BY controller, code`, func(rows *sql.Rows) error {
		var oid string
		var s mpass.School
		if err := rows.Scan(&oid, &s.Code, &s.Name); err != nil {
			return err
		}
		schools[oid] = append(schools[oid], s)
		return nil
	})
	q(`SELECT oid, name FROM controllers WHERE version = ? ORDER BY oid`, func(rows *sql.Rows) error {
		var c mpass.Controller
		if err := rows.Scan(&c.OID, &c.Name); err != nil {
			return err
		}
		c.Schools = schools[c.OID]
		r.Controllers = append(r.Controllers, c)
		return nil
	})
	q(`SELECT id, name, commercial, valid_from, valid_to, attributes, purposes FROM service_providers WHERE version = ? ORDER BY id`, func(rows *sql.Rows) error {
		var sp mpass.ServiceProvider
		var attrs, purposes string
		if err := rows.Scan(&sp.ID, &sp.Name, &sp.Commercial, &sp.Valid.From, &sp.Valid.To, &attrs, &purposes); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(attrs), &sp.Attributes); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(purposes), &sp.Purposes); err != nil {
			return err
		}
		r.ServiceProviders = append(r.ServiceProviders, sp)
		return nil
	})
	q(`SELECT controller, sp, valid_from, valid_to, attributes, purposes FROM agreements WHERE version = ? ORDER BY seq`, func(rows *sql.Rows) error {
		var a mpass.Agreement
		var attrs, purposes string
		if err := rows.Scan(&a.Controller, &a.SP, &a.Valid.From, &a.Valid.To, &attrs, &purposes); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(attrs), &a.Attributes); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(purposes), &a.Purposes); err != nil {
			return err
		}
		r.Agreements = append(r.Agreements, a)
		return nil
	})
	q(`SELECT subject, sp, purpose, given_by, given, withdrawn FROM consents WHERE version = ? ORDER BY seq`, func(rows *sql.Rows) error {
		var c mpass.Consent
		var given int64
		var withdrawn sql.NullInt64
		if err := rows.Scan(&c.Subject, &c.SP, &c.Purpose, &c.GivenBy, &given, &withdrawn); err != nil {
			return err
		}
		c.Given = fromNanos(given)
		if withdrawn.Valid {
			t := fromNanos(withdrawn.Int64)
			c.Withdrawn = &t
		}
		r.Consents = append(r.Consents, c)
		return nil
	})
	q(`SELECT id, term, rule, sp, controller, attribute, reason, expires FROM exceptions WHERE version = ? ORDER BY id`, func(rows *sql.Rows) error {
		var e mpass.Exception
		if err := rows.Scan(&e.ID, &e.Term, &e.Rule, &e.SP, &e.Controller, &e.Attribute, &e.Reason, &e.Expires); err != nil {
			return err
		}
		r.Exceptions = append(r.Exceptions, e)
		return nil
	})
	q(`SELECT name, canonical FROM attribute_names WHERE version = ? ORDER BY name`, func(rows *sql.Rows) error {
		var name, canonical string
		if err := rows.Scan(&name, &canonical); err != nil {
			return err
		}
		if r.Names == nil {
			r.Names = map[string]string{}
		}
		r.Names[name] = canonical
		return nil
	})
	return r, err
}
