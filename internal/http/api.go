package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/opetushallitus/mpass-audit/internal/audit"
	"github.com/opetushallitus/mpass-audit/internal/ingest"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/output"
	"github.com/opetushallitus/mpass-audit/reports"
)

// caller is the request's token; the routes behind authenticate always have one.
func caller(r *http.Request) *mpass.Token { return mpass.TokenFromContext(r.Context()) }

// reader refuses the ingest role, which may only post records.
func reader(r *http.Request) (*mpass.Token, error) {
	t := caller(r)
	if t.Role == mpass.RoleIngest {
		return nil, mpass.Errorf(mpass.EFORBIDDEN, "an ingest token may only post records")
	}
	return t, nil
}

type runJSON struct {
	ID         int64         `json:"id"`
	Started    time.Time     `json:"started"`
	Finished   time.Time     `json:"finished"`
	Controller string        `json:"controller"`
	From       string        `json:"from"`
	To         string        `json:"to"`
	Summary    mpass.Summary `json:"summary"`
}

// visibleRuns lists the finished runs the token may see, with summaries counted over
// its controllers only.
func (s *Server) visibleRuns(ctx context.Context, t *mpass.Token) ([]runJSON, error) {
	runs, err := s.DB.FindRuns(ctx, t.Scope())
	if err != nil {
		return nil, err
	}
	out := make([]runJSON, 0, len(runs))
	for _, run := range runs {
		summary, err := s.Auditor.Summary(ctx, run, t.Scope())
		if err != nil {
			return nil, err
		}
		out = append(out, runJSON{ID: run.ID, Started: run.Started, Finished: run.Finished, Controller: run.Controller,
			From: run.From, To: run.To, Summary: summary})
	}
	return out, nil
}

func (s *Server) handleRuns(w http.ResponseWriter, r *http.Request) {
	t, err := reader(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	runs, err := s.visibleRuns(r.Context(), t)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": runs})
}

// runID is the route's {id}; one that is not a run id is not found, like a missing run.
func runID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, mpass.Errorf(mpass.ENOTFOUND, "run not found")
	}
	return id, nil
}

// runView is the run of the route's {id} as the caller may see it (the web pages').
func (s *Server) runView(r *http.Request) (*mpass.Token, *output.Report, error) {
	t, err := reader(r)
	if err != nil {
		return nil, nil, err
	}
	id, err := runID(r)
	if err != nil {
		return nil, nil, err
	}
	view, err := s.Auditor.View(r.Context(), id, t.Scope())
	return t, view, err
}

// strictJSON decodes one JSON value into v: an unknown field, a value of the wrong
// type, or anything after the value is an error naming it.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("more after the JSON value")
	}
	return nil
}

// startRun begins an audit (auditors only) and judges it in the background, one audit
// at a time; the answer names the run, which shows in the list once finished.
func (s *Server) startRun(ctx context.Context, t *mpass.Token, scope mpass.Scope) (*mpass.Run, error) {
	if t.Role != mpass.RoleAuditor {
		return nil, mpass.Errorf(mpass.EFORBIDDEN, "only an auditor token may start an audit")
	}
	if err := scope.Validate(); err != nil { // a bad scope is a 400, not a 409 while an audit runs
		return nil, err
	}
	if !s.auditing.TryLock() {
		return nil, mpass.Errorf(mpass.ECONFLICT, "an audit is running; try again when it has finished")
	}
	run, finish, err := s.Auditor.Begin(ctx, scope)
	if err != nil {
		s.auditing.Unlock()
		return nil, err
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.auditing.Unlock()
		if err := finish(s.ctx); err != nil {
			s.Logger.Error("audit failed", "run", run.ID, "err", err)
		}
	}()
	return run, nil
}

func (s *Server) handleStartRun(w http.ResponseWriter, r *http.Request) {
	if caller(r).Role != mpass.RoleAuditor {
		s.error(w, r, mpass.Errorf(mpass.EFORBIDDEN, "only an auditor token may start an audit"))
		return
	}
	// INTERFACE.md: a bad body is a 400 with the reason, before the audit lock is
	// tried (a typo during a running audit is not a 409) and never starts work
	scope, err := readScope(w, r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	run, err := s.startRun(r.Context(), caller(r), scope)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/runs/%d", run.ID))
	writeJSON(w, http.StatusAccepted, map[string]any{"id": run.ID, "status": run.Status, "controller": run.Controller, "from": run.From, "to": run.To})
}

// readScope reads POST /api/v1/runs's body, {"controller", "from", "to"} (all
// optional; an empty body is all controllers, all time), strictly, and validates it.
func readScope(w http.ResponseWriter, r *http.Request) (mpass.Scope, error) {
	var scope mpass.Scope
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxFormBytes))
	if err != nil {
		return scope, mpass.Errorf(mpass.EINVALID, "body: larger than %d bytes or unreadable", MaxFormBytes)
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := strictJSON(body, &scope); err != nil {
			return scope, mpass.Errorf(mpass.EINVALID, "body: want {\"controller\", \"from\", \"to\"}: %s", mpass.Printable(err.Error()))
		}
	}
	if err := scope.Validate(); err != nil {
		return scope, err
	}
	return scope, nil
}

// handleReport answers a controller's PDF of a period from the newest run that covers
// it: the stored one of a scheduled audit, else rendered now. A controller the caller
// may not see answers 404, exactly like one that does not exist.
func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) {
	t, err := reader(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	controller := chi.URLParam(r, "controller")
	period, ok := strings.CutSuffix(chi.URLParam(r, "period"), ".pdf")
	notFound := mpass.Errorf(mpass.ENOTFOUND, "no report for that controller and period")
	// a malformed OID says nothing of any controller: its check digit is arithmetic
	if err := mpass.CheckControllerOID(controller); err != nil {
		s.error(w, r, mpass.Errorf(mpass.EINVALID, "controller %v", err))
		return
	}
	if !ok || !t.Sees(controller) {
		s.error(w, r, notFound)
		return
	}
	lang := r.URL.Query().Get("lang")
	if lang == "" {
		lang = "fi"
	}
	pdf, err := s.report(r.Context(), controller, period, lang)
	if err != nil && r.Context().Err() != nil {
		// the client left (or the route's timeout answered 504): the work stopped with
		// the request's context, and there is no one to answer
		s.Logger.Info("report abandoned", "id", middleware.GetReqID(r.Context()), "controller", controller, "period", period, "err", err)
		return
	}
	if err != nil {
		if mpass.ErrorCode(err) == mpass.ENOTFOUND {
			err = notFound
		}
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="mpass-audit-%s-%s-%s.pdf"`, controller, period, lang))
	w.Write(pdf)
}

func (s *Server) report(ctx context.Context, controller, period, lang string) ([]byte, error) {
	if _, err := reports.LoadTexts(lang); err != nil {
		return nil, err
	}
	from, to, err := audit.ParsePeriod(period)
	if err != nil {
		return nil, err
	}
	run, err := s.DB.LatestRunCovering(ctx, mpass.Scope{Controller: controller, From: from, To: to})
	if err != nil {
		return nil, err
	}
	if run == nil {
		return nil, mpass.Errorf(mpass.ENOTFOUND, "no audit covers it yet")
	}
	if pdf, err := s.DB.StoredReport(ctx, run.ID, controller, period, lang); err == nil {
		return pdf, nil
	}
	data, err := s.Auditor.ReportData(ctx, run, controller, from, to)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := s.drawReport(ctx, &buf, data, lang); err != nil {
		return nil, err // EINTERNAL naming the controller and period: a clear 500
	}
	return buf.Bytes(), nil
}

// handleRecords ingests a JSON Lines body (ingest role), with the CLI's validation; the
// answer has the counts and the first ingest.DefaultMaxRejections rejections, and
// "unlisted" counts the rest: it is bounded (about 300 KB) however many lines of the
// body were bad, and so is the memory that makes it.
func (s *Server) handleRecords(w http.ResponseWriter, r *http.Request) {
	if caller(r).Role != mpass.RoleIngest {
		s.error(w, r, mpass.Errorf(mpass.EFORBIDDEN, "only an ingest token may post records"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.MaxBody)
	x, err := ingest.WithNames(r.Context(), s.DB, s.Extractor, nil)
	if err != nil {
		s.error(w, r, err)
		return
	}
	in := &ingest.Ingester{Store: s.DB, Extractor: x, Options: ingest.Options{Format: ingest.FormatJSONL}}
	res, err := in.Ingest(r.Context(), "request", r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		err = mpass.Errorf(mpass.EINVALID, "body larger than %d bytes; the records before the limit were stored (stored %d)", s.MaxBody, res.Stored)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	type rejection struct {
		Line   int    `json:"line"`
		Field  string `json:"field,omitempty"`
		Reason string `json:"reason"`
	}
	rej := make([]rejection, 0, len(res.Rejections))
	for _, x := range res.Rejections {
		rej = append(rej, rejection{Line: x.Line, Field: x.Field, Reason: x.Reason})
	}
	status := http.StatusOK
	if res.Rejected > 0 {
		status = http.StatusUnprocessableEntity
	}
	writeJSON(w, status, map[string]any{"stored": res.Stored, "duplicate": res.Duplicate, "rejected": res.Rejected, "rejections": rej, "unlisted": res.Unlisted})
}
