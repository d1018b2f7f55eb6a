package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// hostileSecrets are the personal data the hostile corpus holds: e-mail addresses,
// identity-code-shaped tokens, MPASSid user ids, and the values of its name-like
// attributes (JSON Lines). Short and role values are left out: a role word ("Oppilas")
// is kept on purpose, and "x" is in every file.
func hostileSecrets(t *testing.T, files []string) []string {
	t.Helper()
	patterns := []*regexp.Regexp{
		regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z0-9.-]*[a-z]{2,}`),
		regexp.MustCompile(`\b\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]\b`),
		regexp.MustCompile(`MPASSOID\.[A-Za-z0-9]{6,}`),
	}
	seen := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range patterns {
			for _, m := range p.FindAllString(string(b), -1) {
				seen[m] = true
			}
		}
		if !strings.HasSuffix(f, ".jsonl") {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			var rec struct {
				Attributes map[string]any `json:"attributes"`
			}
			if json.Unmarshal([]byte(line), &rec) != nil {
				continue
			}
			for name, v := range rec.Attributes {
				lower := strings.ToLower(name)
				if strings.Contains(lower, "role") || strings.Contains(lower, "school") || strings.Contains(lower, "oid") {
					continue
				}
				list, _ := v.([]any)
				for _, x := range list {
					if s, ok := x.(string); ok && len(s) >= 6 && !regexp.MustCompile(`^[0-9.]+$`).MatchString(s) {
						seen[s] = true
					}
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	return out
}

// TestHostileCorpusLeavesNoValue (issue 14): after ingesting the whole hostile corpus,
// auditing it in every format, writing a report and a backup, no file the product
// wrote and nothing it printed holds an e-mail address, an identity code, a raw user id
// or a name-like attribute value of the corpus.
func TestHostileCorpusLeavesNoValue(t *testing.T) {
	const controller = "1.2.246.562.10.44444444440"
	dir := t.TempDir()
	env := map[string]string{"MPASS_AUDIT_KEY": "hostile-scan-key-0123456789"}
	corpus, _ := filepath.Glob("../../testdata/hostile/*")
	var inputs []string
	for _, f := range corpus {
		if ext := filepath.Ext(f); ext == ".jsonl" || ext == ".csv" || ext == ".log" {
			inputs = append(inputs, f)
		}
	}
	secrets := hostileSecrets(t, inputs)
	if len(secrets) < 3 {
		t.Fatalf("only %d secrets found in the corpus: %q", len(secrets), secrets)
	}
	printed := ""
	must := func(args ...string) string {
		t.Helper()
		code, out, errs := run(t, dir, env, "", args...)
		if code == exitUsage {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		printed += out + errs
		return out
	}
	must("registry", "load", "../../testdata/demo/registry.yaml")
	for _, f := range inputs {
		must("ingest", f)
	}
	for _, format := range []string{"json", "csv", "table"} {
		must("audit", "--format", format)
	}
	must("report", "--controller", controller, "--period", "2026-10", "--lang", "fi", "-o", filepath.Join(dir, "r.pdf"))
	must("backup", filepath.Join(dir, "backup.db"))
	outputs := writtenFiles(t, dir)
	outputs["printed"] = printed
	t.Logf("%d secrets scanned for in %d outputs", len(secrets), len(outputs))
	if len(outputs) < 4 {
		t.Fatalf("only %d outputs to scan", len(outputs))
	}
	assertNoSecret(t, outputs, secrets)
}

// writtenFiles are the contents of every file the product wrote into dir (database,
// WAL, backups, reports), by name: all but the key file, the one file meant to hold a
// secret, and the test's own inputs.
func writtenFiles(t *testing.T, dir string, inputs ...string) map[string]string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	out := map[string]string{}
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || !st.Mode().IsRegular() || strings.HasSuffix(f, ".key") || slices.Contains(inputs, filepath.Base(f)) {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = string(b)
	}
	return out
}

// assertNoSecret fails for every output that holds a secret, in any letter case.
func assertNoSecret(t *testing.T, outputs map[string]string, secrets []string) {
	t.Helper()
	for name, out := range outputs {
		lower := strings.ToLower(out)
		for _, s := range secrets {
			if strings.Contains(lower, strings.ToLower(s)) {
				t.Errorf("%s holds %q", name, s)
			}
		}
	}
}
