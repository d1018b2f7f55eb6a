package policy_test

import (
	"cmp"
	"context"
	"slices"
	"testing"

	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/opetushallitus/mpass-audit/internal/policy"
)

// Test answers its results by package, then name, and a failed test says where it
// failed; an error is its message on one line.
func TestTestResultsOrderedWithFailureLine(t *testing.T) {
	dir := policyDir(t, map[string]string{"aa_test.rego": "package mpass.aa_test\n\ntest_z if true\n\ntest_y if {\n\tsome x in [1, 2]\n\tx > 5\n}\n"})
	e, err := policy.Load(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	results, err := e.Test(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSortedFunc(results, func(a, b *tester.Result) int {
		return cmp.Or(cmp.Compare(a.Package, b.Package), cmp.Compare(a.Name, b.Name))
	}) {
		t.Error("results not ordered by package, then name")
	}
	if results[0].Package != "data.mpass.aa_test" || results[0].Name != "test_y" || results[1].Name != "test_z" {
		t.Fatalf("first results: %s.%s, %s.%s", results[0].Package, results[0].Name, results[1].Package, results[1].Name)
	}
	if got, want := policy.FailureMessage(results[0]), "failed at aa_test.rego:7: x > 5"; got != want {
		t.Errorf("FailureMessage = %q, want %q", got, want)
	}
	if got := policy.FailureMessage(results[1]); got != "" {
		t.Errorf("a pass has a failure message: %q", got)
	}
	for _, r := range results {
		if r.Trace != nil {
			t.Fatalf("%s.%s keeps its trace", r.Package, r.Name)
		}
	}
}
