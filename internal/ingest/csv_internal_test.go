package ingest

import (
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/facts"
)

// FuzzCSVAttributes fuzzes the attributes grammar alone, thousands of times faster than
// FuzzCSV's whole ingest: whatever it reads, every name is a well-formed name, and what
// it reads, written back with escapes, reads the same.
func FuzzCSVAttributes(f *testing.F) {
	role := "1.2.246.562.10.12345678903;99901;7B;Oppilas;1;1.2.246.562.10.23456789017;1.2.246.562.10.45678901237"
	for _, s := range []string{
		"urn:mpass.id:role=" + role + ";urn:mpass.id:schoolInfo=99901;Kuvitteelan yhtenäiskoulu;urn:mpass.id:classLevel=7",
		"mpassUsername=MPASSOID.x;nickname=Kuvi;131052-308T", `nickname=K\;K\=K\\K;givenName=Kuvi`,
		`nickname=a\q`, `nickname=a\`, "=x", "7B=x", "131052-308T=x", "a.131052-308T=x", "uid=x; mail=y",
		"givenName; mail ;;uid=x;role", "mail=;uid=", "mail=a=b;uid=QUJD==", "urn:oid:2.5.x=1", "x=1;;;Kuvi Aino=2;=3;",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	name := regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.:-]{0,255}$`)
	f.Fuzz(func(t *testing.T, text string, use bool) {
		got, why := csvAttributes(text, use, knownForTest)
		if why != "" {
			if got != nil {
				t.Fatalf("rejected (%s) with attributes %q", why, got)
			}
			return
		}
		for n, vs := range got {
			if !name.MatchString(n) || facts.ContainsIdentityCode(n) || !facts.WellFormedName(n) {
				t.Fatalf("name %q from %q", n, text)
			}
			if use && vs != nil {
				t.Fatalf("use with values %q", got)
			}
		}
		if len(got) == 0 {
			return
		}
		again, why := csvAttributes(writeCSVAttributes(got), use, knownForTest)
		if why != "" || !reflect.DeepEqual(again, got) {
			t.Fatalf("%q reads %q; written back as %q it reads %q (%s)", text, got, writeCSVAttributes(got), again, why)
		}
	})
}

// writeCSVAttributes writes attributes in the grammar: names only first, then
// name=value with ; = \ escaped.
func writeCSVAttributes(attrs map[string][]string) string {
	var b strings.Builder
	names := slices.Sorted(maps.Keys(attrs))
	for _, n := range names {
		if attrs[n] == nil {
			b.WriteString(n + ";")
		}
	}
	esc := strings.NewReplacer(`\`, `\\`, ";", `\;`, "=", `\=`)
	for _, n := range names {
		for _, v := range attrs[n] {
			b.WriteString(n + "=" + esc.Replace(v) + ";")
		}
	}
	return strings.TrimSuffix(b.String(), ";")
}

// TestCSVAttributesExact: the values themselves, where the ingest tests see fingerprints.
func TestCSVAttributesExact(t *testing.T) {
	for _, tc := range []struct {
		text string
		use  bool
		want map[string][]string
	}{
		{"a=1;b=;c", false, map[string][]string{"a": {"1"}, "b": {";c"}}},
		{"c; d ;a=1;b=", false, map[string][]string{"c": nil, "d": nil, "a": {"1"}, "b": {""}}},
		{"a=1;", false, map[string][]string{"a": {"1;"}}},
		{`n=a\;b\=c\\d;m=\\`, false, map[string][]string{"n": {`a;b=c\d`}, "m": {`\`}}},
		{"n=Kuvi;131052-308T", false, map[string][]string{"n": {"Kuvi;131052-308T"}}},
		{"n=a;n=b;m=c;n=d", false, map[string][]string{"n": {"a", "b", "d"}, "m": {"c"}}},
		{"a;b=;c;", true, map[string][]string{"a": nil, "b": nil, "c": nil}},
		{";", false, map[string][]string{}},
		{" \t", false, nil},
	} {
		got, why := csvAttributes(tc.text, tc.use, knownForTest)
		if why != "" || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("csvAttributes(%q, %v) = %q %s, want %q", tc.text, tc.use, got, why, tc.want)
		}
	}
}

// knownForTest knows every name: the grammar's own tests are of the syntax.
func knownForTest(string) bool { return true }
