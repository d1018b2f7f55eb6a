package mpass_test

import (
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
		"1.2.246.562.10.44444444449": true, "1.2.246.562.10.444444444490": true, "1.2.246.562.99.12345678901": true,
		"1.2.246.562.10.4444444444": false, "1.2.246.562.24.44444444449": false, "1.2.246.562.10.44444444449 ": false,
		"1.2.246.562.10.4444444444900": false, "1.2.246.562.10.4444444444a": false, "1.2.246.562.10.": false, "": false,
		"x1.2.246.562.10.44444444449": false, "1.2.246.562.100.44444444449": false,
	} {
		if mpass.ValidControllerOID(oid) != want {
			t.Errorf("ValidControllerOID(%q) != %v", oid, want)
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
