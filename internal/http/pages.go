package http

import (
	"bytes"
	"cmp"
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"github.com/opetushallitus/mpass-audit/internal/audit"
	"github.com/opetushallitus/mpass-audit/internal/i18n"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// render executes a page template with status 200.
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data map[string]any) {
	s.renderStatus(w, r, http.StatusOK, name, data)
}

// renderStatus executes a page template with the common data — the words of the
// page's language, the language links, the caller and the CSRF token of its session —
// and answers it with status. The page is built whole first, so a template error is a
// clean 500, never half a page.
func (s *Server) renderStatus(w http.ResponseWriter, r *http.Request, status int, name string, data map[string]any) {
	l := lang(w, r)
	words := wordsOf(l)
	data["W"] = words
	data["T"] = words.T
	data["Lang"] = l
	data["LangLinks"] = langLinks(r, l)
	if sess := sessionFrom(r.Context()); sess != nil {
		data["Session"] = sess
		data["Auditor"] = sess.Token.Role == mpass.RoleAuditor
	} else if t := mpass.TokenFromContext(r.Context()); t != nil {
		data["Auditor"] = t.Role == mpass.RoleAuditor
	}
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, data); err != nil {
		s.Logger.Error("render", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
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

// controllersPerPage keeps an auditor's home short with hundreds of controllers: the
// search narrows the list, and what is left is paged.
const controllersPerPage = 20

// handleHome lists the caller's controllers, the runs it may see, and the forms to
// download a report and (auditors) start an audit. An auditor's page puts the actions
// first and makes the controllers searchable (?q= matches a name or an OID); a DPO's
// lists its few controllers with the services each allows.
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
	names := map[string]string{"": wordsOf(l).T["all"]} // a run's scope by the controller's name
	for _, c := range controllers {
		names[c.OID] = c.Name
	}
	data := map[string]any{"Controllers": controllers, "AllControllers": controllers, "Runs": runs, "Names": names,
		"Period": time.Now().UTC().AddDate(0, -1, 0).Format("2006-01"), "Started": r.URL.Query().Get("started")}
	if t.Role == mpass.RoleAuditor {
		coll := collate.New(language.Make(l), collate.IgnoreCase)
		slices.SortStableFunc(controllers, func(a, b controllerView) int { return coll.CompareString(a.Name, b.Name) })
		q := strings.TrimSpace(r.URL.Query().Get("q"))
		found := matchControllers(controllers, q)
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		p := newPager(wordsOf(l).T, len(found), page, controllersPerPage, func(page int) string {
			v := url.Values{"page": {strconv.Itoa(page)}}
			if q != "" {
				v.Set("q", q)
			}
			return "?" + v.Encode() + "#controllers"
		})
		data["Controllers"], data["Query"], data["Pager"] = found[p.From:p.To], q, p
	}
	s.render(w, r, "home.html", data)
}

// matchControllers are the controllers whose name or OID holds q, ignoring case.
func matchControllers(cs []controllerView, q string) []controllerView {
	if q == "" {
		return cs
	}
	q = strings.ToLower(q)
	var out []controllerView
	for _, c := range cs {
		if strings.Contains(strings.ToLower(c.Name), q) || strings.Contains(c.OID, q) {
			out = append(out, c)
		}
	}
	return out
}

// pager is one page of n rows: rows First..To (From rows before it), page Page of
// Pages (both from 1), the links to the pages before and after ("" where there is
// none), and the words it is told in.
type pager struct {
	Page, Pages, From, To, N int
	First, Last, Total       int64 // the same as numbers to write
	Prev, Next               string
	T                        map[string]string
}

// newPager is page (from 1; anything less is the first, anything more the last) of n
// rows, size a page, in the words of t.
func newPager(t map[string]string, n, page, size int, link func(page int) string) pager {
	pages := max(1, (n+size-1)/size)
	page = min(max(page, 1), pages)
	p := pager{Page: page, Pages: pages, N: n, From: (page - 1) * size, To: min(page*size, n), T: t}
	p.First, p.Last, p.Total = int64(p.From+1), int64(p.To), int64(n)
	if page > 1 {
		p.Prev = link(page - 1)
	}
	if page < pages {
		p.Next = link(page + 1)
	}
	return p
}

// handleReportForm answers the report form: the PDF, or an error page in the reader's
// language that says what is wrong with the form and leads back to it. (It used to
// redirect to the API, whose errors are English JSON for scripts.)
func (s *Server) handleReportForm(w http.ResponseWriter, r *http.Request) {
	t, err := reader(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	q := r.URL.Query()
	controller, period := strings.TrimSpace(q.Get("controller")), strings.TrimSpace(q.Get("period"))
	reportLang := q.Get("report_lang")
	if !slices.Contains(i18n.Langs, reportLang) {
		reportLang = lang(w, r)
	}
	tx := wordsOf(lang(w, r)).T
	back := &backLink{Href: "/#report", Text: tx["back_to_form"]}
	if err := mpass.CheckControllerOID(controller); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, fmt.Sprintf(tx["bad_controller"], controller), back)
		return
	}
	if _, _, err := audit.ParsePeriod(period); err != nil {
		msg := fmt.Sprintf(tx["bad_period"], period)
		if wellFormedRange(period) { // then only its length is wrong: say so
			msg = fmt.Sprintf(tx["period_too_long"], period, mpass.MaxPeriodMonths)
		}
		s.errorPage(w, r, http.StatusBadRequest, msg, back)
		return
	}
	if !t.Sees(controller) { // as for a controller that does not exist
		s.errorPage(w, r, http.StatusNotFound, tx["no_report"], back)
		return
	}
	pdf, err := s.report(r.Context(), controller, period, reportLang)
	if mpass.ErrorCode(err) == mpass.ENOTFOUND {
		s.errorPage(w, r, http.StatusNotFound, tx["no_report"], back)
		return
	} else if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="mpass-audit-%s-%s-%s.pdf"`, controller, period, reportLang))
	w.Write(pdf)
}

// wellFormedRange reports whether p is FROM..TO of two dates, FROM not after TO.
func wellFormedRange(p string) bool {
	a, b, ok := strings.Cut(p, "..")
	fa, errA := time.Parse(time.DateOnly, a)
	fb, errB := time.Parse(time.DateOnly, b)
	return ok && errA == nil && errB == nil && !fb.Before(fa)
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
