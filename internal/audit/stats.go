package audit

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/opetushallitus/mpass-audit/internal/facts"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
)

// StatsDimensions are what `stats --by` may group release counts by.
var StatsDimensions = []string{"attribute", "controller", "sp", "month"}

// StatsRow is the releases of one group: the values of the dimensions grouped by
// (empty for the others) and how many releases carried the attribute (by attribute) or
// were made (otherwise).
type StatsRow struct {
	Attribute  string `json:"attribute,omitempty"`
	Controller string `json:"controller,omitempty"`
	SP         string `json:"sp,omitempty"`
	Month      string `json:"month,omitempty"`
	Releases   int64  `json:"releases"`
}

// Share is how many of a controller's releases to an SP carried the learner number
// (oppijanumero) and the e-mail address: the numbers behind the decision whether
// e-mail joins the data model.
type Share struct {
	Controller    string `json:"controller"`
	SP            string `json:"sp"`
	Releases      int64  `json:"releases"`
	LearnerNumber int64  `json:"learner_number"`
	Email         int64  `json:"email"`
}

// Stats are the release statistics of a scope.
type Stats struct {
	Scope  mpass.Scope `json:"scope"`
	By     []string    `json:"by"`
	Rows   []StatsRow  `json:"rows"`
	Shares []Share     `json:"shares"`
}

// Stats counts the stored releases of scope grouped by the dimensions by (of
// StatsDimensions), and per controller and SP the releases carrying the learner number
// and the e-mail address. It is SQL over the stored rows (one GROUP BY, then the few
// shapes expanded here), never a pass over records in Go.
func (a *Auditor) Stats(ctx context.Context, scope mpass.Scope, by []string) (*Stats, error) {
	if err := scope.Validate(); err != nil {
		return nil, err
	}
	for _, d := range by {
		if !slices.Contains(StatsDimensions, d) {
			return nil, mpass.Errorf(mpass.EINVALID, "--by %q: one of %s", d, strings.Join(StatsDimensions, ", "))
		}
	}
	names := map[int64][]string{}
	rows := map[StatsRow]int64{}
	shares := map[[2]string]*Share{}
	err := a.DB.ReleaseShapeCounts(ctx, scope, func(c sqlite.ShapeCount) error {
		attrs, ok := names[c.Shape]
		if !ok {
			var err error
			if attrs, err = shapeNames(ctx, a.DB, c.Shape); err != nil {
				return fmt.Errorf("shape %d: %w", c.Shape, err)
			}
			names[c.Shape] = attrs
		}
		key := StatsRow{}
		for _, d := range by {
			switch d {
			case "controller":
				key.Controller = c.Controller
			case "sp":
				key.SP = c.SP
			case "month":
				key.Month = c.Month
			}
		}
		if slices.Contains(by, "attribute") {
			for _, n := range attrs {
				k := key
				k.Attribute = n
				rows[k] += c.Releases
			}
		} else {
			rows[key] += c.Releases
		}
		s := shares[[2]string{c.Controller, c.SP}]
		if s == nil {
			s = &Share{Controller: c.Controller, SP: c.SP}
			shares[[2]string{c.Controller, c.SP}] = s
		}
		s.Releases += c.Releases
		if slices.Contains(attrs, facts.LearnerID) {
			s.LearnerNumber += c.Releases
		}
		if slices.Contains(attrs, facts.Mail) {
			s.Email += c.Releases
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	st := &Stats{Scope: scope, By: by, Rows: []StatsRow{}, Shares: []Share{}}
	for k, n := range rows {
		k.Releases = n
		st.Rows = append(st.Rows, k)
	}
	slices.SortFunc(st.Rows, func(x, y StatsRow) int {
		return cmp.Or(cmp.Compare(y.Releases, x.Releases), cmp.Compare(x.Attribute, y.Attribute), cmp.Compare(x.Controller, y.Controller),
			cmp.Compare(x.SP, y.SP), cmp.Compare(x.Month, y.Month))
	})
	for _, s := range shares {
		st.Shares = append(st.Shares, *s)
	}
	slices.SortFunc(st.Shares, func(x, y Share) int {
		return cmp.Or(cmp.Compare(x.Controller, y.Controller), cmp.Compare(x.SP, y.SP))
	})
	return st, nil
}
