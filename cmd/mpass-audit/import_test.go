package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// The export sets of testdata/mpassid: import/ is ../shared/samples/mpassid's
// management-service and organisation-service files as they are; import2/ is another,
// written for these tests (see describe's expectations below).
const (
	importDir  = "../../testdata/mpassid/import"
	import2Dir = "../../testdata/mpassid/import2"
)

var importEnv = map[string]string{"MPASS_AUDIT_KEY": testKey}

// showJSON reads the registry in use through `registry show --format json`.
func showJSON(t *testing.T, dir string) *mpass.Registry {
	t.Helper()
	code, out, errs := run(t, dir, importEnv, "", "registry", "show", "--format", "json")
	if code != 0 {
		t.Fatalf("registry show: exit %d: %s", code, errs)
	}
	var reg mpass.Registry
	if err := json.Unmarshal([]byte(out), &reg); err != nil {
		t.Fatalf("registry show --format json: %v\n%s", err, out)
	}
	return &reg
}

// describe renders a registry's every imported fact, one a line, for a test to compare
// whole; times in UTC, attribute lists by count (the data model's are the policies').
func describe(reg *mpass.Registry) string {
	var b strings.Builder
	for _, s := range reg.Sources {
		fmt.Fprintf(&b, "source %s %s\n", s.Kind, filepath.Base(s.Name))
	}
	for _, c := range reg.Controllers {
		fmt.Fprintf(&b, "controller %s %q fi=%q sv=%q en=%q data=%v\n", c.OID, c.Name, c.Names["fi"], c.Names["sv"], c.Names["en"], c.PermissionData)
		for _, s := range c.Schools {
			fmt.Fprintf(&b, "  school %s %s %q sv=%q parent=%s\n", or(s.Code), or(s.OID), s.Name, s.Names["sv"], or(s.Parent))
		}
	}
	for _, idp := range reg.IdentityProviders {
		fmt.Fprintf(&b, "idp %s %s %s %s\n", idp.Controller, idp.Flow, idp.IdpID, idp.Type)
	}
	for _, sp := range reg.ServiceProviders {
		phase := "-"
		if sp.DeploymentPhase != nil {
			phase = fmt.Sprint(*sp.DeploymentPhase)
		}
		fmt.Fprintf(&b, "sp %s %q %s phase=%s vendor=%s ytunnus=%s commercial=%v valid=%s..%s testlearner=%v sets=%s attributes=%d purposes=%s\n",
			sp.ID, sp.Name, or(sp.Protocol), phase, or(sp.VendorOID), or(sp.BusinessID), sp.Commercial, sp.Valid.From, sp.Valid.To, sp.TestLearnerID,
			or(strings.Join(sp.Sets, ",")), len(sp.Attributes), strings.Join(sp.Purposes, ","))
	}
	for _, p := range reg.Permissions {
		to := "-"
		if p.To != nil {
			to = p.To.UTC().Format(time.RFC3339Nano)
		}
		fmt.Fprintf(&b, "allows %s %s set=%s from=%s to=%s %s\n", p.Controller, p.SP, or(p.Set), p.From.UTC().Format(time.RFC3339Nano), to, p.Source)
	}
	for _, a := range reg.Agreements {
		fmt.Fprintf(&b, "agreement %s %s %s..%s %v %v\n", a.Controller, a.SP, a.Valid.From, a.Valid.To, a.Attributes, a.Purposes)
	}
	for _, c := range reg.Consents {
		fmt.Fprintf(&b, "consent pseudonymised=%v %s %s %s %s\n", !strings.HasPrefix(c.Subject, "MPASSOID"), c.SP, c.Purpose, c.GivenBy, c.Given.UTC().Format(time.RFC3339))
	}
	for _, e := range reg.Exceptions {
		fmt.Fprintf(&b, "exception %s %s %s %s %s %s %s\n", e.ID, e.Term, e.Rule, e.SP, e.Controller, e.Attribute, e.Expires)
	}
	for k, v := range reg.Names {
		fmt.Fprintf(&b, "name %s=%s\n", k, v)
	}
	return b.String()
}

func or(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// compare reports the first lines where got and want differ, all of both on failure.
func compare(t *testing.T, got, want string) {
	t.Helper()
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Errorf("line %d:\n got  %s\n want %s", i+1, gl, wl)
		}
	}
	if t.Failed() {
		t.Logf("got:\n%s", got)
	}
}

func sha(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// The shared samples of MPASSid's exports, imported, shown and imported again.
func TestRegistryImportSamples(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"--services":           filepath.Join(importDir, "hallintapalvelu-services.json"),
		"--identity-providers": filepath.Join(importDir, "hallintapalvelu-identityproviders.json"),
		"--sets":               filepath.Join(importDir, "hallintapalvelu-integration-sets.json"),
		"--organisations":      filepath.Join(importDir, "organisaatio-hierarkia.json"),
	}
	args := []string{"registry", "import"}
	for _, flag := range []string{"--services", "--identity-providers", "--sets", "--organisations"} {
		args = append(args, flag, files[flag])
	}
	code, out, errs := run(t, dir, importEnv, "", args...)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	const summary = "registry version 1: 1 controllers, 2 schools, 3 service providers, 1 sets, 2 identity providers, 5 permissions (5 open, 0 closed), 0 agreements, 0 consents, 0 exceptions\n" +
		"controllers without permission data: 0\n"
	if out != summary {
		t.Errorf("import printed\n%s\nwant\n%s", out, summary)
	}

	reg := showJSON(t, dir)
	const ctl = "1.2.246.562.10.12345678903"
	compare(t, describe(reg), `source services hallintapalvelu-services.json
source identity-providers hallintapalvelu-identityproviders.json
source sets hallintapalvelu-integration-sets.json
source organisations organisaatio-hierarkia.json
controller `+ctl+` "Kuvitteelan kaupunki" fi="Kuvitteelan kaupunki" sv="Kuvitteela stad" en="City of Kuvitteela" data=true
  school 99901 1.2.246.562.10.23456789017 "Kuvitteelan yhtenäiskoulu" sv="Kuvitteelan yhtenäiskoulu" parent=`+ctl+`
  school 99902 1.2.246.562.10.34567890123 "Kuvitteelan lukio" sv="Kuvitteelan lukio" parent=`+ctl+`
idp `+ctl+` OpinsysKuvitteela opinsys_kuvitteela opinsys
idp `+ctl+` ShibKuvitteela azure_kuvitteela azure
sp 7d3e9a1c0b5f4e2d8c6a4b2e0f9d7c5a "Kuvitteellinen Tehtäväpankki" oidc phase=1 vendor=1.2.246.562.10.56789012343 ytunnus=9876545-7 commercial=false valid=.. testlearner=false sets=6000101 attributes=12 purposes=essential.service.authentication,essential.service.authorization
sp b4f0c2d9e1a7403c9f6b2a5d8e7c1f30 "Kuvitteellinen Tehtäväpankki" oidc phase=0 vendor=1.2.246.562.10.56789012343 ytunnus=9876545-7 commercial=false valid=.. testlearner=true sets=6000101 attributes=12 purposes=essential.service.authentication,essential.service.authorization
sp https://sso.oppimateriaali.example/shibboleth "Kuvitteellinen Oppimateriaalikauppa" saml phase=1 vendor=1.2.246.562.10.56789012343 ytunnus=9876545-7 commercial=false valid=.. testlearner=false sets=6000101 attributes=11 purposes=essential.service.authentication,essential.service.authorization
allows `+ctl+` 7d3e9a1c0b5f4e2d8c6a4b2e0f9d7c5a set=- from=1970-01-01T00:00:00Z to=- allowedServiceProviders
allows `+ctl+` 7d3e9a1c0b5f4e2d8c6a4b2e0f9d7c5a set=6000101 from=2024-08-12T06:41:07Z to=- permissions
allows `+ctl+` b4f0c2d9e1a7403c9f6b2a5d8e7c1f30 set=6000101 from=2024-08-12T06:41:07Z to=- permissions
allows `+ctl+` https://sso.oppimateriaali.example/shibboleth set=- from=1970-01-01T00:00:00Z to=- allowedServiceProviders
allows `+ctl+` https://sso.oppimateriaali.example/shibboleth set=6000101 from=2024-08-12T06:41:07Z to=- permissions
`)
	kinds := map[string]string{"services": "--services", "identity-providers": "--identity-providers", "sets": "--sets", "organisations": "--organisations"}
	for _, s := range reg.Sources {
		if want := sha(t, files[kinds[s.Kind]]); s.Digest != want {
			t.Errorf("source %s digest %s, want %s", s.Kind, s.Digest, want)
		}
	}
	for _, sp := range reg.ServiceProviders {
		if sp.Protocol == "saml" && (contains(sp.Attributes, "sub") || !contains(sp.Attributes, "urn:mpass.id:uid")) {
			t.Errorf("SAML SP approved for %v", sp.Attributes)
		}
	}

	// the same files again: a new version with the same digest and history
	code, out, errs = run(t, dir, importEnv, "", args...)
	if code != 0 || errs != "" || !strings.HasPrefix(out, "registry version 2: ") {
		t.Fatalf("second import: exit %d\n%s%s", code, out, errs)
	}
	again := showJSON(t, dir)
	if again.Digest != reg.Digest || describe(again) != describe(reg) {
		t.Errorf("the same files gave %s, was %s:\n%s", again.Digest, reg.Digest, describe(again))
	}

	code, out, _ = run(t, dir, importEnv, "", "registry", "show")
	for _, want := range []string{"Registry version 2, loaded ", reg.Digest, "Controllers (1)", "Kuvitteelan kaupunki [sv: Kuvitteela stad; en: City of Kuvitteela]",
		"99901  1.2.246.562.10.23456789017  Kuvitteelan yhtenäiskoulu", "allowed services (5)", "2024-08-12T06:41:07Z", "always",
		"Service providers (3)", "9876545-7", "Consents (0)"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("registry show (exit %d) lacks %q:\n%s", code, want, out)
		}
	}
}

// The second export set: other controllers, a permission to one service and to a set
// of two, a controller without permission data, Opinsys' allowedServiceProviders, an
// "all services" controller, Swedish-only names, schools by OID alone and by code
// alone, and an overlay of what no OPH system holds.
func TestRegistryImportSecondSet(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := run(t, dir, importEnv, "", "registry", "import",
		"--services", filepath.Join(import2Dir, "services.json"),
		"--identity-providers", filepath.Join(import2Dir, "identityproviders.json"),
		"--sets", filepath.Join(import2Dir, "integration-sets.json"),
		"--organisations", filepath.Join(import2Dir, "organisaatio-hierarkia.json"),
		"--overlay", filepath.Join(import2Dir, "overlay.yaml"))
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	const summary = "registry version 1: 4 controllers, 4 schools, 4 service providers, 2 sets, 4 identity providers, 9 permissions (9 open, 0 closed), 1 agreements, 1 consents, 1 exceptions\n" +
		"controllers without permission data: 1 (service-not-allowed cannot be checked for them)\n" +
		"  1.2.246.562.10.88000000039  Tietämättömän kuntayhtymä\n"
	if out != summary {
		t.Errorf("import printed\n%s\nwant\n%s", out, summary)
	}
	for _, w := range []string{
		"warning: " + filepath.Join(import2Dir, "organisaatio-hierarkia.json") + ": 1 schools are under no controller",
		"$.identityProviders[2].discoveryInformation.schools[0]: school 88831 is not in",
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errs)
		}
	}
	if n := strings.Count(errs, "warning: "); n != 2 {
		t.Errorf("%d warnings:\n%s", n, errs)
	}

	const (
		pahittade   = "1.2.246.562.10.88000000013" // Swedish names only; a wilma IdP with permissions
		keksitty    = "1.2.246.562.10.88000000021" // Opinsys' allowedServiceProviders
		tietamaton  = "1.2.246.562.10.88000000039" // no permission data
		kaikki      = "1.2.246.562.10.88000000047" // an empty permissions list: every service
		kirjasto    = "https://kirjasto.keksitty.example/sp"
		peli        = "https://peli.keksitty.example/shibboleth"
		lukudiplomi = "c2a9f1e0d3b84c7a9e6f5d4c3b2a1908"
		koe         = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	)
	compare(t, describe(showJSON(t, dir)), `source services services.json
source identity-providers identityproviders.json
source sets integration-sets.json
source organisations organisaatio-hierarkia.json
source overlay overlay.yaml
controller `+pahittade+` "Påhittade stad" fi="" sv="Påhittade stad" en="" data=true
  school - 1.2.246.562.10.88000000120 "Påhittade gymnasium" sv="Påhittade gymnasium" parent=`+pahittade+`
  school 88801 1.2.246.562.10.88000000112 "Påhittade svenska skola" sv="Påhittade svenska skola" parent=`+pahittade+`
controller `+keksitty+` "Keksityn kunta" fi="Keksityn kunta" sv="Keksitty kommun" en="Municipality of Keksitty" data=true
  school 88821 1.2.246.562.10.88000000211 "Keksityn koulu" sv="Keksitty skola" parent=`+keksitty+`
controller `+tietamaton+` "Tietämättömän kuntayhtymä" fi="Tietämättömän kuntayhtymä" sv="" en="" data=false
  school 88831 - "Tietämättömän koulu" sv="" parent=-
controller `+kaikki+` "Kaikkisallivan kunta" fi="Kaikkisallivan kunta" sv="" en="" data=true
idp `+pahittade+` WilmaPahittade wilma_pahittade wilma
idp `+keksitty+` OpinsysKeksitty opinsys_keksitty opinsys
idp `+tietamaton+` AdfsTietamaton adfs_tietamaton adfs
idp `+kaikki+` GsuiteKaikki gsuite_kaikki gsuite
sp `+koe+` "Keksitty Koetehtävät" oidc phase=2 vendor=1.2.246.562.10.88000000526 ytunnus=1112223-0 commercial=false valid=.. testlearner=true sets=6000202 attributes=12 purposes=essential.service.authentication,essential.service.authorization
sp `+lukudiplomi+` "Keksitty Lukudiplomi" oidc phase=1 vendor=1.2.246.562.10.88000000518 ytunnus=1234567-1 commercial=false valid=.. testlearner=false sets=6000201 attributes=12 purposes=essential.service.authentication,essential.service.authorization
sp `+kirjasto+` "Keksitty Koulukirjasto" saml phase=1 vendor=1.2.246.562.10.88000000518 ytunnus=1234567-1 commercial=false valid=.. testlearner=false sets=6000201 attributes=3 purposes=essential.service.authentication
sp `+peli+` "Keksitty Pelipaja" saml phase=1 vendor=1.2.246.562.10.88000000526 ytunnus=- commercial=true valid=2026-01-01.. testlearner=false sets=- attributes=11 purposes=essential.service.authentication,essential.service.authorization
allows `+pahittade+` `+lukudiplomi+` set=6000201 from=2025-01-20T06:15:30.123456Z to=- permissions
allows `+pahittade+` `+kirjasto+` set=6000201 from=2025-01-20T06:15:30.123456Z to=- permissions
allows `+pahittade+` `+peli+` set=- from=2026-10-15T09:00:00Z to=- permissions
allows `+keksitty+` `+koe+` set=- from=1970-01-01T00:00:00Z to=- allowedServiceProviders
allows `+keksitty+` `+kirjasto+` set=- from=1970-01-01T00:00:00Z to=- allowedServiceProviders
allows `+kaikki+` `+koe+` set=- from=1970-01-01T00:00:00Z to=- all-services
allows `+kaikki+` `+lukudiplomi+` set=- from=1970-01-01T00:00:00Z to=- all-services
allows `+kaikki+` `+kirjasto+` set=- from=1970-01-01T00:00:00Z to=- all-services
allows `+kaikki+` `+peli+` set=- from=1970-01-01T00:00:00Z to=- all-services
agreement `+pahittade+` `+peli+` 2026-01-01..2026-12-31 [urn:oid:0.9.2342.19200300.100.1.3] [essential.service.payment_processing]
consent pseudonymised=true `+peli+` marketing.communications.email guardian 2026-09-01T00:00:00Z
exception EX-2026-101 data-minimisation unapproved-attribute `+kirjasto+` `+pahittade+` urn:mpass.id:classLevel 2027-06-30
name kutsumanimi=urn:mpass.id:nickname
`)
	reg := showJSON(t, dir)
	for _, sp := range reg.ServiceProviders {
		if sp.ID == kirjasto && strings.Join(sp.Attributes, " ") != "urn:mpass.id:nickname urn:mpass.id:role urn:mpass.id:uid" {
			t.Errorf("the overlay's attributes for the library: %v", sp.Attributes)
		}
	}
}

// Bad exports and bad usage end with exit 2 and a one-line reason naming the file and
// the JSON path; `registry show` does not make a database that is not there.
func TestRegistryImportAndShowErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "services.json")
	if err := os.WriteFile(bad, []byte(`{"services":[{"id":1,"configurationEntity":{"sp":{"type":"saml","metadata":{}}}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	idps := filepath.Join(importDir, "hallintapalvelu-identityproviders.json")
	for _, tc := range []struct {
		name string
		args []string
		err  string
	}{
		{"malformed export", []string{"registry", "import", "--services", bad, "--identity-providers", idps}, bad + ": $.services[0].configurationEntity.sp.metadata.entityId: required"},
		{"exports swapped", []string{"registry", "import", "--services", idps, "--identity-providers", bad}, `want {"services":[…]}, found members "identityProviders"`},
		{"no identity providers", []string{"registry", "import", "--services", bad}, `required flag(s) "identity-providers" not set`},
		{"missing file", []string{"registry", "import", "--services", filepath.Join(dir, "nowhere.json"), "--identity-providers", idps}, "no such file"},
		{"bad overlay", []string{"registry", "import", "--services", filepath.Join(importDir, "hallintapalvelu-services.json"), "--identity-providers", idps, "--overlay", bad}, "services.json: yaml"},
		{"bad format", []string{"registry", "show", "--format", "xml"}, `--format "xml": want table or json`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := run(t, dir, importEnv, "", tc.args...)
			if code != exitUsage || !strings.Contains(errs, tc.err) || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
				t.Errorf("exit %d, stderr %q, want one line with %q", code, errs, tc.err)
			}
		})
	}

	fresh := t.TempDir()
	code, _, errs := run(t, fresh, importEnv, "", "registry", "show")
	if code != exitUsage || !strings.Contains(errs, "no database at") {
		t.Errorf("show of no database: exit %d %q", code, errs)
	}
	if entries, _ := os.ReadDir(fresh); len(entries) != 0 {
		t.Errorf("registry show made %v", entries)
	}
	// the failed imports above made no database
	if _, err := os.Stat(filepath.Join(dir, "a.db")); !os.IsNotExist(err) {
		t.Errorf("a failed import left a database: %v", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
