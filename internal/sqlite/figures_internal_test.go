package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"testing"
	"testing/quick"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// TestFreezeRunStoresWhatItIsGiven: FreezeRun stores each SPStats as it was when
// yielded, though the iterator refills one value, and its JSON is byte for byte what
// encoding/json writes — keys sorted and escaped (quotes, <>&, invalid UTF-8, any
// alphabet), empty and nil maps as {} — in C and through database/sql, with rows
// across the execer's calls; empty day blobs stay blobs, not NULL.
func TestFreezeRunStoresWhatItIsGiven(t *testing.T) {
	ctx := context.Background()
	keys := []string{"sub", `a"b`, `<script>&`, "\xff\xfe", "Sámi: čđŋšŧž", "urn:oid:2.5.4.42", ""}
	var want []mpass.SPStats
	for i := range rowsPerExec + 3 {
		st := mpass.SPStats{Controller: fmt.Sprintf("c%04d", i/7), SP: fmt.Sprintf("sp%d", i%7), Releases: int64(i), Uses: int64(i % 3),
			Attributes: map[string]int64{}, Disclosures: map[string]int64{},
			Summary: mpass.Summary{Pass: int64(i), Fail: 1, Warn: 2, Error: 3, Skip: int64(i % 5)}}
		for k, name := range keys {
			if (i+k)%3 == 0 {
				st.Attributes[name] = int64(i*k + 1)
			}
			if (i+k)%5 == 0 {
				st.Disclosures[name] = int64(k)
			}
		}
		if i == 1 {
			st.Attributes, st.Disclosures = nil, nil
		}
		want = append(want, st)
	}
	for _, off := range []bool{false, true} {
		db := mustOpenTemp(t)
		db.batchOff = off
		run := &mpass.Run{}
		if err := db.CreateRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		stats := func(yield func(*mpass.SPStats) bool) {
			st := &mpass.SPStats{Attributes: map[string]int64{}, Disclosures: map[string]int64{}}
			for _, w := range want {
				clear(st.Attributes)
				clear(st.Disclosures)
				maps.Copy(st.Attributes, w.Attributes)
				maps.Copy(st.Disclosures, w.Disclosures)
				st.Controller, st.SP, st.Releases, st.Uses, st.Summary = w.Controller, w.SP, w.Releases, w.Uses, w.Summary
				if !yield(st) {
					return
				}
			}
		}
		days := []RunDay{{Controller: 1, Day: 20000}, {Controller: 1, Day: 20001, First: [2]int64{5, 0}, Last: [2]int64{9, 0}}}
		days[1].AddSP(3, false, 4)
		days[1].AddSchool(7, 4)
		if err := db.FreezeRun(ctx, run.ID, stats, days); err != nil {
			t.Fatal(err)
		}
		rows, err := db.db.QueryContext(ctx, `SELECT attributes, disclosures, summary FROM run_stats WHERE run_id = ? ORDER BY rowid`, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		i := 0
		for ; rows.Next(); i++ {
			var got [3]string
			if err := rows.Scan(&got[0], &got[1], &got[2]); err != nil {
				t.Fatal(err)
			}
			for k, v := range []any{want[i].Attributes, want[i].Disclosures, want[i].Summary} {
				w, _ := json.Marshal(v)
				if v, ok := v.(map[string]int64); ok && v == nil {
					w = []byte("{}")
				}
				if got[k] != string(w) {
					t.Fatalf("batchOff %v: row %d column %d: stored %s, encoding/json %s", off, i, k, got[k], w)
				}
			}
		}
		if err := rows.Err(); err != nil || i != len(want) {
			t.Fatalf("batchOff %v: %d rows stored of %d (%v)", off, i, len(want), err)
		}
		var blobs int
		if err := db.db.QueryRowContext(ctx, `SELECT count(*) FROM run_days WHERE run_id = ? AND typeof(sps) = 'blob' AND typeof(schools) = 'blob'`, run.ID).Scan(&blobs); err != nil || blobs != 2 {
			t.Fatalf("batchOff %v: %d days with blobs of 2 (%v)", off, blobs, err)
		}
	}
}

// TestSummaryJSONIsEncodingJSON holds appendSummaryJSON to encoding/json for any
// summary, so that a field added to mpass.Summary cannot be left out of run_stats.
func TestSummaryJSONIsEncodingJSON(t *testing.T) {
	f := func(s mpass.Summary) bool {
		w, _ := json.Marshal(s)
		return string(appendSummaryJSON(nil, s)) == string(w)
	}
	if err := quick.Check(f, nil); err != nil {
		t.Fatal(err)
	}
}
