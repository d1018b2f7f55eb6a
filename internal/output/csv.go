package output

import (
	"cmp"
	"encoding/csv"
	"io"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// CSV writes one row per finding, for spreadsheets. Every cell goes through SafeCSV, so
// none that input shaped is read as a formula.
type CSV struct{}

var csvHeader = []string{"policy", "rule", "result", "severity", "sp", "controller", "record", "kind", "time",
	"attribute", "purpose", "subject", "fingerprint", "finding", "change", "exception", "message"}

func (CSV) Output(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	cw.Write(csvHeader)
	err := r.Findings(func(f *mpass.Finding) error {
		// a use whose controller could not be found is in a bucket of its own
		controller := cmp.Or(f.Controller, ControllerUnknownLabel)
		return cw.Write(SafeCSV([]string{f.Term, f.Rule, f.Result, f.Severity, f.SP, controller, f.Record, string(f.Kind),
			f.Time.Format(time.RFC3339Nano), f.Attribute, f.Purpose, f.Subject, f.Fingerprint, f.ID, f.Change,
			firstNonEmpty(f.Exception, f.ExceptionNotApplied), f.Message}))
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
