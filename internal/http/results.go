package http

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/output"
)

// Pages of a run's results and of the rejections (INTERFACE.md "HTTP").
const (
	DefaultPageLimit = 1000
	MaxPageLimit     = 10000
)

// results are the results a paged request asked for: which findings, and where the
// page starts.
type results struct {
	filter mpass.FindingFilter
	// controllers is the view's scope: the caller's, or the one controller it asked
	// for, never wider than the caller's.
	controllers []string
	limit       int
}

// resultParams are the query parameters of a run's results; any other is a 400, so a
// typo (?contoller=) never answers everything as if no filter was asked for.
var resultParams = []string{"controller", "sp", "policy", "rule", "result", "severity", "limit", "cursor"}

// resultValues are the results a finding may have in a run's results.
var resultValues = []string{"fail", "warn", "skip", "error"}

// parseResults reads a run's filters and page from the query. A controller the caller
// may not see is ENOTFOUND, the same "run not found" as a run it may not see.
func parseResults(q url.Values, t *mpass.Token) (*results, error) {
	if err := onlyParams(q, resultParams); err != nil {
		return nil, err
	}
	res := &results{controllers: t.Scope()}
	if c := q.Get("controller"); q.Has("controller") {
		if err := mpass.CheckControllerOID(c); err != nil {
			return nil, mpass.Errorf(mpass.EINVALID, "controller %v", err)
		}
		if !t.Sees(c) {
			return nil, mpass.Errorf(mpass.ENOTFOUND, "run not found")
		}
		res.controllers = []string{c}
	}
	f := &res.filter
	f.Term, f.Rule, f.SP = q.Get("policy"), q.Get("rule"), q.Get("sp")
	f.Result, f.Severity = q.Get("result"), q.Get("severity")
	if f.Result != "" && !slices.Contains(resultValues, f.Result) {
		return nil, mpass.Errorf(mpass.EINVALID, "result %q: want one of %v", f.Result, resultValues)
	}
	if f.Severity != "" && !slices.Contains(mpass.Severities, f.Severity) {
		return nil, mpass.Errorf(mpass.EINVALID, "severity %q: want one of %v", f.Severity, mpass.Severities)
	}
	limit, err := parseLimit(q)
	if err != nil {
		return nil, err
	}
	res.limit = limit
	if c := q.Get("cursor"); c != "" {
		var k mpass.FindingKey
		if err := decodeCursor(c, &k); err != nil {
			return nil, err
		}
		f.After = &k
	}
	return res, nil
}

// onlyParams refuses a query parameter not in known, and one given twice.
func onlyParams(q url.Values, known []string) error {
	for k, v := range q {
		if !slices.Contains(known, k) {
			return mpass.Errorf(mpass.EINVALID, "unknown query parameter %q (known: %v)", k, known)
		}
		if len(v) > 1 {
			return mpass.Errorf(mpass.EINVALID, "query parameter %q given %d times", k, len(v))
		}
	}
	return nil
}

func parseLimit(q url.Values) (int, error) {
	if !q.Has("limit") {
		return DefaultPageLimit, nil
	}
	n, err := strconv.Atoi(q.Get("limit"))
	if err != nil || n < 1 || n > MaxPageLimit {
		return 0, mpass.Errorf(mpass.EINVALID, "limit %q: want a number from 1 to %d", q.Get("limit"), MaxPageLimit)
	}
	return n, nil
}

// A cursor is opaque to its reader: base64url of the JSON of the last row's key.
func encodeCursor(v any) string {
	b, _ := json.Marshal(v) // keys of strings and numbers always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, v any) error {
	bad := mpass.Errorf(mpass.EINVALID, "cursor: not one this service gave")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return bad
	}
	if err := strictJSON(b, v); err != nil {
		return bad
	}
	return nil
}

// page reads one page of the run's findings (at most limit, copied: the store reuses
// its row) and the cursor of the next, "" on the last page.
func (s *Server) page(r *http.Request, runID int64, res *results) ([]mpass.Finding, string, error) {
	f := res.filter
	f.RunID, f.Controllers, f.Limit = runID, res.controllers, res.limit+1
	out := make([]mpass.Finding, 0, min(res.limit+1, 256))
	err := s.DB.Findings(r.Context(), f, func(x *mpass.Finding) error {
		out = append(out, *x)
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("run %d results: %w", runID, err)
	}
	if len(out) <= res.limit {
		return out, "", nil
	}
	out = out[:res.limit]
	return out, encodeCursor(out[len(out)-1].Key()), nil
}

// pagedView is the run of the route's {id} as the caller may see it, narrowed by the
// query's filters to one page of its results, and the address of the next page ("" on
// the last).
func (s *Server) pagedView(r *http.Request) (*output.Report, string, error) {
	t, err := reader(r)
	if err != nil {
		return nil, "", err
	}
	id, err := runID(r)
	if err != nil {
		return nil, "", err
	}
	res, err := parseResults(r.URL.Query(), t)
	if err != nil {
		return nil, "", err
	}
	view, err := s.Auditor.View(r.Context(), id, res.controllers)
	if err != nil {
		return nil, "", err
	}
	findings, next, err := s.page(r, id, res)
	if err != nil {
		return nil, "", err
	}
	view.Paged, view.Next = true, next
	view.Findings = func(fn func(*mpass.Finding) error) error {
		for i := range findings {
			if err := fn(&findings[i]); err != nil {
				return err
			}
		}
		return nil
	}
	// Tally stays the scope's: the terms' verdicts are the run's, whatever the page
	if resolved := view.Resolved; resolved != nil {
		// the resolved findings are on the first page only, under the same filters
		first := res.filter.After == nil
		view.Resolved = func(fn func(*mpass.Finding) error) error {
			if !first {
				return nil
			}
			return resolved(func(x *mpass.Finding) error {
				if !res.matches(x) {
					return nil
				}
				return fn(x)
			})
		}
	}
	return view, nextURL(r, next), nil
}

// nextURL is the request's address with the cursor of the next page ("" when none).
func nextURL(r *http.Request, cursor string) string {
	if cursor == "" {
		return ""
	}
	q := r.URL.Query()
	q.Set("cursor", cursor)
	return r.URL.Path + "?" + q.Encode()
}

// matches reports whether a finding passes the results' filters (controllers aside:
// the store applied them).
func (res *results) matches(x *mpass.Finding) bool {
	f := res.filter
	for _, c := range [...][2]string{{f.Term, x.Term}, {f.Rule, x.Rule}, {f.SP, x.SP}, {f.Result, x.Result}, {f.Severity, x.Severity}} {
		if c[0] != "" && c[0] != c[1] {
			return false
		}
	}
	return true
}

// setNext names the next page in a Link header (RFC 8288), for JSON and CSV alike.
func setNext(w http.ResponseWriter, next string) {
	if next != "" {
		w.Header().Set("Link", "<"+next+`>; rel="next"`)
	}
}

// handleRun answers the OpenReports JSON of a run, its results limited to the caller's
// controllers, filtered and paged by the query.
func (s *Server) handleRun(w http.ResponseWriter, r *http.Request) {
	view, next, err := s.pagedView(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	setNext(w, next)
	w.Header().Set("Content-Type", "application/json")
	if err := (output.JSON{}).Output(w, view); err != nil {
		s.Logger.Error("write run", "run", view.Run.ID, "err", err)
	}
}

// handleRunCSV answers the same page of results as handleRun as CSV (output.CSV: every
// cell formula-safe); the next page is in the Link header.
func (s *Server) handleRunCSV(w http.ResponseWriter, r *http.Request) {
	view, next, err := s.pagedView(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	setNext(w, next)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="mpass-audit-run-%d.csv"`, view.Run.ID))
	if err := (output.CSV{}).Output(w, view); err != nil {
		s.Logger.Error("write run csv", "run", view.Run.ID, "err", err)
	}
}

type rejectionJSON struct {
	ID       int64     `json:"id"`
	Source   string    `json:"source"`
	Line     int       `json:"line"`
	Field    string    `json:"field"`
	Reason   string    `json:"reason"`
	Rejected time.Time `json:"rejected"`
}

// handleRejections answers the stored rejections (auditors only), a page at a time in
// the order they were stored; never a line's text, which may hold personal data.
func (s *Server) handleRejections(w http.ResponseWriter, r *http.Request) {
	if caller(r).Role != mpass.RoleAuditor {
		s.error(w, r, mpass.Errorf(mpass.EFORBIDDEN, "only an auditor token may read the rejections"))
		return
	}
	q := r.URL.Query()
	if err := onlyParams(q, []string{"limit", "cursor"}); err != nil {
		s.error(w, r, err)
		return
	}
	limit, err := parseLimit(q)
	if err != nil {
		s.error(w, r, err)
		return
	}
	var after int64
	if c := q.Get("cursor"); c != "" {
		if err := decodeCursor(c, &after); err != nil {
			s.error(w, r, err)
			return
		}
	}
	rows, err := s.DB.RejectionPage(r.Context(), after, limit+1)
	if err != nil {
		s.error(w, r, err)
		return
	}
	var next *string
	if len(rows) > limit {
		rows = rows[:limit]
		c := encodeCursor(rows[len(rows)-1].ID)
		next = &c
		setNext(w, nextURL(r, c))
	}
	out := make([]rejectionJSON, 0, len(rows))
	for _, x := range rows {
		out = append(out, rejectionJSON{ID: x.ID, Source: x.Source, Line: x.Line, Field: x.Field, Reason: x.Reason, Rejected: x.Rejected})
	}
	writeJSON(w, http.StatusOK, map[string]any{"rejections": out, "next": next})
}
