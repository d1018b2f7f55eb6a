// Package i18n gives reports and pages their words in Finnish, Swedish and English.
// Messages are go-i18n message files (JSON, one per language); a count picks its plural
// form by the CLDR plural rules of the language (github.com/nicksnyder/go-i18n), so
// Finnish puts the noun after a number other than one in the partitive ("2 havaintoa")
// and Swedish in the plural ("2 iakttagelser").
//
// The words shared by reports and pages (results, severities, changes, verdicts,
// counted nouns) are in messages/; a report or the pages add their own files, which
// may not redefine a shared message. The words of terms and rules are not here: they
// are kept with the rules, in the policies' METADATA (mpass.Term.Text, mpass.Rule.Text).
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Langs are the languages of reports and pages, Finnish first.
var Langs = []string{"fi", "sv", "en"}

//go:embed messages/*.json
var shared embed.FS

// Catalog is the messages of every language.
type Catalog struct {
	bundle *goi18n.Bundle
	ids    map[string]map[string]*goi18n.Message // lang → id → message
}

// NewCatalog reads the shared messages and, for each fsys, its fi.json, sv.json and
// en.json. An error names the file: a malformed file, or an id that two files define.
func NewCatalog(fsys ...fs.FS) (*Catalog, error) {
	c := &Catalog{bundle: goi18n.NewBundle(language.English), ids: map[string]map[string]*goi18n.Message{}}
	c.bundle.RegisterUnmarshalFunc("json", json.Unmarshal)
	sharedSub, err := fs.Sub(shared, "messages")
	if err != nil {
		return nil, err
	}
	for _, f := range append([]fs.FS{sharedSub}, fsys...) {
		for _, lang := range Langs {
			b, err := fs.ReadFile(f, lang+".json")
			if err != nil {
				return nil, fmt.Errorf("i18n: %w", err)
			}
			mf, err := c.bundle.ParseMessageFileBytes(b, lang+".json")
			if err != nil {
				return nil, fmt.Errorf("i18n: %s.json: %w", lang, err)
			}
			if c.ids[lang] == nil {
				c.ids[lang] = map[string]*goi18n.Message{}
			}
			for _, m := range mf.Messages {
				if _, dup := c.ids[lang][m.ID]; dup {
					return nil, fmt.Errorf("i18n: %s.json: message %q defined twice", lang, m.ID)
				}
				c.ids[lang][m.ID] = m
			}
		}
	}
	return c, nil
}

// MustCatalog is NewCatalog for messages embedded in the binary, where an error is a
// bug found by the first test.
func MustCatalog(fsys ...fs.FS) *Catalog {
	c, err := NewCatalog(fsys...)
	if err != nil {
		panic(err)
	}
	return c
}

// IDs are the message ids of a language, sorted.
func (c *Catalog) IDs(lang string) []string {
	ids := make([]string, 0, len(c.ids[lang]))
	for id := range c.ids[lang] {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Words are one language's messages.
type Words struct {
	Lang string
	c    *Catalog
	loc  *goi18n.Localizer
}

// Words returns the words of lang (fi, sv or en); an error for another language.
func (c *Catalog) Words(lang string) (*Words, error) {
	if !slices.Contains(Langs, lang) {
		return nil, fmt.Errorf("language %q: one of %s", lang, strings.Join(Langs, ", "))
	}
	return &Words{Lang: lang, c: c, loc: goi18n.NewLocalizer(c.bundle, lang)}, nil
}

// Has reports whether the language has a message of that id.
func (w *Words) Has(id string) bool { _, ok := w.c.ids[w.Lang][id]; return ok }

// Get is a message; a missing one shows its id in brackets, so a gap is seen in review
// (and found by the tests), never hidden behind another language.
func (w *Words) Get(id string) string {
	if !w.Has(id) {
		return "[" + id + "]"
	}
	s, err := w.loc.Localize(&goi18n.LocalizeConfig{MessageID: id})
	if err != nil {
		return "[" + id + "]"
	}
	return s
}

// F is a message with fmt verbs filled in.
func (w *Words) F(id string, args ...any) string { return fmt.Sprintf(w.Get(id), args...) }

// N is a counted message: the plural form of n in this language, with {{.N}} the count
// written with thousands separated by spaces (as Finnish and Swedish write numbers;
// English reports do the same, so one table reads the same in every language).
func (w *Words) N(id string, n int64) string {
	if !w.Has(id) {
		return "[" + id + "]"
	}
	s, err := w.loc.Localize(&goi18n.LocalizeConfig{MessageID: id, PluralCount: n, TemplateData: map[string]string{"N": Thousands(n)}})
	if err != nil {
		return "[" + id + "]"
	}
	return s
}

// Results are counts of results in words, the non-zero ones in the order fail, error,
// warning, exception: "8 hylättyä, 2 varoitusta" ("" when all are zero).
func (w *Words) Results(fail, errs, warn, skip int64) string {
	var parts []string
	for _, p := range []struct {
		n  int64
		id string
	}{{fail, "n_fail"}, {errs, "n_error"}, {warn, "n_warn"}, {skip, "n_skip"}} {
		if p.n > 0 {
			parts = append(parts, w.N(p.id, p.n))
		}
	}
	return strings.Join(parts, ", ")
}

// Plain are the language's messages without plural forms, by id: what page templates
// look up by name.
func (w *Words) Plain() map[string]string {
	out := map[string]string{}
	for id, m := range w.c.ids[w.Lang] {
		if m.One == "" && m.Other != "" && !strings.Contains(m.Other, "{{") {
			out[id] = m.Other
		}
	}
	return out
}

// Thousands writes n with its digits grouped by threes, separated by spaces. (Not a
// no-break space: the PDF fonts share its glyph with the space, and fpdf then subsets
// the font in map order, which would make a report's bytes differ between runs.)
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}
