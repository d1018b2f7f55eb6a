package ingest_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/ingest"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

// Every name of every catalog attribute — canonical, FriendlyName, resolver id, OIDC
// claim, older SAML name, and in other letter case where that is unambiguous — reaches
// the attribute's canonical name in a stored record, in every format that carries names.
func TestEveryCatalogNameResolves(t *testing.T) {
	attrs, err := testenv.MustEngine(t).Attributes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cat := testenv.MustExtractor(t).Catalog()
	n := 0
	for _, a := range attrs {
		for _, name := range append([]string{a.Name, a.Friendly}, a.Names...) {
			t.Run(a.Name+"/"+name, func(t *testing.T) {
				n++
				key, _ := json.Marshal(name)
				line := `{"kind":"release","id":"r","time":"2026-10-05T07:58:12Z","sp":"` + shop + `","controller":"` + city + `","subject":"s","attributes":{` + string(key) + `:null}}`
				got := run(t, ingest.Options{Format: ingest.FormatJSONL}, line)
				if len(got.records) != 1 {
					t.Fatalf("not stored: %v", got.rejections)
				}
				if _, ok := got.records[0].Attributes[a.Name]; !ok || len(got.records[0].Attributes) != 1 {
					t.Errorf("JSON Lines release: attributes %v, want %s", keys(got.records[0].Attributes), a.Name)
				}
				csv := "kind,id,time,sp,controller,subject,purpose,attributes\nuse,u,2026-10-05T07:58:12Z," + shop + "," + city + ",s,marketing," + name + "\n"
				got = run(t, ingest.Options{Format: ingest.FormatCSV}, csv)
				if len(got.records) != 1 {
					t.Fatalf("CSV use not stored: %v", got.rejections)
				}
				if _, ok := got.records[0].Attributes[a.Name]; !ok {
					t.Errorf("CSV use: attributes %v, want %s", keys(got.records[0].Attributes), a.Name)
				}
				if cat.Canonical(strings.ToUpper(name)) != strings.ToUpper(name) && cat.Canonical(strings.ToUpper(name)) != a.Name {
					t.Errorf("%s in upper case means %s", name, cat.Canonical(strings.ToUpper(name)))
				}
			})
		}
	}
	if n < 100 {
		t.Errorf("only %d names: is the catalog read?", n)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
