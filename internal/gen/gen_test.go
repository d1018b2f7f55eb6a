package gen_test

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/audit"
	"github.com/opetushallitus/mpass-audit/internal/gen"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

func write(t *testing.T, cfg gen.Config) (records, registry []byte) {
	t.Helper()
	g := gen.New(cfg)
	var r, reg bytes.Buffer
	if err := g.WriteRecords(&r); err != nil {
		t.Fatal(err)
	}
	if err := g.WriteRegistry(&reg); err != nil {
		t.Fatal(err)
	}
	return r.Bytes(), reg.Bytes()
}

func TestSameSeedSameBytes(t *testing.T) {
	a, ra := write(t, gen.Config{Records: 2000, Seed: 3})
	b, rb := write(t, gen.Config{Records: 2000, Seed: 3})
	c, _ := write(t, gen.Config{Records: 2000, Seed: 4})
	if !bytes.Equal(a, b) || !bytes.Equal(ra, rb) {
		t.Error("the same seed wrote different bytes")
	}
	if bytes.Equal(a, c) {
		t.Error("another seed wrote the same records")
	}
}

// TestWorkloadBreaksEveryRule: the workload ingests without a rejection and an audit
// of it finds every rule of TERMS.md.
func TestWorkloadBreaksEveryRule(t *testing.T) {
	records, registry := write(t, gen.Config{Records: 20000, Seed: 1})
	db := testenv.MustOpenDB(t)
	reg := testenv.MustLoadRegistry(t, db, string(registry))
	withData, permissions := gen.New(gen.Config{Records: 20000, Seed: 1}).AllowedServices()
	for i := range reg.Controllers {
		reg.Controllers[i].PermissionData = slices.Contains(withData, reg.Controllers[i].OID)
	}
	reg.Permissions = permissions
	if err := db.CreateRegistry(context.Background(), reg); err != nil {
		t.Fatal(err)
	}
	if res := testenv.MustIngest(t, db, "jsonl", string(records)); res.Rejected != 0 || res.Stored != 20000 {
		t.Fatalf("ingest %+v %v", res.IngestCounts, res.Rejections[:min(3, len(res.Rejections))])
	}
	a := &audit.Auditor{DB: db, Engine: testenv.MustEngine(t)}
	run, err := a.Run(context.Background(), mpass.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	err = db.Findings(context.Background(), mpass.FindingFilter{RunID: run.ID}, func(f *mpass.Finding) error {
		seen[f.Rule]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, term := range testenv.MustEngine(t).Terms() {
		for _, r := range term.Rules {
			if seen[r.ID] == 0 {
				t.Errorf("no %s finding in the workload", r.ID)
			}
		}
	}
	t.Logf("findings by rule: %v", seen)
}

// Summary counts what was written: releases and uses add up to the records, the
// registry's entries are those in its text.
func TestSummaryCountsWhatWasWritten(t *testing.T) {
	g := gen.New(gen.Config{Records: 500, Seed: 3, Controllers: 20, SPs: 30})
	var r, reg bytes.Buffer
	if err := g.WriteRecords(&r); err != nil {
		t.Fatal(err)
	}
	if err := g.WriteRegistry(&reg); err != nil {
		t.Fatal(err)
	}
	n := g.Summary()
	if n.Releases+n.Uses != 500 || n.Uses == 0 || bytes.Count(r.Bytes(), []byte(`"kind":"use"`)) != n.Uses {
		t.Errorf("records: %+v", n)
	}
	if n.Controllers != 20 || n.SPs != 30 || bytes.Count(reg.Bytes(), []byte("  - {controller: ")) != n.Agreements ||
		bytes.Count(reg.Bytes(), []byte("  - {subject: ")) != n.Consents || bytes.Count(reg.Bytes(), []byte("  - {id: EX-GEN-")) != n.Exceptions {
		t.Errorf("registry: %+v", n)
	}
}
