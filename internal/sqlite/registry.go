package sqlite

import (
	"cmp"
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
		exec(`INSERT INTO controllers (version, oid, name, names, permission_data) VALUES (?, ?, ?, ?, ?)`, c.OID, c.Name, jsonMap(c.Names), c.PermissionData)
		for _, s := range c.Schools {
			// a school known by its OID alone is keyed by the OID
			exec(`INSERT INTO schools (version, controller, code, name, school_oid, names, parent) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				c.OID, cmp.Or(s.Code, s.OID), s.Name, s.OID, jsonMap(s.Names), s.Parent)
		}
	}
	for _, sp := range r.ServiceProviders {
		detail, _ := json.Marshal(spDetail{sp.Protocol, sp.VendorOID, sp.BusinessID, sp.DeploymentPhase, sp.TestLearnerID, sp.Sets})
		exec(`INSERT INTO service_providers (version, id, name, commercial, valid_from, valid_to, attributes, purposes, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sp.ID, sp.Name, sp.Commercial, sp.Valid.From, sp.Valid.To, jsonList(sp.Attributes), jsonList(sp.Purposes), string(detail))
	}
	for i, src := range r.Sources {
		exec(`INSERT INTO registry_sources (version, seq, kind, name, digest) VALUES (?, ?, ?, ?, ?)`, i, src.Kind, src.Name, src.Digest)
	}
	for i, p := range r.Permissions {
		var to any
		if p.To != nil {
			to = nanos(*p.To)
		}
		exec(`INSERT INTO permissions (version, seq, controller, sp, set_id, valid_from, valid_to, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			i, p.Controller, p.SP, p.Set, nanos(p.From), to, p.Source)
	}
	for _, set := range r.Sets {
		exec(`INSERT INTO service_sets (version, id, name) VALUES (?, ?, ?)`, set.ID, set.Name)
	}
	for i, idp := range r.IdentityProviders {
		exec(`INSERT INTO identity_providers (version, seq, controller, flow, idp_id, type) VALUES (?, ?, ?, ?, ?, ?)`,
			i, idp.Controller, idp.Flow, idp.IdpID, idp.Type)
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

// spDetail is what the management service tells of an SP, stored as one JSON column.
type spDetail struct {
	Protocol        string   `json:"protocol,omitempty"`
	VendorOID       string   `json:"vendor_oid,omitempty"`
	BusinessID      string   `json:"business_id,omitempty"`
	DeploymentPhase *int     `json:"deployment_phase,omitempty"`
	TestLearnerID   bool     `json:"allow_test_learner_id,omitempty"`
	Sets            []string `json:"sets,omitempty"`
}

func jsonMap(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// fromJSONMap reads a jsonMap column; an empty object is nil.
func fromJSONMap(s string) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil || len(m) == 0 {
		return nil, err
	}
	return m, nil
}

func jsonList(s []string) string {
	if s == nil {
		s = []string{}
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// LatestNames is the name map of the newest registry version (nil where there is none
// or it has no map), without reading the rest of the registry.
func (db *DB) LatestNames(ctx context.Context) (map[string]string, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT name, canonical FROM attribute_names
		WHERE version = (SELECT MAX(version) FROM registry_versions) ORDER BY name`)
	if err != nil {
		return nil, err
	}
	var names map[string]string
	err = scanRows(ctx, rows, func() error {
		var name, canonical string
		if err := rows.Scan(&name, &canonical); err != nil {
			return err
		}
		if names == nil {
			names = map[string]string{}
		}
		names[name] = canonical
		return nil
	})
	return names, err
}

// LatestRegistry returns the newest registry version.
func (db *DB) LatestRegistry(ctx context.Context) (*mpass.Registry, error) {
	var v int
	err := db.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM registry_versions`).Scan(&v)
	if err != nil {
		return nil, err
	} else if v == 0 {
		return nil, mpass.Errorf(mpass.ENOTFOUND, "no registry loaded: run `mpass-audit registry import …` (MPASSid's exports) or `mpass-audit registry load FILE.yaml` first")
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
		err = scanRows(ctx, rows, func() error { return each(rows) })
	}
	schools := map[string][]mpass.School{}
	q(`SELECT controller, code, name, school_oid, names, parent FROM schools WHERE version = ? ORDER BY controller, code`, func(rows *sql.Rows) error {
		var oid, names string
		var s mpass.School
		if err := rows.Scan(&oid, &s.Code, &s.Name, &s.OID, &names, &s.Parent); err != nil {
			return err
		}
		if s.Code == s.OID {
			s.Code = "" // keyed by its OID: it has no school code
		}
		var err error
		if s.Names, err = fromJSONMap(names); err != nil {
			return err
		}
		schools[oid] = append(schools[oid], s)
		return nil
	})
	q(`SELECT oid, name, names, permission_data FROM controllers WHERE version = ? ORDER BY oid`, func(rows *sql.Rows) error {
		var c mpass.Controller
		var names string
		if err := rows.Scan(&c.OID, &c.Name, &names, &c.PermissionData); err != nil {
			return err
		}
		var err error
		if c.Names, err = fromJSONMap(names); err != nil {
			return err
		}
		c.Schools = schools[c.OID]
		r.Controllers = append(r.Controllers, c)
		return nil
	})
	q(`SELECT id, name, commercial, valid_from, valid_to, attributes, purposes, detail FROM service_providers WHERE version = ? ORDER BY id`, func(rows *sql.Rows) error {
		var sp mpass.ServiceProvider
		var attrs, purposes, detail string
		if err := rows.Scan(&sp.ID, &sp.Name, &sp.Commercial, &sp.Valid.From, &sp.Valid.To, &attrs, &purposes, &detail); err != nil {
			return err
		}
		var d spDetail
		if err := json.Unmarshal([]byte(detail), &d); err != nil {
			return err
		}
		sp.Protocol, sp.VendorOID, sp.BusinessID, sp.DeploymentPhase, sp.TestLearnerID, sp.Sets = d.Protocol, d.VendorOID, d.BusinessID, d.DeploymentPhase, d.TestLearnerID, d.Sets
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
	q(`SELECT kind, name, digest FROM registry_sources WHERE version = ? ORDER BY seq`, func(rows *sql.Rows) error {
		var src mpass.Source
		if err := rows.Scan(&src.Kind, &src.Name, &src.Digest); err != nil {
			return err
		}
		r.Sources = append(r.Sources, src)
		return nil
	})
	q(`SELECT controller, sp, set_id, valid_from, valid_to, source FROM permissions WHERE version = ? ORDER BY seq`, func(rows *sql.Rows) error {
		var p mpass.Permission
		var from int64
		var to sql.NullInt64
		if err := rows.Scan(&p.Controller, &p.SP, &p.Set, &from, &to, &p.Source); err != nil {
			return err
		}
		p.From = fromNanos(from)
		if to.Valid {
			t := fromNanos(to.Int64)
			p.To = &t
		}
		r.Permissions = append(r.Permissions, p)
		return nil
	})
	q(`SELECT id, name FROM service_sets WHERE version = ? ORDER BY id`, func(rows *sql.Rows) error {
		var set mpass.ServiceSet
		if err := rows.Scan(&set.ID, &set.Name); err != nil {
			return err
		}
		r.Sets = append(r.Sets, set)
		return nil
	})
	q(`SELECT controller, flow, idp_id, type FROM identity_providers WHERE version = ? ORDER BY seq`, func(rows *sql.Rows) error {
		var idp mpass.IdentityProvider
		if err := rows.Scan(&idp.Controller, &idp.Flow, &idp.IdpID, &idp.Type); err != nil {
			return err
		}
		r.IdentityProviders = append(r.IdentityProviders, idp)
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
