package reports_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
	"github.com/opetushallitus/mpass-audit/reports"
)

// A run's report is frozen (issue 13): it is drawn from what the run judged, so records
// of its period that arrive later, and a purge of its records, leave every byte of its
// PDF as it was; only a new audit sees them. The frozen day counts are, at audit time,
// what the record tables say.
func TestFrozenReportSurvivesIngestAndPurge(t *testing.T) {
	ctx := context.Background()
	a, run := demo(t)

	live, err := a.DB.Counts(ctx, city, "2026-10-01", "2026-10-31")
	if err != nil {
		t.Fatal(err)
	}
	frozen, err := a.DB.DayCounts(ctx, run.ID, city, "2026-10-01", "2026-10-31")
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, c := range live {
		want = append(want, fmt.Sprintf("%s %s %d %d", c.Day, c.SP, c.Releases, c.Uses))
	}
	byDaySP := map[[2]string]*[2]int64{}
	for _, c := range frozen {
		k := [2]string{c.Day, c.SP}
		if byDaySP[k] == nil {
			byDaySP[k] = &[2]int64{}
		}
		if c.Kind == mpass.KindUse {
			byDaySP[k][1] += c.Records
		} else {
			byDaySP[k][0] += c.Records
		}
		if c.First.After(c.Last) || c.First.UTC().Format(time.DateOnly) != c.Day {
			t.Errorf("%+v: first and last not in order on the day", c)
		}
	}
	for k, n := range byDaySP {
		got = append(got, fmt.Sprintf("%s %s %d %d", k[0], k[1], n[0], n[1]))
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("frozen day counts\n%q\nwant the live ones\n%q", got, want)
	}

	before := map[string][]byte{}
	for _, lang := range reports.Langs {
		before[lang] = render(t, a, run, city, lang)
	}
	same := func(when string) {
		t.Helper()
		for _, lang := range reports.Langs {
			if !bytes.Equal(render(t, a, run, city, lang), before[lang]) {
				t.Errorf("%s: the %s report of run %d changed", when, lang, run.ID)
			}
		}
	}

	var late strings.Builder
	for i := range 500 {
		fmt.Fprintf(&late, `{"kind":"release","id":"late-%d","time":"2026-10-%02dT10:00:00Z","sp":"https://sp.example-shop.fi/shibboleth","controller":"%s","subject":"MPASSOID.late%04d","attributes":{"urn:mpass.id:uid":["MPASSOID.late%04d"]}}`+"\n",
			i, 1+i%28, city, i, i)
	}
	if res := testenv.MustIngest(t, a.DB, "jsonl", late.String()); res.Stored != 500 {
		t.Fatalf("stored %d of 500", res.Stored)
	}
	same("after a later ingest")
	rerun, err := a.Run(ctx, run.Scope)
	if err != nil {
		t.Fatal(err)
	}
	d, err := a.ReportData(ctx, rerun, city, "2026-10-01", "2026-10-31")
	if err != nil {
		t.Fatal(err)
	}
	if d.Releases != 505 {
		t.Errorf("a new audit counts %d releases, want 505", d.Releases)
	}

	if _, err := a.DB.Purge(ctx, "2027-01-01"); err != nil {
		t.Fatal(err)
	}
	if r, u, err := a.DB.CountRecords(ctx); err != nil || r+u != 0 {
		t.Fatalf("after the purge: %d releases, %d uses, %v", r, u, err)
	}
	same("after a purge")
	if d, err = a.ReportData(ctx, rerun, city, "2026-10-01", "2026-10-31"); err != nil || d.Releases != 505 {
		t.Errorf("the new run after a purge: %d releases, %v; want 505", d.Releases, err)
	}
}

// Evidence: per source the period's records with their first and last time, and the
// days without any record as ranges, for the whole month and for a week inside the run.
func TestEvidenceOfAPeriodWithGaps(t *testing.T) {
	a, run := demo(t)
	at := func(s string) time.Time {
		x, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	for _, tc := range []struct {
		from, to string
		want     reports.Evidence
	}{
		{"2026-10-01", "2026-10-31", reports.Evidence{
			Sources: []reports.EvidenceSource{
				{Kind: mpass.KindRelease, Records: 5, First: at("2026-10-05T07:58:12Z"), Last: at("2026-10-07T12:30:00Z")},
				{Kind: mpass.KindUse, Records: 5, First: at("2026-10-09T12:00:00Z"), Last: at("2026-10-16T10:00:00Z")},
			},
			Days: 31, EmptyDays: 24,
			Gaps: []reports.DayRange{{From: "2026-10-01", To: "2026-10-04"}, {From: "2026-10-08", To: "2026-10-08"}, {From: "2026-10-11", To: "2026-10-14"}, {From: "2026-10-17", To: "2026-10-31"}},
		}},
		{"2026-10-06", "2026-10-08", reports.Evidence{
			Sources: []reports.EvidenceSource{
				{Kind: mpass.KindRelease, Records: 3, First: at("2026-10-06T09:12:00Z"), Last: at("2026-10-07T12:30:00Z")},
				{Kind: mpass.KindUse},
			},
			Days: 3, EmptyDays: 1, Gaps: []reports.DayRange{{From: "2026-10-08", To: "2026-10-08"}},
		}},
	} {
		d, err := a.ReportData(context.Background(), run, city, tc.from, tc.to)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%+v", d.Evidence); got != fmt.Sprintf("%+v", tc.want) {
			t.Errorf("%s..%s: evidence\n%s\nwant\n%s", tc.from, tc.to, got, fmt.Sprintf("%+v", tc.want))
		}
	}
}
