// Package facts reduces what MPASSid logs to what the terms need: attribute names to
// canonical URNs, values to facts (identity codes, birth years, date shapes, parsed
// roles, grades) and keyed fingerprints, raw user ids to keyed pseudonyms. Values never
// leave this package.
package facts

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/maphash"
	"slices"
	"strings"
	"sync"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// Canonical names the extractor treats specially. Role attributes are known by the
// catalog's role form, not by name.
const (
	Mail                  = "urn:oid:0.9.2342.19200300.100.1.3"
	Role                  = "urn:mpass.id:role"
	ClassLevel            = "urn:mpass.id:classLevel"
	EducationProviderInfo = "urn:mpass.id:educationProviderInfo"
	EducationProviderID   = "urn:mpass.id:educationProviderId"
	LearnerID             = "urn:oid:1.3.6.1.4.1.16161.1.1.27"
	SchoolInfo            = "urn:mpass.id:schoolInfo"
	OriginalIssuer        = "urn:mpass.id:originalIssuer"
	SchoolCode            = "urn:mpass.id:schoolCode"
)

// Extractor turns raw ids and values into pseudonyms and facts with one secret key.
// It is safe for concurrent use: each call takes an HMAC of its own from a pool.
type Extractor struct {
	key     []byte
	catalog *Catalog
	macs    sync.Pool // of *keyedMAC
	// seeds key the hashes by which each keyedMAC remembers its recent fingerprints
	seeds [2]maphash.Seed
}

// keyedMAC is a keyed HMAC-SHA-256, reset between uses (keying costs two blocks), with
// room for the message and the sum: written through the hash.Hash interface, a
// message on the stack escaped, and ingest hashes several values a record. recent
// are the fingerprints it made lately (see FingerprintOf).
type keyedMAC struct {
	h      hash.Hash
	msg    []byte
	sum    [sha256.Size]byte
	recent *[recentFingerprints]recentFingerprint
}

// recentFingerprints is how many fingerprints a keyedMAC remembers, each in the slot
// its message's hash picks (24 bytes each: 96 KiB a worker, which stays in the core's
// L2 cache). 32,768 slots (768 KiB) took more of them (57 % against 40 % of the 1.4 M
// fingerprints of 300,000 diverse records) but a slot's load then missed the cache:
// at 10M records that load alone was 2.5 % of the ingest's CPU, and FingerprintOf's
// share of the workers' went from 8.8 % to 7.8 % with the smaller table.
const recentFingerprints = 1 << 12

// recentFingerprint is a fingerprint made lately, under a 128-bit hash of its message
// (two maphash sums with the extractor's random seeds). The message itself is not
// kept: values never outlive the line they came in.
type recentFingerprint struct {
	a, b uint64
	fp   mpass.Fingerprint
}

// NewExtractor returns an extractor keyed with key.
func NewExtractor(key []byte, catalog *Catalog) *Extractor {
	x := &Extractor{key: slices.Clone(key), catalog: catalog, seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
	x.macs.New = func() any { return &keyedMAC{h: hmac.New(sha256.New, x.key), msg: make([]byte, 0, 256)} }
	return x
}

// mac returns the first n bytes, in hex, of the keyed HMAC of the message that
// label, a NUL and the parts make.
func (x *Extractor) mac(n int, label string, parts ...string) string {
	var sum [sha256.Size]byte
	x.macTo(&sum, label, parts...)
	return hex.EncodeToString(sum[:n])
}

// macTo writes to sum the keyed HMAC of the message that label, a NUL and the parts make.
func (x *Extractor) macTo(sum *[sha256.Size]byte, label string, parts ...string) {
	m := x.macs.Get().(*keyedMAC)
	m.write(label, parts)
	m.sumTo(sum)
	x.macs.Put(m)
}

// write makes m's message of label, a NUL and the parts.
func (m *keyedMAC) write(label string, parts []string) {
	msg := append(append(m.msg[:0], label...), 0)
	for _, p := range parts {
		msg = append(msg, p...)
	}
	m.msg = msg
}

// sumTo writes the HMAC of m's message to sum.
func (m *keyedMAC) sumTo(sum *[sha256.Size]byte) {
	m.h.Reset()
	m.h.Write(m.msg)
	copy(sum[:], m.h.Sum(m.sum[:0]))
	m.done()
}

// done clears m's message, which holds values: none outlives its line, and a hostile
// megabyte of value is not kept for the next record.
func (m *keyedMAC) done() {
	clear(m.msg)
	if cap(m.msg) > 64<<10 {
		m.msg = nil
	}
}

// WithNames returns an extractor with the same key whose catalog also knows another
// deployment's names (see Catalog.WithNames).
func (x *Extractor) WithNames(names map[string]string) (*Extractor, error) {
	if len(names) == 0 {
		return x, nil
	}
	c, err := x.catalog.WithNames(names)
	if err != nil {
		return nil, err
	}
	return NewExtractor(x.key, c), nil
}

// Catalog is the extractor's attribute catalog.
func (x *Extractor) Catalog() *Catalog { return x.catalog }

// Pseudonym is the keyed pseudonym of a raw user id: the same id always gives the same
// pseudonym, and without the key it cannot be reversed or recomputed.
func (x *Extractor) Pseudonym(raw string) string {
	return x.mac(16, "subject", strings.TrimSpace(raw))
}

// LineDigest is a keyed digest of a SHA-256 of an input line (64 hex digits): what
// identifies a rejected line, or names a record that has no id, without letting anyone
// who holds the database test guesses against it — an unkeyed hash of a short or
// templated line gives its identity code up to a brute force (issue 14).
func (x *Extractor) LineDigest(sum []byte) string {
	return x.mac(sha256.Size, "line", string(sum))
}

// KeyCheck is key's check value, stored in the database so that opening it with
// another key, or with a new key made in place of a lost key file, is refused rather
// than silently cutting every pupil's old pseudonyms off from new ones. It is an HMAC
// of a fixed label, so it tells nothing of the key; its "key check" prefix is no
// pseudonym's ("subject") or fingerprint's ("values").
func KeyCheck(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("key check\x00mpass-audit\x00v1"))
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil)[:16])
}

// Fingerprint is a keyed hash of one attribute's set of values (order does not matter),
// 8 bytes in hex (FingerprintOf's, as text). It is keyed per attribute — the attribute's
// name is part of the hashed message — so one value in two attributes (a class "7" and
// a grade "7") has two fingerprints, and what the store says in clear of one attribute
// cannot decode the fingerprints of another (issue 14). It is the first 8 bytes of the
// HMAC-SHA-256 with the key of "values", NUL, the name, NUL, then each value in sorted
// order followed by a NUL.
func (x *Extractor) Fingerprint(name string, values []string) string {
	return x.FingerprintOf(name, values).String()
}

// FingerprintOf is Fingerprint as the 8 bytes the store keeps: ingest makes one for
// nearly every attribute of every release, and no text of it is needed there.
func (x *Extractor) FingerprintOf(name string, values []string) mpass.Fingerprint {
	sorted := values
	if !slices.IsSorted(values) {
		sorted = slices.Clone(values)
		slices.Sort(sorted)
	}
	var array [8]string // name, then each value, each ended by a NUL: no allocation for most
	parts := append(array[:0], name, "\x00")
	for _, v := range sorted {
		parts = append(parts, v, "\x00")
	}
	m := x.macs.Get().(*keyedMAC)
	defer x.macs.Put(m)
	m.write("values", parts)
	// Most values recur: a school, a municipality, a first name, a role in a class. Their
	// fingerprint is taken from the slot of the message's 128-bit hash when the slot
	// holds it: about 60 ns in all against 270–340 with the HMAC, and a new value costs
	// about 100 ns more (BenchmarkFingerprintOf; diverse records: 40 % taken). The
	// hash is keyed with random seeds and wider than the fingerprint: two messages
	// sharing one (2^-128 a pair) are far likelier to share their 64-bit fingerprints.
	a, b := maphash.Bytes(x.seeds[0], m.msg), maphash.Bytes(x.seeds[1], m.msg)
	if m.recent == nil {
		m.recent = new([recentFingerprints]recentFingerprint)
	}
	slot := &m.recent[a%recentFingerprints]
	if slot.a == a && slot.b == b && slot.fp != (mpass.Fingerprint{}) {
		m.done()
		return slot.fp
	}
	var sum [sha256.Size]byte
	m.sumTo(&sum)
	*slot = recentFingerprint{a: a, b: b, fp: mpass.Fingerprint(sum[:8])}
	return slot.fp
}

// Attribute reduces one attribute's values to facts. name must be canonical; values is
// nil when the log holds the name only.
func (x *Extractor) Attribute(name string, values []string) mpass.AttributeFacts {
	var f mpass.AttributeFacts
	if values == nil {
		return f
	}
	f.Values = true
	// the grade is kept in clear (f.Grade), so the grade level gets no fingerprint: the
	// two side by side would map every fingerprint to its value (issue 14)
	if name != ClassLevel {
		f.Fingerprint = x.FingerprintOf(name, values)
	}
	form := x.catalog.RoleForm(name)
	for _, v := range values {
		if ContainsIdentityCode(v) {
			f.IdentityCode = true
		}
		if DateOfBirthShape(v) {
			f.DateOfBirth = true
		}
		switch name {
		case Mail:
			for _, y := range EmailYears(v) {
				if !slices.Contains(f.Years, y) {
					f.Years = append(f.Years, y)
				}
			}
		case ClassLevel:
			if f.Grade == "" {
				f.Grade = Grade(v)
			}
		default:
			switch form {
			case mpass.RoleStructured:
				if r, ok := ParseRole(v); ok {
					f.Roles = append(f.Roles, storedRole(r))
				}
			case mpass.RoleName:
				if n := strings.TrimSpace(v); n != "" {
					f.Roles = append(f.Roles, mpass.Role{Name: knownRoleName(n)})
				}
			}
		}
	}
	slices.Sort(f.Years)
	return f
}

// storedRole keeps of a role what the terms judge: whether the class starts with a
// grade digit, and the role name and code where they are words of the data model's
// vocabulary (knownRoleName, a code 1–6), else OtherRole. The school, the class itself
// and any other text are not kept: a class name is age-indicative data of its own, and a role field
// may hold anything an upstream system put there, a person's name or identity code too.
func storedRole(r mpass.Role) mpass.Role {
	return mpass.Role{ClassGrade: r.ClassGrade, Name: knownRoleName(r.Name), Code: knownRoleCode(r.Code)}
}

// RoleStatus is what a release's attributes say of the subject's role.
func RoleStatus(attrs map[string]mpass.AttributeFacts) mpass.RoleStatus {
	status := mpass.RoleUnknown
	for _, a := range attrs {
		for _, r := range a.Roles {
			if IsLearnerRole(r) {
				return mpass.RoleLearner
			}
			status = mpass.RoleNonLearner
		}
	}
	return status
}

// Controller finds the controller of a release from its values (canonical names): the
// first field of urn:mpass.id:role, then of the other structured role attributes in
// name order, else the education provider info or id. It returns "" where none is a
// valid organisation OID, with the error of the first that looked like one but had a
// wrong check digit (nil if none did).
func (c *Catalog) Controller(values map[string][]string) (string, error) {
	var first error
	try := func(oid string) bool {
		err := mpass.CheckControllerOID(oid)
		if oe, ok := err.(*mpass.OIDError); ok && oe.Want >= 0 && first == nil {
			first = err
		}
		return err == nil
	}
	for _, name := range c.structured {
		for _, v := range values[name] {
			if r, ok := ParseRole(v); ok && try(r.Controller) {
				return r.Controller, nil
			}
		}
	}
	for _, name := range [...]string{EducationProviderInfo, EducationProviderID} {
		for _, v := range values[name] {
			oid, _, _ := strings.Cut(v, ";")
			if oid = strings.TrimSpace(oid); try(oid) {
				return oid, nil
			}
		}
	}
	return "", first
}

// CheckOIDs checks the OPH OIDs a release's values carry (canonical names): learner
// numbers (7-3-1 check digit), and the organisation OIDs of roles (provider, school and
// office fields), education provider info and id, school info and the original issuer
// (Luhn). A field that does not start as an OPH OID (a municipality's name in a legacy
// role) is not one. A wrong check digit is a typo or corruption: the error names the
// attribute and the digit it should have, and never quotes a learner number.
func (c *Catalog) CheckOIDs(values map[string][]string) error {
	for _, v := range values[LearnerID] {
		v = strings.TrimSpace(v)
		if !strings.HasPrefix(v, mpass.OPHArc) {
			continue
		}
		err := mpass.CheckPersonOID(v)
		if err == nil { // most: no *OIDError for errors.As to fill (an allocation a learner number)
			continue
		}
		var oe *mpass.OIDError
		if errors.As(err, &oe) {
			if oe.Want >= 0 {
				return fmt.Errorf("%s: a learner number has a wrong check digit: it should end in %d", LearnerID, oe.Want)
			}
			return fmt.Errorf("%s: a value starts as an OPH OID but is no learner number (1.2.246.562.24. and 11 digits)", LearnerID)
		}
	}
	org := func(name, oid string) error {
		if oid = strings.TrimSpace(oid); !strings.HasPrefix(oid, mpass.OPHArc) {
			return nil
		}
		if err := mpass.CheckControllerOID(oid); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	for _, name := range c.structured {
		for _, v := range values[name] {
			for _, i := range [...]int{0, 5, 6} { // provider, school and office OIDs
				if err := org(name, field(v, i)); err != nil {
					return err
				}
			}
		}
	}
	for _, name := range [...]string{EducationProviderInfo, EducationProviderID, SchoolInfo, OriginalIssuer} {
		for _, v := range values[name] {
			first, _, _ := strings.Cut(v, ";")
			if err := org(name, first); err != nil {
				return err
			}
		}
	}
	return nil
}

// School is the school a release names (canonical names), for per-school counts: the
// school OID or the 5-digit school code (oppilaitosnumero) of its first role, else the
// first field of its school info, else its school code. A school is one school by
// either (mpass.Controller.School resolves both). Only an organisation OID with a sound
// check digit or five digits is kept — never other text of those fields. "" where the
// release names none.
func (c *Catalog) School(values map[string][]string) string {
	for _, v := range values[Role] {
		if ref := schoolRef(field(v, 5)); ref != "" {
			return ref
		}
		if ref := schoolRef(field(v, 1)); ref != "" {
			return ref
		}
	}
	for _, name := range [...]string{SchoolInfo, SchoolCode} {
		for _, v := range values[name] {
			first, _, _ := strings.Cut(v, ";")
			if ref := schoolRef(first); ref != "" {
				return ref
			}
		}
	}
	return ""
}

// schoolRef is a school code (five digits) or an organisation OID, trimmed, else "".
func schoolRef(s string) string {
	s = strings.TrimSpace(s)
	if len(s) == 5 && strings.Trim(s, "0123456789") == "" {
		return s
	}
	if strings.HasPrefix(s, mpass.OPHArc) && mpass.ValidControllerOID(s) {
		return s
	}
	return ""
}

// field is the i-th ';'-separated field of v, or "" where it has fewer: without the
// allocation of strings.Split, as ingest asks this of every role.
func field(v string, i int) string {
	for ; i > 0; i-- {
		j := strings.IndexByte(v, ';')
		if j < 0 {
			return ""
		}
		v = v[j+1:]
	}
	if j := strings.IndexByte(v, ';'); j >= 0 {
		return v[:j]
	}
	return v
}
