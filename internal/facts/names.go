package facts

import (
	"errors"
	"strings"
)

// MaxNameLen is the longest attribute name any reader takes; the longest in the catalog
// is some 40 characters.
const MaxNameLen = 256

// Why a string is not a well-formed attribute name (NameProblem).
var (
	ErrNameEmpty  = errors.New("an attribute name is empty")
	ErrNameLong   = errors.New("an attribute name is longer than 256 characters")
	ErrNameSyntax = errors.New("an attribute name must start with a letter and hold only letters, digits, _ - . :")
	ErrNameOID    = errors.New("an attribute name urn:oid: must go on with a dotted OID (digits and dots)")
	ErrNameCode   = errors.New("an attribute name holds a personal identity code, so it is value text, not a name")
)

// nameBytes are the bytes an attribute name may hold: ASCII letters, digits, _ - . :
var nameBytes = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['_'], t['-'], t['.'], t[':'] = true, true, true, true
	return t
}()

// IsNameByte reports whether c may stand in an attribute name.
func IsNameByte(c byte) bool { return nameBytes[c] }

// NameProblem says why name is not a well-formed attribute name, or nil when it is one
// (RECORDS.md "CSV": a name must be a name). A well-formed name starts with an ASCII
// letter and holds only ASCII letters, digits, '_', '-', '.' and ':', at most
// MaxNameLen of them; after a "urn:oid:" prefix (in any case) come only a dotted OID's
// digits and dots; and it holds no personal identity code. Every SAML name (a URN, an
// urn:oid:), FriendlyName, resolver id and OIDC claim of MPASSid is one; an identity
// code, a date, a number, an e-mail address or words with spaces are not, so no reader
// takes value text for a name.
func NameProblem(name string) error {
	switch {
	case name == "":
		return ErrNameEmpty
	case len(name) > MaxNameLen:
		return ErrNameLong
	case !('a' <= name[0] && name[0] <= 'z' || 'A' <= name[0] && name[0] <= 'Z'):
		return ErrNameSyntax
	}
	digits := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !nameBytes[c] {
			return ErrNameSyntax
		}
		if '0' <= c && c <= '9' {
			digits++
		}
	}
	if len(name) >= 8 && strings.EqualFold(name[:8], "urn:oid:") && !dottedOID(name[8:]) {
		return ErrNameOID
	}
	if digits >= 9 && ContainsIdentityCode(name) { // a code has nine digits
		return ErrNameCode
	}
	return nil
}

// WellFormedName reports whether NameProblem finds nothing wrong with name.
func WellFormedName(name string) bool { return NameProblem(name) == nil }

// dottedOID reports whether s is digits in dot-separated arcs, none of them empty.
func dottedOID(s string) bool {
	arc := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			arc++
		case c == '.' && arc > 0:
			arc = 0
		default:
			return false
		}
	}
	return arc > 0
}
