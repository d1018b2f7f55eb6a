package main

import (
	"bytes"
	"context"
	builtin "github.com/opetushallitus/mpass-audit/rego"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// run runs one command line in a fresh Main on dir's database.
func run(t *testing.T, dir string, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }}
	code = m.Run(context.Background(), append([]string{"--db", filepath.Join(dir, "a.db")}, args...))
	m.Close()
	return code, out.String(), errb.String()
}

func TestExitStatuses(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		out   string
		err   string
	}{
		{"load registry", "", []string{"registry", "load", "../../testdata/demo/registry.yaml"}, 0, "registry version 1: 2 controllers", ""},
		{"ingest the demo", "", []string{"ingest", "../../testdata/demo/records.jsonl"}, 0, "stored 16, duplicate 0, rejected 0", ""},
		{"ingest again", "", []string{"ingest", "../../testdata/demo/records.jsonl"}, 0, "stored 0, duplicate 16, rejected 0", ""},
		{"ingest a bad line from stdin", "{\"kind\":\"login\"}\n", []string{"ingest", "--format", "jsonl", "-"}, 1, "rejected 1", "-:1: kind: unknown kind"},
		{"unreadable file", "", []string{"ingest", filepath.Join(dir, "missing.jsonl")}, 2, "", "no such file"},
		{"bad flag", "", []string{"audit", "--colour"}, 2, "", "unknown flag"},
		{"bad date", "", []string{"audit", "--from", "1.10.2026"}, 2, "", "not a date"},
		{"audit of a span over 36 months", "", []string{"audit", "--from", "0001-01-01", "--to", "9999-12-31"}, 2, "", "longer than 36 months"},
		{"report of a span over 36 months", "", []string{"report", "--controller", "1.2.246.562.10.44444444440", "--period", "0001-01-01..9999-12-31", "-o", filepath.Join(dir, "r.pdf")}, 2, "", "longer than 36 months"},
		{"audit", "", []string{"audit"}, 0, "no-age-inference", ""},
		{"audit fails on fail", "", []string{"audit", "--fail-on", "fail", "--format", "csv"}, 1, "policy,rule,result", ""},
		{"audit of a clean controller-period", "", []string{"audit", "--controller", "1.2.246.562.10.55555555550", "--from", "2026-01-01", "--to", "2026-01-31", "--fail-on", "warn"}, 0, "no records (no verdict)", ""},
		{"audit of a controller that exists nowhere", "", []string{"audit", "--controller", "1.2.246.562.10.99999999990"}, 2, "", "in neither the registry nor any record"},
		{"bad registry", "", []string{"registry", "load", "../../testdata/demo/records.jsonl"}, 2, "", "records.jsonl"},
		{"policy test", "", []string{"policy", "test"}, 0, " passed, 0 failed", ""},
		{"policy test junit", "", []string{"policy", "test", "--format", "junit"}, 0, "<testsuite", ""},
		{"bad policy dir", "", []string{"--policy", dir, "policy", "test"}, 2, "", "no .rego files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := run(t, dir, nil, tc.stdin, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errs, tc.err) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, out, errs)
			}
			if code == exitUsage && strings.Count(strings.TrimSpace(errs), "\n") > 0 {
				t.Errorf("usage error is not one line: %q", errs)
			}
		})
	}
}

func TestPseudonymKey(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := run(t, dir, nil, "", "registry", "load", "../../testdata/demo/registry.yaml"); code != 0 {
		t.Fatalf("registry load: %d %s", code, errs)
	}
	_, a, _ := run(t, dir, nil, "", "pseudonym", "MPASSOID.1")
	_, b, _ := run(t, dir, nil, "", "pseudonym", "MPASSOID.1")
	if a == "" || a != b {
		t.Fatalf("pseudonyms %q %q differ with one key file", a, b)
	}
	st, err := os.Stat(filepath.Join(dir, "a.db.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v %v", st, err)
	}
	env := map[string]string{"MPASS_AUDIT_KEY": "0123456789abcdef0123456789abcdef"}
	_, c, _ := run(t, dir, env, "", "pseudonym", "MPASSOID.1")
	if c == a {
		t.Error("MPASS_AUDIT_KEY did not take precedence")
	}
	if code, _, errs := run(t, dir, map[string]string{"MPASS_AUDIT_KEY": "short"}, "", "pseudonym", "x"); code != 2 || !strings.Contains(errs, "too short") {
		t.Errorf("short key: %d %s", code, errs)
	}
	if err := os.Chmod(filepath.Join(dir, "a.db.key"), 0); err == nil && os.Getuid() != 0 {
		if code, _, errs := run(t, dir, nil, "", "pseudonym", "x"); code != 2 || !strings.Contains(errs, "unreadable") {
			t.Errorf("unreadable key: %d %s", code, errs)
		}
	}
}

// TestReadOnlyRefusesMissingDB (issue 15 item 4): the commands INTERFACE.md names as
// only reading refuse a --db that does not exist, exit 2 with one line, and leave no
// file behind: no empty database, no key.
func TestReadOnlyRefusesMissingDB(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"audit", nil, []string{"audit"}},
		{"audit --sp", nil, []string{"audit", "--sp", "https://sp.example"}},
		{"runs list", nil, []string{"runs", "list"}},
		{"runs show", nil, []string{"runs", "show", "1"}},
		{"runs diff", nil, []string{"runs", "diff", "1", "2"}},
		{"rejections list", nil, []string{"rejections", "list"}},
		{"report", nil, []string{"report", "--controller", "1.2.246.562.10.44444444440", "--period", "2026-10", "-o", "r.pdf"}},
		{"registry show", nil, []string{"registry", "show"}},
		{"token list", nil, []string{"token", "list"}},
		{"token create", nil, []string{"token", "create", "--role", "auditor"}},
		{"pseudonym", nil, []string{"pseudonym", "MPASSOID.1"}},
		{"pseudonym with MPASS_AUDIT_KEY", map[string]string{"MPASS_AUDIT_KEY": "0123456789abcdef0123456789abcdef"}, []string{"pseudonym", "MPASSOID.1"}},
		{"serve", nil, []string{"serve", "--addr", "127.0.0.1:0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			code, out, errs := run(t, dir, tc.env, "", tc.args...)
			want := "no database at " + filepath.Join(dir, "a.db")
			if code != exitUsage || out != "" || !strings.Contains(errs, want) || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and %q", code, out, errs, want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("left %v behind", entries)
			}
		})
	}
}

// TestPseudonymNeverMakesAKey: with a database but no key file, pseudonym refuses
// (a new key would print a pseudonym that matches nothing) and makes none.
func TestPseudonymNeverMakesAKey(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := run(t, dir, nil, "", "registry", "load", "../../testdata/demo/registry.yaml"); code != 0 {
		t.Fatalf("registry load: %d %s", code, errs)
	}
	keyFile := filepath.Join(dir, "a.db.key")
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	code, out, errs := run(t, dir, nil, "", "pseudonym", "MPASSOID.1")
	if code != exitUsage || out != "" || !strings.Contains(errs, "no key") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if _, err := os.Stat(keyFile); !os.IsNotExist(err) {
		t.Errorf("pseudonym made a key file: %v", err)
	}
}

func TestServeRefusesABadSchedule(t *testing.T) {
	for _, spec := range []string{"0 3 1 *", "every month", "0 25 1 * *"} {
		t.Run(spec, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var out, errb bytes.Buffer
			m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
			code := m.Run(ctx, []string{"--db", filepath.Join(dir, "a.db"), "serve", "--addr", "127.0.0.1:0", "--schedule", spec})
			m.Close()
			if ctx.Err() != nil {
				t.Fatal("serve served on with a bad schedule")
			}
			if code != exitUsage || !strings.Contains(errb.String(), `--schedule "`+spec+`"`) || strings.Count(strings.TrimSpace(errb.String()), "\n") > 0 {
				t.Errorf("exit %d (want 2)\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
			}
			if strings.Contains(out.String(), "serving on") {
				t.Errorf("served: %s", out.String())
			}
			if _, err := os.Stat(filepath.Join(dir, "a.db")); err == nil {
				t.Error("a database was created before the schedule was checked")
			}
		})
	}
}

func TestPolicyTestReports(t *testing.T) {
	dir := t.TempDir()
	policies := filepath.Join(dir, "policies")
	if err := os.CopyFS(policies, builtin.FS); err != nil {
		t.Fatal(err)
	}
	failing := "package mpass.zz_failing_test\n\ntest_b_fails if {\n\tx := 1\n\tx == 2\n}\n\ntest_a_passes if true\n"
	if err := os.WriteFile(filepath.Join(policies, "zz_failing_test.rego"), []byte(failing), 0o600); err != nil {
		t.Fatal(err)
	}
	first := ""
	for range 3 {
		code, out, errs := run(t, dir, nil, "", "--policy", policies, "policy", "test", "--format", "junit")
		if code != exitFindings {
			t.Fatalf("exit %d (want 1): %s", code, errs)
		}
		out = regexp.MustCompile(` time="[^"]*"`).ReplaceAllString(out, "")
		if first == "" {
			first = out
		} else if out != first {
			t.Fatalf("JUnit order differs between runs:\n%s\n---\n%s", first, out)
		}
	}
	var cases []string
	for _, m := range regexp.MustCompile(`<testcase name="([^"]+)" classname="([^"]+)"`).FindAllStringSubmatch(first, -1) {
		cases = append(cases, m[2]+"\x00"+m[1])
	}
	if len(cases) < 10 || !slices.IsSorted(cases) {
		t.Errorf("test cases not sorted by package, then name: %q", cases)
	}
	want := `<failure message="failed at zz_failing_test.rego:5: x == 2" type="failure">data.mpass.zz_failing_test.test_b_fails: failed at zz_failing_test.rego:5: x == 2</failure>`
	if !strings.Contains(first, want) || strings.Count(first, "<failure") != 1 || !strings.Contains(first, `failures="1"`) {
		t.Errorf("JUnit failure:\n%s\nwant %s", first, want)
	}

	code, out, _ := run(t, dir, nil, "", "--policy", policies, "policy", "test")
	if code != exitFindings || strings.Count(out, "passed") != 1 || strings.Contains(out, "PASS:") ||
		!strings.Contains(out, "zz_failing_test.rego:3: FAIL data.mpass.zz_failing_test.test_b_fails: failed at zz_failing_test.rego:5: x == 2\n") ||
		!strings.HasSuffix(out, " passed, 1 failed\n") {
		t.Errorf("text (exit %d):\n%s", code, out)
	}
}

func TestGenSaysWhatItWrote(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := run(t, dir, nil, "", "gen", "--records", "200", "-o", filepath.Join(dir, "g.jsonl"))
	reg := filepath.Join(dir, "registry.yaml")
	if code != 0 || out != "" ||
		!regexp.MustCompile(`^gen: wrote 200 records \(\d+ releases, \d+ uses\) to `+regexp.QuoteMeta(filepath.Join(dir, "g.jsonl"))+"\n"+
			`gen: wrote the registry to `+regexp.QuoteMeta(reg)+`: 300 controllers, 200 service providers, \d+ agreements, \d+ consents, \d+ exceptions\n$`).MatchString(errs) {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	if _, err := os.Stat(reg); err != nil {
		t.Error(err)
	}
	code, out, errs = run(t, dir, nil, "", "gen", "--records", "5", "--registry", filepath.Join(dir, "r2.yaml"))
	if code != 0 || strings.Count(out, "\n") != 5 || !strings.Contains(errs, "gen: wrote 5 records (") || !strings.Contains(errs, ") to stdout\n") {
		t.Errorf("to stdout: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
}

func TestRegistryErrorsOnePerLine(t *testing.T) {
	dir := t.TempDir()
	yaml := "service_providers:\n  - id: s1\n    valid:\n      from: 2025-01-01\n      to: 2024-12-31\n    purposes: [essential.service.teleportation]\n"
	path := filepath.Join(dir, "r.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := run(t, dir, nil, "", "registry", "load", path)
	want := "mpass-audit: " + path + ":5: valid.to: 2024-12-31 is before valid.from 2025-01-01\n" +
		"mpass-audit: " + path + `:6: purposes: unknown purpose key "essential.service.teleportation" (a fideslang data-use key)` + "\n"
	if code != exitUsage || errs != want {
		t.Errorf("exit %d\nstderr: %s\nwant:   %s", code, errs, want)
	}
}

func TestNoProgressOffATerminal(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"ingest", "../../testdata/demo/records.jsonl"},
		{"--quiet", "ingest", "../../testdata/demo/records.jsonl"},
	} {
		code, out, errs := run(t, dir, nil, "", args...)
		if code != 0 || errs != "" || strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "stored ") {
			t.Errorf("%v: exit %d\nstdout: %q\nstderr: %q", args, code, out, errs)
		}
	}
}
