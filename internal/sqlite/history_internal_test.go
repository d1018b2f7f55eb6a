package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

func TestHistory(t *testing.T) {
	ctx := context.Background()
	db := NewDB(filepath.Join(t.TempDir(), "a.db"))
	now := time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	mustOpen(t, db)
	finding := func(run int64, id, result string) mpass.Finding {
		return mpass.Finding{ID: id, RunID: run, Term: "t", Rule: "r", Result: result, Record: "rec-" + id, SP: "sp-" + id,
			Kind: mpass.KindRelease, Time: time.Unix(0, 0), Change: mpass.ChangeNew}
	}
	var runs []int64
	for _, fs := range [][]string{{"kept", "gone", "passed-later"}, {"kept", "fresh"}} {
		run := &mpass.Run{}
		if err := db.CreateRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		w := db.NewFindingWriter(ctx)
		var batch []mpass.Finding
		for _, id := range fs {
			batch = append(batch, finding(run.ID, id, mpass.ResultFail))
		}
		if len(runs) == 1 { // a pass is no finding
			batch = append(batch, finding(run.ID, "passed-later", mpass.ResultPass))
		}
		if err := w.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, run.ID)
	}
	var got []string
	err := db.DiffFindings(ctx, runs[0], runs[1], func(change string, f *mpass.Finding) error {
		got = append(got, fmt.Sprintf("%s %s run %d", change, f.ID, f.RunID))
		return nil
	})
	want := []string{
		fmt.Sprintf("new fresh run %d", runs[1]),
		fmt.Sprintf("resolved gone run %d", runs[0]),
		fmt.Sprintf("resolved passed-later run %d", runs[0]),
		fmt.Sprintf("persisting kept run %d", runs[1]),
	}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("diff %v %v\nwant %v", got, err, want)
	}

	all, err := db.AllRuns(ctx)
	if err != nil || len(all) != 2 || all[0].ID != runs[1] || all[0].Status != mpass.RunRunning {
		t.Errorf("AllRuns %v %v: want both, newest first, running ones too", all, err)
	}

	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	rej := []mpass.Rejection{{Source: "b.jsonl", Line: 2, Field: "kind", Reason: "unknown kind", Digest: "d1"},
		{Source: "a.csv", Line: 9, Field: "time", Reason: "not a time", Digest: "d2"}}
	if err := insertRejections(ctx, tx, rej, nanos(now)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		source string
		want   []string
	}{
		{"", []string{"a.csv:9 time", "b.jsonl:2 kind"}},
		{"b.jsonl", []string{"b.jsonl:2 kind"}},
		{"nowhere", nil},
	} {
		var got []string
		err := db.ListRejections(ctx, tc.source, func(r StoredRejection) error {
			if !r.Rejected.Equal(now) {
				t.Errorf("rejected %v, want %v", r.Rejected, now)
			}
			got = append(got, fmt.Sprintf("%s:%d %s", r.Source, r.Line, r.Field))
			return nil
		})
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("source %q: %v %v, want %v", tc.source, got, err, tc.want)
		}
	}
}
