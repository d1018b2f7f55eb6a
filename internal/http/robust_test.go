package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/reports"
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

// failFor is a Render hook that panics for one controller's Finnish report, fails its
// other languages, and draws every other report for real.
func failFor(controller string) func(context.Context, io.Writer, *reports.Data, string) error {
	return func(ctx context.Context, w io.Writer, d *reports.Data, lang string) error {
		if d.Controller.OID != controller {
			return reports.RenderContext(ctx, w, d, lang)
		}
		if lang == "fi" {
			panic("fpdf: index out of range")
		}
		return errors.New("fpdf: cannot draw")
	}
}

// A controller whose report cannot be drawn fails alone: the scheduled audit stores
// the other controller's reports, logs each failure with its controller, marks the due
// time handled (a restart does not run it again) and answers an error counting them.
func TestScheduledReportFailureStaysItsOwn(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var logs bytes.Buffer
	e.srv.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	e.srv.Render = failFor(city)
	spec := "0 3 1 * *"
	due := time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)
	err := e.srv.ScheduledAudit(ctx, spec, due)
	if mpass.ErrorCode(err) != mpass.EINTERNAL || !strings.Contains(err.Error(), "3 of 6 reports failed") {
		t.Fatalf("err = %v", err)
	}
	runs, _ := e.db.FindRuns(ctx, nil)
	for _, lang := range []string{"fi", "sv", "en"} {
		if pdf, err := e.db.StoredReport(ctx, runs[0].ID, town, "2026-10", lang); err != nil || !bytes.HasPrefix(pdf, []byte("%PDF")) {
			t.Errorf("town's %s report not stored: %v", lang, err)
		}
		if _, err := e.db.StoredReport(ctx, runs[0].ID, city, "2026-10", lang); err == nil {
			t.Errorf("city's failed %s report stored", lang)
		}
	}
	if n := strings.Count(logs.String(), `"msg":"scheduled report failed","run":`+itoa(runs[0].ID)+`,"controller":"`+city+`"`); n != 3 {
		t.Errorf("%d failures logged with the controller:\n%s", n, logs.String())
	}
	handled, err := e.db.ScheduleHandled(ctx, spec)
	if err != nil || !handled.Equal(due) {
		t.Fatalf("handled %v %v, want %v", handled, err, due)
	}
	sched, _ := cron.ParseStandard(spec)
	if err := e.srv.CatchUp(ctx, spec, sched, due.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if again, _ := e.db.FindRuns(ctx, nil); len(again) != len(runs) {
		t.Error("a restart ran the handled due time again")
	}
}

// A report that cannot be drawn answers a clear error naming the controller and
// period (500, JSON), and the service goes on serving.
func TestReportRenderFailureIsAClearError(t *testing.T) {
	e := newEnv(t)
	e.srv.Render = failFor(city)
	for _, lang := range []string{"fi", "en"} {
		w := e.do(t, "auditor", "GET", "/api/v1/reports/"+city+"/2026-10.pdf?lang="+lang, "")
		var body struct{ Error string }
		json.Unmarshal(w.Body.Bytes(), &body)
		if w.Code != 500 || !strings.Contains(body.Error, city) || !strings.Contains(body.Error, "2026-10-01..2026-10-31") || strings.Contains(body.Error, "fpdf") {
			t.Errorf("%s: %d %s", lang, w.Code, w.Body)
		}
	}
	if w := e.do(t, "auditor", "GET", "/api/v1/reports/"+town+"/2026-10.pdf?lang=fi", ""); w.Code != 200 || !bytes.HasPrefix(w.Body.Bytes(), []byte("%PDF")) {
		t.Errorf("the other controller's report: %d", w.Code)
	}
}

// The report route stops with its request: a client that left while its report was
// made gets no answer written, and nothing is logged as a failure.
func TestReportStopsWhenTheClientLeaves(t *testing.T) {
	e := newEnv(t)
	var logs bytes.Buffer
	e.srv.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.srv.Render = func(rctx context.Context, w io.Writer, d *reports.Data, lang string) error {
		cancel() // the client leaves while its report is drawn
		return reports.RenderContext(rctx, w, d, lang)
	}
	req := httptest.NewRequest("GET", "/api/v1/reports/"+city+"/2026-10.pdf?lang=fi", nil).WithContext(ctx)
	req.RemoteAddr = "10.9.9.9:1234"
	req.Header.Set("Authorization", "Bearer "+e.tokens["auditor"])
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, req)
	if w.Body.Len() != 0 {
		t.Errorf("answered a client that left: %d %.200s", w.Code, w.Body)
	}
	if !strings.Contains(logs.String(), `"msg":"report abandoned"`) || strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("logs:\n%s", logs.String())
	}
}
