package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/audit"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/output"
	"github.com/opetushallitus/mpass-audit/internal/policy"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
	builtin "github.com/opetushallitus/mpass-audit/rego"
)

const (
	city  = "1.2.246.562.10.44444444440"
	town  = "1.2.246.562.10.55555555550"
	shop  = "https://sp.example-shop.fi/shibboleth"
	lms   = "https://oppimisalusta.example.fi/sp"
	quiz  = "https://quiz.example.com/saml"
	mail  = "urn:oid:0.9.2342.19200300.100.1.3"
	learn = city + ";03082;7B;Oppilas;1;;"
)

func demoRegistry(t testing.TB) string {
	b, err := os.ReadFile("../../testdata/demo/registry.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// report is the part of the JSON output the tests read.
type report struct {
	Run struct {
		ID       int64 `json:"id"`
		Previous int64 `json:"previous"`
	} `json:"run"`
	Summary mpass.Summary `json:"summary"`
	Results []struct {
		Policy, Rule, Result, Severity, Message string
		Properties                              map[string]string
	} `json:"results"`
	Resolved []map[string]string `json:"resolved"`
}

func (r report) find(record, rule, attribute string) (result, severity, change string, ok bool) {
	for _, x := range r.Results {
		if x.Properties["record"] == record && x.Rule == rule && x.Properties["attribute"] == attribute {
			return x.Result, x.Severity, x.Properties["change"], true
		}
	}
	return "", "", "", false
}

func mustAudit(t *testing.T, db *sqlite.DB, e *policy.Engine, scope mpass.Scope, controllers []string) report {
	t.Helper()
	a := &audit.Auditor{DB: db, Engine: e}
	run, err := a.Run(context.Background(), scope)
	if err != nil {
		t.Fatal(err)
	}
	view, err := a.View(context.Background(), run.ID, controllers)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := (output.JSON{}).Output(&buf, view); err != nil {
		t.Fatal(err)
	}
	var r report
	if err := json.Unmarshal(buf.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	return r
}

func release(id, time, sp, subject string, attrs string) string {
	return `{"kind":"release","id":"` + id + `","time":"` + time + `","sp":"` + sp + `","controller":"` + city + `","subject":"` + subject + `","attributes":{` + attrs + `}}`
}

func use(id, time, sp, subject, purpose string) string {
	return `{"kind":"use","id":"` + id + `","time":"` + time + `","sp":"` + sp + `","subject":"` + subject + `","purpose":"` + purpose + `","attributes":["mail"]}`
}

// TestTermsWorkedExamples runs each example of shared/spec/TERMS.md from ingest to the
// JSON report: term, rule, result and severity.
func TestTermsWorkedExamples(t *testing.T) {
	role := `"urn:mpass.id:role":["` + learn + `"]`
	type want struct{ record, policy, rule, attribute, result, severity string }
	for _, tc := range []struct {
		name    string
		records []string
		want    []want
		absent  []want // record, rule, attribute that must not be there
	}{
		{"age-revealing attribute, approved or not", []string{
			release("r1", "2026-10-05T07:58:12Z", lms, "s1", role+`,"schacDateOfBirth":["20120517"]`),
			release("r2", "2026-10-05T07:58:12Z", lms, "s2", role+`,"urn:educloudalliance.org:legacyCryptId":["3f2a"]`),
		}, []want{
			{"r1", "no-age-inference", "age-revealing-attribute", "urn:oid:1.3.6.1.4.1.25178.1.2.3", "fail", "critical"},
			{"r2", "no-age-inference", "age-revealing-attribute", "urn:educloudalliance.org:legacyCryptId", "fail", "critical"},
		}, nil},
		{"identity code in a value", []string{
			release("r1", "2026-10-05T07:58:12Z", lms, "s1", role+`,"urn:mpass.id:nickname":["Aino 131052-308T"]`),
			release("r2", "2026-10-05T07:58:12Z", lms, "s2", role+`,"urn:mpass.id:nickname":["131052-308U"]`),
		}, []want{
			{"r1", "no-age-inference", "age-revealing-value", "urn:mpass.id:nickname", "fail", "critical"},
		}, []want{{record: "r2", rule: "age-revealing-value", attribute: "urn:mpass.id:nickname"}}},
		{"age-indicative attribute: fail unless approved", []string{
			release("r1", "2026-10-05T07:58:12Z", shop, "s1", role+`,"urn:mpass.id:classLevel":["7"]`),
			release("r2", "2026-10-05T07:58:12Z", lms, "s2", role+`,"urn:mpass.id:classLevel":["7"]`),
		}, []want{
			{"r1", "no-age-inference", "age-indicative-attribute", "urn:mpass.id:classLevel", "fail", "medium"},
		}, []want{{record: "r2", rule: "age-indicative-attribute", attribute: "urn:mpass.id:classLevel"}}},
		{"birth year in e-mail", []string{
			release("r1", "2026-10-05T07:58:12Z", shop, "s1", role+`,"mail":["aino.2012@x.fi"]`),
		}, []want{
			{"r1", "no-age-inference", "birth-year-in-email", mail, "warn", "low"},
			{"r1", "no-direct-marketing-to-minors", "learner-email-to-commercial-sp", mail, "warn", "medium"},
		}, nil},
		{"marketing to a learner: guardian consent, own consent, objection", []string{
			release("r1", "2026-10-01T07:00:00Z", shop, "MPASSOID.391ea8eb34f1e27024ab1342603537bdbd494900", role),
			release("r2", "2026-10-01T07:00:00Z", shop, "MPASSOID.b7c2a9000000000000000000000000000000000b", role),
			release("r3", "2026-10-01T07:00:00Z", quiz, "MPASSOID.c3d4e5000000000000000000000000000000000c", role),
			use("u1", "2026-10-09T12:00:00Z", shop, "MPASSOID.391ea8eb34f1e27024ab1342603537bdbd494900", "marketing.communications.email"),
			use("u2", "2026-10-09T12:00:00Z", shop, "MPASSOID.b7c2a9000000000000000000000000000000000b", "marketing.communications.email"),
			use("u3", "2026-10-09T12:00:00Z", quiz, "MPASSOID.c3d4e5000000000000000000000000000000000c", "marketing.advertising"),
			use("u4", "2026-09-09T12:00:00Z", quiz, "MPASSOID.c3d4e5000000000000000000000000000000000c", "marketing.advertising"),
		}, []want{
			{"u2", "no-direct-marketing-to-minors", "marketing-without-guardian-consent", "", "fail", "critical"},
			{"u3", "no-direct-marketing-to-minors", "marketing-without-guardian-consent", "", "fail", "critical"},
			{"u3", "identification-only", "purpose-not-covered", "", "fail", "high"},
		}, []want{
			{record: "u1", rule: "marketing-without-guardian-consent"}, {record: "u1", rule: "purpose-not-covered"},
			{record: "u2", rule: "purpose-not-covered"}, // own consent covers identification-only
			{record: "u4", rule: "marketing-without-guardian-consent"},
		}},
		{"unknown role is presumed a learner", []string{
			use("u1", "2026-10-09T12:00:00Z", quiz, "never-seen", "marketing.research"),
		}, []want{
			{"u1", "no-direct-marketing-to-minors", "marketing-without-guardian-consent", "", "fail", "critical"},
		}, nil},
		{"purpose covered by an agreement, not marketing", []string{
			release("r1", "2026-10-01T07:00:00Z", shop, "s1", role),
			use("u1", "2026-10-10T09:00:00Z", shop, "s1", "essential.service.payment_processing"),
			use("u2", "2027-01-10T09:00:00Z", shop, "s1", "essential.service.payment_processing"),
			use("u3", "2026-10-10T09:00:00Z", lms, "s1", "essential.service.authorization"),
		}, []want{
			{"u2", "identification-only", "purpose-not-covered", "", "fail", "high"},
		}, []want{{record: "u1", rule: "purpose-not-covered"}, {record: "u3", rule: "purpose-not-covered"}}},
		{"data minimisation", []string{
			release("r1", "2026-10-05T07:58:12Z", "https://nowhere.example/sp", "s1", role),
			release("r2", "2026-10-07T12:30:00Z", "https://kirjasto.example.fi/oidc", "s1", role),
			release("r3", "2026-10-05T07:58:12Z", lms, "s1", role+`,"mail":["a@b.fi"]`),
			release("r4", "2026-10-05T07:58:12Z", shop, "s1", role+`,"mail":["a@b.fi"]`),
		}, []want{
			{"r1", "data-minimisation", "unknown-sp", "", "fail", "high"},
			{"r2", "data-minimisation", "outside-agreement", "", "fail", "high"},
			{"r3", "data-minimisation", "unapproved-attribute", mail, "fail", "medium"},
		}, []want{{record: "r4", rule: "unapproved-attribute", attribute: mail}}},
		{"exceptions: skip until expiry, never critical", []string{
			release("r1", "2026-10-05T07:58:12Z", shop, "s1", role+`,"urn:mpass.id:classLevel":["7"]`),
			release("r2", "2027-07-01T07:58:12Z", shop, "s1", role+`,"urn:mpass.id:classLevel":["7"]`),
			release("r3", "2026-10-05T07:58:12Z", quiz, "s1", role+`,"urn:mpass.id:legacyCryptId":["x"]`),
		}, []want{
			{"r1", "data-minimisation", "unapproved-attribute", "urn:mpass.id:classLevel", "skip", "medium"},
			{"r2", "data-minimisation", "unapproved-attribute", "urn:mpass.id:classLevel", "fail", "medium"},
			{"r3", "no-age-inference", "age-revealing-attribute", "urn:mpass.id:legacyCryptId", "fail", "critical"},
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := testenv.MustOpenDB(t)
			testenv.MustLoadRegistry(t, db, demoRegistry(t))
			if res := testenv.MustIngest(t, db, "jsonl", strings.Join(tc.records, "\n")); res.Rejected != 0 {
				t.Fatalf("rejected %v", res.Rejections)
			}
			r := mustAudit(t, db, testenv.MustEngine(t), mpass.Scope{}, nil)
			for _, w := range tc.want {
				result, severity, _, ok := r.find(w.record, w.rule, w.attribute)
				if !ok || result != w.result || severity != w.severity {
					t.Errorf("%s %s %s: got %q %q (found %v), want %s %s", w.record, w.rule, w.attribute, result, severity, ok, w.result, w.severity)
				}
			}
			for _, w := range tc.absent {
				if result, _, _, ok := r.find(w.record, w.rule, w.attribute); ok {
					t.Errorf("%s %s %s: unexpected %s", w.record, w.rule, w.attribute, result)
				}
			}
		})
	}
}

func TestRunDiff(t *testing.T) {
	db := testenv.MustOpenDB(t)
	reg := demoRegistry(t)
	testenv.MustLoadRegistry(t, db, reg)
	testenv.MustIngest(t, db, "jsonl", release("r1", "2026-10-05T07:58:12Z", lms, "s1", `"mail":["a@b.fi"],"urn:mpass.id:schoolInfo":["03082;Koulu"]`))
	e := testenv.MustEngine(t)
	first := mustAudit(t, db, e, mpass.Scope{}, nil)
	if _, _, change, ok := first.find("r1", "unapproved-attribute", mail); !ok || change != "new" {
		t.Fatalf("first run: %+v", first.Results)
	}
	second := mustAudit(t, db, e, mpass.Scope{}, nil)
	if second.Run.Previous != first.Run.ID || len(second.Resolved) != 0 || len(second.Results) != len(first.Results) {
		t.Fatalf("second run: previous %d resolved %v", second.Run.Previous, second.Resolved)
	}
	for _, x := range second.Results {
		if x.Properties["change"] != "persisting" {
			t.Errorf("%s %s: change %s, want persisting", x.Rule, x.Properties["record"], x.Properties["change"])
		}
	}
	// the registry now approves mail for the SP: the finding is resolved
	testenv.MustLoadRegistry(t, db, strings.Replace(reg, "urn:mpass.id:classLevel, urn:mpass.id:schoolInfo]", "urn:mpass.id:classLevel, urn:mpass.id:schoolInfo, mail]", 1))
	third := mustAudit(t, db, e, mpass.Scope{}, nil)
	if _, _, _, ok := third.find("r1", "unapproved-attribute", mail); ok {
		t.Fatal("finding still there after approval")
	}
	if len(third.Resolved) != 1 || third.Resolved[0]["rule"] != "unapproved-attribute" || third.Resolved[0]["record"] != "r1" {
		t.Fatalf("resolved = %v", third.Resolved)
	}
	// a run of another scope has its own history
	other := mustAudit(t, db, e, mpass.Scope{Controller: city}, nil)
	if other.Run.Previous != 0 {
		t.Errorf("controller run's previous = %d, want none", other.Run.Previous)
	}
}

func TestScopedViewShowsOnlyOwnControllers(t *testing.T) {
	db := testenv.MustOpenDB(t)
	testenv.MustLoadRegistry(t, db, demoRegistry(t))
	b, err := os.ReadFile("../../testdata/demo/records.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	testenv.MustIngest(t, db, "jsonl", string(b))
	all := mustAudit(t, db, testenv.MustEngine(t), mpass.Scope{}, nil)
	mine := mustAudit(t, db, testenv.MustEngine(t), mpass.Scope{}, []string{town})
	if len(mine.Results) == 0 || len(mine.Results) >= len(all.Results) {
		t.Fatalf("scoped %d of %d results", len(mine.Results), len(all.Results))
	}
	for _, x := range mine.Results {
		if x.Properties["controller"] != town {
			t.Errorf("a DPO of %s sees %s's finding", town, x.Properties["controller"])
		}
	}
	if mine.Summary.Fail >= all.Summary.Fail || mine.Summary.Pass >= all.Summary.Pass {
		t.Errorf("scoped summary %+v not below %+v", mine.Summary, all.Summary)
	}
	a := &audit.Auditor{DB: db, Engine: testenv.MustEngine(t)}
	run, err := a.Run(context.Background(), mpass.Scope{Controller: city})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.View(context.Background(), run.ID, []string{town}); mpass.ErrorCode(err) != mpass.ENOTFOUND {
		t.Errorf("another controller's run: %v, want not found", err)
	}
	if _, err := a.View(context.Background(), 9999, []string{town}); mpass.ErrorCode(err) != mpass.ENOTFOUND {
		t.Errorf("a missing run: %v, want not found", err)
	}
}

// TestFifthTermFromPolicyDirectory adds a term in a policy directory; it shows up in
// the audit output with no Go change.
func TestFifthTermFromPolicyDirectory(t *testing.T) {
	dir := t.TempDir()
	err := fs.WalkDir(builtin.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(builtin.FS, p)
		if err != nil {
			return err
		}
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		return os.WriteFile(filepath.Join(dir, p), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	fifth := `# METADATA
# title: No nicknames
# description: A test term.
# custom:
#   term: no-nicknames
#   kinds: [release]
#   category: Local rules
package mpass.terms.no_nicknames

import data.mpass.lib

# METADATA
# title: Nickname released
# custom:
#   term: no-nicknames
#   rule: nickname-released
#   severity: low
#   clause: Local rule 1
#   references: [Local rule 1]
findings contains f if {
	input.kind == "release"
	input.attributes["urn:mpass.id:nickname"]
	f := lib.finding(rego.metadata.rule(), "warn", "urn:mpass.id:nickname", "nickname released")
}
`
	if err := os.WriteFile(filepath.Join(dir, "terms", "no_nicknames.rego"), []byte(fifth), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := policy.Load(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if e.Digest == testenv.MustEngine(t).Digest {
		t.Error("digest unchanged by a new policy")
	}
	db := testenv.MustOpenDB(t)
	testenv.MustLoadRegistry(t, db, demoRegistry(t))
	testenv.MustIngest(t, db, "jsonl", release("r1", "2026-10-05T07:58:12Z", quiz, "s1", `"nickname":["Ánde"]`))
	r := mustAudit(t, db, e, mpass.Scope{}, nil)
	for _, x := range r.Results {
		if x.Policy == "no-nicknames" && x.Rule == "nickname-released" && x.Result == "warn" && x.Severity == "low" {
			return
		}
	}
	t.Fatalf("fifth term missing from %+v", r.Results)
}

// TestNoValuesInTheDatabase ingests records full of names, e-mail addresses, identity
// codes and raw ids, audits them, and scans every database file byte by byte.
func TestNoValuesInTheDatabase(t *testing.T) {
	secrets := []string{
		"Aino-Kaarina", "Virtaskorpi", "aino.virtaskorpi2012@esimerkkila.fi", "131052-308T", "010594Y9032",
		"MPASSOID.391ea8eb34f1e27024ab1342603537bdbd494900", "1.2.246.562.24.20000000019", "Čeavetjávrrimáret",
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.db")
	db := sqlite.NewDB(path)
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	testenv.MustLoadRegistry(t, db, demoRegistry(t)+"\n")
	records := []string{
		release("r1", "2026-10-05T07:58:12Z", shop, secrets[5], `"givenName":["`+secrets[0]+`"],"sn":["`+secrets[1]+`"],"mail":["`+secrets[2]+`"],"urn:mpass.id:nickname":["`+secrets[3]+`"],"learnerId":["`+secrets[6]+`"],"urn:mpass.id:role":["`+learn+`"]`),
		release("r2", "2026-10-05T07:58:12Z", lms, secrets[5], `"nationalIdentificationNumber":["`+secrets[4]+`"],"urn:oid:2.5.4.4":["`+secrets[7]+`"]`),
		`{"kind":"use","id":"u1","time":"2026-10-09T12:00:00Z","sp":"` + shop + `","subject":"` + secrets[5] + `","purpose":"marketing.communications.email","attributes":["mail"],"note":"mail to ` + secrets[2] + `"}`,
		`{"kind":"release","time":"bad","sp":"s","subject":"` + secrets[5] + `","attributes":{"givenName":["` + secrets[0] + `"]}}`,
	}
	testenv.MustIngest(t, db, "jsonl", strings.Join(records, "\n"))
	csv := "kind,id,time,sp,controller,subject,purpose,attributes\nrelease,c1,2026-10-05T07:58:12Z," + shop + "," + city + "," + secrets[5] + ",,givenName=" + secrets[0] + ";mail=" + secrets[2] + "\n"
	testenv.MustIngest(t, db, "csv", csv)
	r := mustAudit(t, db, testenv.MustEngine(t), mpass.Scope{}, nil)
	if r.Summary.Fail == 0 {
		t.Fatal("the audit found nothing: the scan would prove little")
	}
	files, _ := filepath.Glob(path + "*")
	if len(files) == 0 {
		t.Fatal("no database files")
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".key") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if bytes.Contains(bytes.ToLower(b), bytes.ToLower([]byte(s))) {
				t.Errorf("%s holds %q", filepath.Base(f), s)
			}
		}
	}
	db.Close()
}

// TestTableCountsInTheStoreAsInTheStream checks the table's counts taken in the store
// (a GROUP BY) against counting every finding streamed, for all controllers and for
// one controller's view of a run over the demo data.
func TestTableCountsInTheStoreAsInTheStream(t *testing.T) {
	db := testenv.MustOpenDB(t)
	testenv.MustLoadDemo(t, db)
	a := &audit.Auditor{DB: db, Engine: testenv.MustEngine(t)}
	run, err := a.Run(context.Background(), mpass.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	for _, controllers := range [][]string{nil, {city}} {
		view, err := a.View(context.Background(), run.ID, controllers)
		if err != nil {
			t.Fatal(err)
		}
		var tallied, streamed bytes.Buffer
		if err := (output.Table{}).Output(&tallied, view); err != nil {
			t.Fatal(err)
		}
		view.Tally = nil
		if err := (output.Table{}).Output(&streamed, view); err != nil {
			t.Fatal(err)
		}
		if tallied.String() != streamed.String() || !strings.Contains(tallied.String(), "(all)") {
			t.Errorf("controllers %v: tallied\n%s\nstreamed\n%s", controllers, tallied.String(), streamed.String())
		}
	}
}

// ParsePeriod refuses a span over mpass.MaxPeriodMonths with EINVALID naming the limit.
func TestParsePeriod(t *testing.T) {
	for _, tc := range []struct {
		in, from, to, err string
	}{
		{"2026-10", "2026-10-01", "2026-10-31", ""},
		{"2024-02", "2024-02-01", "2024-02-29", ""},
		{"2024-01-01..2026-12-31", "2024-01-01", "2026-12-31", ""},
		{"2024-01-01..2027-01-01", "", "", "longer than 36 months"},
		{"0001-01-01..9999-12-31", "", "", "longer than 36 months"},
		{"2026-10-31..2026-10-01", "", "", "FROM ≤ TO"},
		{"2026-13", "", "", "want YYYY-MM"},
	} {
		from, to, err := audit.ParsePeriod(tc.in)
		if tc.err != "" {
			if mpass.ErrorCode(err) != mpass.EINVALID || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err = %v, want EINVALID with %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || from != tc.from || to != tc.to {
			t.Errorf("%s: %s %s %v", tc.in, from, to, err)
		}
	}
}
