package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/gen"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

// TestScanRawSharesEveryRowOnce: with one to three workers, every record in range
// reaches exactly one worker, the one of its controller–SP pair, each worker's in seq
// order, with the fields one worker alone reads; a worker's error ends the scan and is
// its answer, with no worker left waiting.
func TestScanRawSharesEveryRowOnce(t *testing.T) {
	ctx := context.Background()
	db := testenv.MustOpenDB(t)
	records, registry := testenv.MustGenerate(t, gen.Config{Records: 6000, Seed: 11, Controllers: 6, SPs: 9, Subjects: 800, Workload: gen.WorkloadDiverse})
	testenv.MustLoadRegistry(t, db, registry)
	testenv.MustIngest(t, db, "jsonl", records)
	roles, err := db.RoleSet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []mpass.Kind{mpass.KindRelease, mpass.KindUse} {
		lo, hi, err := db.SeqRange(ctx, kind)
		if err != nil || hi <= lo {
			t.Fatalf("%s: range %d–%d %v", kind, lo, hi, err)
		}
		// what one worker reads is the whole, in seq order: every other count is held to it
		one := map[string]string{}
		order := map[string]int{}
		err = db.ScanRaw(ctx, mpass.Scope{}, kind, lo, hi, roles, func(r *sqlite.Raw) error {
			one[string(r.ID)] = rawString(r)
			order[string(r.ID)] = len(order)
			return nil
		})
		if err != nil || len(one) == 0 || len(order) != len(one) {
			t.Fatalf("%s: %d rows, %v", kind, len(one), err)
		}
		for n := 2; n <= 3; n++ {
			seen := map[string]int{}
			owner := map[[2]int64]int{}
			fns := make([]func(*sqlite.Raw) error, n)
			got := make([]map[string]string, n)
			pairs := make([]map[[2]int64]bool, n)
			for i := range fns {
				got[i], pairs[i] = map[string]string{}, map[[2]int64]bool{}
				last := -1
				fns[i] = func(r *sqlite.Raw) error {
					if at := order[string(r.ID)]; at <= last {
						return fmt.Errorf("worker %d: %s after a later record", i, r.ID)
					} else {
						last = at
					}
					pairs[i][[2]int64{r.Controller, r.SP}] = true
					got[i][string(r.ID)] = rawString(r)
					return nil
				}
			}
			if err := db.ScanRaw(ctx, mpass.Scope{}, kind, lo, hi, roles, fns...); err != nil {
				t.Fatal(err)
			}
			for i := range got {
				for p := range pairs[i] {
					if o, ok := owner[p]; ok {
						t.Fatalf("%s, %d workers: pair %v on workers %d and %d", kind, n, p, o, i)
					}
					owner[p] = i
				}
				for id, s := range got[i] {
					seen[id]++
					if one[id] != s {
						t.Fatalf("%s, %d workers: worker %d read %s, one worker %s", kind, n, i, s, one[id])
					}
				}
			}
			if len(seen) != len(one) {
				t.Fatalf("%s, %d workers: %d records, one worker %d", kind, n, len(seen), len(one))
			}
			for id, c := range seen {
				if c != 1 {
					t.Fatalf("%s, %d workers: %s read %d times", kind, n, id, c)
				}
			}
		}
	}
	lo, hi, _ := db.SeqRange(ctx, mpass.KindRelease)
	stop := errors.New("stop")
	calls := 0
	err = db.ScanRaw(ctx, mpass.Scope{}, mpass.KindRelease, lo, hi, roles,
		func(*sqlite.Raw) error { return nil },
		func(*sqlite.Raw) error {
			if calls++; calls == 10 {
				return stop
			}
			return nil
		})
	if !errors.Is(err, stop) || calls != 10 {
		t.Fatalf("a worker's error: %v after %d calls", err, calls)
	}
}

// rawString is every field of a record as the scan gives it.
func rawString(r *sqlite.Raw) string {
	return fmt.Sprintf("%s|%d|%d|%d|%x|%d|%d|%d|%x|%v|%v", r.ID, r.Time, r.SP, r.Controller, r.Subject, r.Shape, r.School, r.Purpose, r.Fingerprints, r.Learner, r.RoleKnown)
}
