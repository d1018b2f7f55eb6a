package policy_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/opetushallitus/mpass-audit/internal/mpass"

	"github.com/opetushallitus/mpass-audit/internal/policy"
	builtin "github.com/opetushallitus/mpass-audit/rego"
)

// TestRegoUnitTests runs every *_test.rego of the built-in policies, so `go test`
// covers the Rego tests as `opa test rego/` does.
func TestRegoUnitTests(t *testing.T) {
	e, err := policy.Load(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	results, err := e.Test(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(results) < 50 {
		t.Fatalf("ran %d Rego tests, want the whole suite", len(results))
	}
	for _, r := range results {
		if r.Fail || r.Error != nil {
			t.Errorf("%s.%s: fail=%v error=%v", r.Package, r.Name, r.Fail, r.Error)
		}
	}
}

func TestTermCatalogFromMetadata(t *testing.T) {
	e, err := policy.Load(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"identification-only":           {"purpose-not-covered"},
		"no-age-inference":              {"age-revealing-attribute", "age-revealing-value", "age-indicative-attribute", "birth-year-in-email"},
		"no-direct-marketing-to-minors": {"marketing-without-guardian-consent", "learner-email-to-commercial-sp"},
		"data-minimisation":             {"unknown-sp", "service-not-allowed", "outside-agreement", "unapproved-attribute"},
	}
	terms := e.Terms()
	if len(terms) != len(want) {
		t.Fatalf("terms = %v", terms)
	}
	for _, term := range terms {
		rules := map[string]bool{}
		for _, r := range term.Rules {
			rules[r.ID] = true
			if r.Severity == "" || r.Clause == "" || len(r.References) == 0 || r.Title == "" {
				t.Errorf("%s/%s: incomplete METADATA %+v", term.ID, r.ID, r)
			}
		}
		for _, id := range want[term.ID] {
			if !rules[id] {
				t.Errorf("term %s lacks rule %s", term.ID, id)
			}
		}
		if len(rules) != len(want[term.ID]) || term.Title == "" || len(term.Kinds) == 0 {
			t.Errorf("term %s: rules %v, title %q, kinds %v", term.ID, rules, term.Title, term.Kinds)
		}
	}
	if !e.DayDecisions() {
		t.Error("the built-in policies promise day decisions in main.rego")
	}
	if e.Digest == "" || e.Source != "built-in" {
		t.Errorf("digest %q source %q", e.Digest, e.Source)
	}
}

// BenchmarkEval is one evaluation of the prepared audit query: what a record costs
// when no decision is reused.
func BenchmarkEval(b *testing.B) {
	ctx := context.Background()
	e, err := policy.Load(ctx, "")
	if err != nil {
		b.Fatal(err)
	}
	reg := &mpass.Registry{ServiceProviders: []mpass.ServiceProvider{{ID: "sp", Attributes: []string{"urn:mpass.id:uid"}, Valid: mpass.DateRange{From: "2020-01-01"}}}}
	p, err := e.Prepare(ctx, reg)
	if err != nil {
		b.Fatal(err)
	}
	rec := &mpass.Record{Kind: mpass.KindRelease, Time: time.Date(2026, 10, 5, 8, 0, 0, 0, time.UTC), SP: "sp", Controller: "1.2.246.562.10.44444444440",
		Attributes: map[string]mpass.AttributeFacts{"urn:mpass.id:uid": {Values: true}, "urn:mpass.id:classLevel": {Values: true, Grade: "7"}}}
	for b.Loop() {
		if _, err := p.Eval(ctx, policy.Input(rec, nil)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLoadBundle: the policies as an OPA bundle (.tar.gz) load as a directory does.
func TestLoadBundle(t *testing.T) {
	var b bundle.Bundle
	b.Data = map[string]any{}
	b.Manifest.Init()
	err := fs.WalkDir(builtin.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(builtin.FS, p)
		b.Modules = append(b.Modules, bundle.ModuleFile{Path: "/" + p, URL: "/" + p, Raw: raw})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "policies.tar.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := bundle.NewWriter(f).Write(b); err != nil {
		t.Fatal(err)
	}
	f.Close()
	e, err := policy.Load(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	builtinEngine, _ := policy.Load(context.Background(), "")
	if len(e.Terms()) != 4 || !e.DayDecisions() || e.Digest != builtinEngine.Digest {
		t.Errorf("bundle: %d terms, day decisions %v, digest %s (built-in %s)", len(e.Terms()), e.DayDecisions(), e.Digest, builtinEngine.Digest)
	}
	results, err := e.Test(context.Background())
	if err != nil || len(results) < 50 {
		t.Fatalf("bundle tests: %d results, %v", len(results), err)
	}
	if _, err := policy.Load(context.Background(), filepath.Join(t.TempDir(), "missing.tar.gz")); mpass.ErrorCode(err) != mpass.EINVALID {
		t.Errorf("a missing bundle: %v", err)
	}
}

// TestEveryTermSpeaksEveryLanguage: the built-in terms and rules carry their words in
// Finnish and Swedish (custom.l10n) and a recommended action in all three languages, so
// no English reaches a Finnish or Swedish report. Every Rego rule that yields a finding
// is checked, not only the first of an id: each has its own clause.
func TestEveryTermSpeaksEveryLanguage(t *testing.T) {
	e, err := policy.Load(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, term := range e.Terms() {
		for _, lang := range []string{"fi", "sv"} {
			if l := term.L10n[lang]; l.Title == "" || l.Description == "" || l.Title == term.Title {
				t.Errorf("term %s: no %s title or description: %+v", term.ID, lang, l)
			}
		}
		for _, r := range term.Rules {
			if r.WhatToDo == "" {
				t.Errorf("rule %s: no what_to_do", r.ID)
			}
			for _, lang := range []string{"fi", "sv"} {
				l := r.L10n[lang]
				if l.Title == "" || l.Clause == "" || l.WhatToDo == "" || len(l.References) != len(r.References) {
					t.Errorf("rule %s: incomplete %s l10n: %+v", r.ID, lang, l)
				}
				if l.Clause == r.Clause || l.WhatToDo == r.WhatToDo {
					t.Errorf("rule %s: %s l10n is the English text", r.ID, lang)
				}
			}
		}
	}
	// every METADATA block of a rule in the built-in terms, duplicates of an id included
	err = fs.WalkDir(builtin.FS, "terms", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".rego" {
			return err
		}
		b, err := fs.ReadFile(builtin.FS, p)
		if err != nil {
			return err
		}
		for i, block := range strings.Split(string(b), "# METADATA")[1:] {
			if !strings.Contains(block, "#   rule: ") {
				continue
			}
			for _, key := range []string{"#   what_to_do: ", "#     fi:", "#     sv:", "#       clause: ", "#       references: ", "#       what_to_do: "} {
				if !strings.Contains(block, key) {
					t.Errorf("%s: METADATA block %d has no %q", p, i+1, strings.TrimSpace(key))
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
