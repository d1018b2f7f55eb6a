package http

import (
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/output"
)

// findingsPerPage is how many findings the run page lists at once.
const findingsPerPage = 100

// unknownController is the controller filter's value for the findings whose controller
// could not be found (a use whose subject had no release to that SP): auditors see
// them as a group of their own, DPOs never.
const unknownController = "unknown"

// findingResults are the results a finding can have (passes are only counted).
var findingResults = []string{mpass.ResultFail, mpass.ResultWarn, mpass.ResultSkip, mpass.ResultError}

// findingQuery is the run page's filters, read the same way by the page and its CSV.
type findingQuery struct {
	Severity, Term, SP, Result string
	Controller                 string // "" or unknownController (auditors only)
	Page                       int    // from 1
}

// parseFindingQuery reads the filters; a value that is none of the known ones is
// ignored rather than an error, as a hand-edited address should still show the run.
func parseFindingQuery(r *http.Request, t *mpass.Token) findingQuery {
	q := r.URL.Query()
	f := findingQuery{Term: q.Get("term"), SP: q.Get("sp")}
	if v := q.Get("severity"); slices.Contains(mpass.Severities, v) {
		f.Severity = v
	}
	if v := q.Get("result"); slices.Contains(findingResults, v) {
		f.Result = v
	}
	if t.Role == mpass.RoleAuditor && q.Get("controller") == unknownController {
		f.Controller = unknownController
	}
	f.Page, _ = strconv.Atoi(q.Get("page"))
	f.Page = max(f.Page, 1)
	return f
}

// scope is the controllers the findings are limited to: the caller's, or, for an
// auditor who asks for them, the findings without a controller.
func (f findingQuery) scope(t *mpass.Token) []string {
	if f.Controller == unknownController && t.Role == mpass.RoleAuditor {
		return []string{""}
	}
	return t.Scope()
}

// filter selects the findings of the query, most severe first.
func (f findingQuery) filter(runID int64, t *mpass.Token) mpass.FindingFilter {
	return mpass.FindingFilter{RunID: runID, Controllers: f.scope(t), Term: f.Term, SP: f.SP, Result: f.Result,
		Severity: f.Severity, BySeverity: true}
}

// values are the query's filters as URL values (page when above 1).
func (f findingQuery) values(page int) url.Values {
	v := url.Values{}
	for k, x := range map[string]string{"severity": f.Severity, "term": f.Term, "sp": f.SP, "result": f.Result, "controller": f.Controller} {
		if x != "" {
			v.Set(k, x)
		}
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return v
}

// any reports whether a filter is set.
func (f findingQuery) any() bool { return len(f.values(1)) > 0 }

// localizer names what a page shows in the reader's language: terms and rules by
// their METADATA's words, SPs and controllers by the registry the run judged with,
// attributes by their friendly names.
type localizer struct {
	words
	terms    []mpass.Term
	friendly map[string]string
	reg      *mpass.Registry // nil when there is none
}

func (s *Server) localizer(ctx context.Context, lang string, registryVersion int) (*localizer, error) {
	lz := &localizer{words: wordsOf(lang), terms: s.Auditor.Engine.Terms()}
	var err error
	if lz.friendly, err = s.Auditor.Engine.FriendlyNames(ctx); err != nil {
		return nil, fmt.Errorf("friendly names: %w", err)
	}
	if lz.reg, err = s.DB.FindRegistry(ctx, registryVersion); mpass.ErrorCode(err) == mpass.ENOTFOUND {
		lz.reg, err = s.DB.LatestRegistry(ctx)
	}
	if mpass.ErrorCode(err) == mpass.ENOTFOUND {
		lz.reg, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registry %d: %w", registryVersion, err)
	}
	return lz, nil
}

func (lz *localizer) term(id string) (mpass.Term, bool) {
	i := slices.IndexFunc(lz.terms, func(t mpass.Term) bool { return t.ID == id })
	if i < 0 {
		return mpass.Term{ID: id, Title: id}, false
	}
	return lz.terms[i], true
}

// termTitle is a term's name in the reader's language.
func (lz *localizer) termTitle(id string) string {
	t, _ := lz.term(id)
	return t.Text(lz.Lang).Title
}

// ruleTitle is a rule's title in the reader's language (its id for a rule the
// policies do not describe).
func (lz *localizer) ruleTitle(term, rule string) string {
	t, _ := lz.term(term)
	if r, ok := t.Rule(rule); ok {
		return cmp.Or(r.Text(lz.Lang).Title, rule)
	}
	return rule
}

// spName is an SP's registry name, "" for an SP the registry does not know.
func (lz *localizer) spName(id string) string {
	if lz.reg == nil {
		return ""
	}
	sp, _ := lz.reg.ServiceProvider(id)
	return sp.Name
}

// controllerName is a controller's name in the reader's language, the OID where the
// registry has none, and "controller unknown" for a finding without a controller.
func (lz *localizer) controllerName(oid string) string {
	if oid == "" {
		return lz.T["controller_unknown"]
	}
	if lz.reg != nil {
		for _, c := range lz.reg.Controllers {
			if c.OID == oid {
				return mpass.LocalName(c.Names, lz.Lang, c.Name)
			}
		}
	}
	return oid
}

// spLabel is an SP as a page names it: the registry's name with the id beneath, or the
// id alone, said to be missing from the registry.
type spLabel struct{ ID, Name, NotInRegistry string }

func (lz *localizer) sp(id string) spLabel {
	l := spLabel{ID: id, Name: lz.spName(id)}
	if l.Name == "" {
		l.NotInRegistry = lz.T["not_in_registry"]
	}
	return l
}

// groupView is one row of the findings by term and SP.
type groupView struct {
	Term, TermTitle, SP string
	SPLabel             spLabel
	Severity            string // of its most severe finding
	mpass.Summary
	N    int64 // findings
	Href string
}

// findingView is one finding as the page lists it.
type findingView struct {
	mpass.Finding
	RuleTitle, Friendly, ControllerName string
	SPLabel                             spLabel
}

// errStop ends a stream of findings early.
var errStop = errors.New("stop")

// groups sums tallies by term and SP, minus those of minus (the auditor's
// controller-unknown findings, shown apart; known then leaves them out of the
// severities too), most severe group first, then the one
// with most findings. A group's severity is that of its most severe finding: each
// term's rules are tried most severe first, one index seek each (findings are stored
// in term, rule, SP order), and the first finding in scope decides.
func (s *Server) groups(ctx context.Context, lz *localizer, runID int64, scope []string, tallies, minus []mpass.FindingTally, known bool, link func(term, sp string) string) ([]groupView, error) {
	type key struct{ term, sp string }
	sums := map[key]*mpass.Summary{}
	var keys []key
	for _, c := range tallies {
		k := key{c.Term, c.SP}
		if sums[k] == nil {
			sums[k] = &mpass.Summary{}
			keys = append(keys, k)
		}
		sums[k].Add(c.Result, c.N)
	}
	for _, c := range minus {
		if sum := sums[key{c.Term, c.SP}]; sum != nil {
			sum.Add(c.Result, -c.N)
		}
	}
	var out []groupView
	for _, k := range keys {
		sum := *sums[k]
		n := sum.Fail + sum.Warn + sum.Skip + sum.Error
		if n == 0 {
			continue
		}
		sev, err := s.worstSeverity(ctx, lz, runID, scope, known, k.term, k.sp)
		if err != nil {
			return nil, err
		}
		out = append(out, groupView{Term: k.term, TermTitle: lz.termTitle(k.term), SP: k.sp, SPLabel: lz.sp(k.sp),
			Severity: sev, Summary: sum, N: n, Href: link(k.term, k.sp)})
	}
	slices.SortStableFunc(out, func(a, b groupView) int {
		return cmp.Or(cmp.Compare(mpass.SeverityRank(a.Severity), mpass.SeverityRank(b.Severity)), cmp.Compare(b.N, a.N),
			strings.Compare(a.TermTitle, b.TermTitle), strings.Compare(a.SP, b.SP))
	})
	return out, nil
}

// worstSeverity is the severity of the most severe finding of a term at an SP in scope
// (known: only findings with a controller).
func (s *Server) worstSeverity(ctx context.Context, lz *localizer, runID int64, scope []string, known bool, term, sp string) (string, error) {
	first := func(f mpass.FindingFilter) (string, error) {
		sev := ""
		err := s.DB.Findings(ctx, f, func(x *mpass.Finding) error {
			if known && x.Controller == "" {
				return nil
			}
			sev = x.Severity
			return errStop
		})
		if errors.Is(err, errStop) {
			err = nil
		}
		return sev, err
	}
	base := mpass.FindingFilter{RunID: runID, Controllers: scope, Term: term, SP: sp}
	t, ok := lz.term(term)
	if !ok { // a term the policies do not describe: sort its findings instead
		base.BySeverity = true
		return first(base)
	}
	rules := slices.Clone(t.Rules)
	slices.SortStableFunc(rules, func(a, b mpass.Rule) int {
		return cmp.Compare(mpass.SeverityRank(a.Severity), mpass.SeverityRank(b.Severity))
	})
	for _, r := range rules {
		f := base
		f.Rule = r.ID
		sev, err := first(f)
		if err != nil || sev != "" {
			return sev, err
		}
	}
	return "", nil
}

// countFindings is how many findings the query selects: from the tallies where the
// query has no severity (they have none), else counted.
func (s *Server) countFindings(ctx context.Context, f findingQuery, filter mpass.FindingFilter, tallies []mpass.FindingTally) (int, error) {
	if f.Severity == "" {
		n := int64(0)
		for _, c := range tallies {
			if (f.Term == "" || c.Term == f.Term) && (f.SP == "" || c.SP == f.SP) && (f.Result == "" || c.Result == f.Result) &&
				slices.Contains(findingResults, c.Result) {
				n += c.N
			}
		}
		return int(n), nil
	}
	n := 0
	filter.BySeverity = false
	err := s.DB.Findings(ctx, filter, func(*mpass.Finding) error { n++; return nil })
	return n, err
}

// verdictView is one term's verdict on the run page.
type verdictView struct {
	Term, Verdict, Class string
}

// termVerdicts is each term's verdict over the reader's controllers: its failed,
// warned and excepted findings in words, else "compliant" where it judged records,
// else "no records (no verdict)" (TERMS.md: never "compliant" for a term that judged
// nothing, even when other terms did).
func termVerdicts(lz *localizer, tallies []mpass.FindingTally, judged map[string]int64) []verdictView {
	byTerm := map[string]*mpass.Summary{}
	for _, c := range tallies {
		if byTerm[c.Term] == nil {
			byTerm[c.Term] = &mpass.Summary{}
		}
		byTerm[c.Term].Add(c.Result, c.N)
	}
	var out []verdictView
	for _, term := range lz.terms {
		v := verdictView{Term: term.Text(lz.Lang).Title}
		s := byTerm[term.ID]
		switch {
		case s != nil && s.Fail+s.Warn+s.Skip+s.Error > 0:
			v.Verdict, v.Class = lz.Results(s.Fail, s.Error, s.Warn, s.Skip), "skip"
			if s.Warn > 0 {
				v.Class = "warn"
			}
			if s.Fail+s.Error > 0 {
				v.Class = "fail"
			}
		case judged[term.ID] > 0:
			v.Verdict, v.Class = lz.Get("compliant"), "pass"
		default:
			v.Verdict, v.Class = lz.Get("no_records"), "muted"
		}
		out = append(out, v)
	}
	return out
}

// localRunView is the run of the request as the caller may see it, with the words of
// the page's language and the run's registry.
func (s *Server) localRunView(w http.ResponseWriter, r *http.Request) (*mpass.Token, *output.Report, *localizer, error) {
	t, view, err := s.runView(r)
	if err != nil {
		return nil, nil, nil, err
	}
	lz, err := s.localizer(r.Context(), lang(w, r), view.Run.RegistryVersion)
	return t, view, lz, err
}

// handleRunPage shows a run's findings as the caller may see them: grouped by term and
// SP, most severe first, then listed with filters (severity, term, SP, result) and
// pages. An auditor also sees the findings whose controller could not be found, as a
// group of their own. A run that judged nothing in the caller's scope says "no
// records", never "compliant" (TERMS.md "No records, no verdict").
func (s *Server) handleRunPage(w http.ResponseWriter, r *http.Request) {
	t, view, lz, err := s.localRunView(w, r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	ctx, run := r.Context(), view.Run
	f := parseFindingQuery(r, t)
	auditor := t.Role == mpass.RoleAuditor
	tallies, err := s.DB.FindingCounts(ctx, run.ID, t.Scope())
	if err != nil {
		s.error(w, r, err)
		return
	}
	var unknownTallies []mpass.FindingTally
	if auditor {
		if unknownTallies, err = s.DB.FindingCounts(ctx, run.ID, []string{""}); err != nil {
			s.error(w, r, err)
			return
		}
	}
	link := func(extra findingQuery) func(term, sp string) string {
		return func(term, sp string) string {
			extra.Term, extra.SP = term, sp
			return "?" + extra.values(1).Encode() + "#findings"
		}
	}
	groups, err := s.groups(ctx, lz, run.ID, t.Scope(), tallies, unknownTallies, auditor, link(findingQuery{}))
	if err != nil {
		s.error(w, r, err)
		return
	}
	var unknownGroups []groupView
	if auditor {
		if unknownGroups, err = s.groups(ctx, lz, run.ID, []string{""}, unknownTallies, nil, false, link(findingQuery{Controller: unknownController})); err != nil {
			s.error(w, r, err)
			return
		}
	}

	filter := f.filter(run.ID, t)
	listTallies := tallies
	if f.Controller == unknownController {
		listTallies = unknownTallies
	}
	n, err := s.countFindings(ctx, f, filter, listTallies)
	if err != nil {
		s.error(w, r, err)
		return
	}
	p := newPager(lz.T, n, f.Page, findingsPerPage, func(page int) string { return "?" + f.values(page).Encode() + "#findings" })
	filter.Offset, filter.Limit = p.From, findingsPerPage
	var findings []findingView
	err = s.DB.Findings(ctx, filter, func(x *mpass.Finding) error {
		findings = append(findings, findingView{Finding: *x, RuleTitle: lz.ruleTitle(x.Term, x.Rule), SPLabel: lz.sp(x.SP),
			Friendly: lz.friendly[x.Attribute], ControllerName: lz.controllerName(x.Controller)})
		return nil
	})
	if err != nil {
		s.error(w, r, err)
		return
	}

	type option struct{ Value, Label string }
	var termOpts, spOpts []option
	for _, term := range lz.terms {
		termOpts = append(termOpts, option{term.ID, term.Text(lz.Lang).Title})
	}
	for _, c := range slices.Concat(tallies, unknownTallies) {
		if !slices.ContainsFunc(spOpts, func(o option) bool { return o.Value == c.SP }) {
			spOpts = append(spOpts, option{c.SP, cmp.Or(lz.spName(c.SP), c.SP)})
		}
	}
	slices.SortFunc(spOpts, func(a, b option) int {
		return cmp.Or(strings.Compare(a.Label, b.Label), strings.Compare(a.Value, b.Value))
	})
	sum := view.Summary
	verdicts := termVerdicts(lz, tallies, view.Judged)
	csvURL := fmt.Sprintf("/runs/%d/findings.csv", run.ID)
	if v := f.values(1); len(v) > 0 {
		csvURL += "?" + v.Encode()
	}
	s.render(w, r, "run.html", map[string]any{"Run": run, "Summary": sum, "Verdicts": verdicts, "Groups": groups, "UnknownGroups": unknownGroups,
		"Findings": findings, "Pager": p, "Filter": f, "Filtered": f.any(), "CSV": csvURL,
		"NoRecords":  sum.Pass+sum.Fail+sum.Warn+sum.Skip+sum.Error == 0,
		"Severities": mpass.Severities, "Terms": termOpts, "SPs": spOpts, "Results": findingResults,
		"RunController": lz.controllerNameOrAll(run.Controller)})
}

// controllerNameOrAll names a run's controller scope ("" is every controller).
func (lz *localizer) controllerNameOrAll(oid string) string {
	if oid == "" {
		return lz.T["all"]
	}
	return lz.controllerName(oid)
}

// handleFindingsCSV answers the run page's findings as CSV: the same filters, the same
// scope (a DPO's controllers only; controller-unknown findings for auditors alone) and
// order, every page. Words are the reader's; ids stay as stored, so a row can be
// found again. A cell a spreadsheet would take for a formula is neutralised.
func (s *Server) handleFindingsCSV(w http.ResponseWriter, r *http.Request) {
	t, view, lz, err := s.localRunView(w, r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	ctx, run := r.Context(), view.Run
	filter := parseFindingQuery(r, t).filter(run.ID, t)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="mpass-audit-run-%d-findings.csv"`, run.ID))
	w.Write([]byte("\uFEFF")) // a byte order mark: spreadsheets then read the UTF-8 (ä, ö, å) as such
	cw := csv.NewWriter(w)
	tx := lz.T
	cw.Write(output.SafeCSV([]string{tx["severity"], tx["result"], tx["term"], tx["rule"], tx["rule_id"], tx["controller"], tx["controller_oid"],
		tx["sp"], tx["sp_id"], tx["record"], tx["time"], tx["attribute"], tx["attribute_urn"], tx["pseudonym"], tx["change"],
		tx["exception_column"], tx["finding_id"]}))
	err = s.DB.Findings(ctx, filter, func(f *mpass.Finding) error {
		cw.Write(output.SafeCSV([]string{lz.T["severity_"+f.Severity], lz.T["result_"+f.Result], lz.termTitle(f.Term), lz.ruleTitle(f.Term, f.Rule),
			f.Rule, lz.controllerName(f.Controller), f.Controller, lz.spName(f.SP), f.SP, f.Record, f.Time.UTC().Format(time.RFC3339),
			lz.friendly[f.Attribute], f.Attribute, f.Subject, lz.T["change_"+f.Change], cmp.Or(f.Exception, f.ExceptionNotApplied), f.ID}))
		return cw.Error()
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	if err != nil { // the header is sent: the log says why the file is short
		s.Logger.Error("findings csv", "run", run.ID, "err", err)
	}
}
