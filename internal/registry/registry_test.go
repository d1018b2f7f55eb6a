package registry_test

import (
	"context"
	"os"
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
	r, err := registry.Parse("registry.yaml", data, x, vocab(t))
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
	const ctl = "controllers:\n  - {oid: 1.2.246.562.10.44444444449, name: C}\n"
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown purpose", "service_providers:\n  - {id: s1, purposes: [essential.service.teleportation]}\n", `registry.yaml:2: purposes: unknown purpose key "essential.service.teleportation"`},
		{"malformed OID", "controllers:\n  - {oid: 1.2.246.562.24.1, name: X}\n", `registry.yaml:2: oid: "1.2.246.562.24.1" is not an OPH organisation OID`},
		{"to before from", "service_providers:\n  - {id: s1, valid: {from: 2025-01-01, to: 2024-12-31}}\n", "registry.yaml:2: valid.to: 2024-12-31 is before valid.from 2025-01-01"},
		{"not a date", "service_providers:\n  - {id: s1, valid: {from: 1.1.2025}}\n", `valid.from: "1.1.2025" is not a date`},
		{"duplicate SP", sp + "  - {id: s1}\n", "registry.yaml:3: id: duplicate service provider s1"},
		{"duplicate exception", sp + "exceptions:\n  - {id: E1, term: data-minimisation, sp: s1, reason: r, expires: 2027-01-01}\n  - {id: E1, term: data-minimisation, sp: s1, reason: r, expires: 2027-01-01}\n", "registry.yaml:5: id: duplicate exception E1"},
		{"duplicate controller", ctl + "  - {oid: 1.2.246.562.10.44444444449, name: D}\n", "registry.yaml:3: oid: duplicate controller"},
		{"agreement to unknown SP", ctl + "agreements:\n  - {controller: 1.2.246.562.10.44444444449, sp: nowhere, valid: {}}\n", `registry.yaml:4: sp: "nowhere" is not a service provider`},
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
			_, err := registry.Parse("registry.yaml", []byte(tc.yaml), testenv.MustExtractor(t), vocab(t))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseReportsEveryError(t *testing.T) {
	yaml := "controllers:\n  - {oid: bad1}\n  - {oid: bad2}\n"
	_, err := registry.Parse("r.yaml", []byte(yaml), testenv.MustExtractor(t), vocab(t))
	if err == nil || !strings.Contains(err.Error(), "r.yaml:2") || !strings.Contains(err.Error(), "r.yaml:3") {
		t.Fatalf("err = %v, want both lines", err)
	}
}

// TestBadReferences: every bad reference of testdata/hostile's registry is reported
// with its line and field, and nothing is loaded.
func TestBadReferences(t *testing.T) {
	path := "../../testdata/hostile/registry-bad-references.yaml"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(path + ".expected")
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Parse("registry-bad-references.yaml", data, testenv.MustExtractor(t), vocab(t))
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
