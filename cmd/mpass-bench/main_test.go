package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// a release (its attributes' keys not in sorted order) and a use, with a comma and
// quotes in a value and non-ASCII letters as \u escapes, one above the BMP
const csvInput = `{"kind":"release","id":"_a1","time":"2026-10-01T00:00:01Z","sp":"https://sp.example/shibboleth","controller":"1.2.246.562.10.1","subject":"MPASSOID.x,\"y\"","attributes":{"urn:oid:2.5.4.42":["V\u00e4in\u00f6"],"urn:mpass.id:nick\u00e4me":["a","b"],"sub":["x"]}}
{"kind":"use","id":"u-1","time":"2026-10-01T00:00:02Z","sp":"0123abcd","subject":"MPASSOID.\u010d\ud83d\ude00","purpose":"analytics.reporting","attributes":["urn:mpass.id:uid","urn:oid:0.9.2342.19200300.100.1.3"]}
`

const csvWant = `_a1,release,2026-10-01T00:00:01Z,https://sp.example/shibboleth,1.2.246.562.10.1,"MPASSOID.x,""y""",,urn:oid:2.5.4.42 urn:mpass.id:nickäme sub
u-1,use,2026-10-01T00:00:02Z,0123abcd,,MPASSOID.č😀,analytics.reporting,urn:mpass.id:uid urn:oid:0.9.2342.19200300.100.1.3
`

func TestWriteCSV(t *testing.T) {
	var out strings.Builder
	n, err := writeCSV(&out, strings.NewReader(csvInput))
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("wrote %d rows, want 2", n)
	}
	if out.String() != csvWant {
		t.Errorf("got\n%s\nwant\n%s", out.String(), csvWant)
	}
}

func TestWriteCSVRejects(t *testing.T) {
	for _, in := range []string{
		`{"kind":"use","id":"u","attributes":"uid"}`,
		`{"kind":"use","id":"u","attributes":[1]}`,
		`{"kind":"use","id":"u"`,
	} {
		if _, err := writeCSV(&strings.Builder{}, strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
}

// The shell reads back what writeCSV wrote, quoted fields included.
func TestShellImportsCSV(t *testing.T) {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Skip("no sqlite3 shell")
	}
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "records.csv")
	if err := os.WriteFile(csvPath, []byte(csvWant), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sqlite3", "-bail", filepath.Join(dir, "shell.db"))
	cmd.Stdin = strings.NewReader(fmt.Sprintf(shellScript, csvPath) + "SELECT subject, attributes FROM records ORDER BY id;\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := "wal\nMPASSOID.x,\"y\"|urn:oid:2.5.4.42 urn:mpass.id:nickäme sub\nMPASSOID.č😀|urn:mpass.id:uid urn:oid:0.9.2342.19200300.100.1.3\n"
	if got := string(out); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestShellImport(t *testing.T) {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Skip("no sqlite3 shell")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "records.jsonl"), []byte(csvInput), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := shellImport(t.Context(), dir, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := shellImport(t.Context(), dir, 3); err == nil || !strings.Contains(err.Error(), "holds 2 records, not 3") {
		t.Errorf("a count that differs: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "shell.db*")); len(m) != 0 {
		t.Errorf("left behind: %v", m)
	}
}

func TestCheckLine(t *testing.T) {
	for _, c := range []struct {
		values []string
		ok     []bool
		want   string
	}{
		{[]string{"120,000 at 1M", "110,000 at 10M"}, []bool{true, true}, "- ingest ≥ 100,000 rec/s: 120,000 at 1M, 110,000 at 10M — met"},
		{[]string{"47,000 at 1M", "145,000 at 10M"}, []bool{false, true}, "- ingest ≥ 100,000 rec/s: 47,000 at 1M, 145,000 at 10M — **missed**"},
		{nil, nil, "- ingest ≥ 100,000 rec/s: not measured in this run"},
	} {
		if got := checkLine("ingest ≥ 100,000 rec/s", c.values, c.ok); got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
}

func TestDiverseChecks(t *testing.T) {
	rows := []row{
		{workload: "national", records: 1_000_000, ingest: step{seconds: 1}, shell: step{seconds: 1}, audit: step{seconds: 1}},
		{workload: "diverse", records: 1_000_000, ingest: step{10, 150}, shell: step{seconds: 5}, audit: step{4, 120}},
		{workload: "diverse", records: 10_000_000, ingest: step{125, 200}, shell: step{seconds: 40}, audit: step{50, 300}},
	}
	got := strings.Join(diverseChecks(rows, 1_000_000, step{seconds: 1.5}), "\n")
	want := `- ingest ≥ 100,000 rec/s: 100,000 at 1M, 80,000 at 10M — **missed**
- ingest ≤ 2.5× the sqlite3 shell import (ingest time / shell time): 2.00× at 1M, 3.12× at 10M — **missed**
- audit ≥ 200,000 rec/s: 250,000 at 1M, 200,000 at 10M — met
- 10M audited in ≤ 60 s: 50.0 s — met
- peak RSS ≤ 256 MB for ingest and audit at 10M: ingest 200 MB, audit 300 MB — **missed**
- report of a 1M-release controller-month ≤ 2 s (national shape): 1.50 s — met`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	got = strings.Join(diverseChecks(rows[:2], 50_000, step{seconds: 0.25}), "\n")
	want = `- ingest ≥ 100,000 rec/s: 100,000 at 1M — met
- ingest ≤ 2.5× the sqlite3 shell import (ingest time / shell time): 2.00× at 1M — met
- audit ≥ 200,000 rec/s: 250,000 at 1M — met
- 10M audited in ≤ 60 s: not measured in this run
- peak RSS ≤ 256 MB for ingest and audit at 10M: not measured in this run
- report of a 1M-release controller-month ≤ 2 s (national shape): not measured in this run (it timed a 50,000-release month: 0.25 s)`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
