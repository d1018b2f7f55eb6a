package reports_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/opetushallitus/mpass-audit/internal/audit"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/output"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
	"github.com/opetushallitus/mpass-audit/reports"
)

var update = flag.Bool("update", false, "write the golden samples (make reports)")

const (
	city = "1.2.246.562.10.44444444440"
	town = "1.2.246.562.10.55555555550"
)

// demo audits testdata/demo with a fixed clock and returns the auditor and run.
func demo(t *testing.T) (*audit.Auditor, *mpass.Run) {
	t.Helper()
	db := testenv.MustOpenDB(t)
	db.Now = testenv.Fixed(time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC))
	testenv.MustLoadDemo(t, db)
	a := &audit.Auditor{DB: db, Engine: testenv.MustEngine(t)}
	run, err := a.RunForReport(context.Background(), mpass.Scope{Controller: city, From: "2026-10-01", To: "2026-10-31"})
	if err != nil {
		t.Fatal(err)
	}
	return a, run
}

func render(t *testing.T, a *audit.Auditor, run *mpass.Run, controller, lang string) []byte {
	t.Helper()
	d, err := a.ReportData(context.Background(), run, controller, "2026-10-01", "2026-10-31")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := reports.Render(&buf, d, lang); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestGolden: the same database and run give byte-identical PDFs, equal to the samples
// in golden/ (regenerate them with `make reports` after a deliberate change).
func TestGolden(t *testing.T) {
	a, run := demo(t)
	for _, lang := range reports.Langs {
		pdf := render(t, a, run, city, lang)
		if again := render(t, a, run, city, lang); !bytes.Equal(pdf, again) {
			t.Fatalf("%s: two renders of one run differ", lang)
		}
		golden := filepath.Join("golden", "sample-"+lang+".pdf")
		if *update {
			if err := os.WriteFile(golden, pdf, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run `make reports`)", err)
		}
		if !bytes.Equal(pdf, want) {
			t.Errorf("%s differs from %s; if the change is deliberate, run `make reports` and look at the pages", lang, golden)
		}
	}
}

func tool(t *testing.T, name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed (.ci/run installs poppler-utils and qpdf)", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// TestTextAgreesWithJSON extracts the PDF's text and checks names, OIDs and every
// count against the JSON report of the same run, and that qpdf finds the file sound.
func TestTextAgreesWithJSON(t *testing.T) {
	pdftotext, qpdf := tool(t, "pdftotext"), tool(t, "qpdf")
	a, run := demo(t)
	view, err := a.View(context.Background(), run.ID, []string{city})
	if err != nil {
		t.Fatal(err)
	}
	var js bytes.Buffer
	if err := (output.JSON{}).Output(&js, view); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Results []struct{ Policy, Result string }
	}
	if err := json.Unmarshal(js.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	counts := map[string]map[string]int{}
	for _, r := range rep.Results {
		if counts[r.Policy] == nil {
			counts[r.Policy] = map[string]int{}
		}
		counts[r.Policy][r.Result]++
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "en.pdf")
	if err := os.WriteFile(path, render(t, a, run, city, "en"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(qpdf, "--check", path).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	out, err := exec.Command(pdftotext, "-layout", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(strings.ReplaceAll(string(out), "\u00a0", "")), " ")
	want := []string{"Esimerkkilän kaupunki", city, "2026-10-01 – 2026-10-31", fmt.Sprintf("(%d findings)", len(rep.Results))}
	for _, term := range testenv.MustEngine(t).Terms() {
		c := counts[term.ID]
		var parts []string
		for _, r := range []struct{ key, one, other string }{{"fail", "failed", "failed"}, {"error", "error", "errors"}, {"warn", "warning", "warnings"}, {"skip", "exception", "exceptions"}} {
			if n := c[r.key]; n == 1 {
				parts = append(parts, "1 "+r.one)
			} else if n > 1 {
				parts = append(parts, fmt.Sprintf("%d %s", n, r.other))
			}
		}
		if len(parts) > 0 {
			want = append(want, strings.Join(parts, ", "))
		}
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("PDF text lacks %q", w)
		}
	}
	if strings.Contains(text, town) || strings.Contains(text, "Soađegili") {
		t.Error("the report names another controller")
	}
	for _, secret := range []string{"131052-308T", "eetu.virtanen2012", "MPASSOID."} {
		if strings.Contains(text, secret) {
			t.Errorf("the report shows a value: %q", secret)
		}
	}
}

// TestSamiLetters renders a controller with a Sámi name; the text comes back whole.
func TestSamiLetters(t *testing.T) {
	pdftotext := tool(t, "pdftotext")
	a, _ := demo(t)
	run, err := a.RunForReport(context.Background(), mpass.Scope{Controller: town, From: "2026-10-01", To: "2026-10-31"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "fi.pdf")
	os.WriteFile(path, render(t, a, run, town, "fi"), 0o644)
	out, err := exec.Command(pdftotext, path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "Soađegili gielda") {
		t.Errorf("Sámi name lost:\n%s", out[:min(400, len(out))])
	}
}

func TestUnknownLanguage(t *testing.T) {
	if _, err := reports.LoadTexts("de"); mpass.ErrorCode(err) != mpass.EINVALID {
		t.Errorf("err = %v", err)
	}
}

// TestTextsHaveTheSameKeys: a key in one language is in all, so no page shows a gap.
func TestTextsHaveTheSameKeys(t *testing.T) {
	keys := map[string][]string{}
	for _, lang := range reports.Langs {
		b, err := os.ReadFile(filepath.Join("texts", lang+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for k := range m {
			keys[k] = append(keys[k], lang)
		}
	}
	for k, langs := range keys {
		if len(langs) != len(reports.Langs) {
			t.Errorf("%s only in %v", k, langs)
		}
	}
}

// A school named by its code in some releases and by its OID in others is one school,
// under the registry's name, with the releases of both.
func TestSchoolByCodeAndOIDCountedOnce(t *testing.T) {
	a, run := demo(t)
	d, err := a.ReportData(context.Background(), run, city, "2026-10-01", "2026-10-31")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range d.Schools {
		got = append(got, fmt.Sprintf("%s %s %s %v %d", s.School.Name, s.School.Code, s.School.OID, s.Known, s.Releases))
	}
	// r-0001 names the school by OID (and code), r-0002 and r-0005 by code alone
	want := []string{"Esimerkkilän yhtenäiskoulu 03082 1.2.246.562.10.66666666665 true 3", "Mansikkalan koulu 03083  true 2"}
	if !slices.Equal(got, want) {
		t.Errorf("schools:\n%q\nwant\n%q", got, want)
	}
}

// No records, no verdict (TERMS.md): a period without records says so on its first
// page, and no term is called compliant; in a period with releases but no uses, the
// term that judges uses only has no verdict either.
func TestNoRecordsNoVerdict(t *testing.T) {
	pdftotext := tool(t, "pdftotext")
	a, _ := demo(t)
	for _, tc := range []struct {
		from, to  string
		noRecords bool
		want      []string
		not       []string
	}{
		{"2025-10-01", "2025-10-31", true, []string{"No verdict: the period has no records.", "no records (no verdict)"}, []string{"compliant"}},
		// 2026-10-05: releases of the city, no use
		{"2026-10-05", "2026-10-05", false, []string{"no records (no verdict)"}, []string{"The period has no records"}},
	} {
		run, err := a.RunForReport(context.Background(), mpass.Scope{Controller: city, From: tc.from, To: tc.to})
		if err != nil {
			t.Fatal(err)
		}
		d, err := a.ReportData(context.Background(), run, city, tc.from, tc.to)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "r.pdf")
		var buf bytes.Buffer
		if err := reports.Render(&buf, d, "en"); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(pdftotext, path, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		text := string(out)
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s..%s: the report lacks %q", tc.from, tc.to, w)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(text, w) {
				t.Errorf("%s..%s: the report says %q", tc.from, tc.to, w)
			}
		}
	}
}

// pageCount is the PDF's page count: pdfinfo's where it is installed (CI), else the
// page objects fpdf wrote.
func pageCount(t *testing.T, pdf []byte) int {
	t.Helper()
	if p, err := exec.LookPath("pdfinfo"); err == nil {
		path := filepath.Join(t.TempDir(), "r.pdf")
		if err := os.WriteFile(path, pdf, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(p, path).Output()
		if err != nil {
			t.Fatalf("pdfinfo: %v", err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(line, "Pages:"); ok {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
		}
		t.Fatalf("pdfinfo names no page count:\n%s", out)
	}
	return bytes.Count(pdf, []byte("/Type /Page")) - bytes.Count(pdf, []byte("/Type /Pages"))
}

// Nothing a record holds can crash or bloat a report: a 200,000-character SP id,
// record ids with emoji and control characters, an SP name with a right-to-left
// override, and many SPs with long ids, names and findings render without a panic or
// an error, in at most 40 pages, every string shown printable and cut.
func TestHostileStringsRender(t *testing.T) {
	a, run := demo(t)
	d, err := a.ReportData(context.Background(), run, city, "2026-10-01", "2026-10-31")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Groups) == 0 || len(d.SPs) == 0 {
		t.Fatal("the demo report has no groups or SPs")
	}
	huge := strings.Repeat("x", 200000)
	d.Groups[0].Records = append(d.Groups[0].Records, "r-\U0001F600-\x07", "r-\u202Eexe.gpj", "r-\x00\x1b[31m\n")
	d.Groups[0].SP = huge
	d.SPs[0].ID, d.SPs[0].Name = huge, "Palvelu \U0001F4DA \u202Egnp.exe\u202C \u2067\u200F"
	d.Controller.Names = map[string]string{"fi": "Kunta\r\n\tX\U0001F3EB"}
	d.Exceptions = append(d.Exceptions, mpass.Exception{ID: "e-\U0001F600", Term: "data-minimisation", SP: huge, Reason: strings.Repeat("syy ", 50000), Expires: "2027-01-01"})
	for i := range 40 {
		id := fmt.Sprintf("https://sp-%02d.example/%s\U0001F600", i, strings.Repeat("polku/", 500))
		d.SPs = append(d.SPs, reports.SPSummary{ID: id, Name: strings.Repeat("Pitkä palvelun nimi ", 100), Known: true, Releases: 1,
			Received: []reports.AttributeCount{{Name: strings.Repeat("urn:attr:", 100), Count: 1}}})
		d.Groups = append(d.Groups, reports.FindingGroup{Term: d.Groups[0].Term, Rule: d.Groups[0].Rule, SP: id, Severity: "high", Fail: 1,
			First: d.Groups[0].First, Last: d.Groups[0].Last, Records: []string{strings.Repeat("r\U0001F600", 1000)}, Subjects: []string{strings.Repeat("s", 1000)}})
		d.Schools = append(d.Schools, reports.SchoolSummary{School: mpass.School{Name: strings.Repeat("koulu\u202E", 1000), Code: strings.Repeat("0", 1000)}, Releases: 1})
	}
	var buf bytes.Buffer
	if err := reports.Render(&buf, d, "fi"); err != nil {
		t.Fatal(err)
	}
	pages := pageCount(t, buf.Bytes())
	t.Logf("%d pages", pages)
	if pages > 40 {
		t.Errorf("%d pages", pages)
	}
	for _, s := range []string{d.SPs[0].ID, d.SPs[0].Name, d.Groups[0].SP, d.Exceptions[len(d.Exceptions)-1].Reason, d.Controller.Names["fi"]} {
		if utf8.RuneCountInString(s) > 480 {
			t.Errorf("not cut: %d runes", utf8.RuneCountInString(s))
		}
		for _, bad := range []string{"\U0001F600", "\U0001F4DA", "\u202E", "\u2067", "\u200F", "\x07", "\x00", "\n", "\r"} {
			if strings.Contains(s, bad) {
				t.Errorf("%.40q… holds %q", s, bad)
			}
		}
	}
	if !strings.Contains(d.Groups[0].Records[len(d.Groups[0].Records)-1], "\uFFFD") || !strings.Contains(d.SPs[0].Name, "\uFFFD") {
		t.Errorf("not replaced visibly: %q %q", d.Groups[0].Records, d.SPs[0].Name)
	}
}

// TestTallRowContinues: a row taller than a page (an SP that received 150 attributes)
// continues on the next pages at full height: every line of it is in the PDF, in order,
// and the rows after it follow.
func TestTallRowContinues(t *testing.T) {
	pdftotext := tool(t, "pdftotext")
	a, run := demo(t)
	d, err := a.ReportData(context.Background(), run, city, "2026-10-01", "2026-10-31")
	if err != nil {
		t.Fatal(err)
	}
	var received []reports.AttributeCount
	for i := range 150 {
		received = append(received, reports.AttributeCount{Name: fmt.Sprintf("attribute-%03d", i), Count: int64(i + 1), Approved: true})
	}
	d.SPs[0].Received = received
	var buf bytes.Buffer
	if err := reports.Render(&buf, d, "en"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tall.pdf")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text, at := string(out), 0
	for i := range 150 {
		j := strings.Index(text[at:], fmt.Sprintf("attribute-%03d", i))
		if j < 0 {
			t.Fatalf("attribute-%03d missing or out of order", i)
		}
		at += j
	}
	if !strings.Contains(text[at:], d.SPs[1].Name) {
		t.Errorf("the row after the tall one (%s) is missing", d.SPs[1].Name)
	}
}

// TestGradeHasNoFingerprint (issue 14): the grade level is kept in clear, so no finding
// on it, and no stored release, carries a fingerprint that the grade beside it would
// decode.
func TestGradeHasNoFingerprint(t *testing.T) {
	a, run := demo(t)
	n := 0
	err := a.DB.Findings(context.Background(), mpass.FindingFilter{RunID: run.ID}, func(f *mpass.Finding) error {
		if f.Attribute == "urn:mpass.id:classLevel" {
			n++
			if f.Fingerprint != "" {
				t.Errorf("finding %s on the grade level has fingerprint %s", f.ID, f.Fingerprint)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("the demo has no finding on the grade level: the test proves nothing")
	}
}
