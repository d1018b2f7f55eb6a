package http_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/i18n"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

var (
	tagRe     = regexp.MustCompile(`(?s)<[^>]*>`)
	attrTexts = regexp.MustCompile(`(?:placeholder|title|aria-label)="([^"]*)"`)
	verbRe    = regexp.MustCompile(`%[sdv]|\{\{\.N\}\}`)
)

// visibleText is what a reader of a page sees: its text and the attributes a browser
// shows (placeholders, titles), tags left out.
func visibleText(page string) string {
	var b strings.Builder
	for _, m := range attrTexts.FindAllStringSubmatch(page, -1) {
		b.WriteString(html.UnescapeString(m[1]) + "\n")
	}
	b.WriteString(html.UnescapeString(tagRe.ReplaceAllString(page, "\n")))
	return b.String()
}

// englishOnly are the English strings a page in lang must not show: every message of
// the shared catalogue and the pages' own, and every term and rule title, that differs
// in lang — as patterns, a count or a filled-in verb matching any text.
func englishOnly(t *testing.T, lang string) map[string]*regexp.Regexp {
	t.Helper()
	c, err := i18n.NewCatalog(os.DirFS("texts"))
	if err != nil {
		t.Fatal(err)
	}
	en, _ := c.Words("en")
	other, _ := c.Words(lang)
	out := map[string]*regexp.Regexp{}
	add := func(name, enText, otherText string) {
		if enText == otherText || strings.TrimSpace(verbRe.ReplaceAllString(enText, "")) == "" {
			return
		}
		parts := verbRe.Split(enText, -1)
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		out[name+" "+enText] = regexp.MustCompile(`(?:^|[^\pL])` + strings.Join(parts, `.*?`) + `(?:$|[^\pL])`)
	}
	for _, id := range c.IDs("en") {
		if en.Get(id) != "["+id+"]" { // a plain message
			add(id, en.Get(id), other.Get(id))
			continue
		}
		for _, n := range []int64{1, 2} { // a counted one: both forms
			add(id, strings.Replace(en.N(id, n), fmt.Sprint(n), "{{.N}}", 1), strings.Replace(other.N(id, n), fmt.Sprint(n), "{{.N}}", 1))
		}
	}
	for _, term := range testenv.MustEngine(t).Terms() {
		add("term "+term.ID, term.Title, term.Text(lang).Title)
		for _, r := range term.Rules {
			add("rule "+r.ID, r.Title, r.Text(lang).Title)
		}
	}
	return out
}

// TestPagesSpeakTheReadersLanguage: the Finnish and Swedish pages — home, run page,
// error pages — show no English word of the catalogues, nor a rule's English title,
// nor a message id in brackets (a gap in the catalogue).
func TestPagesSpeakTheReadersLanguage(t *testing.T) {
	e := newEnv(t)
	allowCity(t, e)
	run := "/runs/" + itoa(e.runs["all"])
	for _, lang := range []string{"fi", "sv"} {
		forbidden := englishOnly(t, lang)
		if len(forbidden) < 50 {
			t.Fatalf("%s: only %d English strings to look for", lang, len(forbidden))
		}
		// the scan finds English where there is English: the English run page
		english := visibleText(e.do(t, "auditor", "GET", run+"?lang=en", "").Body.String())
		if n := len(slices.DeleteFunc(slices.Collect(maps.Values(forbidden)), func(re *regexp.Regexp) bool { return !re.MatchString(english) })); n < 20 {
			t.Errorf("%s: the scan finds only %d English strings on the English run page", lang, n)
		}
		for _, tc := range []struct {
			who, path string
			status    int
		}{
			{"dpo-city", "/", 200},
			{"auditor", "/", 200},
			{"auditor", "/?q=kaupunki", 200},
			{"dpo-city", run, 200},
			{"auditor", run, 200},
			{"auditor", run + "?severity=critical", 200},
			{"auditor", run + "?controller=unknown", 200},
			{"dpo-city", "/report?controller=" + city + "&period=2026-13", 400},
			{"dpo-city", "/report?controller=1.2.246.562.10.44444444441&period=2026-10", 400},
			{"dpo-city", "/report?controller=" + town + "&period=2026-10", 404},
			{"dpo-city", "/runs/999999", 404},
			{"dpo-city", "/runs/" + itoa(e.runs["town"]), 404},
		} {
			path := tc.path + map[bool]string{true: "&", false: "?"}[strings.Contains(tc.path, "?")] + "lang=" + lang
			w := e.do(t, tc.who, "GET", path, "")
			if w.Code != tc.status {
				t.Errorf("%s as %s: %d, want %d", path, tc.who, w.Code, tc.status)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("%s: Content-Type %q, want a page", path, ct)
			}
			text := visibleText(w.Body.String())
			for name, re := range forbidden {
				if m := re.FindString(text); m != "" {
					t.Errorf("%s as %s shows English %s: %q", path, tc.who, name, strings.TrimSpace(m))
				}
			}
			if m := regexp.MustCompile(`\[[a-z_]+\]`).FindString(text); m != "" {
				t.Errorf("%s as %s shows a missing message %s", path, tc.who, m)
			}
		}
	}
}

// TestReportFormErrorIsAPage: a bad period in the report form answers 400 with an HTML
// page in the reader's language that names the period and leads back to the form;
// the API keeps answering JSON.
func TestReportFormErrorIsAPage(t *testing.T) {
	e := newEnv(t)
	for lang, want := range map[string]string{
		"fi": "Ajanjakso ”2026-13” ei kelpaa",
		"sv": "Perioden ”2026-13” är ogiltig",
		"en": "The period “2026-13” is not valid",
	} {
		w := e.do(t, "dpo-city", "GET", "/report?controller="+city+"&period=2026-13&report_lang=fi&lang="+lang, "")
		body := w.Body.String()
		if w.Code != http.StatusBadRequest || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d %s", lang, w.Code, w.Header().Get("Content-Type"))
		}
		if !strings.Contains(body, want) || !strings.Contains(body, `href="/#report"`) || !strings.Contains(body, `<html lang="`+lang+`">`) {
			t.Errorf("%s: the page does not say what is wrong and lead back: %s", lang, visibleText(body))
		}
	}
	// a well-formed period that is only too long says so, not that its format is wrong
	for lang, want := range map[string]string{"fi": "enintään 36 kuukautta", "sv": "högst 36 månader", "en": "at most 36 months"} {
		w := e.do(t, "dpo-city", "GET", "/report?controller="+city+"&period=0001-01-01..9999-12-31&lang="+lang, "")
		if body := visibleText(w.Body.String()); w.Code != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("%s: a 9999-year period: %d %s", lang, w.Code, body)
		}
	}
	if w := e.do(t, "dpo-city", "GET", "/report?controller="+city+"&period=2026-10&report_lang=sv", ""); w.Code != 200 || w.Header().Get("Content-Type") != "application/pdf" {
		t.Errorf("a good form: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	if w := e.do(t, "dpo-city", "GET", "/api/v1/reports/"+city+"/2026-13.pdf", ""); w.Code != 400 || w.Header().Get("Content-Type") != "application/json" {
		t.Errorf("the API: %d %s, want JSON", w.Code, w.Header().Get("Content-Type"))
	}
}

var findingRow = regexp.MustCompile(`<tr data-severity="([^"]*)" data-term="([^"]*)" data-sp="([^"]*)" data-result="([^"]*)" data-controller="([^"]*)">`)

// TestRunPageFilters: each filter lists exactly the findings the store holds for it
// in the caller's scope, most severe first; the CSV has the same rows.
func TestRunPageFilters(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id := e.runs["all"]
	const shop, quiz = "https://sp.example-shop.fi/shibboleth", "https://quiz.example.com/saml"
	for _, tc := range []struct {
		who, query string
		filter     mpass.FindingFilter
	}{
		{"auditor", "", mpass.FindingFilter{}},
		{"auditor", "severity=critical", mpass.FindingFilter{Severity: "critical"}},
		{"auditor", "severity=medium", mpass.FindingFilter{Severity: "medium"}},
		{"auditor", "term=data-minimisation", mpass.FindingFilter{Term: "data-minimisation"}},
		{"auditor", "sp=" + shop, mpass.FindingFilter{SP: shop}},
		{"auditor", "result=warn", mpass.FindingFilter{Result: "warn"}},
		{"auditor", "result=skip&sp=" + quiz, mpass.FindingFilter{Result: "skip", SP: quiz}},
		{"auditor", "severity=high&term=data-minimisation", mpass.FindingFilter{Severity: "high", Term: "data-minimisation"}},
		{"auditor", "controller=unknown", mpass.FindingFilter{Controllers: []string{""}}},
		{"dpo-city", "", mpass.FindingFilter{Controllers: []string{city}}},
		{"dpo-city", "severity=critical", mpass.FindingFilter{Controllers: []string{city}, Severity: "critical"}},
		{"dpo-city", "controller=unknown", mpass.FindingFilter{Controllers: []string{city}}}, // not a DPO's
		{"dpo-town", "result=fail&term=no-age-inference", mpass.FindingFilter{Controllers: []string{town}, Result: "fail", Term: "no-age-inference"}},
		{"dpo-town", "severity=bogus", mpass.FindingFilter{Controllers: []string{town}}}, // ignored
	} {
		tc.filter.RunID = id
		var want []mpass.Finding
		if err := e.db.Findings(ctx, tc.filter, func(f *mpass.Finding) error { want = append(want, *f); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 && tc.query != "" && !strings.Contains(tc.query, "bogus") {
			t.Errorf("%s: the demo has no such findings; the case tests nothing", tc.query)
		}
		w := e.do(t, tc.who, "GET", "/runs/"+itoa(id)+"?lang=en&"+tc.query, "")
		rows := findingRow.FindAllStringSubmatch(w.Body.String(), -1)
		if w.Code != 200 || len(rows) != len(want) {
			t.Errorf("%s as %s: %d rows (status %d), want %d", tc.query, tc.who, len(rows), w.Code, len(want))
			continue
		}
		for i, row := range rows {
			if i > 0 && mpass.SeverityRank(row[1]) < mpass.SeverityRank(rows[i-1][1]) {
				t.Errorf("%s: %s after %s: not most severe first", tc.query, row[1], rows[i-1][1])
			}
			f := tc.filter
			if (f.Severity != "" && row[1] != f.Severity) || (f.Term != "" && row[2] != f.Term) || (f.SP != "" && html.UnescapeString(row[3]) != f.SP) ||
				(f.Result != "" && row[4] != f.Result) || (f.Controllers != nil && !slices.Contains(f.Controllers, row[5])) {
				t.Errorf("%s as %s lists %v", tc.query, tc.who, row[1:])
			}
		}
		if n := len(want); n > 0 && !strings.Contains(w.Body.String(), fmt.Sprintf("rows 1–%d of %d", n, n)) {
			t.Errorf("%s: no \"rows 1–%d of %d\"", tc.query, n, n)
		}
		recs := readCSV(t, e.do(t, tc.who, "GET", "/runs/"+itoa(id)+"/findings.csv?lang=en&"+tc.query, "").Body.String())
		if len(recs)-1 != len(want) {
			t.Errorf("CSV %s as %s: %d rows, want %d", tc.query, tc.who, len(recs)-1, len(want))
		}
	}
}

// TestRunPagePages: more findings than a page holds are paged, previous and next, with
// rows a–b of n, and the pages together list each finding once.
func TestRunPagePages(t *testing.T) {
	e := newEnv(t)
	var lines []string
	for i := range 230 {
		lines = append(lines, fmt.Sprintf(`{"kind":"release","id":"p-%03d","time":"2026-11-02T08:00:00Z","sp":"https://unknown-games.example.net/sp","controller":"%s","subject":"MPASSOID.p%03d","attributes":{"urn:mpass.id:uid":["x"]}}`, i, city, i))
	}
	testenv.MustIngest(t, e.db, "jsonl", strings.Join(lines, "\n")+"\n")
	run, err := e.srv.Auditor.Run(context.Background(), mpass.Scope{From: "2026-11-01", To: "2026-11-30"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for page, want := range []string{"rows 1–100 of 230 · page 1 of 3", "rows 101–200 of 230 · page 2 of 3", "rows 201–230 of 230 · page 3 of 3"} {
		body := strings.ReplaceAll(e.do(t, "dpo-city", "GET", fmt.Sprintf("/runs/%d?lang=en&page=%d", run.ID, page+1), "").Body.String(), "<wbr>", "")
		if !strings.Contains(body, want) {
			t.Errorf("page %d lacks %q", page+1, want)
		}
		if (page > 0) != strings.Contains(body, `rel="prev"`) || (page < 2) != strings.Contains(body, `rel="next"`) {
			t.Errorf("page %d: previous/next links wrong", page+1)
		}
		for _, m := range regexp.MustCompile(`p-\d{3}`).FindAllString(body, -1) {
			if seen[m] && page > 0 {
				t.Errorf("%s on two pages", m)
			}
			seen[m] = true
		}
	}
	if len(seen) != 230 {
		t.Errorf("the pages list %d records, want 230", len(seen))
	}
}

func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	s, ok := strings.CutPrefix(s, "\uFEFF")
	if !ok {
		t.Error("the CSV has no byte order mark")
	}
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v", err)
	}
	return recs
}

// TestFindingsCSV: a DPO's CSV holds its controllers' findings only, and a cell that a
// spreadsheet would evaluate is neutralised with a leading apostrophe.
func TestFindingsCSV(t *testing.T) {
	e := newEnv(t)
	hostile := fmt.Sprintf(`{"kind":"release","id":"=HYPERLINK(\"http://evil.example/\")","time":"2026-10-20T08:00:00Z","sp":"@SUM(1+1)","controller":"%s","subject":"MPASSOID.h1","attributes":{"urn:mpass.id:uid":["x"]}}
{"kind":"release","id":"-2+3","time":"2026-10-20T08:00:00Z","sp":"+cmd","controller":"%s","subject":"MPASSOID.h2","attributes":{"urn:mpass.id:uid":["x"]}}
`, city, city)
	if res := testenv.MustIngest(t, e.db, "jsonl", hostile); res.Stored != 2 {
		t.Fatalf("hostile records: %+v", res)
	}
	run, err := e.srv.Auditor.Run(context.Background(), mpass.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	w := e.do(t, "dpo-city", "GET", "/runs/"+itoa(run.ID)+"/findings.csv?lang=fi", "")
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") || !strings.Contains(w.Header().Get("Content-Disposition"), "attachment") {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	recs := readCSV(t, w.Body.String())
	head := recs[0]
	oid := slices.Index(head, "Rekisterinpitäjän OID")
	if oid < 0 || len(recs) < 4 {
		t.Fatalf("header %v, %d rows", head, len(recs))
	}
	if strings.Contains(w.Body.String(), town) || strings.Contains(w.Body.String(), "u-orphan") {
		t.Error("the city's CSV holds another controller's or a controller-unknown finding")
	}
	var hostileCells int
	for _, rec := range recs[1:] {
		if rec[oid] != city {
			t.Errorf("a row of %q", rec[oid])
		}
		for _, c := range rec {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Errorf("cell %q would be evaluated", c)
			}
			if strings.HasPrefix(c, "'=HYPERLINK") || c == "'@SUM(1+1)" || c == "'-2+3" || c == "'+cmd" {
				hostileCells++
			}
		}
	}
	if hostileCells < 4 {
		t.Errorf("%d neutralised cells, want the record ids and SPs of both hostile records", hostileCells)
	}
	if other := e.do(t, "dpo-city", "GET", "/runs/"+itoa(e.runs["town"])+"/findings.csv", ""); other.Code != 404 {
		t.Errorf("another controller's run as CSV: %d", other.Code)
	}
}

// TestControllerUnknownBucket: findings whose controller could not be found (the
// use u-orphan) are an auditor's own group, labelled so; never a DPO's.
func TestControllerUnknownBucket(t *testing.T) {
	e := newEnv(t)
	run := "/runs/" + itoa(e.runs["all"])
	auditor := e.do(t, "auditor", "GET", run+"?lang=fi", "").Body.String()
	i := strings.Index(auditor, `<section class="card unknown">`)
	if i < 0 || !strings.Contains(auditor[i:], "rekisterinpitäjä tuntematon") || !strings.Contains(auditor[i:], "Quiz Games Ltd") {
		t.Fatalf("the auditor's run page has no controller-unknown group")
	}
	unknown := e.do(t, "auditor", "GET", run+"?lang=fi&controller=unknown", "").Body.String()
	if rows := findingRow.FindAllStringSubmatch(unknown, -1); len(rows) == 0 || slices.ContainsFunc(rows, func(r []string) bool { return r[5] != "" }) {
		t.Errorf("the controller-unknown filter lists %v", rows)
	}
	for _, who := range []string{"dpo-city", "dpo-town"} {
		for _, q := range []string{"?lang=fi", "?lang=fi&controller=unknown"} {
			page := e.do(t, who, "GET", run+q, "").Body.String()
			if strings.Contains(page, "tuntematon") || strings.Contains(page, "u-orphan") || strings.Contains(page, `data-controller=""`) {
				t.Errorf("%s%s shows controller-unknown findings", who, q)
			}
		}
	}
}

// TestNoRecordsNoVerdict: a run that judged nothing in the caller's scope says "no
// records", never "compliant" (TERMS.md).
func TestNoRecordsNoVerdict(t *testing.T) {
	e := newEnv(t)
	run, err := e.srv.Auditor.Run(context.Background(), mpass.Scope{From: "2020-01-01", To: "2020-01-31"})
	if err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string]string{"fi": "ei kirjauksia (ei arviota)", "sv": "inga poster (ingen bedömning)", "en": "no records (no verdict)"} {
		page := visibleText(e.do(t, "dpo-city", "GET", "/runs/"+itoa(run.ID)+"?lang="+lang, "").Body.String())
		if !strings.Contains(page, want) {
			t.Errorf("%s: no %q", lang, want)
		}
		for _, compliant := range []string{"vaatimusten mukainen", "förenlig med kraven", "compliant"} {
			if strings.Contains(page, compliant) {
				t.Errorf("%s: says %q of a run that judged nothing", lang, compliant)
			}
		}
	}
	if home := visibleText(e.do(t, "dpo-city", "GET", "/?lang=fi", "").Body.String()); !regexp.MustCompile(`2020-01-01\.\.2020-01-31 ·\s*ei kirjauksia \(ei arviota\)`).MatchString(home) {
		t.Errorf("the home page's list of audits does not say the run judged no records")
	}
	// the city's own run of October judged records: compliant words are allowed there,
	// and the summary counts with plural forms
	page := visibleText(e.do(t, "dpo-city", "GET", "/runs/"+itoa(e.runs["city"])+"?lang=fi", "").Body.String())
	if strings.Contains(page, "ei kirjauksia") || !regexp.MustCompile(`\d+ hylättyä`).MatchString(page) {
		t.Errorf("the city's run: %s", first(page))
	}
}

// TestAuditorHome: actions come first; the controller list is searched by name or OID
// on the server and paged, and the report form's controller field offers them all.
func TestAuditorHome(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reg, err := e.db.LatestRegistry(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 298 {
		oid := mpass.OrganisationOID(int64(7000000000 + i))
		reg.Controllers = append(reg.Controllers, mpass.Controller{OID: oid, Name: fmt.Sprintf("Kunta %03d", i)})
	}
	if err := e.db.CreateRegistry(ctx, reg); err != nil {
		t.Fatal(err)
	}
	page := e.do(t, "auditor", "GET", "/?lang=fi", "").Body.String()
	if a, b := strings.Index(page, `action="/runs"`), strings.Index(page, `id="controllers"`); a < 0 || b < a {
		t.Error("the start-audit form is not above the controller list")
	}
	if n := strings.Count(page, `<option value="1.2.246.562.10.`); n != 300 {
		t.Errorf("the datalist offers %d controllers, want 300", n)
	}
	if n := strings.Count(page, "<li><strong>"); n != 20 || !strings.Contains(page, "rivit 1–20 / 300 · sivu 1 / 15") {
		t.Errorf("the first page lists %d controllers", n)
	}
	found := e.do(t, "auditor", "GET", "/?lang=fi&q="+reg.Controllers[100].OID, "").Body.String()
	if n := strings.Count(found, "<li><strong>"); n != 1 || !strings.Contains(found, reg.Controllers[100].Name) {
		t.Errorf("search by OID lists %d", n)
	}
	found = e.do(t, "auditor", "GET", "/?lang=fi&q=kunta+01", "").Body.String()
	if n := strings.Count(found, "<li><strong>"); n != 10 {
		t.Errorf("search by name lists %d, want Kunta 010–019", n)
	}
	if none := e.do(t, "auditor", "GET", "/?lang=sv&q=zzz", "").Body.String(); !strings.Contains(none, "Ingen personuppgiftsansvarig motsvarar sökningen.") {
		t.Error("no word for a search without matches")
	}
	if dpo := e.do(t, "dpo-city", "GET", "/?lang=fi", "").Body.String(); strings.Contains(dpo, "Kunta 001") || strings.Contains(dpo, `name="q"`) {
		t.Error("a DPO's home lists other controllers or a search")
	}
}
