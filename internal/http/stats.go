package http

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// spShare is one SP's line on the statistics page: its releases over every controller,
// and the shares carrying the learner number and the e-mail address as percentages
// (and the widths of their bars, out of 100).
type spShare struct {
	SP                   spLabel
	Releases             int64
	LearnerNumber, Email int64
	LearnerPct, EmailPct float64
}

// statsSPs is how many SPs the statistics page lists, most releases first; the CLI's
// `stats` and its CSV give all of them.
const statsSPs = 50

// handleStatsPage shows auditors, per SP, how many releases carried the learner number
// and the e-mail address (issue 15: the numbers behind the decision whether e-mail
// joins the data model), over a period of the form's choosing. DPOs are refused: the
// page sums every controller's releases.
func (s *Server) handleStatsPage(w http.ResponseWriter, r *http.Request) {
	t := caller(r)
	if t == nil || t.Role != mpass.RoleAuditor {
		s.error(w, r, mpass.Errorf(mpass.EFORBIDDEN, "only an auditor may see the statistics"))
		return
	}
	q := r.URL.Query()
	scope := mpass.Scope{Controller: q.Get("controller"), From: q.Get("from"), To: q.Get("to")}
	if err := scope.Validate(); err != nil {
		s.error(w, r, err)
		return
	}
	ctx := r.Context()
	st, err := s.Auditor.Stats(ctx, scope, []string{"sp"})
	if err != nil {
		s.error(w, r, err)
		return
	}
	lz, err := s.localizer(ctx, lang(w, r), 0)
	if err != nil {
		s.error(w, r, err)
		return
	}
	bySP := map[string]*spShare{}
	var all spShare
	for _, sh := range st.Shares {
		x := bySP[sh.SP]
		if x == nil {
			x = &spShare{SP: lz.sp(sh.SP)}
			bySP[sh.SP] = x
		}
		x.Releases += sh.Releases
		x.LearnerNumber += sh.LearnerNumber
		x.Email += sh.Email
		all.Releases += sh.Releases
		all.LearnerNumber += sh.LearnerNumber
		all.Email += sh.Email
	}
	pct := func(n, of int64) float64 {
		if of == 0 {
			return 0
		}
		return float64(int(1000*float64(n)/float64(of)+0.5)) / 10
	}
	rows := make([]spShare, 0, len(bySP))
	for _, x := range bySP {
		x.LearnerPct, x.EmailPct = pct(x.LearnerNumber, x.Releases), pct(x.Email, x.Releases)
		rows = append(rows, *x)
	}
	slices.SortFunc(rows, func(a, b spShare) int {
		return cmp.Or(cmp.Compare(b.Releases, a.Releases), cmp.Compare(a.SP.ID, b.SP.ID))
	})
	more := max(0, len(rows)-statsSPs)
	rows = rows[:min(len(rows), statsSPs)]
	all.LearnerPct, all.EmailPct = pct(all.LearnerNumber, all.Releases), pct(all.Email, all.Releases)
	s.render(w, r, "stats.html", map[string]any{"Scope": scope, "Rows": rows, "All": all, "More": more})
}
