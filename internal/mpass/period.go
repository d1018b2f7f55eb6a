package mpass

import "time"

// MaxPeriodMonths is the longest span of days one audit or report may cover when both
// of its ends are given: the store keeps records for a few years (INTERFACE.md), and a
// span such as 0001-01-01..9999-12-31 would make a report walk millions of days. An
// audit with an open end reads what is stored and needs no bound.
const MaxPeriodMonths = 36

// Validate is the one check of a scope, for the CLI, the API and the pages alike: a
// controller with its check digit, days as YYYY-MM-DD, from ≤ to, and a span of at
// most MaxPeriodMonths months (2024-01-01..2026-12-31 is 36). Its errors are EINVALID.
func (s Scope) Validate() error {
	if s.Controller != "" {
		if err := CheckControllerOID(s.Controller); err != nil {
			return Errorf(EINVALID, "controller %v", err)
		}
	}
	var days [2]time.Time
	for i, d := range []string{s.From, s.To} {
		if d == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, d)
		if err != nil {
			return Errorf(EINVALID, "%q is not a date (YYYY-MM-DD)", d)
		}
		days[i] = t
	}
	if s.From == "" || s.To == "" {
		return nil
	}
	if days[1].Before(days[0]) {
		return Errorf(EINVALID, "to %s is before from %s", s.To, s.From)
	}
	if !days[1].Before(days[0].AddDate(0, MaxPeriodMonths, 0)) {
		return Errorf(EINVALID, "%s..%s is longer than %d months, the most one audit or report covers", s.From, s.To, MaxPeriodMonths)
	}
	return nil
}
