package http

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/i18n"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

//go:embed texts/*.json
var pageTextFS embed.FS

// pageCatalog is the pages' words in every language: the shared ones of internal/i18n
// (results, severities, changes, counted nouns) and the pages' own (texts/), which may
// not redefine a shared id, so one word is never translated twice. Built once at start,
// read only.
var pageCatalog = func() *i18n.Catalog {
	sub, err := fs.Sub(pageTextFS, "texts")
	if err != nil {
		panic(err)
	}
	return i18n.MustCatalog(sub)
}()

// pageWords are the catalogue's words of each language, looked up once: the plain
// ones as a map templates index by name (.T.title), the Words for counted ones.
var pageWords = func() map[string]words {
	out := map[string]words{}
	for _, l := range i18n.Langs {
		w, err := pageCatalog.Words(l)
		if err != nil {
			panic(err)
		}
		out[l] = words{Words: w, T: w.Plain()}
	}
	return out
}()

// words are one language's words on a page.
type words struct {
	*i18n.Words
	T map[string]string // plain messages by id
}

// wordsOf is the words of lang, Finnish for a language the pages do not have.
func wordsOf(lang string) words {
	if w, ok := pageWords[lang]; ok {
		return w
	}
	return pageWords["fi"]
}

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04")
	},
	// word is a shared word by prefix and key (severity_ high, result_ fail, change_
	// new); a key the catalogue lacks (a custom policy's severity) shows as itself.
	"word": func(t map[string]string, prefix, key string) string {
		if w, ok := t[prefix+key]; ok {
			return w
		}
		return key
	},
	// count is a counted noun in the page's language with its CLDR plural form
	// ("8 hylättyä", "1 varoitus", "3 underkända"), the number grouped by threes.
	"count": func(w words, id string, n int64) string { return w.N(id, n) },
	// breakable is an id (URL, URN, pseudonym) that may wrap only after its dots,
	// slashes, colons, underscores and hyphens: each piece escaped, a <wbr> between.
	"breakable": func(id string) template.HTML {
		var b strings.Builder
		start := 0
		for i, r := range id {
			if r == '.' || r == '/' || r == ':' || r == '_' || r == '-' {
				b.WriteString(template.HTMLEscapeString(id[start : i+1]))
				b.WriteString("<wbr>")
				start = i + 1
			}
		}
		b.WriteString(template.HTMLEscapeString(id[start:]))
		return template.HTML(b.String())
	},
	// num is a number grouped by threes, as the counted words write it.
	"num": func(n int64) string { return i18n.Thousands(n) },
	// judged reports whether a summary counts any record: a run that judged none
	// has no verdict (TERMS.md "No records, no verdict").
	"judged": func(s mpass.Summary) bool { return s.Pass+s.Fail+s.Warn+s.Skip+s.Error > 0 },
	// dict hands a sub-template more than one value: dict "T" .T "Groups" .Groups.
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			k, _ := kv[i].(string)
			m[k] = kv[i+1]
		}
		return m
	},
	"or": func(a, b string) string {
		if a != "" {
			return a
		}
		return b
	},
}).ParseFS(templateFS, "templates/*.html"))

// lang is the page language: ?lang= sets it (and a cookie), Finnish by default.
func lang(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); slices.Contains(i18n.Langs, l) {
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: l, Path: "/", SameSite: http.SameSiteStrictMode, MaxAge: 365 * 86400})
		return l
	}
	if c, err := r.Cookie("lang"); err == nil && slices.Contains(i18n.Langs, c.Value) {
		return c.Value
	}
	return "fi"
}

// langLink is the language switcher's link to the same page, its filters kept.
type langLink struct {
	Lang, Href string
	Current    bool
}

func langLinks(r *http.Request, current string) []langLink {
	out := make([]langLink, 0, len(i18n.Langs))
	for _, l := range i18n.Langs {
		q := r.URL.Query()
		q.Set("lang", l)
		out = append(out, langLink{Lang: l, Href: (&url.URL{Path: r.URL.Path, RawQuery: q.Encode()}).String(), Current: l == current})
	}
	return out
}
