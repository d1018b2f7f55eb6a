package ingest_test

import (
	"context"
	"encoding/csv"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/facts"
	"github.com/opetushallitus/mpass-audit/internal/ingest"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

const (
	csvHeader = "kind,id,time,sp,controller,subject,purpose,attributes\n"
	// code is a checksum-valid personal identity code (invented).
	code = "131052-308T"
	// role14 is a data-model-1.4 role: seven fields, six ';'.
	role14 = "1.2.246.562.10.12345678903;99901;7B;Oppilas;1;1.2.246.562.10.23456789017;1.2.246.562.10.45678901237"
)

// csvLine is one CSV record line with attributes quoted as RFC 4180 says.
func csvLine(kind, id, purpose, attributes string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	controller := city
	if kind == "use" {
		controller = ""
	}
	w.Write([]string{kind, id, "2026-10-05T07:58:12Z", shop, controller, aino, purpose, attributes})
	w.Flush()
	return b.String()
}

// nameSyntax is the name rule of RECORDS.md "CSV", written apart from the parser.
var nameSyntax = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.:-]*$`)

// badAttributeName says what is wrong with an attribute name a reader stored, or "".
func badAttributeName(name string) string {
	switch {
	case strings.ContainsAny(name, ";=\\"):
		return "holds ; = or \\"
	case strings.IndexFunc(name, func(r rune) bool { return strings.ContainsRune(" \t\r\n\v\f\u00a0\u0085", r) }) >= 0:
		return "holds whitespace"
	case facts.ContainsIdentityCode(name):
		return "holds an identity code"
	case !nameSyntax.MatchString(name):
		return "is not a name"
	}
	return ""
}

// TestCSVAttributesGrammar: the attributes field of RECORDS.md "CSV", value by value
// (through the fingerprints, the only trace of a value a record keeps).
func TestCSVAttributesGrammar(t *testing.T) {
	x := testenv.MustExtractor(t)
	long := "a" + strings.Repeat("b", 256)
	for _, tc := range []struct {
		name, kind, attributes string
		want                   map[string][]string // nil: names only
		codes                  []string            // attributes holding an identity code
		reason                 string              // a rejection of the attributes field
	}{
		{name: "name=value", attributes: "urn:mpass.id:uid=x;urn:mpass.id:nickname=Aino",
			want: map[string][]string{"urn:mpass.id:uid": {"x"}, "urn:mpass.id:nickname": {"Aino"}}},
		{name: "escapes", attributes: `urn:mpass.id:nickname=a\;b\=c\\d`,
			want: map[string][]string{"urn:mpass.id:nickname": {`a;b=c\d`}}},
		{name: "escaped backslash, then ;", attributes: `urn:mpass.id:nickname=a\\;urn:mpass.id:uid=x`,
			want: map[string][]string{"urn:mpass.id:nickname": {`a\`}, "urn:mpass.id:uid": {"x"}}},
		{name: "escaped ; before name=", attributes: `urn:mpass.id:nickname=Kuvi\;mail=x`,
			want: map[string][]string{"urn:mpass.id:nickname": {"Kuvi;mail=x"}}},
		{name: "escaped = in a name-shaped piece", attributes: `urn:mpass.id:nickname=Kuvi;mail\=x`,
			want: map[string][]string{"urn:mpass.id:nickname": {"Kuvi;mail=x"}}},
		{name: "role with seven fields", attributes: "urn:mpass.id:role=" + role14 + ";urn:mpass.id:uid=x",
			want: map[string][]string{"urn:mpass.id:role": {role14}, "urn:mpass.id:uid": {"x"}}},
		{name: "role last, empty office", attributes: "urn:mpass.id:uid=x;urn:mpass.id:role=" + role7,
			want: map[string][]string{"urn:mpass.id:role": {role7}, "urn:mpass.id:uid": {"x"}}},
		{name: "two roles", attributes: "urn:mpass.id:role=" + role14 + ";urn:mpass.id:role=" + city + ";99901;;Opettaja;2;;",
			want: map[string][]string{"urn:mpass.id:role": {role14, city + ";99901;;Opettaja;2;;"}}},
		{name: "school info", attributes: "urn:mpass.id:schoolInfo=99901;Kuvitteelan yhtenäiskoulu;urn:mpass.id:classLevel=7",
			want: map[string][]string{"urn:mpass.id:schoolInfo": {"99901;Kuvitteelan yhtenäiskoulu"}, "urn:mpass.id:classLevel": {"7"}}},
		{name: "; then no name=", attributes: "urn:mpass.id:nickname=Kuvi;7B;x y;=z;Kuvi Aino=1;7B=2;;",
			want: map[string][]string{"urn:mpass.id:nickname": {"Kuvi;7B;x y;=z;Kuvi Aino=1;7B=2;;"}}},
		{name: "the bug: a code after ;", attributes: "urn:mpass.id:uid=MPASSOID.x;urn:mpass.id:nickname=Kuvi;" + code,
			want:  map[string][]string{"urn:mpass.id:uid": {"MPASSOID.x"}, "urn:mpass.id:nickname": {"Kuvi;" + code}},
			codes: []string{"urn:mpass.id:nickname"}},
		{name: "the bug with FriendlyNames", attributes: "mpassUsername=MPASSOID.x;nickname=Kuvi;" + code,
			want:  map[string][]string{"mpassUsername": {"MPASSOID.x"}, "nickname": {"Kuvi;" + code}},
			codes: []string{"nickname"}},
		{name: "a code in a name-shaped piece", attributes: "urn:mpass.id:nickname=Kuvi;a." + code + "=1",
			want:  map[string][]string{"urn:mpass.id:nickname": {"Kuvi;a." + code + "=1"}},
			codes: []string{"urn:mpass.id:nickname"}},
		{name: "a code in a value", attributes: "urn:mpass.id:nickname=" + code + ";urn:mpass.id:uid=x",
			want:  map[string][]string{"urn:mpass.id:nickname": {code}, "urn:mpass.id:uid": {"x"}},
			codes: []string{"urn:mpass.id:nickname"}},
		{name: "base64 padding after ;: an unknown name after a value is ambiguous", attributes: "urn:mpass.id:legacyCryptIde=abc;ZGVhZGJlZWY=",
			reason: "a name the attribute catalog does not know"},
		{name: "an unknown name first is a name", attributes: "customAttribute=1;urn:mpass.id:uid=x",
			want: map[string][]string{"customAttribute": {"1"}, "urn:mpass.id:uid": {"x"}}},
		{name: "empty values", attributes: "urn:mpass.id:nickname=;urn:mpass.id:uid=",
			want: map[string][]string{"urn:mpass.id:nickname": {""}, "urn:mpass.id:uid": {""}}},
		{name: "= inside a value", attributes: "urn:mpass.id:nickname=a=b;urn:mpass.id:uid=QUJD==",
			want: map[string][]string{"urn:mpass.id:nickname": {"a=b"}, "urn:mpass.id:uid": {"QUJD=="}}},
		{name: "names only, then values", attributes: "urn:mpass.id:nickname; urn:mpass.id:classLevel ;;urn:mpass.id:uid=x;urn:mpass.id:schoolInfo",
			want: map[string][]string{"urn:mpass.id:nickname": nil, "urn:mpass.id:classLevel": nil, "urn:mpass.id:uid": {"x;urn:mpass.id:schoolInfo"}}},
		{name: "names only", attributes: "urn:mpass.id:nickname;urn:mpass.id:uid;",
			want: map[string][]string{"urn:mpass.id:nickname": nil, "urn:mpass.id:uid": nil}},
		{name: "a name twice", attributes: "urn:mpass.id:nickname=a;urn:mpass.id:nickname=b",
			want: map[string][]string{"urn:mpass.id:nickname": {"a", "b"}}},
		{name: "urn:oid: name", attributes: "urn:oid:2.5.4.42=Aino",
			want: map[string][]string{"urn:oid:2.5.4.42": {"Aino"}}},
		{name: "spaces in a value stay", attributes: "urn:mpass.id:nickname= Aino ",
			want: map[string][]string{"urn:mpass.id:nickname": {" Aino "}}},
		{name: "blank", attributes: "  ", want: map[string][]string{}},

		{name: "bad escape", attributes: `urn:mpass.id:nickname=a\nb`, reason: "backslash in a value must come before"},
		{name: "bad escape after ;", attributes: `urn:mpass.id:nickname=a;\x`, reason: "backslash in a value must come before"},
		{name: "lone backslash at the end", attributes: `urn:mpass.id:nickname=a\`, reason: "lone backslash"},
		{name: "empty name", attributes: "=value", reason: "attribute name is empty"},
		{name: "name starts with a digit", attributes: "7B=x", reason: "must start with a letter"},
		{name: "a code as a name", attributes: code + "=x", reason: "must start with a letter"},
		{name: "a code as a names-only name", attributes: "urn:mpass.id:nickname;" + code + ";urn:mpass.id:uid=x", reason: "must start with a letter"},
		{name: "a code inside a name", attributes: "a." + code + "=x", reason: "identity code"},
		{name: "words as a name", attributes: "Kuvi Aino=x", reason: "must start with a letter"},
		{name: "an e-mail address as a name", attributes: "aino@example.fi=x", reason: "must start with a letter"},
		{name: "escape in a name", attributes: `urn:mpass.id:nick\;name=x`, reason: "must start with a letter"},
		{name: "urn:oid: without an OID", attributes: "urn:oid:2.5.x=1", reason: "dotted OID"},
		{name: "long name", attributes: long + "=x", reason: "longer than 256"},
		{name: "spaces around a name after a value", attributes: "urn:mpass.id:uid=x; urn:mpass.id:nickname=y", reason: "spaces around it"},
		{name: "space before = after a value", attributes: "urn:mpass.id:uid=x;urn:mpass.id:nickname =y", reason: "spaces around it"},

		{name: "use", kind: "use", attributes: "urn:mpass.id:nickname; urn:mpass.id:uid ;",
			want: map[string][]string{"urn:mpass.id:nickname": nil, "urn:mpass.id:uid": nil}},
		{name: "use with name=", kind: "use", attributes: "urn:mpass.id:nickname=;urn:mpass.id:uid= ",
			want: map[string][]string{"urn:mpass.id:nickname": nil, "urn:mpass.id:uid": nil}},
		{name: "use with a value", kind: "use", attributes: "urn:mpass.id:nickname=Kuvi;" + code, reason: "names attributes only"},
		{name: "use with a code", kind: "use", attributes: "urn:mpass.id:nickname;" + code, reason: "must start with a letter"},
		{name: "use with a digit first", kind: "use", attributes: "urn:mpass.id:nickname;7B", reason: "must start with a letter"},
		{name: "use with an escape", kind: "use", attributes: `urn:mpass.id:nick\;name`, reason: "must start with a letter"},
		{name: "use with an empty name", kind: "use", attributes: "urn:mpass.id:nickname;=", reason: "attribute name is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kind, purpose := "release", ""
			if tc.kind == "use" {
				kind, purpose = "use", "analytics"
			}
			rec := run(t, ingest.Options{Format: ingest.FormatCSV}, csvHeader+csvLine(kind, "r-1", purpose, tc.attributes))
			if tc.reason != "" {
				if len(rec.records) != 0 || len(rec.rejections) != 1 {
					t.Fatalf("records %+v rejections %v, want one rejection", rec.records, rec.rejections)
				}
				r := rec.rejections[0]
				if r.Line != 2 || r.Field != "attributes" || !strings.Contains(r.Reason, tc.reason) {
					t.Errorf("rejection %s, want line 2 attributes %q", r.Error(), tc.reason)
				}
				for _, secret := range []string{"131052", "Kuvi", "Aino", "aino@", "nick", "bbbb", "2.5.x"} {
					if strings.Contains(r.Reason, secret) {
						t.Errorf("reason %q quotes the field (%s)", r.Reason, secret)
					}
				}
				return
			}
			if len(rec.records) != 1 || len(rec.rejections) != 0 {
				t.Fatalf("records %+v rejections %v", rec.records, rec.rejections)
			}
			got := rec.records[0].Attributes
			want := map[string][]string{}
			for n, vs := range tc.want {
				want[x.Catalog().Canonical(n)] = vs
			}
			if len(got) != len(want) {
				t.Errorf("attributes %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
			}
			for n, vs := range want {
				f, ok := got[n]
				switch {
				case !ok:
					t.Errorf("no attribute %s in %v", n, slices.Sorted(maps.Keys(got)))
				case vs == nil && (f.Values || f.Fingerprint != mpass.Fingerprint{}):
					t.Errorf("%s: names only expected, got %+v", n, f)
				case vs != nil && (!f.Values || f.Fingerprint.String() != fingerprintOf(x, n, vs)):
					t.Errorf("%s: values differ from %q", n, vs)
				}
			}
			codes := map[string]bool{}
			for _, n := range tc.codes {
				codes[x.Catalog().Canonical(n)] = true
			}
			for n, f := range got {
				if f.IdentityCode != codes[n] {
					t.Errorf("%s: identity code %v, want %v", n, f.IdentityCode, codes[n])
				}
				if why := badAttributeName(n); why != "" {
					t.Errorf("attribute name %q %s", n, why)
				}
			}
		})
	}
}

// TestCSVNeighboursKept: a line the grammar rejects drops none of its neighbours.
func TestCSVNeighboursKept(t *testing.T) {
	rec := run(t, ingest.Options{Format: ingest.FormatCSV}, csvHeader+
		csvLine("release", "r-1", "", "urn:mpass.id:uid=x;urn:mpass.id:role="+role14)+
		csvLine("release", "r-2", "", code+"=x")+
		csvLine("release", "r-3", "", `urn:mpass.id:nickname=a\b`)+
		csvLine("use", "u-1", "analytics", "urn:mpass.id:nickname=Kuvi")+
		csvLine("release", "r-4", "", "urn:mpass.id:nickname=Kuvi;"+code))
	if len(rec.records) != 2 || len(rec.rejections) != 3 {
		t.Fatalf("records %d rejections %v", len(rec.records), rec.rejections)
	}
	for i, line := range []int{3, 4, 5} {
		if r := rec.rejections[i]; r.Line != line || r.Field != "attributes" {
			t.Errorf("rejection %d: %s, want line %d", i, r.Error(), line)
		}
	}
}

func TestWellFormedName(t *testing.T) {
	for name, want := range map[string]bool{
		"urn:mpass.id:role": true, "urn:oid:2.5.4.42": true, "urn:educloudalliance.org:structuredRole": true,
		"urn:mpass.id:role_v1.1": true, "mpassLegacyCid": true, "mpass_cid": true, "given_name": true, "ecaRole": true,
		"URN:OID:0.9.2342.19200300.100.1.3": true, "x": true,
		"": false, "7B": false, code: false, "a." + code: false, "urn:x:" + code: false, "_x": false, "-x": false,
		"urn:oid:": false, "urn:oid:1..2": false, "urn:oid:1.2.": false, "urn:oid:abc": false, "a b": false,
		"a;b": false, "a=b": false, `a\b`: false, "ä": false, "mail@x": false, "a\t": false,
		"a" + strings.Repeat("b", 255): true, "a" + strings.Repeat("b", 256): false,
	} {
		if got := facts.WellFormedName(name); got != want {
			t.Errorf("WellFormedName(%q) = %v, want %v", name, got, want)
		}
		if got := badAttributeName(name) == ""; want && !got {
			t.Errorf("%q is well formed but the test's oracle says %s", name, badAttributeName(name))
		}
	}
}

// TestReleasesSemicolons reads testdata/mpassid/releases-semicolons.csv: MPASSid's own
// values holding ';', escapes, and the identity code after a ';' of issue 11.
func TestReleasesSemicolons(t *testing.T) {
	x := testenv.MustExtractor(t)
	f, err := os.Open("../../testdata/mpassid/releases-semicolons.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec := &recorder{}
	in := &ingest.Ingester{Store: rec, Extractor: x}
	if _, err := in.Ingest(context.Background(), "releases-semicolons.csv", f); err != nil {
		t.Fatal(err)
	}
	const (
		school  = "99901;Kuvitteelan yhtenäiskoulu"
		teacher = "1.2.246.562.10.12345678903;99901;;Opettaja;2;1.2.246.562.10.23456789017;"
		head    = "1.2.246.562.10.12345678903;99902;;Rehtori;6;;"
	)
	want := map[string]struct {
		values map[string][]string
		codes  []string
		roles  int
	}{
		"csv-semi-1": {values: map[string][]string{
			"urn:mpass.id:uid": {"MPASSOID.5f2ca97e1b3dc46a8e0fa1b2c3d4e5f6a7b8c9d0"}, "urn:mpass.id:role": {role14},
			"urn:mpass.id:schoolInfo": {school}, "urn:mpass.id:classLevel": {"7"}}, roles: 1},
		"csv-semi-2": {values: map[string][]string{
			"mpassUsername": {"MPASSOID.a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0"}, "mpassRole": {role14},
			"mpassSchoolInfo": {school}, "mpassClassLevel": {"7"}, "givenName": {"Kuvi"}}, roles: 1},
		"csv-semi-3": {values: map[string][]string{
			"urn:mpass.id:uid": {"MPASSOID.0c1d2e3f4a5b6c7d8e9fa0b1c2d3e4f5a6b7c8d9"}, "urn:mpass.id:nickname": {`Kuvi;Kuvitelma = K\K`},
			"urn:oid:2.5.4.42": {"Kuvi"}}},
		"csv-semi-4": {values: map[string][]string{
			"mpassUsername": {"MPASSOID.9e8d7c6b5a4f3e2d1c0ba9f8e7d6c5b4a3f2e1d0"}, "nickname": {"Kuvi;" + code}},
			codes: []string{"nickname"}},
		"csv-semi-5": {values: map[string][]string{
			"urn:mpass.id:uid": {"MPASSOID.d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5"}, "urn:mpass.id:role": {teacher, head},
			"urn:mpass.id:educationProviderInfo": {"1.2.246.562.10.12345678903;Kuvitteelan kunta"}}, roles: 2},
	}
	if len(rec.rejections) != 0 || len(rec.records) != len(want) {
		t.Fatalf("records %d rejections %v", len(rec.records), rec.rejections)
	}
	for _, r := range rec.records {
		w, ok := want[r.ID]
		if !ok {
			t.Errorf("unexpected record %s", r.ID)
			continue
		}
		if r.Controller != "1.2.246.562.10.12345678903" {
			t.Errorf("%s: controller %s", r.ID, r.Controller)
		}
		codes := map[string]bool{}
		for _, n := range w.codes {
			codes[x.Catalog().Canonical(n)] = true
		}
		if len(r.Attributes) != len(w.values) {
			t.Errorf("%s: attributes %v", r.ID, slices.Sorted(maps.Keys(r.Attributes)))
		}
		for n, vs := range w.values {
			c := x.Catalog().Canonical(n)
			f := r.Attributes[c]
			if !f.Values || f.Fingerprint.String() != fingerprintOf(x, c, vs) {
				t.Errorf("%s: %s values differ from %q", r.ID, c, vs)
			}
			if f.IdentityCode != codes[c] {
				t.Errorf("%s: %s identity code %v", r.ID, c, f.IdentityCode)
			}
		}
		roles := 0
		for _, f := range r.Attributes {
			roles += len(f.Roles)
		}
		if n := roles; n != w.roles {
			t.Errorf("%s: %d roles parsed, want %d", r.ID, n, w.roles)
		}
		for n := range r.Attributes {
			if why := badAttributeName(n); why != "" {
				t.Errorf("%s: attribute name %q %s", r.ID, n, why)
			}
		}
	}
}

// fingerprintOf is the fingerprint the extractor gives an attribute's values: none for
// the grade level, kept in clear instead.
func fingerprintOf(x *facts.Extractor, name string, values []string) string {
	if name == facts.ClassLevel {
		return ""
	}
	return x.Fingerprint(name, values)
}
