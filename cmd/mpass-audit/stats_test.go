package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStats (issue 15): release counts per attribute and month and the e-mail's share
// per controller and SP, over the demo, in JSON, table and CSV.
func TestStats(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"registry", "load", "../../testdata/demo/registry.yaml"}, {"ingest", "../../testdata/demo/records.jsonl"}} {
		if code, out, errs := run(t, dir, nil, "", args...); code != 0 {
			t.Fatalf("%v: %d %s%s", args, code, out, errs)
		}
	}
	code, out, errs := run(t, dir, nil, "", "stats", "--by", "attribute,month", "--format", "json")
	if code != 0 {
		t.Fatalf("stats: %d %s", code, errs)
	}
	var st struct {
		Rows []struct {
			Attribute, Month string
			Releases         int64
		}
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	var withShares struct{ Shares []map[string]any }
	if err := json.Unmarshal([]byte(out), &withShares); err != nil {
		t.Fatal(err)
	}
	shares := withShares.Shares
	uid, mail := int64(0), int64(0)
	for _, r := range st.Rows {
		if r.Month != "2026-10" {
			t.Errorf("month %q", r.Month)
		}
		switch r.Attribute {
		case "urn:mpass.id:uid":
			uid = r.Releases
		case "urn:oid:0.9.2342.19200300.100.1.3":
			mail = r.Releases
		}
	}
	var releases, email float64
	for _, s := range shares {
		releases += s["releases"].(float64)
		email += s["email"].(float64)
	}
	if uid == 0 || mail == 0 || int64(email) != mail || releases < float64(uid) {
		t.Errorf("uid %d, mail %d; shares: %v releases, %v e-mail", uid, mail, releases, email)
	}
	if code, out, _ := run(t, dir, nil, "", "stats", "--by", "sp"); code != 0 || !strings.Contains(out, "LEARNER NUMBER") || !strings.Contains(out, "https://sp.example-shop.fi/shibboleth") {
		t.Errorf("table: %d\n%s", code, out)
	}
	if code, out, _ := run(t, dir, nil, "", "stats", "--by", "month", "--format", "csv"); code != 0 || !strings.HasPrefix(out, "month,releases\n2026-10,") {
		t.Errorf("csv: %d\n%s", code, out)
	}
	if code, _, errs := run(t, dir, nil, "", "stats", "--by", "colour"); code != exitUsage || !strings.Contains(errs, "--by") {
		t.Errorf("a bad --by: %d %s", code, errs)
	}
}

// TestReportAll (issue 15): every registry controller's report of a period into a
// directory, from one run; a missing directory is refused.
func TestReportAll(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"registry", "load", "../../testdata/demo/registry.yaml"}, {"ingest", "../../testdata/demo/records.jsonl"}} {
		if code, out, errs := run(t, dir, nil, "", args...); code != 0 {
			t.Fatalf("%v: %d %s%s", args, code, out, errs)
		}
	}
	out := filepath.Join(dir, "reports")
	if code, _, errs := run(t, dir, nil, "", "report", "--all", "--period", "2026-10", "--lang", "sv", "-o", out); code != exitUsage || !strings.Contains(errs, "existing directory") {
		t.Fatalf("a missing directory: %d %s", code, errs)
	}
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}
	code, stdout, errs := run(t, dir, nil, "", "report", "--all", "--period", "2026-10", "--lang", "sv", "-o", out)
	if code != 0 || !strings.Contains(stdout, "2 of 2 controllers' reports") {
		t.Fatalf("report --all: %d %s%s", code, stdout, errs)
	}
	for _, oid := range []string{"1.2.246.562.10.44444444440", "1.2.246.562.10.55555555550"} {
		b, err := os.ReadFile(filepath.Join(out, oid+"-2026-10-sv.pdf"))
		if err != nil || !strings.HasPrefix(string(b), "%PDF-") {
			t.Errorf("%s: %v", oid, err)
		}
	}
}
