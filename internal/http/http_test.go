package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/opetushallitus/mpass-audit/internal/audit"
	apihttp "github.com/opetushallitus/mpass-audit/internal/http"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

const (
	city    = "1.2.246.562.10.44444444440"
	town    = "1.2.246.562.10.55555555550"
	nowhere = "1.2.246.562.10.99999999990"
)

// unknownUse is a use of a subject never released to its SP: no controller is found
// for it, so its findings are in the auditor's controller-unknown group.
const unknownUse = `{"kind":"use","id":"u-orphan","time":"2026-10-21T10:00:00Z","sp":"https://quiz.example.com/saml","subject":"MPASSOID.0a0a0a000000000000000000000000000000000a","purpose":"marketing.advertising"}`

type env struct {
	db     *sqlite.DB
	srv    *apihttp.Server
	tokens map[string]string // who → secret
	runs   map[string]int64  // all, city, town
	// clients counts requests, each sent from an address of its own
	clients int
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := testenv.MustOpenDB(t)
	testenv.MustLoadDemo(t, db)
	// a use whose controller cannot be found: its subject had no release to that SP
	testenv.MustIngest(t, db, "jsonl", unknownUse+"\n")
	a := &audit.Auditor{DB: db, Engine: testenv.MustEngine(t)}
	e := &env{db: db, tokens: map[string]string{}, runs: map[string]int64{}}
	for name, scope := range map[string]mpass.Scope{"all": {}, "city": {Controller: city}, "town": {Controller: town}} {
		run, err := a.Run(context.Background(), scope)
		if err != nil {
			t.Fatal(err)
		}
		e.runs[name] = run.ID
	}
	for name, spec := range map[string]struct {
		role string
		ctl  []string
	}{"dpo-city": {mpass.RoleDPO, []string{city}}, "dpo-town": {mpass.RoleDPO, []string{town}}, "auditor": {mpass.RoleAuditor, nil},
		"ingest": {mpass.RoleIngest, nil}, "revoked": {mpass.RoleAuditor, nil}} {
		secret, tok, err := db.CreateToken(context.Background(), spec.role, name, spec.ctl)
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[name] = secret
		if name == "revoked" {
			db.RevokeToken(context.Background(), tok.ID)
		}
	}
	e.tokens["none"] = ""
	e.tokens["forged"] = "mpa_0000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	e.srv = apihttp.NewServer(db, a, testenv.MustExtractor(t), slog.New(slog.DiscardHandler))
	t.Cleanup(func() { e.srv.Close(context.Background()) })
	return e
}

// do sends one request as who, each from a client address of its own and, for the
// forged and revoked tokens, with a token id of its own (the rate limit of failed
// logins, per address and per token id, has its own tests).
func (e *env) do(t *testing.T, who, method, path, body string) *httptest.ResponseRecorder {
	e.clients++
	switch who {
	case "forged":
		e.tokens[who] = fmt.Sprintf("mpa_%010x_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", e.clients)
	case "revoked":
		secret, tok, err := e.db.CreateToken(context.Background(), mpass.RoleAuditor, "revoked", nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.db.RevokeToken(context.Background(), tok.ID); err != nil {
			t.Fatal(err)
		}
		e.tokens[who] = secret
	}
	return e.doFrom(t, "10.0."+strconv.Itoa(e.clients/250)+"."+strconv.Itoa(e.clients%250), who, method, path, body)
}

func (e *env) doFrom(t *testing.T, addr, who, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = addr + ":1234"
	if s := e.tokens[who]; s != "" {
		req.Header.Set("Authorization", "Bearer "+s)
	}
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, req)
	return w
}

// TestAccess is the table of role × route × own or other controller → status.
func TestAccess(t *testing.T) {
	e := newEnv(t)
	run := func(name string) string { return "/api/v1/runs/" + itoa(e.runs[name]) }
	page := func(name string) string { return "/runs/" + itoa(e.runs[name]) }
	report := func(c string) string { return "/api/v1/reports/" + c + "/2026-10.pdf?lang=en" }
	record := `{"kind":"use","id":"u-x","time":"2026-10-09T12:00:00Z","sp":"s","subject":"x","purpose":"analytics"}`
	whos := []string{"dpo-city", "dpo-town", "auditor", "ingest", "revoked", "forged", "none"}
	for _, tc := range []struct {
		method, path, body string
		want               []int // in the order of whos
	}{
		{"GET", "/healthz", "", []int{200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/api/v1/runs", "", []int{200, 200, 200, 403, 401, 401, 401}},
		{"GET", run("all"), "", []int{200, 200, 200, 403, 401, 401, 401}},
		{"GET", run("city"), "", []int{200, 404, 200, 403, 401, 401, 401}},
		{"GET", run("town"), "", []int{404, 200, 200, 403, 401, 401, 401}},
		{"GET", "/api/v1/runs/999", "", []int{404, 404, 404, 403, 401, 401, 401}},
		{"GET", "/api/v1/runs/x", "", []int{404, 404, 404, 403, 401, 401, 401}},
		{"GET", report(city), "", []int{200, 404, 200, 403, 401, 401, 401}},
		{"GET", report(town), "", []int{404, 200, 200, 403, 401, 401, 401}},
		{"GET", report(nowhere), "", []int{404, 404, 404, 403, 401, 401, 401}},
		{"GET", "/api/v1/reports/" + city + "/2026-13.pdf", "", []int{400, 404, 400, 403, 401, 401, 401}},
		{"POST", "/api/v1/records", record, []int{403, 403, 403, 200, 401, 401, 401}},
		{"GET", "/", "", []int{200, 200, 200, 403, 401, 401, 303}},
		{"GET", page("all"), "", []int{200, 200, 200, 403, 401, 401, 303}},
		{"GET", page("city"), "", []int{200, 404, 200, 403, 401, 401, 303}},
		{"GET", page("town"), "", []int{404, 200, 200, 403, 401, 401, 303}},
	} {
		for i, who := range whos {
			if w := e.do(t, who, tc.method, tc.path, tc.body); w.Code != tc.want[i] {
				t.Errorf("%s %s as %s: %d, want %d: %s", tc.method, tc.path, who, w.Code, tc.want[i], first(w.Body.String()))
			}
		}
	}
	// POST /api/v1/runs last: the auditor's starts an audit in the background
	for i, who := range whos {
		want := []int{403, 403, 202, 403, 401, 401, 401}[i]
		if w := e.do(t, who, "POST", "/api/v1/runs", `{"controller":"`+city+`"}`); w.Code != want {
			t.Errorf("POST /api/v1/runs as %s: %d, want %d", who, w.Code, want)
		}
	}
}

// TestOtherControllerIsIndistinguishable: another controller's run or report answers
// byte for byte what a missing one does.
func TestOtherControllerIsIndistinguishable(t *testing.T) {
	e := newEnv(t)
	for _, pair := range [][2]string{
		{"/api/v1/runs/" + itoa(e.runs["town"]), "/api/v1/runs/999999"},
		{"/api/v1/reports/" + town + "/2026-10.pdf", "/api/v1/reports/" + nowhere + "/2026-10.pdf"},
	} {
		a, b := e.do(t, "dpo-city", "GET", pair[0], ""), e.do(t, "dpo-city", "GET", pair[1], "")
		if a.Code != b.Code || a.Body.String() != b.Body.String() {
			t.Errorf("%s answers %d %q, %s answers %d %q", pair[0], a.Code, a.Body, pair[1], b.Code, b.Body)
		}
	}
}

// TestScopedResults: a DPO's run JSON and run list hold its controllers only.
func TestScopedResults(t *testing.T) {
	e := newEnv(t)
	w := e.do(t, "dpo-city", "GET", "/api/v1/runs/"+itoa(e.runs["all"]), "")
	var rep struct {
		Summary mpass.Summary
		Results []struct{ Properties map[string]string }
	}
	if err := json.Unmarshal(w.Body.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) == 0 {
		t.Fatal("no results")
	}
	for _, r := range rep.Results {
		if r.Properties["controller"] != city {
			t.Errorf("DPO of %s sees %s", city, r.Properties["controller"])
		}
	}
	if strings.Contains(w.Body.String(), town) {
		t.Error("the other controller's OID is in the answer")
	}
	list := e.do(t, "dpo-city", "GET", "/api/v1/runs", "").Body.String()
	if strings.Contains(list, town) || strings.Contains(list, `"id": `+itoa(e.runs["town"])) {
		t.Errorf("run list shows the other controller's run: %s", list)
	}
}

func TestRecordsAnswerLikeIngest(t *testing.T) {
	e := newEnv(t)
	w := e.do(t, "ingest", "POST", "/api/v1/records", `{"kind":"use","id":"u-new","time":"2026-10-09T12:00:00Z","sp":"s","subject":"x","purpose":"analytics"}
{"kind":"login"}
`)
	var res struct {
		Stored, Duplicate, Rejected int
		Rejections                  []struct {
			Line          int
			Field, Reason string
		}
	}
	json.Unmarshal(w.Body.Bytes(), &res)
	if w.Code != http.StatusUnprocessableEntity || res.Stored != 1 || res.Rejected != 1 || res.Rejections[0].Line != 2 || res.Rejections[0].Field != "kind" {
		t.Fatalf("%d %+v", w.Code, res)
	}
}

// client keeps cookies between requests to the server, as a browser does.
type client struct {
	t       *testing.T
	srv     http.Handler
	cookies map[string]*http.Cookie
	addr    string // the client's address; 192.0.2.7 when empty
}

func (b *client) do(method, path string, form url.Values) *httptest.ResponseRecorder {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	req.RemoteAddr = "192.0.2.7:1"
	if b.addr != "" {
		req.RemoteAddr = b.addr
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	w := httptest.NewRecorder()
	b.srv.ServeHTTP(w, req)
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return w
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestLoginSessionAndCSRF(t *testing.T) {
	e := newEnv(t)
	b := &client{t: t, srv: e.srv, cookies: map[string]*http.Cookie{}}
	page := b.do("GET", "/login", nil)
	m := csrfField.FindStringSubmatch(page.Body.String())
	if m == nil {
		t.Fatalf("no CSRF field in the login page")
	}
	if w := b.do("POST", "/login", url.Values{"token": {e.tokens["auditor"]}}); w.Code != 403 {
		t.Errorf("login without CSRF: %d, want 403", w.Code)
	}
	if w := b.do("POST", "/login", url.Values{"token": {"mpa_x_y"}, "csrf": {m[1]}}); w.Code != 303 || !strings.Contains(w.Header().Get("Location"), "error") {
		t.Errorf("bad token: %d %s", w.Code, w.Header().Get("Location"))
	}
	w := b.do("POST", "/login", url.Values{"token": {e.tokens["auditor"]}, "csrf": {m[1]}})
	if w.Code != 303 || b.cookies["mpass_session"] == nil {
		t.Fatalf("login: %d, cookies %v", w.Code, b.cookies)
	}
	c := b.cookies["mpass_session"]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict", c)
	}
	home := b.do("GET", "/", nil)
	if home.Code != 200 || !strings.Contains(home.Body.String(), "Esimerkkilän kaupunki") {
		t.Fatalf("home: %d", home.Code)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
		if home.Header().Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	if !strings.Contains(home.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Error("CSP lacks frame-ancestors")
	}
	sm := csrfField.FindStringSubmatch(home.Body.String())
	if w := b.do("POST", "/runs", url.Values{"controller": {city}}); w.Code != 403 {
		t.Errorf("POST without CSRF: %d, want 403", w.Code)
	}
	if w := b.do("POST", "/runs", url.Values{"controller": {city}, "csrf": {"wrong"}}); w.Code != 403 {
		t.Errorf("POST with a wrong CSRF: %d, want 403", w.Code)
	}
	if w := b.do("POST", "/runs", url.Values{"controller": {city}, "csrf": {sm[1]}}); w.Code != 303 {
		t.Errorf("POST with CSRF: %d, want 303: %s", w.Code, first(w.Body.String()))
	}
	if w := b.do("GET", "/?lang=sv", nil); !strings.Contains(w.Body.String(), "Granskningar") {
		t.Error("no Swedish page")
	}
	if w := b.do("POST", "/logout", url.Values{"csrf": {sm[1]}}); w.Code != 303 {
		t.Errorf("logout: %d", w.Code)
	}
	if w := b.do("GET", "/", nil); w.Code != 303 {
		t.Errorf("after logout: %d, want a redirect to the login", w.Code)
	}
}

func TestScheduledAuditCatchesUpOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	spec := "0 3 1 * *"
	sched, _ := cron.ParseStandard(spec)
	// first start: nothing is due, the schedule starts now
	if err := e.srv.CatchUp(ctx, spec, sched, time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	before, _ := e.db.FindRuns(ctx, nil)
	// the service was down over 1 November 03:00 and 1 December 03:00: one run, for November
	if err := e.srv.CatchUp(ctx, spec, sched, time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	after, _ := e.db.FindRuns(ctx, nil)
	if len(after) != len(before)+1 || after[0].From != "2026-11-01" || after[0].To != "2026-11-30" {
		t.Fatalf("runs after catch-up: %d (was %d), newest %+v", len(after), len(before), after[0].Scope)
	}
	if err := e.srv.CatchUp(ctx, spec, sched, time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if again, _ := e.db.FindRuns(ctx, nil); len(again) != len(after) {
		t.Error("a handled due time ran again")
	}
	// the October audit stores every controller's report
	if err := e.srv.ScheduledAudit(ctx, spec, time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	runs, _ := e.db.FindRuns(ctx, nil)
	for _, c := range []string{city, town} {
		pdf, err := e.db.StoredReport(ctx, runs[0].ID, c, "2026-10", "fi")
		if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF")) {
			t.Errorf("stored report of %s: %v", c, err)
		}
	}
	if w := e.do(t, "dpo-town", "GET", "/api/v1/reports/"+town+"/2026-10.pdf?lang=fi", ""); w.Code != 200 {
		t.Errorf("stored report download: %d", w.Code)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func first(s string) string {
	if len(s) > 200 {
		return s[:200]
	}
	return s
}

// login logs b in with a token through the login form.
func login(t *testing.T, b *client, token string) {
	t.Helper()
	m := csrfField.FindStringSubmatch(b.do("GET", "/login", nil).Body.String())
	if m == nil {
		t.Fatal("no CSRF field in the login page")
	}
	if w := b.do("POST", "/login", url.Values{"token": {token}, "csrf": {m[1]}}); w.Code != 303 || b.cookies["mpass_session"] == nil {
		t.Fatalf("login: %d", w.Code)
	}
}

// A DPO's page shows its controller's allowed services and since when, or says that
// they could not be checked; never another controller's.
func TestDPOPageShowsAllowedServices(t *testing.T) {
	e := newEnv(t)
	allowCity(t, e)
	b := &client{t: t, srv: e.srv, cookies: map[string]*http.Cookie{}}
	login(t, b, e.tokens["dpo-city"])
	page := b.do("GET", "/?lang=sv", nil).Body.String()
	for _, want := range []string{"Tillåtna tjänster (1)", "Example Shop", "2026-10-15", "tjänstehelhet 6000101", "Exempelby stad"} {
		if !strings.Contains(page, want) {
			t.Errorf("city's page lacks %q", want)
		}
	}
	other := &client{t: t, srv: e.srv, cookies: map[string]*http.Cookie{}}
	login(t, other, e.tokens["dpo-town"])
	page = other.do("GET", "/?lang=en", nil).Body.String()
	if !strings.Contains(page, "could not be checked") || strings.Contains(page, "Example Shop") {
		t.Errorf("town's page: want unchecked, and nothing of the city's")
	}
}

// allowCity gives the city permission data, as registry import would: it allows the
// shop through a set from 2026-10-15, and has a Swedish name.
func allowCity(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	reg, err := e.db.LatestRegistry(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range reg.Controllers {
		if reg.Controllers[i].OID == city {
			reg.Controllers[i].PermissionData = true
			reg.Controllers[i].Names = map[string]string{"fi": "Esimerkkilän kaupunki", "sv": "Exempelby stad"}
		}
	}
	reg.Permissions = []mpass.Permission{{Controller: city, SP: "https://sp.example-shop.fi/shibboleth", Set: "6000101",
		From: time.Date(2026, 10, 15, 6, 41, 7, 0, time.UTC), Source: "permissions"}}
	if err := e.db.CreateRegistry(ctx, reg); err != nil {
		t.Fatal(err)
	}
}

// TestRecordsAnswerBounded (issue 14, item 1): a body of 200,000 junk lines is answered
// with every line counted, the first 1,000 listed, the rest as a count: the answer stays
// small (4,000,000 junk lines made a 511 MB answer).
func TestRecordsAnswerBounded(t *testing.T) {
	e := newEnv(t)
	var b strings.Builder
	for i := range 200_000 {
		fmt.Fprintf(&b, "junk %d\n", i)
	}
	w := e.do(t, "ingest", "POST", "/api/v1/records", b.String())
	var res struct {
		Rejected, Unlisted int
		Rejections         []struct{ Line int }
	}
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if w.Code != http.StatusUnprocessableEntity || res.Rejected != 200_000 || len(res.Rejections) != 1000 || res.Unlisted != 199_000 {
		t.Fatalf("%d: rejected %d listed %d unlisted %d", w.Code, res.Rejected, len(res.Rejections), res.Unlisted)
	}
	if w.Body.Len() > 256<<10 {
		t.Errorf("answer of %d bytes", w.Body.Len())
	}
}
