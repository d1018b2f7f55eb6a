package registry_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/registry"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

func vocab(t *testing.T) registry.Vocabulary {
	purposes, rules, err := testenv.MustEngine(t).Vocabulary(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return registry.Vocabulary{Purposes: purposes, Rules: rules}
}

func TestParseDemoRegistry(t *testing.T) {
	data, err := os.ReadFile("../../testdata/demo/registry.yaml")
	if err != nil {
		t.Fatal(err)
	}
	x := testenv.MustExtractor(t)
	r, _, err := registry.Parse("registry.yaml", data, x, vocab(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Controllers) != 2 || len(r.ServiceProviders) != 4 || len(r.Agreements) != 1 || len(r.Consents) != 3 || len(r.Exceptions) != 2 {
		t.Fatalf("parsed %+v", r)
	}
	if got := r.Agreements[0].Attributes; len(got) != 1 || got[0] != "urn:oid:0.9.2342.19200300.100.1.3" {
		t.Errorf("agreement attributes not canonical: %v", got)
	}
	if c := r.Consents[0]; c.Subject != x.Pseudonym("MPASSOID.391ea8eb34f1e27024ab1342603537bdbd494900") || c.Withdrawn != nil {
		t.Errorf("consent = %+v", c)
	}
	if r.Consents[2].Withdrawn == nil {
		t.Error("withdrawn consent lost its time")
	}
	if !strings.HasPrefix(r.Digest, "sha256:") {
		t.Errorf("digest %q", r.Digest)
	}
}

func TestParseErrors(t *testing.T) {
	const sp = "service_providers:\n  - {id: s1, name: S, valid: {from: 2024-01-01}, attributes: [mail], purposes: [essential.service.authentication]}\n"
	const ctl = "controllers:\n  - {oid: 1.2.246.562.10.44444444440, name: C}\n"
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown purpose", "service_providers:\n  - {id: s1, purposes: [essential.service.teleportation]}\n", `registry.yaml:2: purposes: unknown purpose key "essential.service.teleportation"`},
		{"malformed OID", "controllers:\n  - {oid: 1.2.246.562.24.1, name: X}\n", `registry.yaml:2: oid: "1.2.246.562.24.1" is not an OPH organisation OID`},
		{"to before from", "service_providers:\n  - {id: s1, valid: {from: 2025-01-01, to: 2024-12-31}}\n", "registry.yaml:2: valid.to: 2024-12-31 is before valid.from 2025-01-01"},
		{"not a date", "service_providers:\n  - {id: s1, valid: {from: 1.1.2025}}\n", `valid.from: "1.1.2025" is not a date`},
		{"duplicate SP", sp + "  - {id: s1}\n", "registry.yaml:3: id: duplicate service provider s1"},
		{"duplicate exception", sp + "exceptions:\n  - {id: E1, term: data-minimisation, sp: s1, reason: r, expires: 2027-01-01}\n  - {id: E1, term: data-minimisation, sp: s1, reason: r, expires: 2027-01-01}\n", "registry.yaml:5: id: duplicate exception E1"},
		{"duplicate controller", ctl + "  - {oid: 1.2.246.562.10.44444444440, name: D}\n", "registry.yaml:3: oid: duplicate controller"},
		{"agreement to unknown SP", ctl + "agreements:\n  - {controller: 1.2.246.562.10.44444444440, sp: nowhere, valid: {}}\n", `registry.yaml:4: sp: "nowhere" is not a service provider`},
		{"agreement of unknown controller", sp + "agreements:\n  - {controller: 1.2.246.562.10.00000000001, sp: s1}\n", `controller: "1.2.246.562.10.00000000001" is not a controller`},
		{"unknown term", sp + "exceptions:\n  - {id: E1, term: be-nice, sp: s1, reason: r, expires: 2027-01-01}\n", `term: unknown term "be-nice"`},
		{"unknown rule", sp + "exceptions:\n  - {id: E1, term: data-minimisation, rule: be-nice, sp: s1, reason: r, expires: 2027-01-01}\n", `rule: term data-minimisation has no rule "be-nice"`},
		{"exception without reason", sp + "exceptions:\n  - {id: E1, term: data-minimisation, sp: s1, expires: 2027-01-01}\n", "reason: required"},
		{"consent given_by", sp + "consents:\n  - {subject: x, sp: s1, purpose: marketing, given_by: teacher, given: 2026-01-01T00:00:00Z}\n", `given_by: "teacher": must be guardian or self`},
		{"consent withdrawn before given", sp + "consents:\n  - {subject: x, sp: s1, purpose: marketing, given_by: self, given: 2026-01-01T00:00:00Z, withdrawn: 2025-01-01T00:00:00Z}\n", "withdrawn: before given"},
		{"unknown field", "service_providers:\n  - {id: s1, colour: red}\n", "field colour not found"},
		{"not YAML", "controllers: [", "registry.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := registry.Parse("registry.yaml", []byte(tc.yaml), testenv.MustExtractor(t), vocab(t))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseReportsEveryError(t *testing.T) {
	yaml := "controllers:\n  - {oid: bad1}\n  - {oid: bad2}\n"
	_, _, err := registry.Parse("r.yaml", []byte(yaml), testenv.MustExtractor(t), vocab(t))
	if err == nil || !strings.Contains(err.Error(), "r.yaml:2") || !strings.Contains(err.Error(), "r.yaml:3") {
		t.Fatalf("err = %v, want both lines", err)
	}
}

// TestBadReferences: every bad reference of testdata/hostile's registry is reported
// with its line and field, and nothing is loaded.
func TestBadReferences(t *testing.T) {
	path := "../../testdata/hostile/registry-bad-references.yaml"
	data, want := withExpected(t, path)
	reg, _, err := registry.Parse("registry-bad-references.yaml", data, testenv.MustExtractor(t), vocab(t))
	if err == nil || reg != nil {
		t.Fatal("a registry of bad references loaded")
	}
	for _, l := range strings.Split(strings.TrimSpace(string(want)), "\n") {
		f := strings.Split(l, "\t")
		prefix := "registry-bad-references.yaml:" + f[0] + ": " + f[1] + ": "
		found := false
		for _, e := range strings.Split(err.Error(), "\n") {
			if strings.HasPrefix(e, prefix) && strings.Contains(e, f[2]) {
				found = true
			}
		}
		if !found {
			t.Errorf("no %q…%q in:\n%v", prefix, f[2], err)
		}
	}
}

// A registry approves an attribute under any name it has gone by, and warns, with file
// and line, of a name the catalog does not know.
func TestParseNamesAndWarnings(t *testing.T) {
	const yaml = `names:
  etunimi: urn:oid:2.5.4.42
service_providers:
  - id: s1
    name: S
    attributes:
      - ecaGroup
      - mpass_cid
      - etunimi
      - favouriteColour
agreements: []
`
	r, warnings, err := registry.Parse("r.yaml", []byte(yaml), testenv.MustExtractor(t), vocab(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"urn:educloudalliance.org:group", "urn:mpass.id:legacyCryptId", "urn:oid:2.5.4.42", "favouriteColour"}
	slices.Sort(want)
	if got := r.ServiceProviders[0].Attributes; !slices.Equal(got, want) {
		t.Errorf("attributes = %v, want %v", got, want)
	}
	if r.Names["etunimi"] != "urn:oid:2.5.4.42" {
		t.Errorf("names = %v", r.Names)
	}
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0], `r.yaml:10: attributes: "favouriteColour" is not in the attribute catalog`) {
		t.Errorf("warnings = %q", warnings)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"names:\n  x: urn:nowhere\n", `r.yaml:2: names: x: "urn:nowhere" is not an attribute of the catalog`},
		{"names:\n  email: givenName\n", "r.yaml:2: names: email: already means urn:oid:0.9.2342.19200300.100.1.3"},
		{"names: [a, b]\n", "r.yaml:1: names: must be a mapping"},
	} {
		if _, _, err := registry.Parse("r.yaml", []byte(tc.yaml), testenv.MustExtractor(t), vocab(t)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

func TestParseNamesFile(t *testing.T) {
	cat := testenv.MustExtractor(t).Catalog()
	names, err := registry.ParseNames("names.yaml", []byte("# another deployment\nkutsumanimi: urn:mpass.id:nickname\nrooli: mpassRole\n"), cat)
	if err != nil || names["kutsumanimi"] != "urn:mpass.id:nickname" || names["rooli"] != "urn:mpass.id:role" {
		t.Fatalf("names = %v, %v", names, err)
	}
	if _, err := registry.ParseNames("names.yaml", []byte("a: urn:mpass.id:nickname\nb: nothing\n"), cat); err == nil || !strings.Contains(err.Error(), "names.yaml:2: names: b:") {
		t.Errorf("err = %v", err)
	}
}

// Every name of every catalog attribute approves the attribute's canonical name, and
// none of them is warned of.
func TestRegistryKnowsEveryCatalogName(t *testing.T) {
	attrs, err := testenv.MustEngine(t).Attributes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range attrs {
		for _, name := range append([]string{a.Name, a.Friendly}, a.Names...) {
			y := "service_providers:\n  - id: s1\n    name: S\n    attributes: [" + strconv.Quote(name) + "]\n" +
				"exceptions:\n  - {id: E1, term: data-minimisation, rule: unapproved-attribute, sp: s1, attribute: " + strconv.Quote(name) + ", reason: r, expires: 2027-01-01}\n"
			r, warnings, err := registry.Parse("r.yaml", []byte(y), testenv.MustExtractor(t), vocab(t))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got := r.ServiceProviders[0].Attributes; len(got) != 1 || got[0] != a.Name {
				t.Errorf("%s approves %v, want %s", name, got, a.Name)
			}
			if r.Exceptions[0].Attribute != a.Name {
				t.Errorf("%s: exception attribute %s, want %s", name, r.Exceptions[0].Attribute, a.Name)
			}
			if len(warnings) > 0 {
				t.Errorf("%s: %q", name, warnings)
			}
		}
	}
}

// TestAnchorsAcrossEntries (issue 14, smaller items): an anchor in one entry and its
// alias in another (a shared validity, a merge key of defaults) read as YAML means
// them; aliases that would expand without bound are refused with the entry's line.
func TestAnchorsAcrossEntries(t *testing.T) {
	const y = `service_providers:
  - id: s1
    name: One
    valid: &school-year {from: 2026-08-01, to: 2027-07-31}
    attributes: &basic [urn:mpass.id:uid, mail]
    purposes: [essential.service.authentication]
  - &defaults
    id: s2
    name: Two
    valid: *school-year
    attributes: *basic
    purposes: [essential.service.authentication]
  - <<: *defaults
    id: s3
    name: Three
`
	r, _, err := registry.Parse("registry.yaml", []byte(y), testenv.MustExtractor(t), vocab(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.ServiceProviders) != 3 {
		t.Fatalf("%d SPs", len(r.ServiceProviders))
	}
	for _, sp := range r.ServiceProviders {
		if sp.Valid.From != "2026-08-01" || sp.Valid.To != "2027-07-31" || len(sp.Attributes) != 2 {
			t.Errorf("%s: valid %+v attributes %v", sp.ID, sp.Valid, sp.Attributes)
		}
	}
	// the hostile corpus's alias bomb: each entry that holds or uses it is refused
	path := "../../testdata/hostile/registry-alias-bomb.yaml"
	data, want := withExpected(t, path)
	_, _, err = registry.Parse("registry-alias-bomb.yaml", data, testenv.MustExtractor(t), vocab(t))
	if err == nil {
		t.Fatal("an alias bomb was read")
	}
	for _, l := range strings.Split(strings.TrimSpace(string(want)), "\n") {
		line, msg, _ := strings.Cut(l, "\t")
		if !strings.Contains(err.Error(), "registry-alias-bomb.yaml:"+line+": "+msg) {
			t.Errorf("%v\nwant line %s: %s", err, line, msg)
		}
	}
}

// Each error is on a line of its own at the field's own line, not the entry's: a block
// entry's fields are on lines of their own, a list's bad item on its line.
func TestErrorsAtTheFieldsLine(t *testing.T) {
	yaml := `controllers:
  - oid: 1.2.246.562.10.44444444440
    name: C
service_providers:
  - id: s1
    name: S
    valid:
      from: 2025-01-01
      to: 2024-12-31
    purposes:
      - essential.service.authentication
      - essential.service.teleportation
agreements:
  - controller: 1.2.246.562.10.44444444440
    sp: nowhere
    valid: {from: 1.1.2025}
exceptions:
  - id: E1
    term: data-minimisation
    sp: s1
    expires: 2027-01-01
`
	_, _, err := registry.Parse("r.yaml", []byte(yaml), testenv.MustExtractor(t), vocab(t))
	if err == nil {
		t.Fatal("a bad registry loaded")
	}
	want := []string{
		`r.yaml:9: valid.to: 2024-12-31 is before valid.from 2025-01-01`,
		`r.yaml:12: purposes: unknown purpose key "essential.service.teleportation" (a fideslang data-use key)`,
		`r.yaml:15: sp: "nowhere" is not a service provider of this registry`,
		`r.yaml:16: valid.from: "1.1.2025" is not a date (YYYY-MM-DD)`,
		`r.yaml:18: reason: required: an accepted risk needs its reason`,
	}
	if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

// withExpected reads a hostile registry and the errors expected of it (path.expected).
func withExpected(t *testing.T, path string) (data, want []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want, err = os.ReadFile(path + ".expected"); err != nil {
		t.Fatal(err)
	}
	return data, want
}
