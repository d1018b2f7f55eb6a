package mpass_test

import (
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"https://sp.example.com/saml": "https://sp.example.com/saml",
		`C:\logs\ääkköset.csv`:        `C:\logs\ääkköset.csv`,
		"\x1b[31mred\x1b[0m":          `\x1b[31mred\x1b[0m`,
		"a\nb\rc\td":                  `a\nb\rc\td`,
		"sp\u202etxt.exe":             `sp\u202etxt.exe`,
		"bad\xffbyte":                 `bad\xffbyte`,
		"\x00\x7f\u0085":              `\x00\x7f\u0085`,
		"line\u2028sep":               `line\u2028sep`,
		"":                            "",
	} {
		if got := mpass.Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRejectionErrorEscapes(t *testing.T) {
	r := mpass.Rejection{Source: "evil\x1b]0;pwned\a.jsonl", Line: 3, Field: "sp\n", Reason: "bad\r\x1b[2K"}
	want := `evil\x1b]0;pwned\a.jsonl:3: sp\n: bad\r\x1b[2K`
	if got := r.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
