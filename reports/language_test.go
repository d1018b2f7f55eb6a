package reports_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/testenv"
	"github.com/opetushallitus/mpass-audit/reports"
)

// englishFragments are the English texts a Finnish or Swedish report must not show:
// every plain message of the report's catalogue (split at its fmt verbs) and every
// term's and rule's English words, less those the language writes the same.
func englishFragments(t *testing.T, lang string) []string {
	t.Helper()
	en, err := reports.LoadTexts("en")
	if err != nil {
		t.Fatal(err)
	}
	local, err := reports.LoadTexts(lang)
	if err != nil {
		t.Fatal(err)
	}
	verb := regexp.MustCompile(`%[0-9.]*[a-z]`)
	var out []string
	add := func(english, localized string) {
		for _, f := range verb.Split(english, -1) {
			f = strings.Trim(strings.Join(strings.Fields(f), " "), " .,:;()–-")
			// short fragments ("OID", "UTC") are names, the same in every language
			if len(f) < 12 || strings.Contains(localized, f) {
				continue
			}
			out = append(out, f)
		}
	}
	localPlain := local.Plain()
	for id, s := range en.Plain() {
		if id != "lang" {
			add(s, localPlain[id])
		}
	}
	for _, term := range testenv.MustEngine(t).Terms() {
		tt := term.Text(lang)
		add(term.Title, tt.Title)
		add(term.Description, tt.Description)
		for _, r := range term.Rules {
			rt := r.Text(lang)
			add(r.Title, rt.Title)
			add(r.Clause, rt.Clause)
			add(r.WhatToDo, rt.WhatToDo)
			for i, ref := range r.References {
				add(ref, rt.References[i])
			}
		}
	}
	return out
}

// TestNoEnglishInFinnishOrSwedish renders the demo's report in Finnish and Swedish and
// finds none of the English texts of the catalogue or the policies in them.
func TestNoEnglishInFinnishOrSwedish(t *testing.T) {
	pdftotext := tool(t, "pdftotext")
	a, run := demo(t)
	for _, lang := range []string{"fi", "sv"} {
		path := filepath.Join(t.TempDir(), lang+".pdf")
		if err := os.WriteFile(path, render(t, a, run, city, lang), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(pdftotext, path, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(strings.Fields(string(bytes.ReplaceAll(out, []byte("\u00a0"), []byte(" ")))), " ")
		fragments := englishFragments(t, lang)
		if len(fragments) < 50 {
			t.Fatalf("%s: only %d English fragments to look for", lang, len(fragments))
		}
		for _, f := range fragments {
			if strings.Contains(text, f) {
				t.Errorf("%s report shows English: %q", lang, f)
			}
		}
	}
}
