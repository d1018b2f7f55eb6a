// Package mpass holds the domain of mpass-audit: the records it judges (attribute
// releases and uses, reduced to facts), the registry they are judged against, audit runs
// and their findings, and the service interfaces the technology packages implement.
//
// Nothing here stores a pupil's attribute values: a Record carries facts about values
// (AttributeFacts), never the values themselves, and subjects are keyed pseudonyms.
package mpass

import (
	"encoding/hex"
	"strconv"
	"time"
)

// Kind is the kind of a record.
type Kind string

const (
	KindRelease Kind = "release" // one attribute release to one SP (a login)
	KindUse     Kind = "use"     // one processing of a subject's data by an SP, with a purpose
)

// Record is one release or use as stored: values already reduced to facts.
type Record struct {
	Kind       Kind
	ID         string // as ingested, or "sha256:<digest>" of the record where the source has none
	Time       time.Time
	SP         string
	Controller string // OPH organisation OID; may be empty for a use, resolved at audit
	Subject    string // keyed pseudonym of the raw user id
	Purpose    string // use only
	// Attributes maps a canonical attribute name to the facts of its values.
	Attributes map[string]AttributeFacts
	// Role is what the release's role attributes say of the subject (release only).
	Role RoleStatus
	// School is the school the release names: its 5-digit code or its OID (release
	// only; "" where none). Kept beside the facts, not in them, so that decisions are
	// shared across schools.
	School string
	// Source is the file the record was read from ("-" for stdin, "request" for a
	// request's body) and Line its line there (0: unknown): kept with the row, so that a
	// record later found an id conflict is rejected with its place. They are two fields,
	// not one "file:line" text: making that text for every record and parsing it again
	// to store it was 2 % of a 10M-record ingest's CPU.
	Source string
	Line   int
	// SubjectRole is what all of the subject's releases to the SP say (set at audit).
	SubjectRole SubjectRole
}

// SubjectRole is the learner presumption's input: across all releases of a subject to an
// SP, whether any showed a learner role and whether any showed a role at all.
type SubjectRole struct {
	Learner   bool `json:"learner"`
	RoleKnown bool `json:"role_known"`
}

// RoleStatus is what one release says about the subject's role.
type RoleStatus int8

const (
	RoleUnknown    RoleStatus = iota // no role in the release
	RoleNonLearner                   // a role was seen, none of a learner
	RoleLearner                      // role code 1 or a learner role name
)

// Fingerprint is the 8-byte keyed hash of an attribute's values (facts.Extractor),
// as stored; the zero Fingerprint is none. Its text (findings, exports) is 16 hex digits.
type Fingerprint [8]byte

// String is the fingerprint in hex, or "" for none.
func (f Fingerprint) String() string {
	if f == (Fingerprint{}) {
		return ""
	}
	return hex.EncodeToString(f[:])
}

// AttributeFacts is everything the terms need to know of one attribute's values.
// Values themselves are never kept.
type AttributeFacts struct {
	// Values is true when the log held values for the attribute (not names only).
	Values bool `json:"values"`
	// Fingerprint is a keyed hash of the sorted values: evidence that two releases
	// carried the same value, without the value; zero for none.
	// It is stored apart from the facts, which the policies see.
	Fingerprint Fingerprint `json:"-"`
	// IdentityCode: some value contains a checksum-valid Finnish personal identity code.
	IdentityCode bool `json:"identity_code,omitempty"`
	// DateOfBirth: some value has the shape of a date of birth.
	DateOfBirth bool `json:"dob,omitempty"`
	// Years are four-digit years (1900–2099) in an e-mail address's local part.
	Years []int `json:"years,omitempty"`
	// Grade is a grade level value (classLevel).
	Grade string `json:"grade,omitempty"`
	// Roles are the parsed values of a role attribute.
	Roles []Role `json:"roles,omitempty"`
}

// Role is one parsed urn:mpass.id:role value
// (<provider OID>;<school code>;<class>;<role name>;<role code>;<school OID>;<office OID>)
// or its legacy four-field form (<provider>;<school>;<class>;<role name>). Only
// ClassGrade, Name and Code are stored and shown to the policies.
type Role struct {
	Controller string `json:"controller,omitempty"`
	School     string `json:"school,omitempty"`
	Class      string `json:"class,omitempty"`
	ClassGrade bool   `json:"class_grade,omitempty"` // the class starts with a grade digit
	Name       string `json:"name,omitempty"`
	Code       string `json:"code,omitempty"`
}

// Rejection is a record that could not be stored, with where and why.
// The rejected text itself is not kept: it may hold the very data the auditor must not
// store. Its digest identifies the line in the source file.
type Rejection struct {
	Source string // file name, "-" for stdin
	Line   int
	Field  string
	Reason string
	Digest string // SHA-256 of the line
}

// Error is the rejection as one line of text for a terminal: the source (a file name),
// the field and the reason may all hold input, so their control characters are escaped
// (Printable) and a line of input cannot forge or recolour lines of stderr.
func (r Rejection) Error() string {
	if r.Field == "" {
		return Printable(r.Source) + ":" + strconv.Itoa(r.Line) + ": " + Printable(r.Reason)
	}
	return Printable(r.Source) + ":" + strconv.Itoa(r.Line) + ": " + Printable(r.Field) + ": " + Printable(r.Reason)
}

// Result values follow the policy-report convention.
const (
	ResultPass  = "pass"
	ResultFail  = "fail"
	ResultWarn  = "warn"
	ResultSkip  = "skip"
	ResultError = "error"
)

// Results lists the result values in report order.
var Results = []string{ResultFail, ResultWarn, ResultSkip, ResultError, ResultPass}
