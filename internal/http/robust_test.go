package http_test

import (
	"strings"
	"testing"
)

// A period over mpass.MaxPeriodMonths is a 400 naming the limit, on the report route
// and on POST /api/v1/runs, before any work starts; an unknown field in the body is a
// 400 too.
func TestPeriodBounded(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		want                     string
	}{
		{"report of the whole calendar", "GET", "/api/v1/reports/" + city + "/0001-01-01..9999-12-31.pdf", "", 400, "longer than 36 months"},
		{"report of 36 months and a day", "GET", "/api/v1/reports/" + city + "/2024-01-01..2027-01-01.pdf", "", 400, "longer than 36 months"},
		{"audit of the whole calendar", "POST", "/api/v1/runs", `{"from":"0001-01-01","to":"9999-12-31"}`, 400, "longer than 36 months"},
		{"audit with an unknown field", "POST", "/api/v1/runs", `{"from":"2026-10-01","to":"2026-10-31","until":"9999-12-31"}`, 400, "body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do(t, "auditor", tc.method, tc.path, tc.body)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) {
				t.Errorf("%d %s", w.Code, w.Body)
			}
		})
	}
	runs, err := e.db.FindRuns(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != len(e.runs) {
		t.Errorf("%d runs: a refused request started one", len(runs))
	}
}
