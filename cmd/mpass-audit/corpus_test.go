package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var updateCorpus = flag.Bool("update", false, "rewrite testdata/mpassid/*.expected from what the auditor says")

// corpus is the real-shaped MPASSid corpus (invented values): one input per era and
// protocol, each with what the auditor must make of it.
const corpus = "../../testdata/mpassid"

// TestMPASSidCorpus ingests every input of testdata/mpassid on its own (with the flags
// in FILE.args, against testdata/mpassid/registry.yaml), audits it, and compares every
// finding, rejection and count with FILE.expected. `go test ./cmd/mpass-audit -run
// Corpus -update` rewrites the expectations: read the diff before committing it.
func TestMPASSidCorpus(t *testing.T) {
	entries, err := os.ReadDir(corpus)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || name == "registry.yaml" || strings.HasSuffix(name, ".expected") || strings.HasSuffix(name, ".args") || strings.HasSuffix(name, ".md") {
			continue
		}
		n++
		t.Run(name, func(t *testing.T) {
			got := corpusOutcome(t, name)
			path := filepath.Join(corpus, name+".expected")
			if *updateCorpus {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from what the auditor says now:\n--- want\n%s--- got\n%s", path, want, got)
			}
		})
	}
	if n < 5 {
		t.Errorf("only %d corpus inputs", n)
	}
}

// rejectionLine is what ingest prints of a rejected line: FILE:LINE: FIELD: REASON.
var rejectionLine = regexp.MustCompile(`^[^:]+:(\d+): (.*)$`)

// corpusOutcome is what the auditor makes of one corpus input, one fact a line:
// the ingest counts, each rejection (line, field, reason) and each result of the audit
// (record, term, rule, attribute, result, severity), sorted.
func corpusOutcome(t *testing.T, name string) string {
	dir := t.TempDir()
	env := map[string]string{"MPASS_AUDIT_KEY": "corpus-key-0123456789abcdef"}
	if code, _, errs := run(t, dir, env, "", "registry", "load", filepath.Join(corpus, "registry.yaml")); code != 0 {
		t.Fatalf("registry load: %s", errs)
	}
	args := []string{"ingest"}
	if b, err := os.ReadFile(filepath.Join(corpus, name+".args")); err == nil {
		args = append(args, strings.Fields(string(b))...)
	}
	code, out, errs := run(t, dir, env, "", append(args, filepath.Join(corpus, name))...)
	if code == exitUsage {
		t.Fatalf("ingest: %s", errs)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(errs), "\n") {
		if m := rejectionLine.FindStringSubmatch(l); m != nil {
			lines = append(lines, fmt.Sprintf("rejected line %s: %s", m[1], m[2]))
		}
	}
	code, out2, errs := run(t, dir, env, "", "audit", "--format", "json")
	if code != 0 {
		t.Fatalf("audit: %s", errs)
	}
	var report struct {
		Summary map[string]int `json:"summary"`
		Results []struct {
			Policy, Rule, Result, Severity string
			Properties                     struct{ Record, Attribute string }
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out2), &report); err != nil {
		t.Fatal(err)
	}
	for _, r := range report.Results {
		attr := r.Properties.Attribute
		if attr == "" {
			attr = "-"
		}
		lines = append(lines, fmt.Sprintf("%s %s %s %s %s %s", r.Properties.Record, r.Policy, r.Rule, attr, r.Result, r.Severity))
	}
	slices.Sort(lines)
	head := fmt.Sprintf("# what mpass-audit makes of %s (see TestMPASSidCorpus)\ningest: %s\nsummary: pass %d, fail %d, warn %d, skip %d, error %d\n",
		name, strings.TrimSpace(out), report.Summary["pass"], report.Summary["fail"], report.Summary["warn"], report.Summary["skip"], report.Summary["error"])
	return head + strings.Join(lines, "\n") + "\n"
}
