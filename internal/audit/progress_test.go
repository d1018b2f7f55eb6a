package audit_test

import (
	"context"
	"sync"
	"testing"

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
