package registry_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/registry"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

// OIDs of the tests, with their check digits (mpass.OrganisationOID).
const (
	ctlA    = "1.2.246.562.10.88000000013"
	ctlB    = "1.2.246.562.10.88000000021"
	schoolA = "1.2.246.562.10.88000000112"
	vendor  = "1.2.246.562.10.88000000518"
)

func importer(t *testing.T) *registry.Importer {
	t.Helper()
	dm, err := testenv.MustEngine(t).DataModel(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &registry.Importer{Extractor: testenv.MustExtractor(t), Vocabulary: vocab(t), DataModel: dm}
}

func input(name, text string) registry.Input {
	return registry.Input{Name: name, R: strings.NewReader(text)}
}

// Minimal sound exports: one SAML SP in set 9, and a controller that allows the set.
const (
	goodServices = `{"services":[{"id":1,"configurationEntity":{"sp":{"type":"saml","name":"S","metadata":{"entityId":"https://s.example/sp"}}},
		"organization":{"oid":"` + vendor + `","ytunnus":"1234567-1"},"integrationGroups":[{"id":9}],"deploymentPhase":1}]}`
	goodIdPs = `{"identityProviders":[{"configurationEntity":{"idp":{"type":"azure","flowName":"F","idpId":"azure_a"}},
		"discoveryInformation":{"schools":["88801"]},"organization":{"oid":"` + ctlA + `"},
		"permissions":[{"to":{"id":9},"lastUpdatedOn":"2024-08-12T09:41:07"}]}]}`
	goodSets = `{"integrationGroups":[{"id":9,"configurationEntity":{"set":{"name":"Set"}}}]}`
	goodOrgs = `{"numHits":2,"organisaatiot":[{"oid":"` + ctlA + `","nimi":{"fi":"A"},"children":[
		{"oid":"` + schoolA + `","nimi":{"fi":"Koulu"},"oppilaitosKoodi":"88801","organisaatiotyypit":["organisaatiotyyppi_02"],"parentOid":"` + ctlA + `"}]}]}`
)

// sources are the sound exports, with any of them replaced by name.
func sources(replace map[string]string) registry.Sources {
	text := map[string]string{"services.json": goodServices, "identityproviders.json": goodIdPs, "sets.json": goodSets, "organisaatiot.json": goodOrgs}
	for k, v := range replace {
		text[k] = v
	}
	return registry.Sources{
		Services: input("services.json", text["services.json"]), IdentityProviders: input("identityproviders.json", text["identityproviders.json"]),
		Sets: input("sets.json", text["sets.json"]), Organisations: input("organisaatiot.json", text["organisaatiot.json"]),
	}
}

var now = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func TestImportMinimal(t *testing.T) {
	reg, warnings, err := importer(t).Import(context.Background(), sources(nil), nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %q", warnings)
	}
	sp := reg.ServiceProviders[0]
	if sp.ID != "https://s.example/sp" || sp.Protocol != "saml" || sp.VendorOID != vendor || sp.BusinessID != "1234567-1" ||
		sp.DeploymentPhase == nil || *sp.DeploymentPhase != 1 || !slices.Equal(sp.Sets, []string{"9"}) || sp.Valid != (mpass.DateRange{}) {
		t.Errorf("sp = %+v", sp)
	}
	if !slices.Contains(sp.Attributes, "urn:mpass.id:role") || slices.Contains(sp.Attributes, "sub") || len(sp.Purposes) != 2 {
		t.Errorf("a SAML SP is approved for %v %v", sp.Attributes, sp.Purposes)
	}
	want := mpass.Permission{Controller: ctlA, SP: "https://s.example/sp", Set: "9", From: time.Date(2024, 8, 12, 6, 41, 7, 0, time.UTC), Source: registry.SourcePermissions}
	if len(reg.Permissions) != 1 || !samePermission(reg.Permissions[0], want) {
		t.Errorf("permissions = %+v, want %+v (lastUpdatedOn is Finnish summer time, UTC+3)", reg.Permissions, want)
	}
	if c := reg.Controllers[0]; c.Name != "A" || !c.PermissionData || len(c.Schools) != 1 {
		t.Errorf("controller = %+v", c)
	}
	if len(reg.IdentityProviders) != 1 || reg.IdentityProviders[0] != (mpass.IdentityProvider{Controller: ctlA, Flow: "F", IdpID: "azure_a", Type: "azure"}) {
		t.Errorf("identity providers = %+v", reg.IdentityProviders)
	}
	kinds := []string{}
	for _, s := range reg.Sources {
		kinds = append(kinds, s.Kind)
		if !strings.HasPrefix(s.Digest, "sha256:") || len(s.Digest) != 71 {
			t.Errorf("source %+v", s)
		}
	}
	if !slices.Equal(kinds, []string{"services", "identity-providers", "sets", "organisations"}) {
		t.Errorf("sources %v", kinds)
	}
}

func samePermission(a, b mpass.Permission) bool {
	return a.Controller == b.Controller && a.SP == b.SP && a.Set == b.Set && a.Source == b.Source && a.From.Equal(b.From) &&
		(a.To == nil) == (b.To == nil) && (a.To == nil || a.To.Equal(*b.To))
}

// Every malformed export is rejected with the file and the JSON path of the problem,
// and nothing is built.
func TestImportErrors(t *testing.T) {
	svc := func(elements ...string) string { return `{"services":[` + strings.Join(elements, ",") + `]}` }
	saml := func(id int, entity string) string {
		return `{"id":` + strconv.Itoa(id) + `,"configurationEntity":{"sp":{"type":"saml","metadata":{"entityId":"` + entity + `"}}}}`
	}
	idp := func(fields string) string {
		return `{"identityProviders":[{"configurationEntity":{"idp":{"type":"azure"}},"organization":{"oid":"` + ctlA + `"}` + fields + `}]}`
	}
	for _, tc := range []struct {
		name, file, text string
		want             []string
	}{
		// duplicate keys: encoding/json would silently keep the last
		{"a key twice in an element", "identityproviders.json", idp(`,"permissions":[{"to":{"id":9},"lastUpdatedOn":"2024-08-12T09:41:07"}],"permissions":[]`),
			[]string{`identityproviders.json: $.identityProviders[0]: "permissions" twice`}},
		{"a key twice deep inside", "services.json", svc(`{"id":1,"configurationEntity":{"sp":{"type":"saml","metadata":{"entityId":"a","entityId":"b"}}}}`),
			[]string{`services.json: $.services[0].configurationEntity.sp.metadata: "entityId" twice`}},
		{"the array twice", "services.json", `{"services":[],"services":[]}`,
			[]string{`services.json: $.services: "services" twice`}},
		{"an element over 8 MiB", "services.json", svc(`{"id":1,"configurationEntity":{"sp":{"type":"saml","metadata":{"entityId":"a","signingCertificates":["` + strings.Repeat("A", 12<<20) + `"]}}}}`),
			[]string{"services.json: $.services[0]: an element of the export is larger than 8 MiB"}},
		{"a skipped member over 8 MiB", "services.json", `{"padding":"` + strings.Repeat("A", 12<<20) + `","services":[]}`,
			[]string{"services.json: $.padding: an element of the export is larger than 8 MiB"}},
		{"a type error inside an array names its index", "identityproviders.json", idp(`,"permissions":[{"to":{"id":9},"lastUpdatedOn":"2024-08-12T09:41:07"},{"to":{"id":9},"lastUpdatedOn":20240101}]`),
			[]string{"identityproviders.json: $.identityProviders[0].permissions[1].lastUpdatedOn: want a string, found number"}},
		// services
		{"no entityId", "services.json", svc(saml(1, "a"), saml(2, "b"), saml(3, "c"), `{"id":4,"configurationEntity":{"sp":{"type":"saml","metadata":{}}}}`),
			[]string{"services.json: $.services[3].configurationEntity.sp.metadata.entityId: required"}},
		{"no client_id", "services.json", svc(`{"id":1,"configurationEntity":{"sp":{"type":"oidc","metadata":{"scope":"openid"}}}}`),
			[]string{"services.json: $.services[0].configurationEntity.sp.metadata.client_id: required"}},
		{"every error of a file", "services.json", svc(`{"id":1,"configurationEntity":{"sp":{"type":"ws-fed"}}}`, `{"configurationEntity":{"sp":{"type":"saml","metadata":{"entityId":"x"}}}}`),
			[]string{`services.json: $.services[0].configurationEntity.sp.type: "ws-fed": want saml or oidc`, "services.json: $.services[1].id: required"}},
		{"entityId a number", "services.json", svc(`{"id":1,"configurationEntity":{"sp":{"type":"saml","metadata":{"entityId":5}}}}`),
			[]string{"services.json: $.services[0].configurationEntity.sp.metadata.entityId: want a string, found number"}},
		{"vendor check digit", "services.json", svc(`{"id":1,"configurationEntity":{"sp":{"type":"saml","metadata":{"entityId":"x"}}},"organization":{"oid":"1.2.246.562.10.88000000510"}}`),
			[]string{`services.json: $.services[0].organization.oid: "1.2.246.562.10.88000000510" has a wrong check digit: it should end in 8`}},
		{"business id check digit", "services.json", svc(`{"id":1,"configurationEntity":{"sp":{"type":"saml","metadata":{"entityId":"x"}}},"organization":{"ytunnus":"1234567-2"}}`),
			[]string{`services.json: $.services[0].organization.ytunnus: "1234567-2" has a wrong check digit: it should end in 1 (1234567-1)`}},
		{"business id shape", "services.json", svc(`{"id":1,"configurationEntity":{"sp":{"type":"saml","metadata":{"entityId":"x"}}},"organization":{"ytunnus":"FI12345671"}}`),
			[]string{"services.json: $.services[0].organization.ytunnus: the value is not a business id"}},
		{"deployment phase", "services.json", svc(`{"id":1,"configurationEntity":{"sp":{"type":"saml","metadata":{"entityId":"x"}}},"deploymentPhase":"production"}`),
			[]string{`services.json: $.services[0].deploymentPhase: "production" is not a deployment phase`}},
		{"allowtestlearnerid", "services.json", svc(`{"id":1,"configurationEntity":{"sp":{"type":"saml","metadata":{"entityId":"x"}},"attributes":[{"name":"x"},{"name":"allowtestlearnerid","content":"maybe"}]}}`),
			[]string{`services.json: $.services[0].configurationEntity.attributes[1].content: "maybe": want "true" or "false"`}},
		{"set id", "services.json", svc(`{"id":1,"configurationEntity":{"sp":{"type":"saml","metadata":{"entityId":"x"}}},"integrationGroups":[{"id":"abc"}]}`),
			[]string{`services.json: $.services[0].integrationGroups[0].id: "abc" is not a set's integration id`}},
		{"integration twice", "services.json", svc(saml(1, "a"), saml(1, "b")),
			[]string{"services.json: $.services[1].id: integration 1 twice (also $.services[0])"}},
		{"no sp", "services.json", svc(`{"id":1,"configurationEntity":{"idp":{"type":"azure"}}}`),
			[]string{"services.json: $.services[0].configurationEntity.sp: required"}},
		{"truncated", "services.json", `{"services":[{"id":1,`, []string{"services.json: $.services[0]: the file ends before its JSON does"}},
		{"syntax", "services.json", `{"services":[{"id":1 "x":2}]}`, []string{"services.json: $.services[0]: not valid JSON at byte"}},
		{"an array", "services.json", `[]`, []string{`services.json: $: not a services export of the MPASSid management service: the file holds an array, want {"services":[…]}`}},
		{"another export", "services.json", `{"identityProviders":[]}`, []string{`services.json: $: not a services export of the MPASSid management service: want {"services":[…]}, found members "identityProviders"`}},
		{"services an object", "services.json", `{"services":{}}`, []string{"services.json: $.services: want an array, found an object"}},
		{"trailing data", "services.json", goodServices + ` {}`, []string{"services.json: $: an object after the top-level object"}},
		// identity providers
		{"no controller", "identityproviders.json", `{"identityProviders":[{"configurationEntity":{"idp":{}}}]}`,
			[]string{"identityproviders.json: $.identityProviders[0].organization.oid: required"}},
		{"controller check digit", "identityproviders.json", `{"identityProviders":[{"configurationEntity":{"idp":{}}},{"configurationEntity":{"idp":{}},"organization":{"oid":"1.2.246.562.10.88000000012"}}]}`,
			[]string{"identityproviders.json: $.identityProviders[0].organization.oid: required", `identityproviders.json: $.identityProviders[1].organization.oid: "1.2.246.562.10.88000000012" has a wrong check digit: it should end in 3`}},
		{"no idp", "identityproviders.json", `{"identityProviders":[{"configurationEntity":{"sp":{}},"organization":{"oid":"` + ctlA + `"}}]}`,
			[]string{"identityproviders.json: $.identityProviders[0].configurationEntity.idp: required"}},
		{"school code", "identityproviders.json", idp(`,"discoveryInformation":{"schools":["88801","123"]}`),
			[]string{`identityproviders.json: $.identityProviders[0].discoveryInformation.schools[1]: "123" is not a 5-digit school code`}},
		{"lastUpdatedOn", "identityproviders.json", idp(`,"permissions":[{"to":{"id":9},"lastUpdatedOn":"12.8.2024 9:41"}]`),
			[]string{`identityproviders.json: $.identityProviders[0].permissions[0].lastUpdatedOn: "12.8.2024 9:41" is not a LocalDateTime`}},
		{"permission without target", "identityproviders.json", idp(`,"permissions":[{"to":{"id":9}},{"lastUpdatedOn":"2024-08-12T09:41:07"}]`),
			[]string{"identityproviders.json: $.identityProviders[0].permissions[1].to: required"}},
		{"permission target id", "identityproviders.json", idp(`,"permissions":[{"to":{"id":true}}]`),
			[]string{"identityproviders.json: $.identityProviders[0].permissions[0].to.id: true is not an integration id"}},
		{"permissions an object", "identityproviders.json", idp(`,"permissions":{}`),
			[]string{"identityproviders.json: $.identityProviders[0].permissions: want an array, found object"}},
		{"allowed SP without id", "identityproviders.json", `{"identityProviders":[{"configurationEntity":{"idp":{"type":"opinsys","allowedServiceProviders":[{"type":"saml"}]}},"organization":{"oid":"` + ctlA + `"}}]}`,
			[]string{"identityproviders.json: $.identityProviders[0].configurationEntity.idp.allowedServiceProviders[0]: want an entityId (saml) or a clientId (oidc)"}},
		// sets
		{"set without id", "sets.json", `{"integrationGroups":[{"configurationEntity":{"set":{"name":"x"}}}]}`, []string{"sets.json: $.integrationGroups[0].id: required"}},
		{"set twice", "sets.json", `{"integrationGroups":[{"id":9,"configurationEntity":{"set":{}}},{"id":"9","configurationEntity":{"set":{}}}]}`,
			[]string{"sets.json: $.integrationGroups[1].id: set 9 twice (also $.integrationGroups[0])"}},
		{"no set", "sets.json", `{"integrationGroups":[{"id":9,"configurationEntity":{"sp":{}}}]}`, []string{"sets.json: $.integrationGroups[0].configurationEntity.set: required"}},
		// organisations
		{"nested OID", "organisaatiot.json", `{"organisaatiot":[{"oid":"` + ctlA + `","children":[{"oid":"` + schoolA + `"},{"oid":"1.2.246.562.10.88000000111"}]}]}`,
			[]string{`organisaatiot.json: $.organisaatiot[0].children[1].oid: "1.2.246.562.10.88000000111" has a wrong check digit: it should end in 2`}},
		{"school code in the hierarchy", "organisaatiot.json", `{"organisaatiot":[{"oid":"` + schoolA + `","oppilaitosKoodi":"8880"}]}`,
			[]string{`organisaatiot.json: $.organisaatiot[0].oppilaitosKoodi: "8880" is not a 5-digit school code`}},
		{"a single organisation", "organisaatiot.json", `{"oid":"` + ctlA + `","nimi":{"fi":"A"},"tyypit":[]}`,
			[]string{`organisaatiot.json: $: not an organisation service hierarchy (api/hierarkia/hae): want {"organisaatiot":[…]}, found members "oid", "nimi", "tyypit"`}},
		{"names not strings", "organisaatiot.json", `{"organisaatiot":[{"oid":"` + ctlA + `","nimi":{"fi":1}}]}`,
			[]string{"organisaatiot.json: $.organisaatiot[0].nimi.fi: want a string, found number"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg, _, err := importer(t).Import(context.Background(), sources(map[string]string{tc.file: tc.text}), nil, now)
			if err == nil || reg != nil {
				t.Fatalf("imported %+v", reg)
			}
			if mpass.ErrorCode(err) != mpass.EINVALID {
				t.Errorf("code %s", mpass.ErrorCode(err))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("no %q in:\n%v", w, err)
				}
			}
		})
	}
}

// The exports' leniencies: ids as numbers or strings, attribute entries of other
// shapes, strings where the schema has booleans and integers; the API's entityId beside
// the export's metadata.entityId; a second integration of one SP id.
func TestImportLenient(t *testing.T) {
	services := `{"services":[
		{"id":"1","configurationEntity":{"sp":{"type":"oidc","name":"Test","clientId":"c1","metadata":{"scope":"openid"}},"attributes":[{"datasource":"x"},{"name":"allowtestlearnerid","content":true}]},"integrationGroups":[{"id":"9"}],"deploymentPhase":"0"},
		{"id":2,"configurationEntity":{"sp":{"type":"oidc","name":"Production","metadata":{"client_id":"c1"}}},"integrationGroups":[{"id":8}],"deploymentPhase":1}]}`
	idps := `{"identityProviders":[{"configurationEntity":{"idp":{"type":"opinsys","institutionTypes":["11"]}},"discoveryInformation":{"showSchools":"true","schools":[]},
		"organization":{"oid":"` + ctlA + `"},"permissions":[{"to":{"id":"9"},"lastUpdatedOn":"2024-01-15T10:00"}]}]}`
	reg, warnings, err := importer(t).Import(context.Background(), sources(map[string]string{"services.json": services, "identityproviders.json": idps, "sets.json": `{"integrationGroups":[]}`}), nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(reg.ServiceProviders) != 1 {
		t.Fatalf("sps = %+v", reg.ServiceProviders)
	}
	sp := reg.ServiceProviders[0]
	if sp.Name != "Production" || !slices.Equal(sp.Sets, []string{"8", "9"}) || *sp.DeploymentPhase != 1 || !slices.Contains(sp.Attributes, "sub") {
		t.Errorf("sp = %+v", sp)
	}
	if len(reg.Permissions) != 1 || !reg.Permissions[0].From.Equal(time.Date(2024, 1, 15, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("permissions = %+v (winter time is UTC+2)", reg.Permissions)
	}
	for _, w := range []string{"services.json: $.services[1]: c1 is also the service of $.services[0]", "set 9 of the services' integrationGroups is not in sets.json"} {
		if !slices.ContainsFunc(warnings, func(s string) bool { return strings.Contains(s, w) }) {
			t.Errorf("no warning %q in %q", w, warnings)
		}
	}
}

// A permissions list that is empty, or holds the user-attribute test service alone,
// allows every service (the management service's "all services"); an identity
// provider without one gives no permission data; Opinsys' allowedServiceProviders
// count from before any record.
func TestImportPermissionKinds(t *testing.T) {
	services := `{"services":[` +
		`{"id":1,"configurationEntity":{"sp":{"type":"saml","metadata":{"entityId":"s1"}}},"integrationGroups":[{"id":9}]},` +
		`{"id":2,"configurationEntity":{"sp":{"type":"oidc","metadata":{"client_id":"s2"}}},"integrationGroups":[{"id":9}]},` +
		`{"id":3000001,"configurationEntity":{"sp":{"type":"saml","metadata":{"entityId":"test-service"}}}}]}`
	ctl := func(n int64) string { return mpass.OrganisationOID(n) }
	idps := `{"identityProviders":[
		{"configurationEntity":{"idp":{"type":"azure"}},"organization":{"oid":"` + ctl(1) + `"},"permissions":[]},
		{"configurationEntity":{"idp":{"type":"azure"}},"organization":{"oid":"` + ctl(2) + `"},"permissions":[{"to":{"id":3000001},"lastUpdatedOn":"2025-02-01T00:00:00"}]},
		{"configurationEntity":{"idp":{"type":"adfs"}},"organization":{"oid":"` + ctl(3) + `"}},
		{"configurationEntity":{"idp":{"type":"opinsys","allowedServiceProviders":[]}},"organization":{"oid":"` + ctl(4) + `"}},
		{"configurationEntity":{"idp":{"type":"opinsys","allowedServiceProviders":[{"type":"oidc","clientId":"s2"},{"type":"saml","entityId":"elsewhere"}]}},"organization":{"oid":"` + ctl(5) + `"}},
		{"configurationEntity":{"idp":{"type":"azure"}},"organization":{"oid":"` + ctl(6) + `"},"permissions":[{"to":{"id":2},"lastUpdatedOn":"2025-02-01T00:00:00"},{"to":{"id":3000001},"lastUpdatedOn":"2025-02-01T00:00:00"}]},
		{"configurationEntity":{"idp":{"type":"azure"}},"organization":{"oid":"` + ctl(7) + `"},"permissions":[{"to":{"id":77}}]}]}`
	reg, warnings, err := importer(t).Import(context.Background(), sources(map[string]string{"services.json": services, "identityproviders.json": idps, "organisaatiot.json": `{"organisaatiot":[]}`}), nil, now)
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string][]string{}
	for _, p := range reg.Permissions {
		allowed[p.Controller] = append(allowed[p.Controller], p.SP+" "+p.Source)
		if p.Source != registry.SourcePermissions && !p.From.Equal(registry.Epoch()) {
			t.Errorf("a permission without a time counts from %v", p.From)
		}
	}
	every := []string{"s1 all-services", "s2 all-services", "test-service all-services"}
	for n, want := range map[int64][]string{
		1: every, 2: every, 3: nil, 4: nil,
		5: {"elsewhere allowedServiceProviders", "s2 allowedServiceProviders"},
		6: {"s2 permissions", "test-service permissions"},
		7: nil,
	} {
		if got := allowed[ctl(n)]; !slices.Equal(got, want) {
			t.Errorf("controller %d allows %q, want %q", n, got, want)
		}
	}
	data := map[string]bool{}
	for _, c := range reg.Controllers {
		data[c.OID] = c.PermissionData
	}
	for n, want := range map[int64]bool{1: true, 2: true, 3: false, 4: true, 5: true, 6: true, 7: true} {
		if data[ctl(n)] != want {
			t.Errorf("controller %d: permission data %v, want %v", n, data[ctl(n)], want)
		}
	}
	for _, w := range []string{"allowedServiceProviders[1]: elsewhere is not in the services export", "permissions[0]: no lastUpdatedOn", "integration 77 is neither a service nor a set"} {
		if !slices.ContainsFunc(warnings, func(s string) bool { return strings.Contains(s, w) }) {
			t.Errorf("no warning %q in %q", w, warnings)
		}
	}
}

// A school the discovery names by its code and the organisation service by its OID and
// code is one school, in the registry and in the database.
func TestSchoolByCodeAndOIDIsOne(t *testing.T) {
	reg, _, err := importer(t).Import(context.Background(), sources(nil), nil, now)
	if err != nil {
		t.Fatal(err)
	}
	want := mpass.School{Code: "88801", OID: schoolA, Name: "Koulu", Names: map[string]string{"fi": "Koulu"}, Parent: ctlA}
	check := func(where string, r *mpass.Registry) {
		s := r.Controllers[0].Schools
		if len(s) != 1 || s[0].Code != want.Code || s[0].OID != want.OID || s[0].Name != want.Name || s[0].Parent != want.Parent || s[0].Names["fi"] != "Koulu" {
			t.Errorf("%s: schools = %+v, want one %+v", where, s, want)
		}
	}
	check("import", reg)
	db := testenv.MustOpenDB(t)
	if err := db.CreateRegistry(context.Background(), reg); err != nil {
		t.Fatal(err)
	}
	stored, err := db.LatestRegistry(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	check("database", stored)
}

// The same files give the same digest, whatever their names and the registry before;
// a changed byte gives another.
func TestImportDigest(t *testing.T) {
	ctx := context.Background()
	db := testenv.MustOpenDB(t)
	a, _, err := importer(t).Import(ctx, sources(nil), nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateRegistry(ctx, a); err != nil {
		t.Fatal(err)
	}
	src := sources(nil)
	src.Services.Name = "elsewhere/services-copy.json"
	b, _, err := importer(t).Import(ctx, src, a, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if a.Digest != b.Digest || !strings.HasPrefix(a.Digest, "sha256:") {
		t.Errorf("digests %s and %s of the same files", a.Digest, b.Digest)
	}
	c, _, err := importer(t).Import(ctx, sources(map[string]string{"services.json": goodServices + "\n"}), a, now)
	if err != nil {
		t.Fatal(err)
	}
	if c.Digest == a.Digest {
		t.Error("a changed file kept the digest")
	}
	src = sources(nil)
	src.Sets, src.Organisations = registry.Input{}, registry.Input{}
	d, _, err := importer(t).Import(ctx, src, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if d.Digest == a.Digest || len(d.Sources) != 2 {
		t.Errorf("without two files: %s, %+v", d.Digest, d.Sources)
	}
}

// History across imports: a permission still granted keeps its first From; one no
// longer granted is kept, closed at the import that missed it; one granted again
// counts from no earlier than that close; Opinsys' list gains an SP since the import
// before.
func TestImportHistory(t *testing.T) {
	ctx := context.Background()
	db := testenv.MustOpenDB(t)
	services := `{"services":[` +
		`{"id":1,"configurationEntity":{"sp":{"type":"saml","metadata":{"entityId":"s1"}}},"integrationGroups":[{"id":9}]},` +
		`{"id":2,"configurationEntity":{"sp":{"type":"saml","metadata":{"entityId":"s2"}}}},` +
		`{"id":3,"configurationEntity":{"sp":{"type":"saml","metadata":{"entityId":"s3"}}}},` +
		`{"id":4,"configurationEntity":{"sp":{"type":"saml","metadata":{"entityId":"s4"}}}}]}`
	idps := func(perms, allowed string) string {
		return `{"identityProviders":[{"configurationEntity":{"idp":{"type":"azure"}},"organization":{"oid":"` + ctlA + `"},"permissions":[` + perms + `]},` +
			`{"configurationEntity":{"idp":{"type":"opinsys","allowedServiceProviders":[` + allowed + `]}},"organization":{"oid":"` + ctlA + `"}}]}`
	}
	set := func(at string) string { return `{"to":{"id":9},"lastUpdatedOn":"` + at + `"}` }
	single := func(at string) string { return `{"to":{"id":2},"lastUpdatedOn":"` + at + `"}` }
	saml := func(id string) string { return `{"type":"saml","entityId":"` + id + `"}` }
	t1, t2, t3 := now, now.AddDate(0, 1, 0), now.AddDate(0, 2, 0)
	step := func(at time.Time, idpText string) *mpass.Registry {
		t.Helper()
		prev, err := db.LatestRegistry(ctx)
		if mpass.ErrorCode(err) == mpass.ENOTFOUND {
			prev = nil
		} else if err != nil {
			t.Fatal(err)
		}
		reg, _, err := importer(t).Import(ctx, sources(map[string]string{"services.json": services, "identityproviders.json": idpText, "sets.json": `{"integrationGroups":[]}`}), prev, at)
		if err != nil {
			t.Fatal(err)
		}
		db.Now = testenv.Fixed(at)
		if err := db.CreateRegistry(ctx, reg); err != nil {
			t.Fatal(err)
		}
		stored, err := db.LatestRegistry(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return stored
	}
	winter := func(d, h int) time.Time { return time.Date(2025, 1, d, h-2, 0, 0, 0, time.UTC) }
	tm := func(t time.Time) *time.Time { return &t }
	p := func(sp, set, source string, from time.Time, to *time.Time) mpass.Permission {
		return mpass.Permission{Controller: ctlA, SP: sp, Set: set, Source: source, From: from, To: to}
	}
	check := func(name string, got, want []mpass.Permission) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d permissions, want %d: %+v", name, len(got), len(want), got)
		}
		for i := range want {
			if !samePermission(got[i], want[i]) {
				t.Errorf("%s: [%d] = %+v, want %+v", name, i, got[i], want[i])
			}
		}
	}

	r1 := step(t1, idps(set("2025-01-10T10:00:00")+","+single("2025-01-11T10:00:00"), saml("s3")))
	check("first", r1.Permissions, []mpass.Permission{
		p("s1", "9", "permissions", winter(10, 10), nil),
		p("s2", "", "permissions", winter(11, 10), nil),
		p("s3", "", "allowedServiceProviders", registry.Epoch(), nil),
	})
	// the set given again (a later lastUpdatedOn), s2 taken away, s4 added to Opinsys' list
	r2 := step(t2, idps(set("2025-06-01T10:00:00"), saml("s3")+","+saml("s4")))
	check("second", r2.Permissions, []mpass.Permission{
		p("s1", "9", "permissions", winter(10, 10), nil),
		p("s2", "", "permissions", winter(11, 10), tm(t2)),
		p("s3", "", "allowedServiceProviders", registry.Epoch(), nil),
		p("s4", "", "allowedServiceProviders", t1, nil),
	})
	// s2 again, with its old time; s3 gone
	r3 := step(t3, idps(set("2025-06-01T10:00:00")+","+single("2025-01-11T10:00:00"), saml("s4")))
	check("third", r3.Permissions, []mpass.Permission{
		p("s1", "9", "permissions", winter(10, 10), nil),
		p("s2", "", "permissions", winter(11, 10), tm(t2)),
		p("s2", "", "permissions", t2, nil),
		p("s3", "", "allowedServiceProviders", registry.Epoch(), tm(t3)),
		p("s4", "", "allowedServiceProviders", t1, nil),
	})
	// the same files once more: nothing changes but the version
	r4 := step(t3.Add(time.Hour), idps(set("2025-06-01T10:00:00")+","+single("2025-01-11T10:00:00"), saml("s4")))
	check("fourth", r4.Permissions, r3.Permissions)
	if r4.Digest != r3.Digest {
		t.Errorf("digest %s, was %s", r4.Digest, r3.Digest)
	}
	if !r3.Permissions[1].Allows(t2.Add(-time.Second)) || r3.Permissions[1].Allows(t2) {
		t.Error("a closed permission covers the wrong instants")
	}
}

// The YAML overlay: replaces what it gives of an imported SP and keeps the rest, adds
// SPs, names controllers and adds schools, and its agreements, consents and exceptions
// may refer to what the exports brought; errors as `registry load` gives them.
func TestImportOverlay(t *testing.T) {
	ctx := context.Background()
	overlay := `names:
  etunimi: urn:oid:2.5.4.42
controllers:
  - oid: ` + ctlA + `
    name: Overlay name
    schools:
      - {code: "88801", name: Renamed}
      - {code: "88802", name: Added}
  - oid: ` + ctlB + `
    name: Overlay only
service_providers:
  - id: https://s.example/sp
    commercial: true
    attributes: [mpassUsername, etunimi]
  - id: https://extra.example/sp
    name: Extra
    attributes: [mail]
    purposes: [essential.service.authentication]
agreements:
  - {controller: ` + ctlA + `, sp: https://s.example/sp, valid: {from: 2026-01-01}, attributes: [mail], purposes: [essential.service.payment_processing]}
consents:
  - {subject: MPASSOID.x1, sp: https://s.example/sp, purpose: marketing.communications.email, given_by: guardian, given: 2026-09-01T00:00:00Z}
exceptions:
  - {id: E1, term: data-minimisation, rule: unapproved-attribute, sp: https://s.example/sp, controller: ` + ctlA + `, reason: r, expires: 2027-01-01}
`
	src := sources(nil)
	src.Overlay = input("overlay.yaml", overlay)
	reg, _, err := importer(t).Import(ctx, src, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	sp := reg.ServiceProviders[1]
	if sp.ID != "https://s.example/sp" || !sp.Commercial || !slices.Equal(sp.Attributes, []string{"urn:mpass.id:uid", "urn:oid:2.5.4.42"}) ||
		len(sp.Purposes) != 2 || sp.Protocol != "saml" || sp.Name != "S" || sp.Valid != (mpass.DateRange{}) {
		t.Errorf("overlaid SP = %+v", sp)
	}
	if extra := reg.ServiceProviders[0]; extra.ID != "https://extra.example/sp" || extra.Protocol != "" || len(extra.Attributes) != 1 {
		t.Errorf("added SP = %+v", extra)
	}
	a := reg.Controllers[0]
	if a.Name != "Overlay name" || a.Names["fi"] != "A" || !a.PermissionData || len(a.Schools) != 2 || a.Schools[0].Name != "Renamed" || a.Schools[0].OID != schoolA || a.Schools[1].Code != "88802" {
		t.Errorf("controller = %+v", a)
	}
	if b := reg.Controllers[1]; b.OID != ctlB || b.PermissionData {
		t.Errorf("added controller = %+v", b)
	}
	if len(reg.Agreements) != 1 || len(reg.Consents) != 1 || reg.Consents[0].Subject == "MPASSOID.x1" || len(reg.Exceptions) != 1 || reg.Names["etunimi"] == "" {
		t.Errorf("agreements %+v consents %+v exceptions %+v names %v", reg.Agreements, reg.Consents, reg.Exceptions, reg.Names)
	}
	if len(reg.Sources) != 5 || reg.Sources[4].Kind != "overlay" {
		t.Errorf("sources %+v", reg.Sources)
	}

	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown SP", "agreements:\n  - {controller: " + ctlA + ", sp: nowhere}\n", `overlay.yaml:2: sp: "nowhere" is not a service provider of this registry`},
		{"unknown controller", "agreements:\n  - {controller: " + ctlB + ", sp: https://s.example/sp}\n", `overlay.yaml:2: controller: "` + ctlB + `" is not a controller`},
		{"SP twice in the overlay", "service_providers:\n  - {id: https://s.example/sp}\n  - {id: https://s.example/sp}\n", "overlay.yaml:3: id: duplicate service provider"},
		{"unknown field", "service_providers:\n  - {id: https://s.example/sp, protocol: saml}\n", "field protocol not found"},
		{"unknown purpose", "service_providers:\n  - {id: https://s.example/sp, purposes: [teleportation]}\n", `unknown purpose key "teleportation"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := sources(nil)
			src.Overlay = input("overlay.yaml", tc.yaml)
			if _, _, err := importer(t).Import(ctx, src, nil, now); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// import2: the second export set of testdata (different controllers; a permission to
// one service; a set of two members; a controller without permission data; Opinsys'
// allowedServiceProviders; Swedish-only names; an "all services" controller) read by
// the package alone; cmd/mpass-audit's end-to-end test asserts the whole registry.
func TestImportSecondExportSet(t *testing.T) {
	dir := "../../testdata/mpassid/import2"
	open := func(name string) registry.Input {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return registry.Input{Name: name, R: f}
	}
	src := registry.Sources{Services: open("services.json"), IdentityProviders: open("identityproviders.json"),
		Sets: open("integration-sets.json"), Organisations: open("organisaatio-hierarkia.json"), Overlay: open("overlay.yaml")}
	reg, warnings, err := importer(t).Import(context.Background(), src, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(reg.Controllers) != 4 || len(reg.ServiceProviders) != 4 || len(reg.Permissions) != 9 {
		t.Errorf("%d controllers, %d SPs, %d permissions", len(reg.Controllers), len(reg.ServiceProviders), len(reg.Permissions))
	}
	if c := reg.Controllers[0]; c.Name != "Påhittade stad" || c.Names["fi"] != "" {
		t.Errorf("a Swedish-only controller is named %q %v", c.Name, c.Names)
	}
	if len(warnings) != 2 {
		t.Errorf("warnings: %q", warnings)
	}
}

func TestCheckBusinessID(t *testing.T) {
	for id, want := range map[string]string{
		"1234567-1": "", "1112223-0": "", "9876545-7": "", "9876544-9": "",
		"1234567-2": "should end in 1", "1234568-0": "no check digit makes 1234568 valid",
		"123456-7": "is not a business id", "12345678": "is not a business id", "": "is not a business id",
	} {
		err := registry.CheckBusinessID(id)
		if (err == nil) != (want == "") || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("%q: %v, want %q", id, err, want)
		}
	}
}

// The overlay may give an imported school, known by its code alone, its OID.
func TestOverlaySchoolOID(t *testing.T) {
	base := &mpass.Registry{Controllers: []mpass.Controller{{OID: ctlA, Name: "A", Schools: []mpass.School{{Code: "88801", Name: "Koulu"}}}}}
	out, _, err := registry.Overlay("o.yaml", []byte("controllers:\n  - oid: "+ctlA+"\n    schools:\n      - {code: \"88801\", oid: "+schoolA+"}\n"), base, testenv.MustExtractor(t), vocab(t))
	if err != nil {
		t.Fatal(err)
	}
	if s := out.Controllers[0].Schools; len(s) != 1 || s[0].OID != schoolA || s[0].Name != "Koulu" {
		t.Errorf("schools %+v", s)
	}
	if base.Controllers[0].Schools[0].OID != "" {
		t.Error("the overlay changed its base")
	}
}
