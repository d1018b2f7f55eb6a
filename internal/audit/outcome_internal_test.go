package audit

import (
	"reflect"
	"strings"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/policy"
)

// TestOutcome checks what a shape's decisions come to, which every record of the shape
// is then counted by: a pass about an attribute is a disclosure, the same finding said
// twice counts once with the worse result, and a term without findings is one pass.
func TestOutcome(t *testing.T) {
	d := func(term, rule, result, attribute string) *policy.Decision {
		return &policy.Decision{Term: term, Rule: rule, Result: result, Attribute: attribute}
	}
	terms := []string{"purpose", "age", "marketing"}
	warnAge, failAge := d("age", "grade", mpass.ResultWarn, "classLevel"), d("age", "grade", mpass.ResultFail, "classLevel")
	for _, tc := range []struct {
		name      string
		decisions []*policy.Decision
		want      outcome
	}{
		{"nothing found", nil, outcome{summary: mpass.Summary{Pass: 3}}},
		{"disclosures are passes about attributes", []*policy.Decision{d("age", "grade", mpass.ResultPass, "classLevel"), d("age", "other", mpass.ResultPass, "")},
			outcome{summary: mpass.Summary{Pass: 3}, disclosures: []string{"classLevel"}}},
		{"a finding judges its term", []*policy.Decision{warnAge},
			outcome{summary: mpass.Summary{Pass: 2, Warn: 1}, findings: []*policy.Decision{warnAge}}},
		{"the worse of a finding said twice", []*policy.Decision{warnAge, failAge, warnAge},
			outcome{summary: mpass.Summary{Pass: 2, Fail: 1}, findings: []*policy.Decision{failAge}}},
		{"another attribute is another finding", []*policy.Decision{warnAge, d("age", "grade", mpass.ResultWarn, "mail")},
			outcome{summary: mpass.Summary{Pass: 2, Warn: 2}, findings: []*policy.Decision{warnAge, d("age", "grade", mpass.ResultWarn, "mail")}}},
	} {
		got := newOutcome(tc.decisions, terms)
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.name, *got, tc.want)
		}
	}
}

// TestInternSharesOutcomes checks that shapes with equal decisions share one outcome
// and one copy of each decision, and different decisions do not.
func TestInternSharesOutcomes(t *testing.T) {
	c := newShapeCache()
	pass := policy.Decision{Term: "age", Rule: "grade", Result: mpass.ResultPass, Attribute: "classLevel"}
	fail := policy.Decision{Term: "age", Rule: "grade", Result: mpass.ResultFail, Attribute: "classLevel"}
	attrs := map[string]mpass.AttributeFacts{"classLevel": {}, "uid": {}}
	a := c.intern(1, []policy.Decision{pass}, attrs, []string{"age"})
	b := c.intern(2, []policy.Decision{pass}, attrs, []string{"age"})
	f := c.intern(1, []policy.Decision{fail}, attrs, []string{"age"})
	if a.outcome != b.outcome || a.outcome == f.outcome || len(c.outcomes) != 2 || len(c.decisions) != 2 {
		t.Errorf("outcomes %d %d %d of %d, %d decisions: want the two passes to share one", a.outcome, b.outcome, f.outcome, len(c.outcomes), len(c.decisions))
	}
	if !reflect.DeepEqual(a.names, []string{"classLevel", "uid"}) || &a.names[0] != &f.names[0] {
		t.Errorf("names %v: want sorted and shared by shape id", a.names)
	}
}

// TestFindingIDKeepsItsForm pins finding ids: runs are compared by them, so a new
// build must give a record's finding the id an older one stored. The values are
// SHA-256 computed apart (Python's hashlib), one input longer than FindingID's
// stack buffer.
func TestFindingIDKeepsItsForm(t *testing.T) {
	for _, tc := range []struct {
		kind                           mpass.Kind
		record, term, rule, attr, want string
	}{
		{mpass.KindRelease, "_005c4d923f3af944436a331257d79b5a", "purpose_limitation", "unapproved_attribute", "urn:mpass.id:email", "de90daeb7b2ba07ba058110d"},
		{mpass.KindUse, strings.Repeat("ä", 600), "t", "r", "", "aab47e85177401dc8d775c09"},
	} {
		if got := FindingID(tc.kind, tc.record, tc.term, tc.rule, tc.attr); got != tc.want {
			t.Errorf("FindingID(%s, %.20s…) = %s, want %s", tc.kind, tc.record, got, tc.want)
		}
	}
}
