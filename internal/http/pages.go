package http

import (
	"bytes"
	"cmp"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

//go:embed texts/*.json
var pageTextFS embed.FS

var langs = []string{"fi", "sv", "en"}

// pageTexts are the words of the pages per language, from texts/*.json.
var pageTexts = func() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, l := range langs {
		b, err := pageTextFS.ReadFile("texts/" + l + ".json")
		if err != nil {
			panic(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			panic(fmt.Sprintf("texts/%s.json: %v", l, err))
		}
		out[l] = m
	}
	return out
}()

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04")
	},
	// word looks a key up in the page texts, showing the key itself where there is none
	"word": func(t map[string]string, prefix, key string) string {
		if w, ok := t[prefix+key]; ok {
			return w
		}
		return key
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
	if l := r.URL.Query().Get("lang"); slices.Contains(langs, l) {
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: l, Path: "/", SameSite: http.SameSiteStrictMode, MaxAge: 365 * 86400})
		return l
	}
	if c, err := r.Cookie("lang"); err == nil && slices.Contains(langs, c.Value) {
		return c.Value
	}
	return "fi"
}

// render executes a page template with the common data: texts, language, the caller
// and the CSRF token of its session.
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data map[string]any) {
	l := lang(w, r)
	data["T"] = pageTexts[l]
	data["Lang"] = l
	data["Langs"] = langs
	data["Path"] = r.URL.Path
	if sess := sessionFrom(r.Context()); sess != nil {
		data["Session"] = sess
		data["Auditor"] = sess.Token.Role == mpass.RoleAuditor
	}
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, data); err != nil {
		s.Logger.Error("render", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

func (s *Server) handleAsset(w http.ResponseWriter, r *http.Request) {
	sub, _ := fs.Sub(assetFS, "assets")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.StripPrefix("/assets/", http.FileServerFS(sub)).ServeHTTP(w, r)
}

// controllerView is a controller on the home page, with the services it allows (a
// DPO's own controllers only: an auditor's page would list every controller's).
type controllerView struct {
	OID, Name string
	Checked   bool          // its allowed services were imported
	Allowed   []allowedView // when Checked and shown
	Show      bool
}

// allowedView is one service a controller allows, since when and until when.
type allowedView struct {
	SP, Name, Set string
	Since, Until  time.Time
}

// allowedServices are a controller's permissions, newest first.
func allowedServices(reg *mpass.Registry, oid string) []allowedView {
	names := map[string]string{}
	for _, sp := range reg.ServiceProviders {
		names[sp.ID] = sp.Name
	}
	var out []allowedView
	for _, p := range reg.Permissions {
		if p.Controller != oid {
			continue
		}
		v := allowedView{SP: p.SP, Name: cmp.Or(names[p.SP], p.SP)}
		if p.From.Unix() > 0 { // the epoch: since before any record (no time in the export)
			v.Since = p.From
		}
		if p.Set != "" {
			v.Set = reg.SetName(p.Set)
		}
		if p.To != nil {
			v.Until = *p.To
		}
		out = append(out, v)
	}
	slices.SortStableFunc(out, func(a, b allowedView) int { return cmp.Or(b.Since.Compare(a.Since), strings.Compare(a.Name, b.Name)) })
	return out
}

// handleHome lists the caller's controllers, the runs it may see, and the forms to
// download a report and (auditors) start an audit.
func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	t, err := reader(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	ctx := r.Context()
	var controllers []controllerView
	reg, err := s.DB.LatestRegistry(ctx)
	if err != nil && mpass.ErrorCode(err) != mpass.ENOTFOUND {
		s.error(w, r, err)
		return
	}
	l := lang(w, r)
	if reg != nil {
		for _, c := range reg.Controllers {
			if t.Sees(c.OID) {
				v := controllerView{OID: c.OID, Name: mpass.LocalName(c.Names, l, c.Name), Checked: c.PermissionData, Show: t.Role == mpass.RoleDPO}
				if v.Show && v.Checked {
					v.Allowed = allowedServices(reg, c.OID)
				}
				controllers = append(controllers, v)
			}
		}
	}
	if t.Role == mpass.RoleDPO { // its controllers even where the registry lacks them
		for _, oid := range t.Controllers {
			if !slices.ContainsFunc(controllers, func(c controllerView) bool { return c.OID == oid }) {
				controllers = append(controllers, controllerView{OID: oid, Name: oid, Show: true})
			}
		}
	}
	runs, err := s.visibleRuns(ctx, t)
	if err != nil {
		s.error(w, r, err)
		return
	}
	prev := time.Now().UTC().AddDate(0, -1, 0).Format("2006-01")
	s.render(w, r, "home.html", map[string]any{"Controllers": controllers, "Runs": runs, "Period": prev,
		"Started": r.URL.Query().Get("started")})
}

// handleReportForm turns the report form's query into the report's address.
func (s *Server) handleReportForm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	u := "/api/v1/reports/" + url.PathEscape(q.Get("controller")) + "/" + url.PathEscape(q.Get("period")) + ".pdf?lang=" + url.QueryEscape(q.Get("report_lang"))
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// handleStartRunForm starts an audit from the page (auditors).
func (s *Server) handleStartRunForm(w http.ResponseWriter, r *http.Request) {
	scope := mpass.Scope{Controller: r.PostFormValue("controller"), From: r.PostFormValue("from"), To: r.PostFormValue("to")}
	run, err := s.startRun(r.Context(), caller(r), scope)
	if err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, "/?started="+strconv.FormatInt(run.ID, 10), http.StatusSeeOther)
}

const pageSize = 200

// handleRunPage shows a run's findings by term and SP, with filters, limited to the
// caller's controllers.
func (s *Server) handleRunPage(w http.ResponseWriter, r *http.Request) {
	t, view, err := s.runView(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	ctx, id := r.Context(), view.Run.ID
	counts, err := s.DB.FindingCounts(ctx, id, t.Scope())
	if err != nil {
		s.error(w, r, err)
		return
	}
	q := r.URL.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 0)
	filter := mpass.FindingFilter{RunID: id, Controllers: t.Scope(), Term: q.Get("term"), SP: q.Get("sp"), Result: q.Get("result"),
		Offset: page * pageSize, Limit: pageSize + 1}
	var findings []mpass.Finding
	if err := s.DB.Findings(ctx, filter, func(f *mpass.Finding) error { findings = append(findings, *f); return nil }); err != nil {
		s.error(w, r, err)
		return
	}
	more := len(findings) > pageSize
	if more {
		findings = findings[:pageSize]
	}
	type group struct {
		Term, SP string
		mpass.Summary
	}
	var groups []group
	var terms, sps []string
	for _, c := range counts {
		if len(groups) == 0 || groups[len(groups)-1].Term != c.Term || groups[len(groups)-1].SP != c.SP {
			groups = append(groups, group{Term: c.Term, SP: c.SP})
		}
		groups[len(groups)-1].Add(c.Result, c.N)
		if !slices.Contains(terms, c.Term) {
			terms = append(terms, c.Term)
		}
		if !slices.Contains(sps, c.SP) {
			sps = append(sps, c.SP)
		}
	}
	slices.Sort(sps)
	next := ""
	if more {
		v := url.Values{"term": {filter.Term}, "sp": {filter.SP}, "result": {filter.Result}, "page": {strconv.Itoa(page + 1)}}
		next = "?" + v.Encode()
	}
	s.render(w, r, "run.html", map[string]any{"Run": view.Run, "Summary": view.Summary, "Groups": groups, "Findings": findings,
		"Terms": terms, "SPs": sps, "Results": []string{mpass.ResultFail, mpass.ResultWarn, mpass.ResultSkip, mpass.ResultError},
		"Filter": filter, "Next": next, "Page": page})
}
