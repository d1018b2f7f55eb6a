package main

import (
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/output"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
)

// checkFormat refuses a --format outside the command's list.
func checkFormat(format string, allowed ...string) error {
	for _, a := range allowed {
		if format == a {
			return nil
		}
	}
	return mpass.Errorf(mpass.EINVALID, "--format %q: want %s", format, strings.Join(allowed, " or "))
}

// parseRunID reads a run id argument.
func parseRunID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, mpass.Errorf(mpass.EINVALID, "run id %q: a positive number is needed (see runs list)", s)
	}
	return id, nil
}

func (m *Main) runsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:         "runs",
		Short:       "Past audit runs: list them, print one again, compare two",
		Annotations: readOnlyCommand(),
		Example: `  mpass-audit runs list
  mpass-audit runs show 42 --format csv
  mpass-audit runs diff 41 42 --format json`,
	}
	cmd.AddCommand(m.runsListCommand(), m.runsShowCommand(), m.runsDiffCommand())
	return cmd
}

// runListing is one run in `runs list --format json` (GET /api/v1/runs's fields and
// the status; finished is "" while a run is running or when it failed).
type runListing struct {
	ID         int64         `json:"id"`
	Started    string        `json:"started"`
	Finished   string        `json:"finished"`
	Status     string        `json:"status"`
	Controller string        `json:"controller"`
	From       string        `json:"from"`
	To         string        `json:"to"`
	Summary    mpass.Summary `json:"summary"`
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (m *Main) runsListCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "list [--format table|json]",
		Short: "List every audit run, newest first: id, times, status, scope and summary",
		Example: `  mpass-audit runs list
  mpass-audit runs list --format json | jq '.runs[0].id'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format, "table", "json"); err != nil {
				return err
			}
			db, err := m.openDB(cmd.Context())
			if err != nil {
				return err
			}
			runs, err := db.AllRuns(cmd.Context())
			if err != nil {
				return err
			}
			list := make([]runListing, 0, len(runs))
			for _, r := range runs {
				list = append(list, runListing{ID: r.ID, Started: formatTime(r.Started), Finished: formatTime(r.Finished), Status: r.Status,
					Controller: r.Controller, From: r.From, To: r.To, Summary: r.Summary})
			}
			if format == "json" {
				return writeJSON(m.Stdout, map[string]any{"runs": list})
			}
			tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTARTED\tFINISHED\tSTATUS\tCONTROLLER\tFROM\tTO\tFAIL\tWARN\tERROR\tSKIP\tPASS")
			for _, r := range list {
				s := r.Summary
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", r.ID, r.Started, cmp.Or(r.Finished, "-"), r.Status,
					mpass.Printable(cmp.Or(r.Controller, "all")), cmp.Or(r.From, "-"), cmp.Or(r.To, "-"), s.Fail, s.Warn, s.Error, s.Skip, s.Pass)
			}
			if len(list) == 0 {
				fmt.Fprintln(tw, "(no runs: run mpass-audit audit)")
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	return cmd
}

func (m *Main) runsShowCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "show ID [--format table|json|csv]",
		Short: "Print a finished run's report again, as audit printed it",
		Long: `Prints a finished run's report again, exactly as audit printed it when the run was
made: its findings, each new or persisting against the run before it of the same
scope, and the findings that run no longer has (resolved).`,
		Example: `  mpass-audit runs show 42
  mpass-audit runs show 42 --format json > run-42.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			out, err := output.Get(format)
			if err != nil {
				return err
			}
			id, err := parseRunID(args[0])
			if err != nil {
				return err
			}
			a, err := m.auditor(ctx)
			if err != nil {
				return err
			}
			view, err := a.View(ctx, id, nil)
			if mpass.ErrorCode(err) == mpass.ENOTFOUND {
				return mpass.Errorf(mpass.ENOTFOUND, "run %d not found, or not finished (see runs list)", id)
			} else if err != nil {
				return err
			}
			return out.Output(m.Stdout, view)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "table, json or csv")
	return cmd
}

// diffGroup counts the findings of one term, rule and SP by change.
type diffGroup struct {
	Term       string `json:"policy"`
	Rule       string `json:"rule"`
	SP         string `json:"sp"`
	New        int64  `json:"new"`
	Resolved   int64  `json:"resolved"`
	Persisting int64  `json:"persisting"`
}

func (g *diffGroup) add(change string) {
	switch change {
	case sqlite.DiffNew:
		g.New++
	case sqlite.DiffResolved:
		g.Resolved++
	case sqlite.DiffPersisting:
		g.Persisting++
	}
}

// diffFinding is one finding of `runs diff --format json`.
type diffFinding struct {
	Change     string `json:"change"`
	Finding    string `json:"finding"`
	Run        int64  `json:"run"`
	Term       string `json:"policy"`
	Rule       string `json:"rule"`
	Result     string `json:"result"`
	Severity   string `json:"severity"`
	SP         string `json:"sp"`
	Controller string `json:"controller"`
	Record     string `json:"record"`
	Kind       string `json:"kind"`
	Attribute  string `json:"attribute,omitempty"`
}

func (m *Main) runsDiffCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "diff A B [--format table|json|csv]",
		Short: "What two finished runs differ in: findings new in B, resolved (in A, not B) and persisting",
		Long: `Compares two finished runs by the findings' stable ids (record, term, rule and
attribute): new findings are B's only, resolved ones A's only, persisting ones both
runs'. The table counts them by term, rule and SP; JSON lists every finding (B's row
for new and persisting ones, A's for resolved ones) with the counts and a summary; CSV
lists the findings, one row each, with their change.
A is usually the older run; any two runs compare, whatever their scopes.`,
		Example: `  mpass-audit runs diff 41 42
  mpass-audit runs diff 41 42 --format json | jq '.findings[] | select(.change == "new")'
  mpass-audit runs diff 41 42 --format csv > changes.csv`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := checkFormat(format, "table", "json", "csv"); err != nil {
				return err
			}
			var ids [2]int64
			for i, s := range args {
				id, err := parseRunID(s)
				if err != nil {
					return err
				}
				ids[i] = id
			}
			db, err := m.openDB(ctx)
			if err != nil {
				return err
			}
			var runs [2]*mpass.Run
			for i, id := range ids {
				r, err := db.FindRun(ctx, id)
				if err != nil {
					return err
				}
				if r.Status != mpass.RunFinished {
					return mpass.Errorf(mpass.EINVALID, "run %d is %s, not finished: only finished runs compare", id, r.Status)
				}
				runs[i] = r
			}
			switch format {
			case "json":
				return writeDiffJSON(ctx, m.Stdout, db, runs)
			case "csv":
				return writeDiffCSV(ctx, m.Stdout, db, runs)
			}
			return writeDiffTable(ctx, m.Stdout, db, runs)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "table, json or csv")
	return cmd
}

// writeDiffCSV streams the findings two runs differ in (and share), one row each with
// its change, every cell formula-safe.
func writeDiffCSV(ctx context.Context, w io.Writer, db *sqlite.DB, runs [2]*mpass.Run) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"change", "finding", "run", "policy", "rule", "result", "severity", "sp", "controller", "record", "kind", "attribute"})
	err := db.DiffFindings(ctx, runs[0].ID, runs[1].ID, func(change string, f *mpass.Finding) error {
		return cw.Write(output.SafeCSV([]string{change, f.ID, strconv.FormatInt(f.RunID, 10), f.Term, f.Rule, f.Result, f.Severity,
			f.SP, f.Controller, f.Record, string(f.Kind), f.Attribute}))
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// diffGroups adds a finding to its term, rule and SP's group, keeping first-seen order.
type diffGroups struct {
	order []*diffGroup
	index map[[3]string]*diffGroup
	sum   diffGroup
}

func (d *diffGroups) add(change string, f *mpass.Finding) {
	if d.index == nil {
		d.index = map[[3]string]*diffGroup{}
	}
	k := [3]string{f.Term, f.Rule, f.SP}
	g := d.index[k]
	if g == nil {
		g = &diffGroup{Term: f.Term, Rule: f.Rule, SP: f.SP}
		d.index[k] = g
		d.order = append(d.order, g)
	}
	g.add(change)
	d.sum.add(change)
}

// sorted is the groups in term, rule, SP order.
func (d *diffGroups) sorted() []*diffGroup {
	out := append([]*diffGroup{}, d.order...) // [] in JSON when there are none
	slices.SortFunc(out, func(a, b *diffGroup) int {
		return cmp.Or(cmp.Compare(a.Term, b.Term), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.SP, b.SP))
	})
	return out
}

func writeDiffTable(ctx context.Context, w io.Writer, db *sqlite.DB, runs [2]*mpass.Run) error {
	var d diffGroups
	if err := db.DiffFindings(ctx, runs[0].ID, runs[1].ID, func(change string, f *mpass.Finding) error {
		d.add(change, f)
		return nil
	}); err != nil {
		return err
	}
	fmt.Fprintf(w, "Run %d → run %d: %d new, %d resolved, %d persisting\n", runs[0].ID, runs[1].ID, d.sum.New, d.sum.Resolved, d.sum.Persisting)
	if runs[0].Scope != runs[1].Scope {
		fmt.Fprintf(w, "(the runs' scopes differ: %s and %s)\n", scopeText(runs[0].Scope), scopeText(runs[1].Scope))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "POLICY\tRULE\tSP\tNEW\tRESOLVED\tPERSISTING")
	for _, g := range d.sorted() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\n", mpass.Printable(g.Term), mpass.Printable(g.Rule), mpass.Printable(cmp.Or(g.SP, "-")), g.New, g.Resolved, g.Persisting)
	}
	return tw.Flush()
}

func scopeText(s mpass.Scope) string {
	return fmt.Sprintf("controller %s, %s..%s", mpass.Printable(cmp.Or(s.Controller, "all")), cmp.Or(s.From, "*"), cmp.Or(s.To, "*"))
}

// writeDiffJSON streams the findings, then the groups and the summary, so a national
// diff is never held whole.
func writeDiffJSON(ctx context.Context, w io.Writer, db *sqlite.DB, runs [2]*mpass.Run) error {
	head, err := json.Marshal(map[string]any{"a": runs[0], "b": runs[1]})
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "{%s,\n\"findings\": [", head[1:len(head)-1]); err != nil {
		return err
	}
	var d diffGroups
	sep := "\n"
	err = db.DiffFindings(ctx, runs[0].ID, runs[1].ID, func(change string, f *mpass.Finding) error {
		d.add(change, f)
		b, err := json.Marshal(diffFinding{Change: change, Finding: f.ID, Run: f.RunID, Term: f.Term, Rule: f.Rule, Result: f.Result, Severity: f.Severity,
			SP: f.SP, Controller: f.Controller, Record: f.Record, Kind: string(f.Kind), Attribute: f.Attribute})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s  %s", sep, b)
		sep = ",\n"
		return err
	})
	if err != nil {
		return err
	}
	tail, err := json.Marshal(map[string]any{
		"summary": map[string]int64{"new": d.sum.New, "resolved": d.sum.Resolved, "persisting": d.sum.Persisting},
		"groups":  d.sorted(),
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "\n],\n%s}\n", tail[1:len(tail)-1])
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (m *Main) rejectionsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:         "rejections",
		Short:       "The input lines ingest rejected",
		Annotations: readOnlyCommand(),
	}
	var format, source string
	list := &cobra.Command{
		Use:   "list [--source FILE] [--format table|json|csv]",
		Short: "List the rejected input lines: source, line, field, reason, when (never the line's text)",
		Long: `Lists the rejected input lines in source and line order: the source (the file name
as given to ingest, - for stdin), the line, the field, the reason and when it was
rejected (UTC). The store never keeps a rejected line's text, which may hold the very
data the auditor must not keep; at most 100,000 rejections are kept (purge makes room).`,
		Example: `  mpass-audit rejections list
  mpass-audit rejections list --source releases-2026-10.jsonl --format csv > rejected.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format, "table", "json", "csv"); err != nil {
				return err
			}
			db, err := m.openDB(cmd.Context())
			if err != nil {
				return err
			}
			return writeRejections(m.Stdout, format, func(fn func(sqlite.StoredRejection) error) error {
				return db.ListRejections(cmd.Context(), source, fn)
			})
		},
	}
	list.Flags().StringVar(&source, "source", "", "only the lines of this source (a file name as given to ingest, - for stdin)")
	list.Flags().StringVar(&format, "format", "table", "table, json or csv")
	cmd.AddCommand(list)
	return cmd
}

// rejectionListing is one rejection in `rejections list --format json`.
type rejectionListing struct {
	Source   string `json:"source"`
	Line     int    `json:"line"`
	Field    string `json:"field"`
	Reason   string `json:"reason"`
	Rejected string `json:"rejected"`
}

func writeRejections(w io.Writer, format string, each func(func(sqlite.StoredRejection) error) error) error {
	switch format {
	case "json":
		if _, err := io.WriteString(w, `{"rejections": [`); err != nil {
			return err
		}
		sep := "\n"
		if err := each(func(r sqlite.StoredRejection) error {
			b, err := json.Marshal(rejectionListing{r.Source, r.Line, r.Field, r.Reason, formatTime(r.Rejected)})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(w, "%s  %s", sep, b)
			sep = ",\n"
			return err
		}); err != nil {
			return err
		}
		_, err := io.WriteString(w, "\n]}\n")
		return err
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write([]string{"source", "line", "field", "reason", "rejected"})
		if err := each(func(r sqlite.StoredRejection) error {
			return cw.Write(output.SafeCSV([]string{r.Source, strconv.Itoa(r.Line), r.Field, r.Reason, formatTime(r.Rejected)}))
		}); err != nil {
			return err
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tLINE\tFIELD\tREASON\tREJECTED")
	n := 0
	if err := each(func(r sqlite.StoredRejection) error {
		n++
		_, err := fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", mpass.Printable(r.Source), r.Line, mpass.Printable(cmp.Or(r.Field, "-")), mpass.Printable(r.Reason), formatTime(r.Rejected))
		return err
	}); err != nil {
		return err
	}
	if n == 0 {
		fmt.Fprintln(tw, "(no rejected lines)")
	}
	return tw.Flush()
}
