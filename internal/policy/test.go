package policy

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"
)

// Test runs the Rego unit tests (*_test.rego) beside the policies in use and returns
// every result. The tests are user code too: they run with the sandbox's capabilities,
// each within the evaluation deadline, all within the run deadline and heap guard.
func (e *Engine) Test(ctx context.Context) ([]*tester.Result, error) {
	ctx, cancel := guard(ctx, e.limits.RunTimeout, "the policy tests", e.limits.HeapGrowth)
	defer cancel()
	modules := make(map[string]*ast.Module, len(e.modules)+len(e.tests))
	maps.Copy(modules, e.modules)
	maps.Copy(modules, e.tests)
	store := e.store(nil)
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return nil, err
	}
	defer store.Abort(ctx, txn)
	compiler := ast.NewCompiler().WithCapabilities(e.caps).WithEnablePrintStatements(false)
	ch, err := tester.NewRunner().SetCompiler(compiler).SetStore(store).SetModules(modules).
		SetTimeout(max(e.limits.EvalTimeout, 5*time.Second)).EnableTracing(false).RunTests(ctx, txn)
	if err = stopped(ctx, err); err != nil {
		return nil, fmt.Errorf("policy tests: %w", err)
	}
	var results []*tester.Result
	for r := range ch {
		results = append(results, r)
	}
	if err := stopped(ctx, ctx.Err()); err != nil {
		return results, fmt.Errorf("policy tests: %w", err)
	}
	return results, nil
}
