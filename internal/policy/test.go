package policy

import (
	"context"
	"maps"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"
)

// Test runs the Rego unit tests (*_test.rego) beside the policies in use and returns
// every result.
func (e *Engine) Test(ctx context.Context) ([]*tester.Result, error) {
	modules := make(map[string]*ast.Module, len(e.modules)+len(e.tests))
	maps.Copy(modules, e.modules)
	maps.Copy(modules, e.tests)
	store := e.store(nil)
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return nil, err
	}
	defer store.Abort(ctx, txn)
	ch, err := tester.NewRunner().SetStore(store).SetModules(modules).EnableTracing(false).RunTests(ctx, txn)
	if err != nil {
		return nil, err
	}
	var results []*tester.Result
	for r := range ch {
		results = append(results, r)
	}
	return results, nil
}
