package audit_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/audit"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
	"github.com/opetushallitus/mpass-audit/reports"
)

// A cancelled context stops every long path with its error: an audit begun and then
// cancelled fails its run (never listed) with context.Canceled, and the report's data
// and drawing answer context.Canceled too.
func TestCancelledContextStops(t *testing.T) {
	db := testenv.MustOpenDB(t)
	testenv.MustLoadDemo(t, db)
	a := &audit.Auditor{DB: db, Engine: testenv.MustEngine(t)}
	live := context.Background()
	done, err := a.Run(live, mpass.Scope{Controller: city, From: "2026-10-01", To: "2026-10-31"})
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(live)
	cancel()

	for _, tc := range []struct {
		name string
		run  func() error
	}{
		{"audit cancelled after it began", func() error {
			run, finish, err := a.Begin(live, mpass.Scope{})
			if err != nil {
				return err
			}
			err = finish(cancelled)
			if got, ferr := db.FindRun(live, run.ID); ferr != nil || got.Status != mpass.RunFailed {
				t.Errorf("the cancelled run: %+v %v", got, ferr)
			}
			return err
		}},
		{"audit with a cancelled context", func() error {
			_, err := a.Run(cancelled, mpass.Scope{})
			return err
		}},
		{"report data", func() error {
			_, err := a.ReportData(cancelled, done, city, "2026-10-01", "2026-10-31")
			return err
		}},
		{"report drawing", func() error {
			d, err := a.ReportData(live, done, city, "2026-10-01", "2026-10-31")
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			err = reports.RenderContext(cancelled, &buf, d, "fi")
			if buf.Len() > 0 {
				t.Error("a cancelled drawing wrote")
			}
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(); !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
		})
	}
}
