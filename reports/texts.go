package reports

import (
	"embed"
	"io/fs"

	"github.com/opetushallitus/mpass-audit/internal/i18n"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

//go:embed texts/*.json
var textFS embed.FS

// Langs are the languages of the reports, Finnish first.
var Langs = i18n.Langs

// catalog is the report's words and the shared ones; built once, read only.
var catalog = func() *i18n.Catalog {
	sub, err := fs.Sub(textFS, "texts")
	if err != nil {
		panic(err)
	}
	return i18n.MustCatalog(sub)
}()

// Texts are the words of one language: the report's own (texts/), the shared ones
// (internal/i18n) and, for terms and rules, the policies' METADATA.
type Texts struct {
	*i18n.Words
}

// LoadTexts returns the texts of a language.
func LoadTexts(lang string) (*Texts, error) {
	w, err := catalog.Words(lang)
	if err != nil {
		return nil, mpass.Errorf(mpass.EINVALID, "%v", err)
	}
	return &Texts{w}, nil
}

// Term is a term's name in this language.
func (t *Texts) Term(term mpass.Term) string { return term.Text(t.Lang).Title }

// TermDescription is what a term means in this language.
func (t *Texts) TermDescription(term mpass.Term) string { return term.Text(t.Lang).Description }

// Rule is a rule's title in this language.
func (t *Texts) Rule(r mpass.Rule) string { return r.Text(t.Lang).Title }

// Severity is a severity word.
func (t *Texts) Severity(s string) string { return t.Get("severity_" + s) }

// Result is a result word.
func (t *Texts) Result(s string) string { return t.Get("result_" + s) }
