package audit_test

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/audit"
	"github.com/opetushallitus/mpass-audit/internal/gen"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

// TestFrozenFiguresCountEveryRecord: what a run freezes per controller and SP (its
// releases and the attributes they carried) and per controller, SP and day equals
// what the generated records say, counted here from the JSON Lines themselves, and its
// releases and uses per SP and day and releases per school and day equal what the
// store counts from the records (Counts, SchoolCounts: a report's exact numbers). The
// workers count in memory and add up at the end (pending counts among them), so a
// record left out or counted twice shows here, whichever path judged it.
func TestFrozenFiguresCountEveryRecord(t *testing.T) {
	ctx := context.Background()
	records, registry := testenv.MustGenerate(t, gen.Config{Records: 20000, Seed: 5, Controllers: 6, SPs: 8, Subjects: 2000, Workload: gen.WorkloadDiverse})
	db := testenv.MustOpenDB(t)
	testenv.MustLoadRegistry(t, db, registry)
	testenv.MustIngest(t, db, "jsonl", records)

	type pair struct{ controller, sp string }
	releases := map[pair]int64{}
	attributes := map[pair]map[string]int64{}
	days := map[[3]string]int64{} // controller, SP, day → releases
	for line := range strings.Lines(records) {
		var r struct {
			Kind, Time, SP, Controller string
			Attributes                 json.RawMessage // a use's are names
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if r.Kind != string(mpass.KindRelease) {
			continue
		}
		var attrs map[string]json.RawMessage
		if err := json.Unmarshal(r.Attributes, &attrs); err != nil {
			t.Fatal(err)
		}
		p := pair{r.Controller, r.SP}
		releases[p]++
		if attributes[p] == nil {
			attributes[p] = map[string]int64{}
		}
		for name := range attrs {
			attributes[p][name]++
		}
		days[[3]string{r.Controller, r.SP, r.Time[:10]}]++
	}

	a := &audit.Auditor{DB: db, Engine: testenv.MustEngine(t), Workers: 2}
	run, err := a.Run(ctx, mpass.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := db.Stats(ctx, run.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, st := range stats {
		p := pair{st.Controller, st.SP}
		if st.Releases != releases[p] {
			t.Errorf("%s at %s: %d releases frozen, %d in the records", p.controller, p.sp, st.Releases, releases[p])
		}
		for name, n := range attributes[p] {
			if st.Attributes[name] != n {
				t.Errorf("%s at %s: %s in %d releases frozen, %d in the records", p.controller, p.sp, name, st.Attributes[name], n)
			}
		}
		if st.Releases > 0 {
			seen++
		}
	}
	if seen != len(releases) {
		t.Errorf("%d pairs with releases frozen, %d in the records", seen, len(releases))
	}
	frozen := map[[3]string]int64{}
	controllers := map[string]bool{}
	for p := range releases {
		controllers[p.controller] = true
	}
	schoolCells := 0
	for c := range controllers {
		counts, err := db.DayCounts(ctx, run.ID, c, "", "")
		if err != nil {
			t.Fatal(err)
		}
		// uses take their controller from subject_roles where they name none: the
		// records' own count (Counts) is the reference for both kinds
		fromRecords, err := db.Counts(ctx, c, "2000-01-01", "2099-12-31")
		if err != nil {
			t.Fatal(err)
		}
		want := map[[2]string][2]int64{} // SP, day → releases, uses
		for _, n := range fromRecords {
			want[[2]string{n.SP, n.Day}] = [2]int64{n.Releases, n.Uses}
		}
		got := map[[2]string][2]int64{}
		controllerDays := map[string]bool{}
		for _, d := range counts {
			k, v := [2]string{d.SP, d.Day}, got[[2]string{d.SP, d.Day}]
			if d.Kind == mpass.KindRelease {
				frozen[[3]string{c, d.SP, d.Day}] += d.Records
				v[0] += d.Records
			} else {
				v[1] += d.Records
			}
			got[k] = v
			controllerDays[d.Day] = true
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s: frozen releases and uses per SP and day differ from the records' (%d cells frozen, %d in the records)", c, len(got), len(want))
		}
		// the releases per school, day by day
		for day := range controllerDays {
			f, err := db.FrozenSchoolCounts(ctx, run.ID, c, day, day)
			if err != nil {
				t.Fatal(err)
			}
			r, err := db.SchoolCounts(ctx, c, day, day)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(f, r) {
				t.Errorf("%s on %s: frozen releases per school %v, the records' %v", c, day, f, r)
			}
			schoolCells += len(f)
		}
	}
	if schoolCells < 500 {
		t.Errorf("only %d school-days: the workload proves little", schoolCells)
	}
	if len(frozen) != len(days) {
		t.Errorf("%d controller-SP-days frozen, %d in the records", len(frozen), len(days))
	}
	for k, n := range days {
		if frozen[k] != n {
			t.Errorf("%v: %d releases frozen, %d in the records", k, frozen[k], n)
		}
	}
	if len(days) < 500 {
		t.Fatalf("only %d controller-SP-days: the workload proves little", len(days))
	}
}
