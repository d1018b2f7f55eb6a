package http_test

import (
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

type resultJSON struct {
	Policy     string            `json:"policy"`
	Rule       string            `json:"rule"`
	Result     string            `json:"result"`
	Severity   string            `json:"severity"`
	Properties map[string]string `json:"properties"`
}

type pageJSON struct {
	Results  []resultJSON     `json:"results"`
	Resolved []map[string]any `json:"resolved"`
	Next     *string          `json:"next"`
}

// getPage fetches one page of a run's results as who and decodes it.
func getPage(t *testing.T, e *env, who, path string) (pageJSON, string) {
	t.Helper()
	w := e.do(t, who, "GET", path, "")
	if w.Code != 200 {
		t.Fatalf("%s: %d %s", path, w.Code, w.Body)
	}
	var p pageJSON
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, w.Body)
	}
	return p, w.Header().Get("Link")
}

// allPages follows the run's pages from query on and answers their results, in order.
func allPages(t *testing.T, e *env, who string, run int64, query url.Values, limit int) []string {
	t.Helper()
	var out []string
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("limit", strconv.Itoa(limit))
	for n := 0; ; n++ {
		if n > 1000 {
			t.Fatal("the pages do not end")
		}
		p, link := getPage(t, e, who, "/api/v1/runs/"+itoa(run)+"?"+q.Encode())
		if len(p.Results) > limit {
			t.Fatalf("a page of limit %d has %d results", limit, len(p.Results))
		}
		for _, r := range p.Results {
			out = append(out, r.Properties["finding"])
		}
		if p.Next == nil {
			if link != "" {
				t.Errorf("last page has a Link %q", link)
			}
			return out
		}
		if len(p.Results) != limit {
			t.Fatalf("a page before the last has %d results, want %d", len(p.Results), limit)
		}
		if !strings.Contains(link, "cursor="+url.QueryEscape(*p.Next)) || !strings.HasSuffix(link, `rel="next"`) {
			t.Errorf("Link %q does not name the next page's cursor %q", link, *p.Next)
		}
		q.Set("cursor", *p.Next)
	}
}

// TestResultPages: for several filters and limits, the pages of a run's results
// concatenated are the unpaged answer, each page obeys the filters and the documented
// order (policy, rule, sp, record, attribute).
func TestResultPages(t *testing.T) {
	e := newEnv(t)
	run := e.runs["all"]
	whole, _ := getPage(t, e, "auditor", "/api/v1/runs/"+itoa(run)+"?limit=10000")
	if whole.Next != nil {
		t.Fatal("the whole run does not fit one page of 10000")
	}
	if len(whole.Results) < 5 {
		t.Fatalf("too few results (%d) to page", len(whole.Results))
	}
	for i := 1; i < len(whole.Results); i++ {
		a, b := whole.Results[i-1], whole.Results[i]
		ka := []string{a.Policy, a.Rule, a.Properties["sp"], a.Properties["record"], a.Properties["attribute"], a.Properties["finding"]}
		kb := []string{b.Policy, b.Rule, b.Properties["sp"], b.Properties["record"], b.Properties["attribute"], b.Properties["finding"]}
		if slices.Compare(ka, kb) >= 0 {
			t.Fatalf("results %d and %d out of order: %v, %v", i-1, i, ka, kb)
		}
	}
	first := whole.Results[0]
	var inTown resultJSON
	for _, r := range whole.Results {
		if r.Properties["controller"] == town {
			inTown = r
		}
	}
	filters := []struct {
		name string
		q    url.Values
		keep func(resultJSON) bool
	}{
		{"none", url.Values{}, func(resultJSON) bool { return true }},
		{"controller", url.Values{"controller": {city}}, func(r resultJSON) bool { return r.Properties["controller"] == city }},
		{"policy", url.Values{"policy": {first.Policy}}, func(r resultJSON) bool { return r.Policy == first.Policy }},
		{"policy+rule", url.Values{"policy": {first.Policy}, "rule": {first.Rule}}, func(r resultJSON) bool { return r.Policy == first.Policy && r.Rule == first.Rule }},
		{"sp", url.Values{"sp": {first.Properties["sp"]}}, func(r resultJSON) bool { return r.Properties["sp"] == first.Properties["sp"] }},
		{"result", url.Values{"result": {"fail"}}, func(r resultJSON) bool { return r.Result == "fail" }},
		{"severity", url.Values{"severity": {first.Severity}}, func(r resultJSON) bool { return r.Severity == first.Severity }},
		{"controller+result", url.Values{"controller": {town}, "result": {inTown.Result}}, func(r resultJSON) bool {
			return r.Properties["controller"] == town && r.Result == inTown.Result
		}},
		{"nothing matches", url.Values{"sp": {"https://nowhere.example/saml"}}, func(resultJSON) bool { return false }},
	}
	for _, f := range filters {
		var want []string
		for _, r := range whole.Results {
			if f.keep(r) {
				want = append(want, r.Properties["finding"])
			}
		}
		if f.name != "nothing matches" && len(want) == 0 {
			t.Fatalf("%s: the filter keeps nothing of the run; choose another", f.name)
		}
		for _, limit := range []int{1, 2, 3, 7, len(want), len(want) + 1, 10000} {
			if limit < 1 {
				continue
			}
			got := allPages(t, e, "auditor", run, f.q, limit)
			if !slices.Equal(got, want) {
				t.Errorf("%s, limit %d: pages give %d results %v, unpaged %d %v", f.name, limit, len(got), got, len(want), want)
			}
		}
	}
}

// TestResultPageKeepsVerdicts: a page, filtered or not, has the summary and the
// terms' verdicts of the whole run as the caller may see it.
func TestResultPageKeepsVerdicts(t *testing.T) {
	e := newEnv(t)
	head := func(path string) string {
		var v struct {
			Summary json.RawMessage `json:"summary"`
			Terms   json.RawMessage `json:"terms"`
		}
		if err := json.Unmarshal(e.do(t, "dpo-city", "GET", path, "").Body.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		return string(v.Summary) + string(v.Terms)
	}
	all := "/api/v1/runs/" + itoa(e.runs["all"])
	want := head(all + "?limit=10000")
	for _, q := range []string{"?limit=1", "?result=warn&limit=1", "?policy=nothing"} {
		if got := head(all + q); got != want {
			t.Errorf("%s: %s, want %s", q, got, want)
		}
	}
}

// TestResultPagesDefaultLimit: without limit a page holds at most 1000 results.
func TestResultPagesDefaultLimit(t *testing.T) {
	e := newEnv(t)
	p, _ := getPage(t, e, "auditor", "/api/v1/runs/"+itoa(e.runs["all"]))
	full, _ := getPage(t, e, "auditor", "/api/v1/runs/"+itoa(e.runs["all"])+"?limit=10000")
	if want := min(1000, len(full.Results)); len(p.Results) != want {
		t.Errorf("default page has %d results, want %d", len(p.Results), want)
	}
}

// TestResultFiltersKeepScope: a DPO's filters narrow its own controllers' results and
// never widen them; another controller answers exactly as a run it cannot see.
func TestResultFiltersKeepScope(t *testing.T) {
	e := newEnv(t)
	all := "/api/v1/runs/" + itoa(e.runs["all"])
	missing := e.do(t, "dpo-city", "GET", "/api/v1/runs/999999", "")
	for _, q := range []string{"?controller=" + town, "?controller=" + nowhere, "?controller=" + town + "&limit=1"} {
		w := e.do(t, "dpo-city", "GET", all+q, "")
		if w.Code != missing.Code || w.Body.String() != missing.Body.String() {
			t.Errorf("%s: %d %s, a missing run answers %d %s", q, w.Code, w.Body, missing.Code, missing.Body)
		}
		c := e.do(t, "dpo-city", "GET", all+"/findings.csv"+q, "")
		if c.Code != missing.Code || c.Body.String() != missing.Body.String() {
			t.Errorf("findings.csv%s: %d %s, a missing run answers %d %s", q, c.Code, c.Body, missing.Code, missing.Body)
		}
	}
	for _, q := range []string{"", "?controller=" + city, "?result=fail", "?limit=1"} {
		got := allPages(t, e, "dpo-city", e.runs["all"], mustQuery(t, q), 2)
		if len(got) == 0 {
			t.Errorf("%q: the DPO sees no results", q)
		}
		qq := mustQuery(t, q)
		qq.Set("limit", "10000")
		p, _ := getPage(t, e, "dpo-city", all+"?"+qq.Encode())
		for _, r := range p.Results {
			if r.Properties["controller"] != city {
				t.Errorf("%q: DPO of %s sees a result of %q", q, city, r.Properties["controller"])
			}
		}
	}
	// a cursor made from another controller's result still pages the DPO's only
	auditor, _ := getPage(t, e, "auditor", all+"?controller="+town+"&limit=1")
	if auditor.Next == nil {
		t.Fatal("town has one result only; the test needs more")
	}
	p, _ := getPage(t, e, "dpo-city", all+"?limit=10000&cursor="+url.QueryEscape(*auditor.Next))
	for _, r := range p.Results {
		if r.Properties["controller"] != city {
			t.Errorf("a foreign cursor shows the DPO a result of %q", r.Properties["controller"])
		}
	}
}

func mustQuery(t *testing.T, q string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(strings.TrimPrefix(q, "?"))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestResultQueryRefused: a bad filter, limit or cursor, and an unknown parameter, are
// 400s naming the reason.
func TestResultQueryRefused(t *testing.T) {
	e := newEnv(t)
	all := "/api/v1/runs/" + itoa(e.runs["all"])
	for q, reason := range map[string]string{
		"?contoller=" + city:     "unknown query parameter",
		"?limit=0":               "limit",
		"?limit=10001":           "limit",
		"?limit=ten":             "limit",
		"?cursor=xyz":            "cursor",
		"?cursor=" + b64("[1]"):  "cursor",
		"?result=maybe":          "result",
		"?severity=dire":         "severity",
		"?controller=1.2.3":      "controller",
		"?sp=a&sp=b":             "given 2 times",
		"?cursor=" + b64(`{}x`):  "cursor",
		"?cursor=" + b64(`{"X"`): "cursor",
	} {
		for _, path := range []string{all, all + "/findings.csv"} {
			w := e.do(t, "auditor", "GET", path+q, "")
			if w.Code != 400 || !strings.Contains(w.Body.String(), reason) {
				t.Errorf("%s%s: %d %s, want 400 naming %q", path, q, w.Code, w.Body, reason)
			}
		}
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// TestAPIFindingsCSV: findings.csv pages the same results as the JSON, under the same
// filters, with a Link to the next page.
func TestAPIFindingsCSV(t *testing.T) {
	e := newEnv(t)
	all := "/api/v1/runs/" + itoa(e.runs["all"])
	for _, q := range []url.Values{{}, {"result": {"fail"}}, {"controller": {city}}} {
		want := allPages(t, e, "auditor", e.runs["all"], q, 10000)
		var got []string
		qq := url.Values{"limit": {"3"}}
		for k, v := range q {
			qq[k] = v
		}
		path := all + "/findings.csv?" + qq.Encode()
		for n := 0; path != ""; n++ {
			if n > 1000 {
				t.Fatal("the CSV pages do not end")
			}
			w := e.do(t, "auditor", "GET", path, "")
			if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") {
				t.Fatalf("%s: %d %s %s", path, w.Code, w.Header().Get("Content-Type"), w.Body)
			}
			rows, err := csv.NewReader(w.Body).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			col := slices.Index(rows[0], "finding")
			if col < 0 || rows[0][0] != "policy" {
				t.Fatalf("header %v", rows[0])
			}
			for _, r := range rows[1:] {
				got = append(got, r[col])
			}
			path = ""
			if m := regexp.MustCompile(`^<([^>]+)>; rel="next"$`).FindStringSubmatch(w.Header().Get("Link")); m != nil {
				path = m[1]
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%v: CSV pages %v, JSON %v", q, got, want)
		}
	}
}

// TestAPIFindingsCSVFormulaSafe: a cell that input shaped as a formula is text in the CSV.
func TestAPIFindingsCSVFormulaSafe(t *testing.T) {
	e := newEnv(t)
	w := e.do(t, "auditor", "GET", "/api/v1/runs/"+itoa(e.runs["all"])+"/findings.csv?limit=10000", "")
	rows, err := csv.NewReader(w.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		for _, c := range r {
			if c != "" && strings.ContainsRune("=+-@", rune(strings.TrimLeft(c, " ")[0])) {
				t.Errorf("cell %q may be read as a formula", c)
			}
		}
	}
}

// TestRejections: the stored rejections, for auditors only, paged by a cursor, all
// pages together the whole list; never the line's text.
func TestRejections(t *testing.T) {
	e := newEnv(t)
	bad := []string{`{"kind":"release","id":"x1"}`, `not json at all SECRET-TEXT`, `{"kind":"bogus"}`, `[]`, `{"kind":"use"}`}
	res := testenv.MustIngest(t, e.db, "jsonl", strings.Join(bad, "\n")+"\n")
	if res.Rejected != len(bad) {
		t.Fatalf("rejected %d of %d", res.Rejected, len(bad))
	}
	for who, code := range map[string]int{"dpo-city": 403, "ingest": 403, "none": 401, "auditor": 200} {
		if w := e.do(t, who, "GET", "/api/v1/rejections", ""); w.Code != code {
			t.Errorf("%s: %d, want %d", who, w.Code, code)
		}
	}
	type page struct {
		Rejections []struct {
			ID     int64  `json:"id"`
			Source string `json:"source"`
			Line   int    `json:"line"`
			Reason string `json:"reason"`
		} `json:"rejections"`
		Next *string `json:"next"`
	}
	get := func(path string) page {
		w := e.do(t, "auditor", "GET", path, "")
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
		if strings.Contains(w.Body.String(), "SECRET-TEXT") {
			t.Error("a rejected line's text is in the answer")
		}
		var p page
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	whole := get("/api/v1/rejections?limit=10000")
	if len(whole.Rejections) < len(bad) || whole.Next != nil {
		t.Fatalf("%d rejections, next %v", len(whole.Rejections), whole.Next)
	}
	var want []int64
	for _, r := range whole.Rejections {
		want = append(want, r.ID)
	}
	for _, limit := range []int{1, 2, 4, len(want), 1000} {
		var got []int64
		path := "/api/v1/rejections?limit=" + strconv.Itoa(limit)
		for n := 0; ; n++ {
			if n > 100 {
				t.Fatal("the pages do not end")
			}
			p := get(path)
			for _, r := range p.Rejections {
				got = append(got, r.ID)
			}
			if p.Next == nil {
				break
			}
			path = "/api/v1/rejections?limit=" + strconv.Itoa(limit) + "&cursor=" + url.QueryEscape(*p.Next)
		}
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: pages %v, whole %v", limit, got, want)
		}
	}
	for _, q := range []string{"?limit=0", "?cursor=zz", "?source=x"} {
		if w := e.do(t, "auditor", "GET", "/api/v1/rejections"+q, ""); w.Code != 400 {
			t.Errorf("%s: %d, want 400", q, w.Code)
		}
	}
}

// TestStrictRunBody: POST /api/v1/runs with an unknown field, a bad value, trailing
// data or a period over 36 months is a 400 with the reason; it starts nothing.
func TestStrictRunBody(t *testing.T) {
	e := newEnv(t)
	before := len(e.listRuns(t))
	for body, reason := range map[string]string{
		`{"form":"2026-10-01"}`:                      "unknown field",
		`{"from":20261001}`:                          "from",
		`{"from":"2026-13-01"}`:                      "not a date",
		`{"controller":"1.2.3"}`:                     "controller",
		`{"from":"2026-10-01"}{"to":"2026-10-31"}`:   "more after",
		`{"from":"2026-10-01"`:                       "body",
		`[]`:                                         "body",
		`{"from":"2020-01-01","to":"2026-12-31"}`:    "36 months",
		`{"from":"2026-10-31","to":"2026-10-01"}`:    "before",
		`{"controller":"` + city + `","extra":true}`: "unknown field",
	} {
		w := e.do(t, "auditor", "POST", "/api/v1/runs", body)
		if w.Code != 400 || !strings.Contains(w.Body.String(), reason) {
			t.Errorf("%s: %d %s, want 400 naming %q", body, w.Code, w.Body, reason)
		}
	}
	if w := e.do(t, "dpo-city", "POST", "/api/v1/runs", `{"form":"x"}`); w.Code != 403 {
		t.Errorf("a DPO's bad body: %d, want 403", w.Code)
	}
	e.srv.Close(t.Context()) // waits for any audit started by mistake
	if after := len(e.listRuns(t)); after != before {
		t.Errorf("bad bodies started %d runs", after-before)
	}
}

func (e *env) listRuns(t *testing.T) []map[string]any {
	t.Helper()
	var l struct{ Runs []map[string]any }
	w := e.do(t, "auditor", "GET", "/api/v1/runs", "")
	if err := json.Unmarshal(w.Body.Bytes(), &l); err != nil {
		t.Fatal(err)
	}
	return l.Runs
}

// TestReportPeriodBounded: a report's period longer than 36 months is a 400 naming the
// bound, not a walk over every day.
func TestReportPeriodBounded(t *testing.T) {
	e := newEnv(t)
	w := e.do(t, "auditor", "GET", "/api/v1/reports/"+city+"/2020-01-01..2026-12-31.pdf", "")
	if w.Code != 400 || !strings.Contains(w.Body.String(), "36 months") {
		t.Errorf("%d %s, want 400 naming 36 months", w.Code, w.Body)
	}
}
