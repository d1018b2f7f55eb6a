package policy

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// Test runs the Rego unit tests (*_test.rego) beside the policies in use and returns
// every result, ordered by package and then test name (the runner's own order varies
// from run to run). The tests are user code too: they run with the sandbox's
// capabilities, each within the evaluation deadline, all within the run deadline and
// heap guard.
//
// Where a test fails, the tests run once more with tracing, and each failed result's
// FailedAt is the expression it failed at (its location is file:line); the trace
// itself is dropped, so the results stay small.
func (e *Engine) Test(ctx context.Context) ([]*tester.Result, error) {
	ctx, cancel := guard(ctx, e.limits.RunTimeout, "the policy tests", e.limits.HeapGrowth)
	defer cancel()
	results, err := e.runTests(ctx, false)
	if err != nil || !slices.ContainsFunc(results, func(r *tester.Result) bool { return r.Fail }) {
		return results, err
	}
	traced, err := e.runTests(ctx, true)
	if err != nil {
		return results, err
	}
	failedAt := make(map[string]*ast.Expr, len(traced))
	for _, r := range traced {
		if r.Fail {
			failedAt[r.Package+"\x00"+r.Name] = r.FailedAt
		}
	}
	for _, r := range results {
		if r.Fail && r.FailedAt == nil {
			r.FailedAt = failedAt[r.Package+"\x00"+r.Name]
		}
	}
	return results, nil
}

// runTests runs every test once, traced or not, and answers the results in order with
// no trace kept.
func (e *Engine) runTests(ctx context.Context, trace bool) ([]*tester.Result, error) {
	modules := make(map[string]*ast.Module, len(e.modules)+len(e.tests))
	maps.Copy(modules, e.modules)
	maps.Copy(modules, e.tests)
	store := e.store(nil)
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return nil, fmt.Errorf("policy tests: %w", err)
	}
	defer store.Abort(ctx, txn)
	compiler := ast.NewCompiler().WithCapabilities(e.caps).WithEnablePrintStatements(false)
	ch, err := tester.NewRunner().SetCompiler(compiler).SetStore(store).SetModules(modules).
		SetTimeout(max(e.limits.EvalTimeout, 5*time.Second)).EnableTracing(trace).RunTests(ctx, txn)
	if err = stopped(ctx, err); err != nil {
		return nil, fmt.Errorf("policy tests: %w", err)
	}
	var results []*tester.Result
	for r := range ch {
		if r.Fail && r.FailedAt == nil && len(r.Trace) > 0 {
			r.FailedAt = failedExpr(r.Trace)
		}
		r.Trace = nil
		results = append(results, r)
	}
	SortResults(results)
	if err := stopped(ctx, ctx.Err()); err != nil {
		return results, fmt.Errorf("policy tests: %w", err)
	}
	return results, nil
}

// SortResults orders test results by package, then test name, then place.
func SortResults(results []*tester.Result) {
	slices.SortStableFunc(results, func(a, b *tester.Result) int {
		return cmp.Or(
			cmp.Compare(a.Package, b.Package),
			cmp.Compare(a.Name, b.Name),
			cmp.Compare(place(a.Location), place(b.Location)),
		)
	})
}

func place(loc *ast.Location) string {
	if loc == nil {
		return ""
	}
	return fmt.Sprintf("%s:%09d", loc.File, loc.Row)
}

// failedExpr is the expression a failed test failed at, as `opa test --var-values`
// finds it: the last failing expression of the test's own queries (the one inside an
// `every` body, not the `every`), or nil where the trace has none.
func failedExpr(trace []*topdown.Event) *ast.Expr {
	for _, e := range slices.Backward(trace) {
		if e.Op != topdown.FailOp || e.Location == nil || e.QueryID == 0 {
			continue
		}
		expr, ok := e.Node.(*ast.Expr)
		if !ok {
			continue
		}
		if _, every := expr.Terms.(*ast.Every); every {
			continue
		}
		return expr
	}
	return nil
}

// FailureMessage says why a test did not pass, in one line: its error, or "failed at
// FILE:LINE: EXPR" where the failing expression is known, else "failed".
func FailureMessage(r *tester.Result) string {
	switch {
	case r.Error != nil:
		return strings.Join(strings.Fields(r.Error.Error()), " ")
	case !r.Fail:
		return ""
	case r.FailedAt != nil && r.FailedAt.Location != nil:
		return fmt.Sprintf("failed at %s:%d: %s", r.FailedAt.Location.File, r.FailedAt.Location.Row,
			strings.Join(strings.Fields(string(r.FailedAt.Location.Text)), " "))
	default:
		return "failed"
	}
}
