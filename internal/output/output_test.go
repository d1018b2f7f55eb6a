package output_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/output"
)

func sample() *output.Report {
	t0 := time.Date(2026, 10, 5, 7, 58, 12, 500, time.UTC)
	findings := []mpass.Finding{
		{ID: "f1", Term: "no-age-inference", Rule: "age-revealing-value", Result: "fail", Severity: "critical", Message: "m, with \"quotes\"",
			Record: "r-1", Kind: mpass.KindRelease, Time: t0, SP: "sp1", Controller: "c1", Subject: "p1", Attribute: "urn:mpass.id:nickname", Fingerprint: "fp", Change: "new"},
		{ID: "f2", Term: "data-minimisation", Rule: "unapproved-attribute", Result: "skip", Severity: "medium", Record: "r-2",
			Kind: mpass.KindRelease, Time: t0, SP: "sp2", Controller: "c1", Exception: "EX-1", Change: "persisting"},
	}
	each := func(list []mpass.Finding) func(func(*mpass.Finding) error) error {
		return func(fn func(*mpass.Finding) error) error {
			for i := range list {
				if err := fn(&list[i]); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return &output.Report{
		Run:      &mpass.Run{ID: 42, Started: t0, Finished: t0.Add(time.Second), Previous: 41, Scope: mpass.Scope{From: "2026-10-01", To: "2026-10-31"}},
		Summary:  mpass.Summary{Pass: 10, Fail: 1, Skip: 1},
		Terms:    []mpass.Term{{ID: "no-age-inference", Category: "MPASSid terms"}, {ID: "data-minimisation"}, {ID: "identification-only"}},
		Findings: each(findings),
		Resolved: each(findings[1:]),
	}
}

func TestJSONShape(t *testing.T) {
	var buf bytes.Buffer
	if err := (output.JSON{}).Output(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	var r struct {
		APIVersion string `json:"apiVersion"`
		Kind       string
		Metadata   map[string]string
		Run        map[string]any
		Summary    map[string]int
		Results    []struct {
			Policy, Rule, Result, Severity, Category, Message string
			Timestamp                                         struct{ Seconds, Nanos int64 }
			Properties                                        map[string]string
		}
		Resolved []map[string]string
	}
	if err := json.Unmarshal(buf.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if r.APIVersion != "openreports.io/v1alpha1" || r.Kind != "Report" || r.Metadata["name"] != "audit-42" || r.Summary["pass"] != 10 {
		t.Errorf("head = %+v", r)
	}
	if r.Run["from"] != "2026-10-01" || r.Run["started"] != "2026-10-05T07:58:12Z" {
		t.Errorf("run = %v", r.Run)
	}
	x := r.Results[0]
	if x.Category != "MPASSid terms" || x.Timestamp.Seconds != 1791187092 || x.Timestamp.Nanos != 500 || x.Properties["fingerprint"] != "fp" ||
		x.Properties["finding"] != "f1" || x.Properties["change"] != "new" || x.Properties["record"] != "r-1" {
		t.Errorf("result = %+v", x)
	}
	if r.Results[1].Properties["exception"] != "EX-1" || len(r.Resolved) != 1 || r.Resolved[0]["finding"] != "f2" {
		t.Errorf("exception or resolved: %+v %+v", r.Results[1], r.Resolved)
	}
}

func TestCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := (output.CSV{}).Output(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][0] != "policy" || rows[1][len(rows[1])-1] != `m, with "quotes"` || rows[2][15] != "EX-1" {
		t.Fatalf("rows = %q, %v", rows, err)
	}
}

func TestTable(t *testing.T) {
	var buf bytes.Buffer
	if err := (output.Table{}).Output(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	for _, want := range []string{"Audit run 42", "2026-10-01..2026-10-31", "pass 10  fail 1", "against run 41: 1 resolved", "identification-only", "compliant", "sp1"} {
		if !strings.Contains(s, want) {
			t.Errorf("table lacks %q:\n%s", want, s)
		}
	}
}

func TestGet(t *testing.T) {
	for _, f := range output.Formats {
		if _, err := output.Get(f); err != nil {
			t.Error(err)
		}
	}
	if _, err := output.Get("xml"); mpass.ErrorCode(err) != mpass.EINVALID {
		t.Error("xml accepted")
	}
}
