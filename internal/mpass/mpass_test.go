package mpass_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

func TestScopeCovers(t *testing.T) {
	month := mpass.Scope{Controller: "c1", From: "2026-10-01", To: "2026-10-31"}
	for _, tc := range []struct {
		name string
		run  mpass.Scope
		want bool
	}{
		{"unbounded run of all", mpass.Scope{}, true},
		{"same scope", month, true},
		{"all controllers, wider period", mpass.Scope{From: "2026-01-01", To: "2026-12-31"}, true},
		{"other controller", mpass.Scope{Controller: "c2"}, false},
		{"starts too late", mpass.Scope{From: "2026-10-02"}, false},
		{"ends too early", mpass.Scope{To: "2026-10-30"}, false},
	} {
		if got := tc.run.Covers(month); got != tc.want {
			t.Errorf("%s: Covers = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDateRangeContains(t *testing.T) {
	r := mpass.DateRange{From: "2024-08-01", To: "2026-12-31"}
	for _, tc := range []struct {
		t    string
		want bool
	}{
		{"2024-08-01T00:00:00Z", true}, {"2026-12-31T23:59:59Z", true},
		{"2024-07-31T23:59:59Z", false}, {"2027-01-01T00:00:00Z", false},
		{"2027-01-01T01:00:00+02:00", true}, // 2026-12-31T23:00Z
	} {
		tm, _ := time.Parse(time.RFC3339, tc.t)
		if got := r.Contains(tm); got != tc.want {
			t.Errorf("Contains(%s) = %v", tc.t, got)
		}
	}
}

func TestControllerOID(t *testing.T) {
	for oid, want := range map[string]bool{
		"1.2.246.562.10.44444444440": true, "1.2.246.562.10.444444444400": true, "1.2.246.562.99.12345678901": true,
		"1.2.246.562.10.4444444444": false, "1.2.246.562.24.44444444449": false, "1.2.246.562.10.44444444440 ": false,
		"1.2.246.562.10.4444444444000": false, "1.2.246.562.10.4444444444a": false, "1.2.246.562.10.": false, "": false,
		"x1.2.246.562.10.44444444440": false, "1.2.246.562.100.44444444449": false,
		// check digits (RECORDS.md "OPH identifiers"): Luhn over the ten digits before it
		"1.2.246.562.10.44444444449": false, "1.2.246.562.10.12345678903": true, "1.2.246.562.10.12345678904": false,
		"1.2.246.562.10.00000000001": true, // the root carries no check digit
		"1.2.246.562.99.10000000000": true, // nor do test organisations
	} {
		if mpass.ValidControllerOID(oid) != want {
			t.Errorf("ValidControllerOID(%q) != %v", oid, want)
		}
	}
}

func TestOIDCheckDigits(t *testing.T) {
	for _, tc := range []struct {
		oid    string
		person bool
		want   int // the digit the error names; -1 for another error, -2 for none
	}{
		{"1.2.246.562.10.12345678903", false, -2},
		{"1.2.246.562.10.12345678904", false, 3},
		{"1.2.246.562.10.23456789017", false, -2},
		{"1.2.246.562.10.44444444449", false, 0},
		{"1.2.246.562.10.444444444499", false, -2}, // legacy 12 digits
		{"1.2.246.562.99.99999999999", false, -2},  // test organisation
		{"1.2.246.562.24.43210987653", true, -2},
		{"1.2.246.562.24.43210987654", true, 3},
		{"1.2.246.562.24.20000000018", true, 9},
		{"1.2.246.562.24.20000000019", true, -2},
		{"1.2.246.562.98.11111111115", true, -2}, // test learner number
		{"1.2.246.562.24.432109876530", true, -1},
		{"1.2.246.562.10.43210987653", true, -1}, // an organisation is no person
	} {
		check := mpass.CheckControllerOID
		if tc.person {
			check = mpass.CheckPersonOID
		}
		err := check(tc.oid)
		var oe *mpass.OIDError
		switch {
		case tc.want == -2 && err != nil:
			t.Errorf("%s: %v", tc.oid, err)
		case tc.want == -2:
		case !errors.As(err, &oe):
			t.Errorf("%s: error %v, want an OIDError", tc.oid, err)
		case oe.Want != tc.want:
			t.Errorf("%s: names digit %d, want %d (%v)", tc.oid, oe.Want, tc.want, err)
		case tc.want >= 0 && !strings.Contains(err.Error(), "should end in "+strconv.Itoa(tc.want)):
			t.Errorf("%s: message %q does not give the digit", tc.oid, err)
		}
	}
}

func TestErrorCode(t *testing.T) {
	if mpass.ErrorCode(nil) != "" || mpass.ErrorCode(mpass.Errorf(mpass.ENOTFOUND, "x")) != mpass.ENOTFOUND {
		t.Error("codes")
	}
	if mpass.ErrorMessage(errString("secret path /x")) != "internal error" {
		t.Error("internal errors must not leak")
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestSchoolByCodeOrOID(t *testing.T) {
	c := mpass.Controller{Schools: []mpass.School{{Code: "99901", OID: "1.2.246.562.10.23456789017", Name: "K"}, {OID: "1.2.246.562.10.34567890123", Name: "L"}}}
	for ref, want := range map[string]string{"99901": "K", "1.2.246.562.10.23456789017": "K", "1.2.246.562.10.34567890123": "L", "99902": "", "": ""} {
		s, ok := c.School(ref)
		if s.Name != want || ok != (want != "") {
			t.Errorf("School(%q) = %+v %v, want %q", ref, s, ok, want)
		}
	}
	if got := mpass.LocalName(map[string]string{"sv": "Kuvitteela stad"}, "sv", "Kuvitteelan kaupunki"); got != "Kuvitteela stad" {
		t.Errorf("LocalName sv = %q", got)
	}
	if got := mpass.LocalName(map[string]string{"sv": "Kuvitteela stad"}, "en", "Kuvitteelan kaupunki"); got != "Kuvitteelan kaupunki" {
		t.Errorf("LocalName en = %q", got)
	}
}

// Scope.Validate is the one check of a scope: dates, order, and at most
// MaxPeriodMonths months when both ends are given.
func TestScopeValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		scope mpass.Scope
		want  string // "" = valid; else a part of the EINVALID message
	}{
		{"unbounded", mpass.Scope{}, ""},
		{"one month", mpass.Scope{From: "2026-10-01", To: "2026-10-31"}, ""},
		{"one day", mpass.Scope{From: "2026-10-05", To: "2026-10-05"}, ""},
		{"exactly 36 months", mpass.Scope{From: "2024-01-01", To: "2026-12-31"}, ""},
		{"36 months and a day", mpass.Scope{From: "2024-01-01", To: "2027-01-01"}, "longer than 36 months"},
		{"the whole calendar", mpass.Scope{From: "0001-01-01", To: "9999-12-31"}, "longer than 36 months"},
		{"open end from year 1", mpass.Scope{From: "0001-01-01"}, ""},
		{"open start to year 9999", mpass.Scope{To: "9999-12-31"}, ""},
		{"to before from", mpass.Scope{From: "2026-10-02", To: "2026-10-01"}, "before"},
		{"not a date", mpass.Scope{From: "1.10.2026"}, "not a date"},
		{"not a day", mpass.Scope{To: "2026-02-30"}, "not a date"},
		{"controller", mpass.Scope{Controller: "1.2.246.562.10.44444444440"}, ""},
		{"controller with a wrong check digit", mpass.Scope{Controller: "1.2.246.562.10.44444444441"}, "controller"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.scope.Validate()
			if tc.want == "" {
				if err != nil {
					t.Errorf("%v", err)
				}
				return
			}
			if mpass.ErrorCode(err) != mpass.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want EINVALID with %q", err, tc.want)
			}
		})
	}
}
