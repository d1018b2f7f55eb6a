package reports

import (
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

//go:embed texts/*.json
var textFS embed.FS

// Langs are the languages of the reports, Finnish first.
var Langs = []string{"fi", "sv", "en"}

// Texts are the words of one language.
type Texts struct {
	words            map[string]string
	Terms            map[string]string `json:"terms"`
	TermDescriptions map[string]string `json:"term_descriptions"`
	Rules            map[string]string `json:"rules"`
}

// LoadTexts returns the texts of a language.
func LoadTexts(lang string) (*Texts, error) {
	if !slices.Contains(Langs, lang) {
		return nil, mpass.Errorf(mpass.EINVALID, "language %q: one of %s", lang, strings.Join(Langs, ", "))
	}
	b, err := textFS.ReadFile("texts/" + lang + ".json")
	if err != nil {
		return nil, err
	}
	t := &Texts{}
	if err := json.Unmarshal(b, t); err != nil {
		return nil, fmt.Errorf("texts/%s.json: %w", lang, err)
	}
	var all map[string]any
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	t.words = map[string]string{}
	for k, v := range all {
		if s, ok := v.(string); ok {
			t.words[k] = s
		}
	}
	return t, nil
}

// Get returns a word; a missing key shows itself, so a gap is seen in review, not hidden.
func (t *Texts) Get(key string) string {
	if s, ok := t.words[key]; ok {
		return s
	}
	return "[" + key + "]"
}

// F formats a word with arguments.
func (t *Texts) F(key string, args ...any) string { return fmt.Sprintf(t.Get(key), args...) }

// Term is a term's name in this language, else the policy's title.
func (t *Texts) Term(term mpass.Term) string {
	if s := t.Terms[term.ID]; s != "" {
		return s
	}
	return term.Title
}

// TermDescription is what a term means in this language, else the policy's description.
func (t *Texts) TermDescription(term mpass.Term) string {
	if s := t.TermDescriptions[term.ID]; s != "" {
		return s
	}
	return term.Description
}

// Rule is a rule's title in this language, else the policy's title.
func (t *Texts) Rule(r mpass.Rule) string {
	if s := t.Rules[r.ID]; s != "" {
		return s
	}
	return r.Title
}

// Severity is a severity word.
func (t *Texts) Severity(s string) string { return t.Get("severity_" + s) }

// Result is a result word.
func (t *Texts) Result(s string) string { return t.Get("result_" + s) }
