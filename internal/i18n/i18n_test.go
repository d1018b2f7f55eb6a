package i18n_test

import (
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/i18n"
)

// TestPluralForms: CLDR plural rules pick the form — Finnish partitive and Swedish
// plural after every number but one (0 and 21 included), thousands grouped.
func TestPluralForms(t *testing.T) {
	c := i18n.MustCatalog()
	tests := []struct {
		lang, id string
		n        int64
		want     string
	}{
		{"fi", "n_findings", 1, "1 havainto"},
		{"fi", "n_findings", 2, "2 havaintoa"},
		{"fi", "n_findings", 0, "0 havaintoa"},
		{"fi", "n_findings", 21, "21 havaintoa"},
		{"fi", "n_fail", 8, "8 hylättyä"},
		{"fi", "n_warn", 2, "2 varoitusta"},
		{"fi", "n_warn", 1, "1 varoitus"},
		{"fi", "n_new", 3, "3 uutta"},
		{"fi", "n_releases", 1234567, "1 234 567 luovutusta"},
		{"sv", "n_fail", 3, "3 underkända"},
		{"sv", "n_fail", 1, "1 underkänd"},
		{"sv", "n_findings", 2, "2 iakttagelser"},
		{"sv", "n_warn", 0, "0 varningar"},
		{"sv", "n_skip", 2, "2 undantag"},
		{"en", "n_findings", 1, "1 finding"},
		{"en", "n_findings", 1000, "1 000 findings"},
		{"en", "n_warn", 2, "2 warnings"},
	}
	for _, tt := range tests {
		w, err := c.Words(tt.lang)
		if err != nil {
			t.Fatal(err)
		}
		if got := w.N(tt.id, tt.n); got != tt.want {
			t.Errorf("%s %s(%d) = %q, want %q", tt.lang, tt.id, tt.n, got, tt.want)
		}
	}
}

// TestEveryLanguageHasEveryMessage: fi and sv hold exactly the ids of en, so nothing
// falls back to English or shows as [id].
func TestEveryLanguageHasEveryMessage(t *testing.T) {
	c := i18n.MustCatalog()
	en := c.IDs("en")
	for _, lang := range []string{"fi", "sv"} {
		got := c.IDs(lang)
		have := map[string]bool{}
		for _, id := range got {
			have[id] = true
		}
		for _, id := range en {
			if !have[id] {
				t.Errorf("%s: no message %q", lang, id)
			}
		}
		if len(got) != len(en) {
			t.Errorf("%s has %d messages, en %d", lang, len(got), len(en))
		}
	}
}

func TestMissingMessageShowsItself(t *testing.T) {
	w, err := i18n.MustCatalog().Words("sv")
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Get("no-such-message"); got != "[no-such-message]" {
		t.Errorf("Get = %q", got)
	}
	if _, err := i18n.MustCatalog().Words("de"); err == nil {
		t.Error("de accepted")
	}
}
