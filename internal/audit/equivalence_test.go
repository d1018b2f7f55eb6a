package audit_test

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/audit"
	"github.com/opetushallitus/mpass-audit/internal/gen"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/policy"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

// TestReusedDecisionsEqualPerRecordEvaluation: on each generated workload, the fast
// path (a decision reused for every record of one shape) gives exactly the findings,
// summary and per-SP counts of evaluating every record on its own. The diverse one
// (issue 16) has SPs without a role attribute, whose learners are presumed from
// subject_roles, identity codes in nicknames, \u-escaped names and OIDC client ids.
func TestReusedDecisionsEqualPerRecordEvaluation(t *testing.T) {
	for _, tc := range []struct {
		cfg         gen.Config
		minFindings int
		rules       []string // each found at least 20 times
	}{
		{gen.Config{Records: 30000, Seed: 11, Controllers: 40, SPs: 60}, 500, []string{"service-not-allowed"}},
		{gen.Config{Records: 30000, Seed: 12, Controllers: 40, SPs: 60, Subjects: 3000, Workload: gen.WorkloadDiverse}, 2000,
			[]string{"service-not-allowed", "age-revealing-value", "learner-email-to-commercial-sp", "birth-year-in-email", "unapproved-attribute", "marketing-without-guardian-consent"}},
	} {
		t.Run(cmp.Or(tc.cfg.Workload, gen.WorkloadNational), func(t *testing.T) {
			t.Parallel()
			equivalent(t, tc.cfg, tc.minFindings, tc.rules)
		})
	}
}

func equivalent(t *testing.T, cfg gen.Config, minFindings int, rules []string) {
	records, registry := testenv.MustGenerate(t, cfg)
	db := testenv.MustOpenDB(t)
	reg := testenv.MustLoadRegistry(t, db, registry)
	// allowed services: every other controller has permission data, each of its SPs
	// allowed from an instant inside the month, some until a later one, some never
	for i, c := range reg.Controllers {
		if i%2 == 1 {
			continue
		}
		reg.Controllers[i].PermissionData = true
		for j, sp := range reg.ServiceProviders {
			if (i+j)%3 == 0 {
				continue // never allowed
			}
			from := time.Date(2026, 10, 1+(i*7+j)%28, (i+j)%24, (i*j)%60, 17, 0, time.UTC)
			p := mpass.Permission{Controller: c.OID, SP: sp.ID, From: from}
			if (i+j)%5 == 0 {
				to := from.Add(time.Duration(1+j%9) * 24 * time.Hour)
				p.To = &to
			}
			reg.Permissions = append(reg.Permissions, p)
		}
	}
	// agreements ending and exceptions expiring inside the month, each SP at days of its
	// own: a day class that misses one of them shows as a difference
	for i := range reg.Agreements {
		if i%2 == 0 {
			reg.Agreements[i].Valid.To = fmt.Sprintf("2026-10-%02d", 3+i%26)
		}
	}
	// (the generated agreements add what their SPs are approved for already: here a
	// quarter of the SPs lose their first attribute, which agreements with half of the
	// controllers approve until a day inside the month, each pair's own)
	for j := range reg.ServiceProviders {
		sp := &reg.ServiceProviders[j]
		if j%4 != 0 || len(sp.Attributes) == 0 {
			continue
		}
		moved := sp.Attributes[0]
		sp.Attributes = slices.Clone(sp.Attributes[1:])
		for i, c := range reg.Controllers {
			if i%2 == 0 {
				reg.Agreements = append(reg.Agreements, mpass.Agreement{Controller: c.OID, SP: sp.ID, Attributes: []string{moved},
					Valid: mpass.DateRange{From: "2026-01-01", To: fmt.Sprintf("2026-10-%02d", 4+(i+2*j)%24)}})
			}
		}
	}
	for j, sp := range reg.ServiceProviders {
		ex := mpass.Exception{ID: fmt.Sprintf("EX-TEST-%03d", j), Term: "data-minimisation", Rule: "unapproved-attribute",
			SP: sp.ID, Reason: "a test's", Expires: fmt.Sprintf("2026-10-%02d", 5+j%23)}
		if j%2 == 1 {
			ex.Term, ex.Rule = "no-age-inference", "" // every rule of the term: a critical one is never excepted
		}
		reg.Exceptions = append(reg.Exceptions, ex)
		for i, c := range reg.Controllers {
			if i%3 == 0 && j%5 == 0 { // the same but for its id and controller: a class of its own each
				reg.Exceptions = append(reg.Exceptions, mpass.Exception{ID: fmt.Sprintf("EX-CTL-%03d-%03d", i, j), Term: "data-minimisation",
					Rule: "unapproved-attribute", SP: sp.ID, Controller: c.OID, Reason: "a test's", Expires: "2026-12-31"})
			}
		}
	}
	if err := db.CreateRegistry(context.Background(), reg); err != nil {
		t.Fatal(err)
	}
	testenv.MustIngest(t, db, "jsonl", records)

	// the test is of equivalence, not of the 2-second limit per evaluation (its own
	// tests in internal/policy): on a machine loaded by other work, one evaluation of
	// the exact run once went over it
	engine, err := policy.Load(context.Background(), "", policy.WithLimits(policy.Limits{EvalTimeout: time.Minute}))
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		run      *mpass.Run
		findings []string
		stats    []*mpass.SPStats
	}
	audited := func(exact bool) result {
		// one worker against three: each judges the rows of its share of the pairs, so a
		// row judged twice or by none shows as a difference
		a := &audit.Auditor{DB: db, Engine: engine, Exact: exact, Workers: map[bool]int{true: 1, false: 3}[exact]}
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
	if len(exact.findings) < minFindings {
		t.Fatalf("only %d findings: the workload proves little", len(exact.findings))
	}
	listed := strings.Join(exact.findings, "\n")
	if n := strings.Count(listed, " EX-CTL-"); n < 20 {
		t.Errorf("only %d findings excepted by the test's controllers' exceptions", n)
	}
	if n := strings.Count(listed, " EX-TEST-"); n < 20 {
		t.Errorf("only %d findings excepted by the test's exceptions: the workload proves little of their expiry", n)
	}
	for _, rule := range rules {
		if n := strings.Count(listed, " "+rule+" "); n < 20 {
			t.Errorf("only %d %s findings: the workload proves little of that rule", n, rule)
		}
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
