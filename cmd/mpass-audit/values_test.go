package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoValueReachesAnyOutput ingests values that hold the CSV grammar's own
// characters (`;`, `=`, `\`), identity codes, names and raw ids in every input format,
// audits, writes the JSON, CSV and table outputs and a PDF report, and scans the
// database files, every output and the PDF's text byte by byte for any of them
// (RECORDS.md "What the auditor keeps": value text never reaches a name or any output).
func TestNoValueReachesAnyOutput(t *testing.T) {
	const controller = "1.2.246.562.10.12345678903"
	const shop = "https://sso.oppimateriaali.example/shibboleth"
	secrets := []string{
		"Salakirjain", "Piilonimi", "Kätköarvo", "Näkymätön", "131052-308T", "010594Y9032", "020516C903K",
		"MPASSOID.5a0c1e7d2b9f4e3a8c6d0b1f2e3a4c5d6e7f8091", "salainen.oppilas2012@kuvitteela.example",
		"opaque-principal-7Q2hX9pLm", "1.2.246.562.24.43210987653",
	}
	dir := t.TempDir()
	env := map[string]string{"MPASS_AUDIT_KEY": "values-key-0123456789abcdef"}
	must := func(args ...string) string {
		t.Helper()
		code, out, errs := run(t, dir, env, "", args...)
		if code == exitUsage {
			t.Fatalf("%v: %s", args, errs)
		}
		return out + errs
	}
	must("registry", "load", filepath.Join(corpus, "registry.yaml"))
	role := controller + ";99901;7B;Oppilas;1;;"
	csv := "kind,id,time,sp,controller,subject,purpose,attributes\n" +
		// the bug of issue 11: the pieces after a ';' are the value's, never names
		"release,c1,2026-10-05T07:58:12Z," + shop + "," + controller + "," + secrets[7] + ",,mpassUsername=" + secrets[7] + ";nickname=" + secrets[0] + ";" + secrets[4] + "\n" +
		// escaped ; = \ inside values
		"release,c2,2026-10-05T07:59:12Z," + shop + "," + controller + "," + secrets[7] + `,,nickname=` + secrets[1] + `\;` + secrets[2] + `\=` + secrets[3] + `\\` + secrets[5] + ";mpassRole=" + role + "\n" +
		"release,c3,2026-10-05T08:00:12Z," + shop + "," + controller + "," + secrets[7] + `,,givenName=` + secrets[1] + ";mail=" + secrets[8] + ";" + secrets[6] + "=x\n"
	jsonl := `{"kind":"release","id":"j1","time":"2026-10-05T08:01:12Z","sp":"` + shop + `","controller":"` + controller + `","subject":"` + secrets[7] +
		`","attributes":{"nickname":["` + secrets[2] + `;` + secrets[6] + `=` + secrets[3] + `\\` + `"],"learnerId":["` + secrets[10] + `"]}}` + "\n"
	shib := "20261005T080212Z|b|_req1|" + shop + "|http://shibboleth.net/ns/profiles/saml2/sso/browser|https://proxy.example/idp|b|_r1|" + secrets[9] + "|ac|mpassUsername,ecafirstName,mpassLegacyCid|nameid|_a1|\n"
	for name, text := range map[string]string{"v.csv": csv, "v.jsonl": jsonl, "v.log": shib} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		args := []string{"ingest", p}
		if name == "v.log" {
			args = []string{"ingest", "--log-format", "idp3", "--controller", controller, p}
		}
		if out := must(args...); !strings.Contains(out, "stored 1,") && !strings.Contains(out, "stored 3,") {
			t.Fatalf("%s: %s", name, out)
		}
	}
	outputs := map[string]string{}
	for _, format := range []string{"json", "csv", "table"} {
		outputs["audit."+format] = must("audit", "--format", format)
	}
	if !strings.Contains(outputs["audit.json"], `"age-revealing-value"`) || !strings.Contains(outputs["audit.json"], "urn:mpass.id:nickname") {
		t.Fatal("the identity codes inside values were not found: the scan would prove little")
	}
	pdf := filepath.Join(dir, "report.pdf")
	must("report", "--controller", controller, "--period", "2026-10", "--lang", "en", "-o", pdf)
	if p, err := exec.LookPath("pdftotext"); err == nil {
		text, err := exec.Command(p, pdf, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		outputs["report.txt"] = string(text)
	} else if os.Getenv("CI") != "" {
		t.Fatal("pdftotext not installed (.ci/run installs poppler-utils)")
	}
	for name, content := range writtenFiles(t, dir, "v.csv", "v.jsonl", "v.log") {
		outputs[name] = content
	}
	assertNoSecret(t, outputs, secrets)
}
