package facts_test

import (
	"slices"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/facts"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// DVV's published test identity codes, one per century sign.
var dvvTestCodes = []string{
	"010594Y9032", "010594Y9021", "020594X903P", "020594X902N", "030594W903B",
	"030694W9024", "040594V9030", "040594V902Y", "050594U903M", "050594U902L",
	"010516B903X", "010516B902W", "020516C903K", "020516C902J", "030516D9037",
	"030516D9026", "010501E9032", "020502E902X", "020503F9037", "020504A902E",
	"020504B904H", "131052-308T",
}

func TestIsIdentityCode(t *testing.T) {
	for _, code := range dvvTestCodes {
		if !facts.IsIdentityCode(code) {
			t.Errorf("IsIdentityCode(%q) = false, want true", code)
		}
	}
	for _, tc := range []struct{ name, code string }{
		{"wrong check character", "010594Y9033"},
		{"wrong check letter", "131052-308U"},
		{"unknown century sign", "010594G9032"},
		{"no such day", "310494Y903X"},
		{"29 February of a common year", "290223A9034"},
		{"month 13", "011394Y9032"},
		{"too short", "010594Y903"},
		{"letters for digits", "01O594Y9032"},
	} {
		if facts.IsIdentityCode(tc.code) {
			t.Errorf("%s: IsIdentityCode(%q) = true, want false", tc.name, tc.code)
		}
	}
}

func TestContainsIdentityCode(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  bool
	}{
		{"131052-308T", true},
		{"hetu: 131052-308T.", true},
		{"aino.131052-308t@example.fi", true},
		{"MPASSOID.131052-308T", true},
		{"9131052-308T", false}, // glued to a digit before
		{"131052-308T5", false}, // and after
		{"131052-308U", false},
		{"", false},
		{"Aino Virtanen", false},
		{"1.2.246.562.24.20000000018", false},
	} {
		if got := facts.ContainsIdentityCode(tc.value); got != tc.want {
			t.Errorf("ContainsIdentityCode(%q) = %v, want %v", tc.value, got, tc.want)
		}
	}
}

func TestEmailYears(t *testing.T) {
	for _, tc := range []struct {
		email string
		want  []int
	}{
		{"aino.virtanen2012@koulu.fi", []int{2012}},
		{"2011aino@example.fi", []int{2011}},
		{"aino1999x2014@example.fi", []int{1999, 2014}},
		{"aino20121@example.fi", nil}, // five digits: not a year
		{"aino@koulu2012.fi", nil},    // the domain is not checked
		{"aino12@example.fi", nil},
		{"aino1850@example.fi", nil},
	} {
		if got := facts.EmailYears(tc.email); !slices.Equal(got, tc.want) {
			t.Errorf("EmailYears(%q) = %v, want %v", tc.email, got, tc.want)
		}
	}
}

func TestDateOfBirthShape(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  bool
	}{
		{"2012-05-17", true}, {"20120517", true}, {"17.5.2012", true}, {"17.05.2012", true},
		{"2012-02-30", false}, {"7B", false}, {"30076", false}, {"", false},
	} {
		if got := facts.DateOfBirthShape(tc.value); got != tc.want {
			t.Errorf("DateOfBirthShape(%q) = %v, want %v", tc.value, got, tc.want)
		}
	}
}

func TestParseRole(t *testing.T) {
	for _, tc := range []struct {
		value   string
		want    mpass.Role
		ok      bool
		learner bool
	}{
		{"1.2.246.562.10.44444444449;03082;7B;Oppilas;1;1.2.246.562.10.55555555553;",
			mpass.Role{Controller: "1.2.246.562.10.44444444449", School: "03082", Class: "7B", ClassGrade: true, Name: "Oppilas", Code: "1"}, true, true},
		{"1.2.246.562.10.44444444449;03082;;Opettaja;2;;", mpass.Role{Controller: "1.2.246.562.10.44444444449", School: "03082", Name: "Opettaja", Code: "2"}, true, false},
		{"Esimerkkilä;Koulu;Kotkat;ELEV", mpass.Role{Controller: "Esimerkkilä", School: "Koulu", Class: "Kotkat", Name: "ELEV"}, true, true},
		{"1.2.246.562.10.44444444449;03082;9A;Opettaja;1", mpass.Role{Controller: "1.2.246.562.10.44444444449", School: "03082", Class: "9A", ClassGrade: true, Name: "Opettaja", Code: "1"}, true, true},
		{"a;b;c", mpass.Role{}, false, false},
	} {
		got, ok := facts.ParseRole(tc.value)
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseRole(%q) = %+v, %v; want %+v, %v", tc.value, got, ok, tc.want, tc.ok)
		}
		if ok && facts.IsLearnerRole(got) != tc.learner {
			t.Errorf("IsLearnerRole(%q) = %v, want %v", tc.value, !tc.learner, tc.learner)
		}
	}
}

func testExtractor() *facts.Extractor {
	return facts.NewExtractor([]byte("test key"), facts.NewCatalog(map[string][]string{
		facts.Mail:         {"mail", "email"},
		"urn:oid:2.5.4.42": {"givenName", "given_name"},
	}))
}

func TestCanonical(t *testing.T) {
	c := testExtractor().Catalog()
	for in, want := range map[string]string{
		"mail": facts.Mail, "email": facts.Mail, "EMAIL": facts.Mail, facts.Mail: facts.Mail,
		"given_name": "urn:oid:2.5.4.42", " givenName ": "urn:oid:2.5.4.42",
		"x-unknown": "x-unknown",
	} {
		if got := c.Canonical(in); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPseudonymIsKeyedAndStable(t *testing.T) {
	x := testExtractor()
	other := facts.NewExtractor([]byte("other key"), x.Catalog())
	a, b := x.Pseudonym("MPASSOID.1"), x.Pseudonym("MPASSOID.1")
	if a != b || len(a) != 32 {
		t.Fatalf("pseudonym not stable: %q %q", a, b)
	}
	if a == x.Pseudonym("MPASSOID.2") || a == other.Pseudonym("MPASSOID.1") {
		t.Fatal("pseudonym collides across ids or keys")
	}
}

func TestAttributeFacts(t *testing.T) {
	x := testExtractor()
	f := x.Attribute(facts.Mail, []string{"aino.2012@koulu.fi", "a2012b2013@x.fi"})
	if !f.Values || !slices.Equal(f.Years, []int{2012, 2013}) || f.Fingerprint == "" {
		t.Errorf("mail facts = %+v", f)
	}
	if f.Fingerprint != x.Attribute(facts.Mail, []string{"a2012b2013@x.fi", "aino.2012@koulu.fi"}).Fingerprint {
		t.Error("fingerprint depends on value order")
	}
	if f := x.Attribute("urn:mpass.id:nickname", nil); f.Values || f.Fingerprint != "" {
		t.Errorf("names-only facts = %+v", f)
	}
	roles := x.Attribute(facts.Role, []string{"1.2.246.562.10.44444444449;03082;7B;Oppilas;1;;"})
	if facts.RoleStatus(map[string]mpass.AttributeFacts{facts.Role: roles}) != mpass.RoleLearner {
		t.Error("role code 1 is not a learner")
	}
	if facts.RoleStatus(map[string]mpass.AttributeFacts{facts.Mail: f}) != mpass.RoleUnknown {
		t.Error("no role is not unknown")
	}
}

func TestController(t *testing.T) {
	for _, tc := range []struct {
		values map[string][]string
		want   string
	}{
		{map[string][]string{facts.Role: {"1.2.246.562.10.44444444449;03082;7B;Oppilas;1;;"}}, "1.2.246.562.10.44444444449"},
		{map[string][]string{facts.EducationProviderInfo: {"1.2.246.562.10.44444444449;Esimerkkilän kaupunki"}}, "1.2.246.562.10.44444444449"},
		{map[string][]string{facts.Role: {"Esimerkkilä;Koulu;7B;Oppilas"}}, ""},
		{nil, ""},
	} {
		if got := facts.Controller(tc.values); got != tc.want {
			t.Errorf("Controller(%v) = %q, want %q", tc.values, got, tc.want)
		}
	}
}

func FuzzContainsIdentityCode(f *testing.F) {
	for _, c := range dvvTestCodes {
		f.Add(c)
	}
	f.Add("x131052-308Tx")
	f.Fuzz(func(t *testing.T, s string) {
		got := facts.ContainsIdentityCode(s)
		found := false
		for i := 0; i+11 <= len(s); i++ {
			if facts.IsIdentityCode(s[i : i+11]) {
				found = true
			}
		}
		if got && !found {
			t.Fatalf("ContainsIdentityCode(%q) without an identity code in it", s)
		}
	})
}

func BenchmarkContainsIdentityCode(b *testing.B) {
	v := "aino.virtanen.2012@esimerkkila.fi 1.2.246.562.24.20000000018 131052-308T"
	for b.Loop() {
		facts.ContainsIdentityCode(v)
	}
}

func BenchmarkAttribute(b *testing.B) {
	x := testExtractor()
	values := []string{"1.2.246.562.10.44444444449;03082;7B;Oppilas;1;1.2.246.562.10.55555555553;"}
	for b.Loop() {
		x.Attribute(facts.Role, values)
	}
}
