package mpass

import (
	"fmt"
	"strings"
)

// OPH identifiers (RECORDS.md "OPH identifiers"). Organisation OIDs are
// 1.2.246.562.10.<11 digits> ending in a Luhn check digit over the ten before it; person
// OIDs (oppijanumero, learner numbers) are 1.2.246.562.24.<11 digits> ending in a 7-3-1
// check digit. The 12-digit legacy organisation OIDs, the root organisation
// 1.2.246.562.10.00000000001 and the test nodes 1.2.246.562.98. (learner numbers) and
// 1.2.246.562.99. (organisations) carry no check digit.
const (
	// OPHArc starts every OPH OID, of organisations and persons alike.
	OPHArc              = "1.2.246.562."
	OrganisationArc     = "1.2.246.562.10."
	PersonArc           = "1.2.246.562.24."
	TestOrganisationArc = "1.2.246.562.99."
	TestPersonArc       = "1.2.246.562.98."
	// RootOrganisationOID is the root of OPH's organisation tree (Opetushallitus itself).
	RootOrganisationOID = "1.2.246.562.10.00000000001"
)

// OIDError says what is wrong with an OID. Want is the check digit the OID should end
// in when only the check digit is wrong, else -1.
type OIDError struct {
	OID    string
	Reason string
	Want   int
}

// Error quotes the OID only where it is digits and dots: what stood in an OID's place
// may be anything, a person's identity code too, and errors reach logs and rejections.
func (e *OIDError) Error() string {
	if len(e.OID) > 64 || e.OID == "" || strings.Trim(e.OID, "0123456789.") != "" {
		return "the value " + e.Reason
	}
	return fmt.Sprintf("%q %s", e.OID, e.Reason)
}

// CheckControllerOID returns nil when s is an OPH organisation OID usable as a
// controller: 1.2.246.562.10. and 11 digits with a valid Luhn check digit, or 12 digits
// (legacy, no check digit), or the test arc 1.2.246.562.99. with 11–12 digits. Otherwise
// an *OIDError that gives the digit the OID should end in where only that is wrong.
func CheckControllerOID(s string) error {
	return checkOID(s, OrganisationArc, TestOrganisationArc, "an OPH organisation OID (1.2.246.562.10. and 11 digits, or 12 for a legacy one)", luhn)
}

// CheckPersonOID returns nil when s is an OPH person OID (a learner number,
// oppijanumero): 1.2.246.562.24. and 11 digits ending in a 7-3-1 check digit, or the
// test arc 1.2.246.562.98. with 11 digits.
func CheckPersonOID(s string) error {
	return checkOID(s, PersonArc, TestPersonArc, "an OPH person OID (1.2.246.562.24. and 11 digits)", weights731)
}

// ValidControllerOID reports whether CheckControllerOID accepts s. Checked by hand
// rather than by a regular expression: ingest checks every record.
func ValidControllerOID(s string) bool { return CheckControllerOID(s) == nil }

func checkOID(s, arc, testArc, what string, check func(payload string) int) error {
	rest, ok := strings.CutPrefix(s, arc)
	test := false
	if !ok {
		if rest, ok = strings.CutPrefix(s, testArc); !ok {
			return &OIDError{OID: s, Reason: "is not " + what, Want: -1}
		}
		test = true
	}
	if len(rest) < 11 || len(rest) > 12 || (len(rest) == 12 && arc == PersonArc) {
		return &OIDError{OID: s, Reason: "is not " + what, Want: -1}
	}
	for i := 0; i < len(rest); i++ {
		if rest[i] < '0' || rest[i] > '9' {
			return &OIDError{OID: s, Reason: "is not " + what, Want: -1}
		}
	}
	if test || len(rest) == 12 || s == RootOrganisationOID {
		return nil
	}
	want := check(rest[:10])
	if int(rest[10]-'0') != want {
		return &OIDError{OID: s, Want: want,
			Reason: fmt.Sprintf("has a wrong check digit: it should end in %d (%s%d)", want, s[:len(s)-1], want)}
	}
	return nil
}

// luhn is the Luhn check digit of a run of digits: from the right, every other digit
// doubled (and 9 taken off a two-digit product), the check digit brings the sum to a
// multiple of 10.
func luhn(payload string) int {
	sum := 0
	for i := len(payload) - 1; i >= 0; i-- {
		d := int(payload[i] - '0')
		if (len(payload)-1-i)%2 == 0 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return (10 - sum%10) % 10
}

// weights731 is the check digit of OPH person OIDs: digits weighted 7, 3, 1, 7, ... from
// the right; 10 minus the sum mod 10, mod 10.
func weights731(payload string) int {
	w := [3]int{7, 3, 1}
	sum := 0
	for i := len(payload) - 1; i >= 0; i-- {
		sum += int(payload[i]-'0') * w[(len(payload)-1-i)%3]
	}
	return (10 - sum%10) % 10
}

// OrganisationOID is the organisation OID with the ten-digit number n (0 ≤ n < 10¹⁰)
// and its Luhn check digit, for generated and test data.
func OrganisationOID(n int64) string {
	p := fmt.Sprintf("%010d", n%1e10)
	return fmt.Sprintf("%s%s%d", OrganisationArc, p, luhn(p))
}

// PersonOID is the learner number with the ten-digit number n (0 ≤ n < 10¹⁰) and its
// 7-3-1 check digit, for generated and test data.
func PersonOID(n int64) string {
	p := fmt.Sprintf("%010d", n%1e10)
	return fmt.Sprintf("%s%s%d", PersonArc, p, weights731(p))
}
