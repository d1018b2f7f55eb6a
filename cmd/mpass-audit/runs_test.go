package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// history makes a database with two finished runs of the demo: between them the
// unknown SP joins the registry (its unknown-sp finding is resolved) and a new record
// is ingested (its findings are new). It returns the directory and run 1's JSON as
// audit printed it.
func history(t *testing.T) (dir, run1 string) {
	t.Helper()
	dir = t.TempDir()
	must := func(stdin string, args ...string) string {
		t.Helper()
		code, out, errs := run(t, dir, nil, stdin, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, errs)
		}
		return out
	}
	must("", "registry", "load", "../../testdata/demo/registry.yaml")
	must("", "ingest", "../../testdata/demo/records.jsonl")
	run1 = must("", "audit", "--format", "json")
	reg, err := os.ReadFile("../../testdata/demo/registry.yaml")
	if err != nil {
		t.Fatal(err)
	}
	known := strings.Replace(string(reg), "service_providers:\n", `service_providers:
  - id: https://unknown-games.example.net/sp
    name: No longer unknown
    commercial: false
    valid: {from: 2020-01-01}
    attributes: [urn:mpass.id:uid]
    purposes: [essential.service.authentication]
`, 1)
	path := filepath.Join(dir, "registry2.yaml")
	if err := os.WriteFile(path, []byte(known), 0o600); err != nil {
		t.Fatal(err)
	}
	must("", "registry", "load", path)
	records, err := os.ReadFile("../../testdata/demo/records.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	r3 := strings.Split(string(records), "\n")[2] // r-0003: an age-revealing nickname
	must(strings.Replace(r3, `"r-0003"`, `"r-0100"`, 1)+"\n", "ingest", "-")
	must("", "audit", "--format", "json")
	return dir, run1
}

type diffJSON struct {
	A, B     struct{ ID int64 }
	Findings []struct {
		Change, Finding, Policy, Rule, SP, Record string
		Run                                       int64
	}
	Summary map[string]int
	Groups  []struct {
		Policy, Rule, SP          string
		New, Resolved, Persisting int
	}
}

func TestRunsDiff(t *testing.T) {
	dir, _ := history(t)
	code, out, errs := run(t, dir, nil, "", "runs", "diff", "1", "2", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d %s", code, errs)
	}
	var d diffJSON
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if d.A.ID != 1 || d.B.ID != 2 {
		t.Errorf("runs %d %d", d.A.ID, d.B.ID)
	}
	count := map[string]int{}
	resolvedUnknownSP, newR0100 := false, false
	for _, f := range d.Findings {
		count[f.Change]++
		switch {
		case f.Change == "resolved" && f.Rule == "unknown-sp" && f.Record == "r-0006":
			resolvedUnknownSP = f.Run == 1
		case f.Change == "new" && f.Record == "r-0100":
			newR0100 = f.Run == 2
		case f.Change == "new" || f.Record == "r-0100":
			if f.SP != "https://unknown-games.example.net/sp" { // the known SP's record is judged anew
				t.Errorf("unexpected %+v", f)
			}
		}
	}
	if !resolvedUnknownSP || !newR0100 {
		t.Errorf("resolved unknown-sp %v, new r-0100 %v\n%s", resolvedUnknownSP, newR0100, out)
	}
	for _, c := range []string{"new", "resolved", "persisting"} {
		if d.Summary[c] != count[c] || count[c] == 0 {
			t.Errorf("%s: summary %d, findings %d", c, d.Summary[c], count[c])
		}
	}
	groups := map[string]int{}
	for _, g := range d.Groups {
		groups["new"] += g.New
		groups["resolved"] += g.Resolved
		groups["persisting"] += g.Persisting
	}
	for c, n := range count {
		if groups[c] != n {
			t.Errorf("%s: groups count %d, findings %d", c, groups[c], n)
		}
	}

	_, out, _ = run(t, dir, nil, "", "runs", "diff", "1", "2")
	rows := 0
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 6 && f[1] == "unknown-sp" {
			rows++
			if strings.Join(f[2:], " ") != "https://unknown-games.example.net/sp 0 1 0" {
				t.Errorf("table row %q, want 0 new, 1 resolved", line)
			}
		}
	}
	if rows != 1 {
		t.Errorf("%d unknown-sp rows in\n%s", rows, out)
	}

	// the reverse diff swaps new and resolved
	_, out, _ = run(t, dir, nil, "", "runs", "diff", "2", "1", "--format", "json")
	var r diffJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Summary["new"] != d.Summary["resolved"] || r.Summary["resolved"] != d.Summary["new"] || r.Summary["persisting"] != d.Summary["persisting"] {
		t.Errorf("reverse %v, forward %v", r.Summary, d.Summary)
	}

	checkCommands(t, dir, []commandCase{
		{"table", []string{"runs", "diff", "1", "2"}, 0, []string{"Run 1 → run 2: ", "POLICY"}, nil, ""},
		{"same run", []string{"runs", "diff", "2", "2"}, 0, []string{"0 new, 0 resolved"}, nil, ""},
		{"missing run", []string{"runs", "diff", "1", "9"}, 2, nil, nil, "run 9 not found"},
		{"bad id", []string{"runs", "diff", "1", "two"}, 2, nil, nil, `run id "two"`},
		{"one run", []string{"runs", "diff", "1"}, 2, nil, nil, "accepts 2 arg(s)"},
		{"bad format", []string{"runs", "diff", "1", "2", "--format", "xml"}, 2, nil, nil, `--format "xml": want table or json or csv`},
	})
}

func TestRunsListAndShow(t *testing.T) {
	dir, run1 := history(t)
	code, out, errs := run(t, dir, nil, "", "runs", "list", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d %s", code, errs)
	}
	var list struct {
		Runs []struct {
			ID                        int64
			Started, Finished, Status string
			Controller, From, To      string
			Summary                   map[string]int64
		}
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Runs) != 2 || list.Runs[0].ID != 2 || list.Runs[1].ID != 1 {
		t.Fatalf("runs %+v, want 2 then 1", list.Runs)
	}
	for _, r := range list.Runs {
		if r.Status != "finished" || r.Started == "" || r.Finished == "" || r.Summary["fail"] == 0 {
			t.Errorf("run %+v", r)
		}
	}

	checkCommands(t, dir, []commandCase{
		{"list table", []string{"runs", "list"}, 0, []string{"ID  STARTED", "\n2   ", "\n1   ", "finished  all"}, nil, ""},
		{"show json is audit's", []string{"runs", "show", "1", "--format", "json"}, 0, []string{run1}, nil, ""},
		{"show table", []string{"runs", "show", "2"}, 0, []string{"no-age-inference"}, nil, ""},
		{"show csv", []string{"runs", "show", "2", "--format", "csv"}, 0, []string{"policy,rule,result", "r-0100"}, nil, ""},
		{"show a missing run", []string{"runs", "show", "7"}, 2, nil, nil, "run 7 not found"},
		{"show a bad id", []string{"runs", "show", "-1"}, 2, nil, nil, "unknown shorthand flag"},
		{"show a zero id", []string{"runs", "show", "0"}, 2, nil, nil, `run id "0"`},
		{"show bad format", []string{"runs", "show", "1", "--format", "xml"}, 2, nil, nil, `unknown format "xml"`},
		{"list bad format", []string{"runs", "list", "--format", "csv"}, 2, nil, nil, `--format "csv": want table or json`},
	})

	// an empty database lists no runs
	empty := t.TempDir()
	run(t, empty, nil, "", "registry", "load", "../../testdata/demo/registry.yaml")
	if code, out, _ := run(t, empty, nil, "", "runs", "list", "--format", "json"); code != 0 || !strings.Contains(out, `"runs": []`) {
		t.Errorf("empty list: %d %s", code, out)
	}
}

func TestAuditSP(t *testing.T) {
	dir := t.TempDir()
	run(t, dir, nil, "", "registry", "load", "../../testdata/demo/registry.yaml")
	run(t, dir, nil, "", "ingest", "../../testdata/demo/records.jsonl")
	const quiz = "https://quiz.example.com/saml"
	type report struct {
		Summary map[string]int64
		Results []struct{ Properties map[string]string }
	}
	audit := func(args ...string) (int, report, string) {
		code, out, errs := run(t, dir, nil, "", append([]string{"audit", "--format", "json"}, args...)...)
		var r report
		if code != 2 {
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("%v: %v", args, err)
			}
		}
		return code, r, errs
	}
	_, all, _ := audit()
	code, one, errs := audit("--sp", quiz, "--fail-on", "fail")
	if code != 1 {
		t.Errorf("--sp quiz --fail-on fail: exit %d %s", code, errs)
	}
	if len(one.Results) == 0 || len(one.Results) >= len(all.Results) {
		t.Errorf("%d results of the SP, %d of all", len(one.Results), len(all.Results))
	}
	for _, r := range one.Results {
		if r.Properties["sp"] != quiz {
			t.Errorf("result of %s", r.Properties["sp"])
		}
	}
	if s := one.Summary; s["fail"]+s["warn"]+s["skip"]+s["error"] != int64(len(one.Results)) || s["fail"] >= all.Summary["fail"] {
		t.Errorf("summary %v of %d results; all: %v", s, len(one.Results), all.Summary)
	}
	// a clean SP: nothing to fail on
	if code, r, errs := audit("--sp", "https://kirjasto.example.fi/oidc", "--controller", "1.2.246.562.10.55555555550", "--fail-on", "warn"); code != 0 || len(r.Results) != 0 {
		t.Errorf("clean SP: exit %d, %d results %s", code, len(r.Results), errs)
	}
	if code, _, errs := audit("--sp", "https://typo.example"); code != 2 || !strings.Contains(errs, "--sp https://typo.example is in neither the registry nor any record") {
		t.Errorf("unknown SP: exit %d %s", code, errs)
	}
	// the run stored still covers every SP
	_, out, _ := run(t, dir, nil, "", "runs", "show", "2", "--format", "json")
	var stored report
	if err := json.Unmarshal([]byte(out), &stored); err != nil {
		t.Fatal(err)
	}
	if len(stored.Results) != len(all.Results) {
		t.Errorf("stored run has %d results, want %d", len(stored.Results), len(all.Results))
	}
}

func TestRejectionsList(t *testing.T) {
	dir := t.TempDir()
	run(t, dir, nil, "", "registry", "load", "../../testdata/demo/registry.yaml")
	const secret = "131052-308T"
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte(`{"kind":"login","note":"`+secret+`"}`+"\n"+`{"kind":"release","id":"x","time":"yesterday","note":"`+secret+`"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(t, dir, nil, "", "ingest", bad); code != 1 {
		t.Fatalf("ingest: %d %s", code, errs)
	}
	if code, _, errs := run(t, dir, nil, `{"kind":"=cmd"}`+"\n", "ingest", "--format", "jsonl", "-"); code != 1 {
		t.Fatalf("ingest stdin: %d %s", code, errs)
	}
	checkCommands(t, dir, []commandCase{
		{"table", []string{"rejections", "list"}, 0, []string{"SOURCE", "bad.jsonl", "  1 ", "  2 ", "kind", "\n-  "}, []string{secret}, ""},
		{"one source", []string{"rejections", "list", "--source", "-"}, 0, []string{"\n-  "}, []string{"bad.jsonl"}, ""},
		{"json", []string{"rejections", "list", "--format", "json", "--source", bad}, 0, []string{`{"rejections": [`, `"line":1,"field":"kind"`, `"line":2,`, `"rejected":"`}, []string{secret}, ""},
		{"csv", []string{"rejections", "list", "--format", "csv"}, 0, []string{"source,line,field,reason,rejected\n", ",1,kind,"}, []string{secret}, ""},
		{"no such source", []string{"rejections", "list", "--source", "nowhere"}, 0, []string{"(no rejected lines)"}, nil, ""},
		{"no such source json", []string{"rejections", "list", "--source", "nowhere", "--format", "json"}, 0, []string{"{\"rejections\": [\n]}"}, nil, ""},
		{"bad format", []string{"rejections", "list", "--format", "xml"}, 2, nil, nil, `--format "xml": want table or json or csv`},
	})
	if code, out, _ := run(t, dir, nil, "", "rejections", "list", "--format", "json"); code != 0 || !json.Valid([]byte(out)) {
		t.Errorf("json: %d %s", code, out)
	}
}

// TestHelpExamples: the commands of issue 15 say what they do with examples.
func TestHelpExamples(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"runs", "--help"}, []string{"list", "show", "diff", "mpass-audit runs diff 41 42"}},
		{[]string{"runs", "list", "--help"}, []string{"newest first", "--format string", "mpass-audit runs list --format json"}},
		{[]string{"runs", "show", "--help"}, []string{"as audit printed it", "mpass-audit runs show 42"}},
		{[]string{"runs", "diff", "--help"}, []string{"stable ids", "resolved", "persisting", "mpass-audit runs diff 41 42"}},
		{[]string{"rejections", "list", "--help"}, []string{"never keeps a rejected line's text", "--source", "mpass-audit rejections list --source"}},
		{[]string{"audit", "--help"}, []string{"--sp string", "not part of a run's scope", "mpass-audit audit --sp"}},
		{[]string{"pseudonym", "--help"}, []string{"never makes a key", "mpass-audit pseudonym MPASSOID."}},
		{[]string{"registry", "show", "--help"}, []string{"mpass-audit registry show --format json"}},
	} {
		code, out, errs := run(t, dir, nil, "", tc.args...)
		if code != 0 {
			t.Errorf("%v: exit %d %s", tc.args, code, errs)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: no %q in\n%s", tc.args, w, out)
			}
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("--help made %v", entries)
	}
}

// TestRunsDiffCSV: the CSV lists the same findings as the JSON, each with its change.
func TestRunsDiffCSV(t *testing.T) {
	dir, _ := history(t)
	_, js, _ := run(t, dir, nil, "", "runs", "diff", "1", "2", "--format", "json")
	var d diffJSON
	if err := json.Unmarshal([]byte(js), &d); err != nil {
		t.Fatal(err)
	}
	code, out, errs := run(t, dir, nil, "", "runs", "diff", "1", "2", "--format", "csv")
	if code != 0 {
		t.Fatalf("exit %d %s", code, errs)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) < 2 || rows[0][0] != "change" || rows[0][1] != "finding" {
		t.Fatalf("csv %v: %q", err, out)
	}
	changes := map[string]int{}
	for _, r := range rows[1:] {
		changes[r[0]]++
	}
	if changes["new"] != d.Summary["new"] || changes["resolved"] != d.Summary["resolved"] || changes["persisting"] != d.Summary["persisting"] {
		t.Errorf("csv changes %v, json summary %+v", changes, d.Summary)
	}
}

// commandCase is one command line and what it must do: its exit status, what stdout
// must and must not hold, and what stderr must hold.
type commandCase struct {
	name string
	args []string
	code int
	out  []string
	not  []string
	err  string
}

// checkCommands runs each case in dir as a subtest.
func checkCommands(t *testing.T, dir string, cases []commandCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := run(t, dir, nil, "", tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.err) {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			for _, want := range tc.out {
				if !strings.Contains(out, want) {
					t.Errorf("no %q in\n%s", want, out)
				}
			}
			for _, not := range tc.not {
				if strings.Contains(out, not) {
					t.Errorf("%q in\n%s", not, out)
				}
			}
		})
	}
}
