package audit

import (
	"fmt"
	"testing"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/reports"
)

// More ranges of days without records than a report lists: the first MaxGaps, and how
// many more; a day whose counts are all zero is a day without records.
func TestEvidenceCapsTheGaps(t *testing.T) {
	var counts []mpass.DayCount
	for _, day := range []int{2, 4, 6, 8, 10, 12} {
		at := time.Date(2026, 10, day, 9, 0, 0, 0, time.UTC)
		counts = append(counts, mpass.DayCount{Controller: "c", SP: "sp", Day: at.Format(time.DateOnly), Kind: mpass.KindRelease,
			Records: 2, First: at, Last: at.Add(time.Hour)})
	}
	counts = append(counts, mpass.DayCount{Controller: "c", SP: "sp", Day: "2026-10-14", Kind: mpass.KindUse})
	e, err := evidence(counts, "2026-10-01", "2026-10-15")
	if err != nil {
		t.Fatal(err)
	}
	want := reports.Evidence{
		Sources: []reports.EvidenceSource{
			{Kind: mpass.KindRelease, Records: 12, First: time.Date(2026, 10, 2, 9, 0, 0, 0, time.UTC), Last: time.Date(2026, 10, 12, 10, 0, 0, 0, time.UTC)},
			{Kind: mpass.KindUse},
		},
		Days: 15, EmptyDays: 9,
		// gaps: 1, 3, 5, 7, 9, 11, 13..15
		Gaps:     []reports.DayRange{{From: "2026-10-01", To: "2026-10-01"}, {From: "2026-10-03", To: "2026-10-03"}, {From: "2026-10-05", To: "2026-10-05"}, {From: "2026-10-07", To: "2026-10-07"}},
		MoreGaps: 3,
	}
	if got := fmt.Sprintf("%+v", e); got != fmt.Sprintf("%+v", want) {
		t.Errorf("evidence\n%s\nwant\n%+v", got, want)
	}
	if e, _ := evidence(nil, "2026-10-01", "2026-10-31"); e.EmptyDays != 31 || len(e.Gaps) != 1 || e.Gaps[0] != (reports.DayRange{From: "2026-10-01", To: "2026-10-31"}) {
		t.Errorf("a period without records: %+v", e)
	}
}
