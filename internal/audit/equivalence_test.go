package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/audit"
	"github.com/opetushallitus/mpass-audit/internal/gen"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

// TestReusedDecisionsEqualPerRecordEvaluation: on a generated workload, the fast path
// (a decision reused for every record of one shape) gives exactly the findings,
// summary and per-SP counts of evaluating every record on its own.
func TestReusedDecisionsEqualPerRecordEvaluation(t *testing.T) {
	g := gen.New(gen.Config{Records: 30000, Seed: 11, Controllers: 40, SPs: 60})
	var records, registry bytes.Buffer
	if err := g.WriteRecords(&records); err != nil {
		t.Fatal(err)
	}
	if err := g.WriteRegistry(&registry); err != nil {
		t.Fatal(err)
	}
	db := testenv.MustOpenDB(t)
	testenv.MustLoadRegistry(t, db, registry.String())
	testenv.MustIngest(t, db, "jsonl", records.String())

	type result struct {
		run      *mpass.Run
		findings []string
		stats    []*mpass.SPStats
	}
	audited := func(exact bool) result {
		a := &audit.Auditor{DB: db, Engine: testenv.MustEngine(t), Exact: exact}
		// a scope of its own per mode, so neither run is the other's previous
		run, err := a.Run(context.Background(), mpass.Scope{From: "2026-01-01", To: map[bool]string{true: "2026-12-31", false: "2026-12-30"}[exact]})
		if err != nil {
			t.Fatal(err)
		}
		r := result{run: run}
		err = db.Findings(context.Background(), mpass.FindingFilter{RunID: run.ID}, func(f *mpass.Finding) error {
			r.findings = append(r.findings, fmt.Sprintf("%s %s %s %s %s %s %s %s %s %s", f.ID, f.Term, f.Rule, f.Result, f.Severity, f.Message, f.Attribute, f.Fingerprint, f.Exception, f.ExceptionNotApplied))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if r.stats, err = db.Stats(context.Background(), run.ID, nil); err != nil {
			t.Fatal(err)
		}
		return r
	}
	exact, fast := audited(true), audited(false)
	if len(exact.findings) < 500 {
		t.Fatalf("only %d findings: the workload proves little", len(exact.findings))
	}
	if exact.run.Summary != fast.run.Summary {
		t.Errorf("summary: exact %+v, fast %+v", exact.run.Summary, fast.run.Summary)
	}
	if !reflect.DeepEqual(exact.findings, fast.findings) {
		for i := range min(len(exact.findings), len(fast.findings)) {
			if exact.findings[i] != fast.findings[i] {
				t.Fatalf("%d findings vs %d; first difference:\nexact %s\nfast  %s", len(exact.findings), len(fast.findings), exact.findings[i], fast.findings[i])
			}
		}
		t.Fatalf("%d findings vs %d", len(exact.findings), len(fast.findings))
	}
	if !reflect.DeepEqual(exact.stats, fast.stats) {
		t.Error("per-SP counts differ")
	}
}
