package audit_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/audit"
	"github.com/opetushallitus/mpass-audit/internal/gen"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

// TestOnProgress (issue 15): an audit tells its progress every thousand records, never
// past the total, up to every record judged. (Two workers may report out of order: a
// caller keeps the largest count, as the command's bar does.)
func TestOnProgress(t *testing.T) {
	records, registry := testenv.MustGenerate(t, gen.Config{Records: 5000, Seed: 3, Controllers: 5, SPs: 10})
	db := testenv.MustOpenDB(t)
	testenv.MustLoadRegistry(t, db, registry)
	testenv.MustIngest(t, db, "jsonl", records)
	var mu sync.Mutex
	var last, total, calls int64
	a := &audit.Auditor{DB: db, Engine: testenv.MustEngine(t), Workers: 2, OnProgress: func(done, tot int64) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if done <= 0 || done > tot {
			t.Errorf("progress %d of %d", done, tot)
		}
		last, total = max(last, done), tot
	}}
	if _, err := a.Run(context.Background(), mpass.Scope{}); err != nil {
		t.Fatal(err)
	}
	if calls == 0 || total < 5000 || last < 4000 {
		t.Errorf("%d calls, last %d of %d: want about 5 of 5000", calls, last, total)
	}
}

// TestManyWorkersDoNotWaitForEachOther: with 8 connections, an audit of 7 or more
// workers hung for ever (each held one for its scan and asked for one more to look a
// name up; found by a review). Any number of workers now ends, with the summary of two.
func TestManyWorkersDoNotWaitForEachOther(t *testing.T) {
	records, registry := testenv.MustGenerate(t, gen.Config{Records: 3000, Seed: 5, Controllers: 7, SPs: 9, Workload: gen.WorkloadDiverse})
	db := testenv.MustOpenDB(t)
	testenv.MustLoadRegistry(t, db, registry)
	testenv.MustIngest(t, db, "jsonl", records)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hang fails, not stalls
	defer cancel()
	var summaries []mpass.Summary
	for _, workers := range []int{2, 40} {
		run, err := (&audit.Auditor{DB: db, Engine: testenv.MustEngine(t), Workers: workers}).Run(ctx, mpass.Scope{})
		if err != nil {
			t.Fatalf("%d workers: %v", workers, err)
		}
		summaries = append(summaries, run.Summary)
	}
	if summaries[0] != summaries[1] {
		t.Errorf("summaries differ: %+v and %+v", summaries[0], summaries[1])
	}
}
