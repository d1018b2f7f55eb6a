package audit_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/audit"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/output"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

// outputs audits scope and writes the view of controllers in every format.
func outputs(t *testing.T, records []string, scope mpass.Scope, controllers []string) map[string]string {
	t.Helper()
	db := testenv.MustOpenDB(t)
	testenv.MustLoadRegistry(t, db, demoRegistry(t))
	if res := testenv.MustIngest(t, db, "jsonl", strings.Join(records, "\n")); res.Rejected != 0 {
		t.Fatalf("rejected %v", res.Rejections)
	}
	a := &audit.Auditor{DB: db, Engine: testenv.MustEngine(t)}
	run, err := a.Run(context.Background(), scope)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, format := range output.Formats {
		view, err := a.View(context.Background(), run.ID, controllers)
		if err != nil {
			t.Fatal(err)
		}
		o, _ := output.Get(format)
		var buf bytes.Buffer
		if err := o.Output(&buf, view); err != nil {
			t.Fatal(err)
		}
		out[format] = buf.String()
	}
	return out
}

// jsonTerms is the JSON report's terms array, by policy.
func jsonTerms(t *testing.T, js string) map[string]struct {
	Verdict string
	Judged  *int64
} {
	t.Helper()
	var r struct {
		Terms []struct {
			Policy, Verdict string
			Judged          *int64
		}
	}
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	m := map[string]struct {
		Verdict string
		Judged  *int64
	}{}
	for _, x := range r.Terms {
		m[x.Policy] = struct {
			Verdict string
			Judged  *int64
		}{x.Verdict, x.Judged}
	}
	return m
}

// tableLine is the table's line of a term.
func tableLine(table, term string) string {
	for _, l := range strings.Split(table, "\n") {
		if strings.HasPrefix(l, term+" ") {
			return l
		}
	}
	return ""
}

// No records, no verdict (TERMS.md), per term: a term that judged no record of its
// kinds says so in the table and the JSON, never "compliant", even where other terms
// judged records; a scope with no records at all has no compliant term.
func TestTermWithoutRecordsHasNoVerdict(t *testing.T) {
	role := `"urn:mpass.id:role":["` + learn + `"]`
	releases := []string{
		release("r1", "2026-10-05T07:58:12Z", lms, "s1", role),
		release("r2", "2026-10-06T07:58:12Z", lms, "s2", role),
	}
	type verdict struct {
		verdict string
		judged  int64
	}
	for _, tc := range []struct {
		name  string
		scope mpass.Scope
		want  map[string]verdict
	}{
		{"releases only: identification-only judges uses", mpass.Scope{}, map[string]verdict{
			"identification-only": {"no-records", 0}, "no-age-inference": {"compliant", 2},
			"no-direct-marketing-to-minors": {"compliant", 2}, "data-minimisation": {"compliant", 2},
		}},
		{"a scope without records", mpass.Scope{Controller: city, From: "2025-10-01", To: "2025-10-31"}, map[string]verdict{
			"identification-only": {"no-records", 0}, "no-age-inference": {"no-records", 0},
			"no-direct-marketing-to-minors": {"no-records", 0}, "data-minimisation": {"no-records", 0},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := outputs(t, releases, tc.scope, nil)
			terms := jsonTerms(t, out["json"])
			for term, w := range tc.want {
				got := terms[term]
				if got.Verdict != w.verdict || got.Judged == nil || *got.Judged != w.judged {
					t.Errorf("JSON %s: %+v, want %+v", term, got, w)
				}
				line := tableLine(out["table"], term)
				if w.verdict == "no-records" && !strings.Contains(line, "no records (no verdict)") {
					t.Errorf("table %s: %q", term, line)
				}
				if w.verdict == "no-records" && strings.Contains(line, "compliant") {
					t.Errorf("table calls %s compliant: %q", term, line)
				}
				if w.verdict == "compliant" && !strings.Contains(line, "compliant") {
					t.Errorf("table %s: %q", term, line)
				}
			}
		})
	}
}

// Uses whose controller cannot be found (no controller in the use, no release of its
// subject to the SP) are a bucket of their own in the auditor's table, JSON and CSV,
// with their count; a DPO's view does not show them, as they belong to no DPO.
func TestControllerUnknownBucket(t *testing.T) {
	role := `"urn:mpass.id:role":["` + learn + `"]`
	records := []string{
		release("r1", "2026-10-05T07:58:12Z", lms, "s1", role),
		use("u1", "2026-10-09T12:00:00Z", quiz, "never-seen", "marketing.research"),
	}
	for _, tc := range []struct {
		name        string
		controllers []string
		shown       bool
	}{
		{"auditor", nil, true},
		{"DPO of the city", []string{city}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := outputs(t, records, mpass.Scope{}, tc.controllers)

			if got := strings.Contains(out["table"], "controller unknown: 1 uses (fail "); got != tc.shown {
				t.Errorf("table shows the bucket: %v, want %v\n%s", got, tc.shown, out["table"])
			}

			var js struct {
				ControllerUnknown *struct {
					Label   string
					Uses    int64
					Summary mpass.Summary
				} `json:"controller_unknown"`
			}
			if err := json.Unmarshal([]byte(out["json"]), &js); err != nil {
				t.Fatal(err)
			}
			if b := js.ControllerUnknown; tc.shown != (b != nil) || (b != nil && (b.Label != "controller unknown" || b.Uses != 1 || b.Summary.Fail == 0)) {
				t.Errorf("JSON bucket %+v, want shown %v with 1 use and its fails", b, tc.shown)
			}

			rows, err := csv.NewReader(strings.NewReader(out["csv"])).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			var inBucket int
			for _, row := range rows[1:] {
				switch row[5] {
				case "controller unknown":
					inBucket++
					if row[6] != "u1" {
						t.Errorf("CSV: %s in the bucket", row[6])
					}
				case "":
					t.Errorf("CSV: a finding with no controller and no bucket: %q", row)
				}
			}
			if (inBucket > 0) != tc.shown {
				t.Errorf("CSV: %d findings in the bucket, want shown %v", inBucket, tc.shown)
			}
		})
	}
}
