package facts_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
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
		{"lower-case check character", "131052-308t"},
		{"lower-case century sign", "010594y9032"},
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
		{"aino.131052-308t@example.fi", false}, // the check character is upper-case, exactly
		{"aino.131052-308T@example.fi", true},
		{"aino_131052-308T", true},
		{"MPASSOID.131052-308T", true},
		{"MPASSOID.3b9e170398a9134fd0c2e7b1a4c6d8e9f0a1b2c3", false}, // 170398a9134: glued, lower-case
		{"MPASSOID.3B9E170398A9134FD0C2E7B1A4C6D8E9F0A1B2C3", false}, // glued to letters
		{"170398a9134", false},                                       // lower-case century sign
		{"170398A9134", true},
		{"x131052-308T", false}, // glued to a letter before
		{"131052-308Tx", false}, // and after
		{"ä131052-308T", false}, // a letter of any alphabet
		{"131052-308Tö", false},
		{"(131052-308T)", true},
		{"131052-308T,010594Y9032", true},
		{"9131052-308T", false}, // glued to a digit before
		{"131052-308T5", false}, // and after
		{"131052-308U", false},
		{"", false},
		{"Aino Virtanen", false},
		{"1.2.246.562.24.20000000019", false},
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
		{"1.2.246.562.10.44444444440;03082;7B;Oppilas;1;1.2.246.562.10.55555555550;",
			mpass.Role{Controller: "1.2.246.562.10.44444444440", School: "03082", Class: "7B", ClassGrade: true, Name: "Oppilas", Code: "1"}, true, true},
		{"1.2.246.562.10.44444444440;03082;;Opettaja;2;;", mpass.Role{Controller: "1.2.246.562.10.44444444440", School: "03082", Name: "Opettaja", Code: "2"}, true, false},
		{"Esimerkkilä;Koulu;Kotkat;ELEV", mpass.Role{Controller: "Esimerkkilä", School: "Koulu", Class: "Kotkat", Name: "ELEV"}, true, true},
		{"1.2.246.562.10.44444444440;03082;9A;Opettaja;1", mpass.Role{Controller: "1.2.246.562.10.44444444440", School: "03082", Class: "9A", ClassGrade: true, Name: "Opettaja", Code: "1"}, true, true},
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
	return facts.NewExtractor([]byte("test key"), facts.MustCatalog([]mpass.CatalogAttribute{
		{Name: facts.Mail, Friendly: "mail", Names: []string{"email"}},
		{Name: "urn:oid:2.5.4.42", Friendly: "givenName", Names: []string{"given_name"}},
		{Name: facts.Role, Friendly: "mpassRole", Role: mpass.RoleStructured},
		{Name: "urn:mpass.id:role_v1.1", Friendly: "mpassRoleV11", Role: mpass.RoleStructured},
		{Name: "urn:educloudalliance.org:role", Friendly: "ecaRole", Role: mpass.RoleName},
		{Name: facts.EducationProviderInfo}, {Name: facts.EducationProviderID},
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
	if !f.Values || !slices.Equal(f.Years, []int{2012, 2013}) || f.Fingerprint == (mpass.Fingerprint{}) {
		t.Errorf("mail facts = %+v", f)
	}
	if f.Fingerprint != x.Attribute(facts.Mail, []string{"a2012b2013@x.fi", "aino.2012@koulu.fi"}).Fingerprint {
		t.Error("fingerprint depends on value order")
	}
	if f := x.Attribute("urn:mpass.id:nickname", nil); f.Values || f.Fingerprint != (mpass.Fingerprint{}) {
		t.Errorf("names-only facts = %+v", f)
	}
	roles := x.Attribute(facts.Role, []string{"1.2.246.562.10.44444444440;03082;7B;Oppilas;1;;"})
	if facts.RoleStatus(map[string]mpass.AttributeFacts{facts.Role: roles}) != mpass.RoleLearner {
		t.Error("role code 1 is not a learner")
	}
	if facts.RoleStatus(map[string]mpass.AttributeFacts{facts.Mail: f}) != mpass.RoleUnknown {
		t.Error("no role is not unknown")
	}
}

// Every role attribute of the catalog tells the learner presumption and the class
// grade as urn:mpass.id:role does (RECORDS.md, legacy role values).
func TestLegacyRoleAttributes(t *testing.T) {
	x := testExtractor()
	for _, tc := range []struct {
		name, value string
		status      mpass.RoleStatus
		grade       bool
	}{
		{facts.Role, "1.2.246.562.10.12345678903;99901;7B;Oppilas;1;1.2.246.562.10.23456789017;", mpass.RoleLearner, true},
		{facts.Role, "1.2.246.562.10.12345678903;;;Opettaja;2;;", mpass.RoleNonLearner, false},
		{"urn:mpass.id:role_v1.1", "Kuvitteela;99901;5C;Oppilas", mpass.RoleLearner, true},
		{"urn:mpass.id:role_v1.1", "Kuvitteela;99901;;Opettaja", mpass.RoleNonLearner, false},
		{"urn:educloudalliance.org:role", "Opettaja", mpass.RoleNonLearner, false},
		{"urn:educloudalliance.org:role", "oppilas", mpass.RoleLearner, false},
		{"urn:educloudalliance.org:role", " ", mpass.RoleUnknown, false},
		{"urn:mpass.id:nickname", "Kuvitteela;99901;5C;Oppilas", mpass.RoleUnknown, false}, // no role attribute
	} {
		f := x.Attribute(tc.name, []string{tc.value})
		if got := facts.RoleStatus(map[string]mpass.AttributeFacts{tc.name: f}); got != tc.status {
			t.Errorf("%s=%q: role status %v, want %v", tc.name, tc.value, got, tc.status)
		}
		if got := slices.ContainsFunc(f.Roles, func(r mpass.Role) bool { return r.ClassGrade }); got != tc.grade {
			t.Errorf("%s=%q: class grade %v, want %v", tc.name, tc.value, got, tc.grade)
		}
	}
}

func TestController(t *testing.T) {
	for _, tc := range []struct {
		values map[string][]string
		want   string
		err    string
	}{
		{map[string][]string{facts.Role: {"1.2.246.562.10.44444444440;03082;7B;Oppilas;1;;"}}, "1.2.246.562.10.44444444440", ""},
		{map[string][]string{facts.EducationProviderInfo: {"1.2.246.562.10.44444444440;Esimerkkilän kaupunki"}}, "1.2.246.562.10.44444444440", ""},
		{map[string][]string{facts.Role: {"Esimerkkilä;Koulu;7B;Oppilas"}}, "", ""},
		{map[string][]string{"urn:mpass.id:role_v1.1": {"1.2.246.562.10.12345678903;99901;5C;Oppilas"}}, "1.2.246.562.10.12345678903", ""},
		// a wrong check digit is named, with the digit it should have
		{map[string][]string{facts.Role: {"1.2.246.562.10.12345678904;99901;5C;Oppilas;1;;"}}, "", "should end in 3"},
		{map[string][]string{facts.Role: {"1.2.246.562.10.12345678904;99901;5C;Oppilas;1;;"}, facts.EducationProviderInfo: {"1.2.246.562.10.12345678903;K"}}, "1.2.246.562.10.12345678903", ""},
		{nil, "", ""},
	} {
		got, err := testExtractor().Catalog().Controller(tc.values)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Controller(%v) = %q, %v; want %q, %q", tc.values, got, err, tc.want, tc.err)
		}
	}
}

func FuzzContainsIdentityCode(f *testing.F) {
	for _, c := range dvvTestCodes {
		f.Add(c)
	}
	for _, s := range []string{"x131052-308Tx", "1.2.246.562.24.131052-308T", "9131052-308T", "131052-308T9", "a 131052-308T, b",
		"ä131052-308Tö", "12345 131052-308T", "1310521308T 131052-308T", "13105-131052-308T"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := facts.ContainsIdentityCode(s)
		want := false // the definition, window by window: a code not glued to a letter or digit
		for i := 0; i+11 <= len(s); i++ {
			if facts.IsIdentityCode(s[i:i+11]) && (i == 0 || !facts.GluedBefore(s[:i])) && (i+11 == len(s) || !facts.GluedAfter(s[i+11:])) {
				want = true
			}
		}
		if got != want {
			t.Fatalf("ContainsIdentityCode(%q) = %v, want %v", s, got, want)
		}
	})
}

func BenchmarkContainsIdentityCode(b *testing.B) {
	v := "aino.virtanen.2012@esimerkkila.fi 1.2.246.562.24.20000000019 131052-308T"
	for b.Loop() {
		facts.ContainsIdentityCode(v)
	}
}

func BenchmarkAttribute(b *testing.B) {
	x := testExtractor()
	values := []string{"1.2.246.562.10.44444444440;03082;7B;Oppilas;1;1.2.246.562.10.55555555550;"}
	for b.Loop() {
		x.Attribute(facts.Role, values)
	}
}

// A million random user ids of the shapes MPASSid and its upstream identity providers
// use hold no identity code (TERMS.md: a code is a whole token, case-exact): before the
// rule, about 26 in a million lower-case hex ids gave a false critical finding.
func TestRandomUserIDsHoldNoIdentityCode(t *testing.T) {
	rnd := rand.New(rand.NewPCG(11, 2026))
	const lowerHex, upperHex = "0123456789abcdef", "0123456789ABCDEF"
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	const b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	random := func(alphabet string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rnd.IntN(len(alphabet))]
		}
		return string(b)
	}
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	for i := range n {
		var id string
		switch i % 4 {
		case 0:
			id = "MPASSOID." + random(lowerHex, 40)
		case 1:
			id = "MPASSOID." + random(upperHex, 40)
		case 2:
			id = random(b64, 43) + "="
		default:
			id = random(b64url, 32) + "@wilma_" + random(lowerHex, 6)
		}
		if facts.ContainsIdentityCode(id) {
			t.Fatalf("%q holds an identity code", id)
		}
	}
	// the codes the tests use are still found, wherever a token may stand
	for _, code := range dvvTestCodes {
		for _, v := range []string{code, "x " + code, code + ";", "MPASSOID." + code, "a." + code + "@b.fi"} {
			if !facts.ContainsIdentityCode(v) {
				t.Errorf("%q: identity code not found", v)
			}
		}
	}
}

// A role keeps only words of the vocabulary: any other text of its name and code
// fields (a name, an identity code) is kept as "other", of its other fields nothing,
// and the role still counts as seen (issue 14, item 2).
func TestRolesKeepNoText(t *testing.T) {
	x := testExtractor()
	for name, value := range map[string]string{
		facts.Role:                      "1.2.246.562.10.12345678903;99901;7B;Aino Virtanen 131052-308T;PLANT;;",
		"urn:educloudalliance.org:role": "Aino Virtanen 131052-308T",
	} {
		f := x.Attribute(name, []string{value})
		if len(f.Roles) != 1 {
			t.Fatalf("%s: roles %+v", name, f.Roles)
		}
		wantCode := facts.OtherRole
		if name != facts.Role {
			wantCode = "" // a role name alone has no code
		}
		if r := f.Roles[0]; r.Name != facts.OtherRole || r.Code != wantCode || r.Controller != "" || r.School != "" || r.Class != "" {
			t.Errorf("%s: kept %+v", name, r)
		}
		if facts.RoleStatus(map[string]mpass.AttributeFacts{name: f}) != mpass.RoleNonLearner {
			t.Errorf("%s: an unknown role is not a role seen", name)
		}
	}
	if r := x.Attribute(facts.Role, []string{";;;Elev;1;;"}).Roles[0]; r.Name != "elev" || r.Code != "1" {
		t.Errorf("vocabulary lost: %+v", r)
	}
	for _, code := range []string{"0", "7", "11", "1a", "131052-308T"} {
		if r := x.Attribute(facts.Role, []string{";;;Oppilas;" + code + ";;"}).Roles[0]; r.Code != facts.OtherRole {
			t.Errorf("code %q kept as %q", code, r.Code)
		}
	}
	if r := x.Attribute(facts.Role, []string{";;;;;;"}).Roles[0]; r.Name != "" || r.Code != "" {
		t.Errorf("empty fields kept as %+v", r)
	}
}

// TestFingerprintsKeyedPerAttribute (issue 14): one value in two attributes has two
// fingerprints, so what the store keeps in clear of one attribute (a grade) cannot name
// the fingerprints of another; and the grade level, kept in clear, has no fingerprint
// beside it.
func TestFingerprintsKeyedPerAttribute(t *testing.T) {
	x := testExtractor()
	if a, b := x.Fingerprint(facts.ClassLevel, []string{"7"}), x.Fingerprint("urn:mpass.id:class", []string{"7"}); a == b {
		t.Errorf("one fingerprint %s for two attributes", a)
	}
	if a, b := x.Fingerprint("urn:mpass.id:class", []string{"7A", "7B"}), x.Fingerprint("urn:mpass.id:class", []string{"7B", "7A"}); a != b {
		t.Errorf("order changed the fingerprint: %s %s", a, b)
	}
	f := x.Attribute(facts.ClassLevel, []string{"7"})
	if f.Grade != "7" || f.Fingerprint != (mpass.Fingerprint{}) {
		t.Errorf("grade level facts %+v: want the grade and no fingerprint", f)
	}
}

// TestStoredPseudonymsKeepTheirForm pins what the store holds for a key: pseudonyms,
// fingerprints and the key check value. Stored rows are compared with new ones by
// these (subject_roles, id conflicts, runs diff), and the raw ids they came from are
// not stored, so a change of the keyed hash (a faster one, issue 16) cannot recompute
// them: it needs the migration planned in docs/performance.md ("A faster keyed hash"),
// and this test fails until that plan is carried out with it.
func TestStoredPseudonymsKeepTheirForm(t *testing.T) {
	x := facts.NewExtractor([]byte("0123456789abcdef0123456789abcdef"), testExtractor().Catalog())
	for _, c := range []struct{ what, got, want string }{
		{"pseudonym", x.Pseudonym("MPASSOID.5a0c1e7d2b9f4e3a"), "75c2bb47ce5e7c62c0cc28793b52459d"},
		{"fingerprint", x.Fingerprint("urn:oid:2.5.4.42", []string{"Aava"}), "c9ed3db3a4e93e31"},
		{"key check", facts.KeyCheck([]byte("0123456789abcdef0123456789abcdef")), "hmac-sha256:afa010ec69d599b6ccab1dfe47e3b334"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %q, pinned %q", c.what, c.got, c.want)
		}
	}
}

// A fingerprint remembered (FingerprintOf's recent slots) is always the HMAC of its
// values: for values that recur, values that evict each other from a slot, and sets
// whose order differs, on workers side by side, each fingerprint equals the message's
// HMAC made here from its definition (Fingerprint: HMAC-SHA-256 with the key of
// "values", NUL, the name, NUL, each sorted value and NUL; its first 8 bytes).
func TestRememberedFingerprintsAreTheHMAC(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	x := facts.NewExtractor(key, testExtractor().Catalog())
	want := func(name string, values []string) mpass.Fingerprint {
		sorted := slices.Sorted(slices.Values(values))
		m := hmac.New(sha256.New, key)
		m.Write([]byte("values\x00" + name + "\x00"))
		for _, v := range sorted {
			m.Write([]byte(v + "\x00"))
		}
		return mpass.Fingerprint(m.Sum(nil)[:8])
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), 16))
			for i := range 200_000 {
				n := rnd.IntN(3000) // recurring values, and many more than a worker's slots
				if i%3 == 0 {
					n = 100_000 + i*4 + w // never seen before
				}
				values := []string{strconv.Itoa(n), "Kuvitteela"}
				if n%2 == 1 {
					values[0], values[1] = values[1], values[0]
				}
				name := [...]string{facts.Mail, facts.SchoolInfo}[n%3%2]
				if got, want := x.FingerprintOf(name, values), want(name, values); got != want {
					t.Errorf("FingerprintOf(%s, %q) = %s, its HMAC is %s", name, values, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// centurySign, the scan's cheap rejection, takes exactly the signs the map knows.
func TestCenturySignAgreesWithCenturies(t *testing.T) {
	for c := range 256 {
		if _, known := facts.Centuries[byte(c)]; facts.CenturySign(byte(c)) != known {
			t.Errorf("centurySign(%q) = %v", byte(c), !known)
		}
	}
}

// ParseRole reads fields as strings.Split and TrimSpace would, and knownRoleName keeps
// a vocabulary word in any letter case and nothing else, ASCII or not.
func TestParseRoleAndRoleNames(t *testing.T) {
	for _, v := range []string{"", ";", ";;;", "a;b;c", "a;b;c;d", " a ; b ;7B; Oppilas ;1;x;y;z", "1.2;03082;;Opettaja;2", "a;b;c;d;", "a;b;c;d;e;f;g;h;i"} {
		f := strings.Split(v, ";")
		r, ok := facts.ParseRole(v)
		if ok != (len(f) >= 4) {
			t.Fatalf("ParseRole(%q) ok = %v", v, ok)
		}
		if !ok {
			continue
		}
		want := mpass.Role{Controller: strings.TrimSpace(f[0]), School: strings.TrimSpace(f[1]), Class: strings.TrimSpace(f[2]), Name: strings.TrimSpace(f[3])}
		if len(f) >= 5 {
			want.Code = strings.TrimSpace(f[4])
		}
		want.ClassGrade = want.Class != "" && want.Class[0] >= '0' && want.Class[0] <= '9'
		if r != want {
			t.Errorf("ParseRole(%q) = %+v, want %+v", v, r, want)
		}
	}
	for in, want := range map[string]string{"Oppilas": "oppilas", " OPETTAJA ": "opettaja", "Lärare": "lärare", "INLÄRARE": "inlärare",
		"School Secretary": "school secretary", "Aino Virtanen": facts.OtherRole, "131052-308T": facts.OtherRole, "": "",
		"substitute teacherxxxxxxxxxxxx": facts.OtherRole, "Vikarierande Lärare": "vikarierande lärare"} {
		if got := facts.KnownRoleName(in); got != want {
			t.Errorf("knownRoleName(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkFingerprintOf: a value seen lately (its fingerprint remembered) and values
// never seen (each an HMAC), one per attribute of a release.
func BenchmarkFingerprintOf(b *testing.B) {
	x := testExtractor()
	b.Run("recurring", func(b *testing.B) {
		values := []string{"15583;Mänty gielda skole"}
		for b.Loop() {
			x.FingerprintOf(facts.SchoolInfo, values)
		}
	})
	b.Run("new", func(b *testing.B) {
		values := []string{"aino.virtanen.0000000@esimerkkila.fi"}
		v := []byte(values[0])
		i := 0
		for b.Loop() {
			i++
			for j, k := 13, i; j < 20; j, k = j+1, k/10 {
				v[j] = byte('0' + k%10)
			}
			values[0] = string(v)
			x.FingerprintOf(facts.Mail, values)
		}
	})
}
