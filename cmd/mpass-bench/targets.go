package main

import (
	"fmt"
	"strings"

	"github.com/opetushallitus/mpass-audit/internal/gen"
)

// checkLine is one target's line of the report: the measured values and whether every
// one of them (ok, one per value) meets the target; no values is "not measured".
func checkLine(target string, values []string, ok []bool) string {
	if len(values) == 0 {
		return "- " + target + ": not measured in this run"
	}
	verdict := "met"
	for _, o := range ok {
		if !o {
			verdict = "**missed**"
		}
	}
	return fmt.Sprintf("- %s: %s — %s", target, strings.Join(values, ", "), verdict)
}

// sizeLabel is a workload size as the targets name it: 1M, 10M, 100k.
func sizeLabel(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1_000 && n%1_000 == 0:
		return fmt.Sprintf("%dk", n/1_000)
	}
	return thousands(n)
}

// diverseChecks checks the measurements of the diverse workload against the targets of
// issue 16, one line a target; the report's target is on the national one-controller
// month, the only one timed.
func diverseChecks(rows []row, reportRecords int, report step) []string {
	var ingest, shell, audit, audit10M, rss10M []string
	var ingestOK, shellOK, auditOK, audit10MOK, rss10MOK []bool
	for _, r := range rows {
		if r.workload != gen.WorkloadDiverse {
			continue
		}
		at := " at " + sizeLabel(r.records)
		rate := float64(r.records) / r.ingest.seconds
		ingest = append(ingest, thousands(int(rate))+at)
		ingestOK = append(ingestOK, rate >= 100_000)
		ratio := r.ingest.seconds / r.shell.seconds
		shell = append(shell, fmt.Sprintf("%.2f×%s", ratio, at))
		shellOK = append(shellOK, ratio <= 2.5)
		rate = float64(r.records) / r.audit.seconds
		audit = append(audit, thousands(int(rate))+at)
		auditOK = append(auditOK, rate >= 200_000)
		if r.records == 10_000_000 {
			audit10M = append(audit10M, fmt.Sprintf("%.1f s", r.audit.seconds))
			audit10MOK = append(audit10MOK, r.audit.seconds <= 60)
			rss10M = append(rss10M, fmt.Sprintf("ingest %.0f MB", r.ingest.rssMB), fmt.Sprintf("audit %.0f MB", r.audit.rssMB))
			rss10MOK = append(rss10MOK, r.ingest.rssMB <= 256, r.audit.rssMB <= 256)
		}
	}
	lines := []string{
		checkLine("ingest ≥ 100,000 rec/s", ingest, ingestOK),
		checkLine("ingest ≤ 2.5× the sqlite3 shell import (ingest time / shell time)", shell, shellOK),
		checkLine("audit ≥ 200,000 rec/s", audit, auditOK),
		checkLine("10M audited in ≤ 60 s", audit10M, audit10MOK),
		checkLine("peak RSS ≤ 256 MB for ingest and audit at 10M", rss10M, rss10MOK),
	}
	const reportTarget = "report of a 1M-release controller-month ≤ 2 s (national shape)"
	if reportRecords == 1_000_000 {
		lines = append(lines, checkLine(reportTarget, []string{fmt.Sprintf("%.2f s", report.seconds)}, []bool{report.seconds <= 2}))
	} else {
		lines = append(lines, fmt.Sprintf("- %s: not measured in this run (it timed a %s-release month: %.2f s)", reportTarget, thousands(reportRecords), report.seconds))
	}
	return lines
}
