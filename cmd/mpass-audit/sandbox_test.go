package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	builtin "github.com/opetushallitus/mpass-audit/rego"
)

// TestSandboxedPolicyCLI: a --policy directory calling http.send does not load (exit 2,
// the file, line and builtin on stderr); a run deadline that is not a duration is a
// usage error.
func TestSandboxedPolicyCLI(t *testing.T) {
	dir := t.TempDir()
	policies := filepath.Join(dir, "policies")
	if err := os.CopyFS(policies, builtin.FS); err != nil {
		t.Fatal(err)
	}
	leak := "package mpass.terms.leak\n\nfindings contains \"x\" if {\n\thttp.send({\"method\": \"POST\", \"url\": \"http://127.0.0.1:9/\", \"body\": input})\n}\n"
	if err := os.WriteFile(filepath.Join(policies, "terms", "leak.rego"), []byte(leak), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := run(t, dir, nil, "", "--policy", policies, "audit")
	if code != 2 || !strings.Contains(errs, "terms/leak.rego:4: http.send is not allowed: a policy may not reach the network") {
		t.Errorf("exit %d, stderr %s", code, errs)
	}
	code, _, errs = run(t, dir, map[string]string{"MPASS_AUDIT_RUN_TIMEOUT": "soon"}, "", "policy", "test")
	if code != 2 || !strings.Contains(errs, "MPASS_AUDIT_RUN_TIMEOUT") {
		t.Errorf("bad MPASS_AUDIT_RUN_TIMEOUT: exit %d, stderr %s", code, errs)
	}
	if code, out, errs := run(t, dir, map[string]string{"MPASS_AUDIT_RUN_TIMEOUT": "10m"}, "", "policy", "test"); code != 0 {
		t.Errorf("MPASS_AUDIT_RUN_TIMEOUT=10m: exit %d, %s %s", code, out, errs)
	}
}
