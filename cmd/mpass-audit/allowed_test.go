package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// TestServiceNotAllowedEndToEnd: import → ingest → audit over both export sets of
// testdata/mpassid. A release to a service the controller had not allowed fails
// service-not-allowed; one allowed directly, through a set or by Opinsys'
// allowedServiceProviders does not; a permission given mid-month splits that month's
// releases; a controller without permission data is not judged.
func TestServiceNotAllowedEndToEnd(t *testing.T) {
	const (
		pahittade = "1.2.246.562.10.88000000013" // set 6000201 since 2025-01-20; peli since 2026-10-15T09:00Z
		keksitty  = "1.2.246.562.10.88000000021" // Opinsys: koetehtävät and kirjasto
		tietamat  = "1.2.246.562.10.88000000039" // no permission data
		kaikki    = "1.2.246.562.10.88000000047" // an empty list: every service
		lukudipl  = "c2a9f1e0d3b84c7a9e6f5d4c3b2a1908"
		kirjasto  = "https://kirjasto.keksitty.example/sp"
		peli      = "https://peli.keksitty.example/shibboleth"
		koetehtav = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	)
	release := func(id, at, sp, controller string) string {
		return `{"kind":"release","id":"` + id + `","time":"` + at + `","sp":"` + sp + `","controller":"` + controller +
			`","subject":"MPASSOID.` + id + `","attributes":{"urn:mpass.id:uid":null}}`
	}
	records := strings.Join([]string{
		release("set-member", "2026-10-03T08:00:00Z", lukudipl, pahittade),
		release("set-member-2", "2026-10-03T08:01:00Z", kirjasto, pahittade),
		release("before-grant", "2026-10-15T08:59:59Z", peli, pahittade),
		release("at-grant", "2026-10-15T09:00:00Z", peli, pahittade),
		release("after-grant", "2026-10-28T12:00:00Z", peli, pahittade),
		release("never-allowed", "2026-10-03T08:02:00Z", koetehtav, pahittade),
		release("opinsys-allowed", "2026-10-03T08:03:00Z", koetehtav, keksitty),
		release("opinsys-not", "2026-10-03T08:04:00Z", peli, keksitty),
		release("no-data", "2026-10-03T08:05:00Z", peli, tietamat),
		release("all-services", "2026-10-03T08:06:00Z", peli, kaikki),
		// imported SPs are approved for the data model only: an e-mail address is not in it
		strings.Replace(release("with-mail", "2026-10-03T08:07:00Z", lukudipl, pahittade), `"urn:mpass.id:uid":null`, `"urn:mpass.id:uid":null,"mail":null,"given_name":null`, 1),
	}, "\n") + "\n"
	dir := t.TempDir()
	in := filepath.Join(dir, "records.jsonl")
	if err := os.WriteFile(in, []byte(records), 0o600); err != nil {
		t.Fatal(err)
	}
	notAllowed := func(importArgs ...string) []string {
		if code, _, errs := run(t, dir, importEnv, "", append([]string{"registry", "import"}, importArgs...)...); code != 0 {
			t.Fatalf("import: %s", errs)
		}
		if code, out, errs := run(t, dir, importEnv, "", "ingest", in); code != 0 || !strings.Contains(out, "stored 11,") && !strings.Contains(out, "duplicate 11,") {
			t.Fatalf("ingest: %s %s", out, errs)
		}
		code, out, errs := run(t, dir, importEnv, "", "audit", "--format", "json")
		if code != 0 {
			t.Fatalf("audit: %s", errs)
		}
		var report struct {
			Results []struct {
				Rule, Severity string
				Properties     struct{ Record, Attribute string }
			}
		}
		if err := json.Unmarshal([]byte(out), &report); err != nil {
			t.Fatal(err)
		}
		var ids []string
		unapproved := map[string]bool{}
		for _, r := range report.Results {
			if r.Rule == "unapproved-attribute" {
				unapproved[r.Properties.Record+" "+r.Properties.Attribute] = true
			}
			if r.Rule == "service-not-allowed" {
				if r.Severity != "high" {
					t.Errorf("%s: severity %s", r.Properties.Record, r.Severity)
				}
				ids = append(ids, r.Properties.Record)
			}
		}
		slices.Sort(ids)
		if !unapproved["with-mail urn:oid:0.9.2342.19200300.100.1.3"] || unapproved["with-mail urn:oid:2.5.4.42"] || len(unapproved) != 1 {
			t.Errorf("unapproved attributes %v, want the e-mail of with-mail alone", unapproved)
		}
		return ids
	}
	got := notAllowed("--services", filepath.Join(import2Dir, "services.json"), "--identity-providers", filepath.Join(import2Dir, "identityproviders.json"),
		"--sets", filepath.Join(import2Dir, "integration-sets.json"), "--organisations", filepath.Join(import2Dir, "organisaatio-hierarkia.json"),
		"--overlay", filepath.Join(import2Dir, "overlay.yaml"))
	if want := []string{"before-grant", "never-allowed", "opinsys-not"}; !slices.Equal(got, want) {
		t.Errorf("service-not-allowed for %v, want %v", got, want)
	}

	// the samples: controller Kuvitteela allows the set of the three services of its
	// vendor, so no release of dm14 fails the rule; the test controller has no data
	dir = t.TempDir()
	in = filepath.Join(dir, "records.jsonl")
	b, err := os.ReadFile(filepath.Join(corpus, "releases-dm14.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, b, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := run(t, dir, importEnv, "", "registry", "import",
		"--services", filepath.Join(importDir, "hallintapalvelu-services.json"), "--identity-providers", filepath.Join(importDir, "hallintapalvelu-identityproviders.json"),
		"--sets", filepath.Join(importDir, "hallintapalvelu-integration-sets.json"), "--organisations", filepath.Join(importDir, "organisaatio-hierarkia.json"))
	if code != 0 {
		t.Fatalf("import of the samples: %s", errs)
	}
	run(t, dir, importEnv, "", "ingest", in)
	code, out, errs := run(t, dir, importEnv, "", "audit", "--format", "json")
	if code != 0 || strings.Contains(out, "service-not-allowed") || !strings.Contains(out, "age-revealing-attribute") {
		t.Errorf("samples: exit %d, service-not-allowed or no legacyCryptId finding: %s", code, errs)
	}
}

// With the identity providers imported, a Shibboleth log's flow field finds its
// controller without --flow (the flows' names and idpIds of registry import).
func TestFlowsFromTheRegistry(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := run(t, dir, importEnv, "", "registry", "import",
		"--services", filepath.Join(importDir, "hallintapalvelu-services.json"), "--identity-providers", filepath.Join(importDir, "hallintapalvelu-identityproviders.json")); code != 0 {
		t.Fatalf("import: %s", errs)
	}
	log := filepath.Join(dir, "flows.log")
	if err := os.WriteFile(log, []byte(
		"2026-10-07T10:58:12+0300|u1|https://sso.oppimateriaali.example/shibboleth|mpassUsername,mpassRole|ShibKuvitteela|_flow1\n"+
			"2026-10-07T10:58:13+0300|u2|https://sso.oppimateriaali.example/shibboleth|mpassUsername|opinsys_kuvitteela|_flow2\n"+
			"2026-10-07T10:58:14+0300|u3|https://sso.oppimateriaali.example/shibboleth|mpassUsername|Unknown|_flow3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := run(t, dir, importEnv, "", "ingest", "--log-format", "%T|%u|%SP|%attr|%flow|%i", "--flow-field", "%flow", log)
	if code != 1 || !strings.Contains(out, "stored 2, duplicate 0, rejected 1") || !strings.Contains(errs, "flows.log:3: controller") {
		t.Errorf("exit %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = run(t, dir, importEnv, "", "audit", "--controller", "1.2.246.562.10.12345678903", "--format", "json")
	var report struct{ Summary map[string]int }
	if err := json.Unmarshal([]byte(out), &report); code != 0 || err != nil || report.Summary["pass"] == 0 {
		t.Errorf("audit of the controller the flows gave: exit %d, %v, summary %v", code, err, report.Summary)
	}
}

// The history of permissions survives what says nothing of it: a later export without
// a controller's permissions, and a `registry load` between two imports. Old months are
// judged as before.
func TestPermissionHistorySurvives(t *testing.T) {
	const pahittade = "1.2.246.562.10.88000000013"
	dir := t.TempDir()
	base := []string{"registry", "import", "--services", filepath.Join(import2Dir, "services.json"), "--sets", filepath.Join(import2Dir, "integration-sets.json")}
	full := append(slices.Clone(base), "--identity-providers", filepath.Join(import2Dir, "identityproviders.json"))
	b, err := os.ReadFile(filepath.Join(import2Dir, "identityproviders.json"))
	if err != nil {
		t.Fatal(err)
	}
	// Påhittade's identity provider without its permissions list (its only one in the file)
	i := strings.Index(string(b), `"permissions": [`)
	j := strings.Index(string(b)[i:], "\n      ]") + i + len("\n      ]")
	noData := filepath.Join(dir, "idps-no-permissions.json")
	if err := os.WriteFile(noData, []byte(string(b)[:i]+`"x-note": null`+string(b)[j:]), 0o600); err != nil {
		t.Fatal(err)
	}
	permissionsOf := func() []mpass.Permission {
		var out []mpass.Permission
		reg := showJSON(t, dir)
		for _, p := range reg.Permissions {
			if p.Controller == pahittade {
				out = append(out, p)
			}
		}
		for _, c := range reg.Controllers {
			if c.OID == pahittade && !c.PermissionData {
				t.Error("Påhittade is no longer judged")
			}
		}
		return out
	}
	// and without its permission to the Pelipaja: that one is closed at the import
	noPeli := filepath.Join(dir, "idps-no-peli.json")
	peli := `{"to": {"id": 5000203, "integrations": []}, "lastUpdatedOn": "2026-10-15T12:00:00"},`
	if !strings.Contains(string(b), peli) {
		t.Fatal("import2 changed: no permission to the Pelipaja")
	}
	if err := os.WriteFile(noPeli, []byte(strings.Replace(string(b), peli, "", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	lessPeli := append(slices.Clone(base), "--identity-providers", noPeli)
	for _, step := range [][]string{full, lessPeli, {"registry", "load", filepath.Join(corpus, "registry.yaml")}, lessPeli} {
		if code, _, errs := run(t, dir, importEnv, "", step...); code != 0 {
			t.Fatalf("%v: %s", step, errs)
		}
	}
	before := permissionsOf()
	closed := slices.ContainsFunc(before, func(p mpass.Permission) bool {
		return p.SP == "https://peli.keksitty.example/shibboleth" && p.To != nil && p.From.Equal(time.Date(2026, 10, 15, 9, 0, 0, 0, time.UTC))
	})
	if len(before) != 3 || !closed {
		t.Fatalf("after import, import without the Pelipaja, load, import: permissions %+v; want the Pelipaja's closed", before)
	}
	if code, _, errs := run(t, dir, importEnv, "", append(slices.Clone(base), "--identity-providers", noData)...); code != 0 || !strings.Contains(errs, "no permission data for it") {
		t.Fatalf("import without Påhittade's permissions: exit %d %s", code, errs)
	}
	if after := permissionsOf(); !reflect.DeepEqual(before, after) {
		t.Errorf("permissions changed:\nbefore %+v\nafter  %+v", before, after)
	}
}
