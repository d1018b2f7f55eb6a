package reports

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

func TestPrintable(t *testing.T) {
	long := strings.Repeat("a", 200)
	sum := sha256.Sum256([]byte(long))
	for _, tc := range []struct {
		name, in string
		limit    int
		want     string
	}{
		{"ascii stays", "https://sp.example/saml", maxID, "https://sp.example/saml"},
		{"Finnish, Swedish and Sámi letters stay", "Äänekoski Åbo Soađegili Čeavetjávrri", maxID, "Äänekoski Åbo Soađegili Čeavetjávrri"},
		{"dashes and ellipsis stay", "a – b — c … d", maxID, "a – b — c … d"},
		{"emoji", "r-\U0001F600", maxID, "r-\uFFFD"},
		{"outside the BMP", "\U00020000x", maxID, "\uFFFDx"},
		{"invalid UTF-8", "a\xffb\xc3", maxID, "a\uFFFDb\uFFFD"},
		{"a literal U+FFFD stays", "a\uFFFDb", maxID, "a\uFFFDb"},
		{"control characters", "a\x07b\x00c\x1bd\u0085", maxID, "a\uFFFDb\uFFFDc\uFFFDd\uFFFD"},
		{"newline in an id", "r-1\nr-2", maxID, "r-1\uFFFDr-2"},
		{"newline and tab in prose become spaces", "one\ntwo\tthree\r\n", maxText, "one two three  "},
		{"bell in prose", "a\x07b", maxText, "a\uFFFDb"},
		{"right-to-left override", "Palvelu \u202Egnp.exe", maxName, "Palvelu \uFFFDgnp.exe"},
		{"every bidi control", "\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\u200E\u200F\u061C", maxID, strings.Repeat("\uFFFD", 12)},
		{"zero-width joiner and BOM", "a\u200Db\uFEFF", maxID, "a\uFFFDb\uFFFD"},
		{"line and paragraph separators", "a\u2028b\u2029", maxID, "a\uFFFDb\uFFFD"},
		{"private use", "a\uE000", maxID, "a\uFFFD"},
		{"unassigned", "a\u0378", maxID, "a\uFFFD"},
		{"BMP rune without a glyph (CJK)", "a\u4E2D", maxID, "a\uFFFD"},
		{"at the limit", long[:maxID], maxID, long[:maxID]},
		{"over the limit", long, maxID, long[:maxID-1-digestN] + "…" + hex.EncodeToString(sum[:])[:digestN]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := printable(tc.in, tc.limit)
			if got != tc.want {
				t.Errorf("printable(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if again := printable(got, tc.limit); again != got {
				t.Errorf("not idempotent: %q → %q", got, again)
			}
			if n := utf8.RuneCountInString(got); n > tc.limit {
				t.Errorf("%d runes over the limit %d", n, tc.limit)
			}
		})
	}
}

// Two long ids with the same head stay distinguishable, and the cut is the limit long
// whatever runes the head holds.
func TestPrintableLongIDsDistinct(t *testing.T) {
	head := strings.Repeat("\U0001F600ä", 100)
	a, b := printable(head+"1", maxID), printable(head+"2", maxID)
	if a == b {
		t.Errorf("both %q", a)
	}
	if n := utf8.RuneCountInString(a); n != maxID {
		t.Errorf("%d runes", n)
	}
	if !strings.Contains(a, "…") || strings.ContainsRune(a, '\U0001F600') {
		t.Errorf("%q", a)
	}
}

// The fonts' table: what the report writes itself must be drawable, and a lookup of
// any rune is answered from the table (no font access after the first).
func TestGlyphTable(t *testing.T) {
	for _, r := range "…–—·→\uFFFDÅäöđŋŧžčš" {
		if !hasGlyph(r) {
			t.Errorf("no glyph for %q", r)
		}
	}
	for _, r := range []rune{-1, 0x10000, 0x10FFFF, '\u4E2D'} {
		if hasGlyph(r) {
			t.Errorf("glyph for %U", r)
		}
	}
}

// printableAll reaches the strings of every nested value with its field's limit.
func TestPrintableAll(t *testing.T) {
	long := strings.Repeat("x", 1000)
	d := &Data{
		Controller: mpass.Controller{OID: long, Name: long, Names: map[string]string{"fi": "a\U0001F600"}},
		Groups:     []FindingGroup{{SP: long, Records: []string{"r\x07"}}},
		Exceptions: []mpass.Exception{{Reason: long + "\n"}},
		RunScope:   &mpass.Scope{Controller: "c\u202E"},
	}
	if err := printableAll(context.Background(), reflect.ValueOf(d), maxID); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		got   string
		limit int
	}{{d.Controller.OID, maxID}, {d.Controller.Name, maxName}, {d.Groups[0].SP, maxID}, {d.Exceptions[0].Reason, maxText}} {
		if n := utf8.RuneCountInString(c.got); n != c.limit {
			t.Errorf("%.20q…: %d runes, want %d", c.got, n, c.limit)
		}
	}
	if d.Controller.Names["fi"] != "a\uFFFD" || d.Groups[0].Records[0] != "r\uFFFD" || d.RunScope.Controller != "c\uFFFD" {
		t.Errorf("not made printable: %q %q %q", d.Controller.Names["fi"], d.Groups[0].Records[0], d.RunScope.Controller)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := printableAll(ctx, reflect.ValueOf(d), maxID); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// A panic or error of the PDF library fails the one report with EINTERNAL naming the
// controller and period; the panic's text is for the log only.
func TestDrawnRecovers(t *testing.T) {
	d := &Data{Controller: mpass.Controller{OID: "1.2.246.562.10.44444444440"}, From: "2026-10-01", To: "2026-10-31"}
	for name, draw := range map[string]func() error{
		"panic": func() error { panic("fpdf: index out of range") },
		"error": func() error { return errors.New("fpdf: font") },
	} {
		err := Drawn(d, "fi", draw)
		if mpass.ErrorCode(err) != mpass.EINTERNAL {
			t.Fatalf("%s: %v", name, err)
		}
		msg := mpass.ErrorMessage(err)
		if !strings.Contains(msg, d.Controller.OID) || !strings.Contains(msg, "2026-10-01..2026-10-31") || strings.Contains(msg, "fpdf") {
			t.Errorf("%s: message %q", name, msg)
		}
		if !strings.Contains(err.Error(), "fpdf") {
			t.Errorf("%s: the cause is lost: %v", name, err)
		}
	}
	if err := Drawn(d, "fi", func() error { return nil }); err != nil {
		t.Error(err)
	}
}

// TestPolicyWordsPassUnchanged: the built-in terms' and rules' own words, in every
// language, are within the limits and drawable, so printableAll leaves them whole (a cut
// recommended action would tell a DPO half of what to do).
func TestPolicyWordsPassUnchanged(t *testing.T) {
	terms := testenv.MustEngine(t).Terms()
	d := &Data{Terms: make([]TermSummary, len(terms))}
	for i, term := range terms {
		d.Terms[i].Term = term
	}
	before, _ := json.Marshal(d.Terms)
	if err := printableAll(context.Background(), reflect.ValueOf(d), maxID); err != nil {
		t.Fatal(err)
	}
	if after, _ := json.Marshal(d.Terms); string(after) != string(before) {
		t.Errorf("printableAll changed the policies' words (%d bytes before, %d after)", len(before), len(after))
	}
}

// TestNumbersStayWhole: a line is never broken inside a number written with its
// thousands apart ("3 350 varoitusta" read as "3" and "350 varoitusta").
func TestNumbersStayWhole(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"118 hylättyä, 3 350 varoitusta", []string{"118", "hylättyä,", "3 350", "varoitusta"}},
		{"mpassClassLevel (4 855)", []string{"mpassClassLevel", "(4 855)"}},
		{"1 234 567 luovutusta", []string{"1 234 567", "luovutusta"}},
		{"12 3456 x", []string{"12", "3456", "x"}},
		{"  a  b ", []string{"a", "b"}},
	} {
		if got := words(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("words(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
