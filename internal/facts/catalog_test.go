package facts_test

import (
	"strings"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/facts"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

func TestCatalogRejectsANameOfTwoAttributes(t *testing.T) {
	_, err := facts.NewCatalog([]mpass.CatalogAttribute{
		{Name: "urn:a", Friendly: "a", Names: []string{"shared"}},
		{Name: "urn:b", Friendly: "b", Names: []string{"shared"}},
	})
	if err == nil || !strings.Contains(err.Error(), `"shared" names both urn:a and urn:b`) {
		t.Fatalf("err = %v", err)
	}
}

// Names that differ only in case and mean different attributes are matched exactly
// only (urn:educloudalliance.org:OID and :oid are one attribute, ecaRole and ecaroles
// are not the same name).
func TestCatalogFoldsCaseOnlyWhereUnambiguous(t *testing.T) {
	c := facts.MustCatalog([]mpass.CatalogAttribute{
		{Name: "urn:a", Friendly: "Thing"},
		{Name: "urn:b", Friendly: "thing"},
		{Name: "urn:c", Friendly: "other", Names: []string{"urn:C"}},
	})
	for in, want := range map[string]string{
		"Thing": "urn:a", "thing": "urn:b", "THING": "THING", // ambiguous: kept as it is
		"OTHER": "urn:c", "urn:C": "urn:c", "URN:c": "urn:c",
	} {
		if got := c.Canonical(in); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCatalogWithNames(t *testing.T) {
	c := testExtractor().Catalog()
	m, err := c.WithNames(map[string]string{"etunimi": "urn:oid:2.5.4.42", "sahkoposti": "mail"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Canonical("etunimi") != "urn:oid:2.5.4.42" || m.Canonical("sahkoposti") != facts.Mail || !m.Known("etunimi") {
		t.Error("mapped names not resolved")
	}
	// names of two attributes that differ only in case are matched exactly only
	m, err = c.WithNames(map[string]string{"FOO": "urn:oid:2.5.4.42", "foo": "mail"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Canonical("FOO") != "urn:oid:2.5.4.42" || m.Canonical("foo") != facts.Mail || m.Canonical("Foo") != "Foo" {
		t.Errorf("FOO, foo, Foo = %s, %s, %s", m.Canonical("FOO"), m.Canonical("foo"), m.Canonical("Foo"))
	}
	if c.Canonical("etunimi") != "etunimi" {
		t.Error("WithNames changed the catalog it was called on")
	}
	for _, tc := range []struct {
		names map[string]string
		want  string
	}{
		{map[string]string{"x": "urn:nowhere"}, "not an attribute of the catalog"},
		{map[string]string{"email": "urn:oid:2.5.4.42"}, "already means " + facts.Mail},
		{map[string]string{" x": facts.Mail}, "must start with a letter"},
		{map[string]string{"131052-308T": facts.Mail}, "must start with a letter"},
		{map[string]string{"x131052-308T;y=z": facts.Mail}, "must start with a letter"},
	} {
		if _, err := c.WithNames(tc.names); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.names, err, tc.want)
		}
	}
}
