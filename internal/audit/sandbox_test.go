package audit_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/audit"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/policy"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
	builtin "github.com/opetushallitus/mpass-audit/rego"
)

// TestRunawayPolicyFailsTheRun: a user policy that builds a huge value fails the audit
// run with the limit it broke, instead of growing the process without end.
func TestRunawayPolicyFailsTheRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "policies")
	if err := os.CopyFS(dir, builtin.FS); err != nil {
		t.Fatal(err)
	}
	bomb := "package mpass.terms.bomb\n\nfindings contains {\"term\": \"bomb\"} if {\n\tcount([i | some i in numbers.range(1, 100000000)]) > 0\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "terms", "bomb.rego"), []byte(bomb), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e, err := policy.Load(ctx, dir, policy.WithLimits(policy.Limits{EvalTimeout: 200 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	db := testenv.MustOpenDB(t)
	testenv.MustLoadDemo(t, db)
	a := &audit.Auditor{DB: db, Engine: e}
	run, finish, err := a.Begin(ctx, mpass.Scope{Controller: city, From: "2026-10-01", To: "2026-10-31"})
	if err != nil {
		t.Fatal(err)
	}
	err = finish(ctx)
	if !errors.Is(err, policy.ErrLimit) || !strings.Contains(err.Error(), "ran longer than 200ms (policy limit)") {
		t.Errorf("err = %v", err)
	}
	if got, ferr := db.FindRun(ctx, run.ID); ferr != nil || got.Status != mpass.RunFailed {
		t.Errorf("the run: %+v %v", got, ferr)
	}
}
