package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/opetushallitus/mpass-audit/internal/audit"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/output"
)

// statsCommand answers the questions OPH asks of the data (issue 15): releases per
// attribute, SP and month, and how often the learner number and the e-mail address go
// to each SP.
func (m *Main) statsCommand() *cobra.Command {
	var scope mpass.Scope
	var by, format string
	cmd := &cobra.Command{
		Use:   "stats [--controller OID] [--from DATE] [--to DATE] [--by attribute,sp,month] [--format table|json|csv]",
		Short: "Release counts per attribute, SP and month; the learner number's and e-mail's share per controller and SP",
		Long: `Counts the stored releases of the scope grouped by --by (any of attribute, controller,
sp, month; month is the UTC month), computed in SQL over the stored rows, and per
controller and SP how many releases carried the learner number (oppijanumero,
urn:oid:1.3.6.1.4.1.16161.1.1.27) and the e-mail address (mail): the numbers behind the
decision whether e-mail joins the data model. A release carries an attribute when the
log named it, with or without values. CSV lists the grouped counts; table and JSON also
the shares.`,
		Example: `  mpass-audit stats --by attribute
  mpass-audit stats --controller 1.2.246.562.10.44444444440 --from 2026-10-01 --to 2026-10-31 --by sp,month
  mpass-audit stats --by attribute,month --format csv > releases.csv`,
		Annotations: readOnlyCommand(),
		Args:        cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format, "table", "json", "csv"); err != nil {
				return err
			}
			var dims []string
			for _, d := range strings.Split(by, ",") {
				if d = strings.TrimSpace(d); d != "" {
					dims = append(dims, d)
				}
			}
			a, err := m.auditor(cmd.Context())
			if err != nil {
				return err
			}
			st, err := a.Stats(cmd.Context(), scope, dims)
			if err != nil {
				return err
			}
			switch format {
			case "json":
				return writeJSON(m.Stdout, st)
			case "csv":
				return writeStatsCSV(m.Stdout, st)
			}
			return writeStatsTable(m.Stdout, st)
		},
	}
	f := cmd.Flags()
	f.StringVar(&scope.Controller, "controller", "", "one controller's releases (OID)")
	f.StringVar(&scope.From, "from", "", "first day (YYYY-MM-DD, UTC)")
	f.StringVar(&scope.To, "to", "", "last day (YYYY-MM-DD, UTC)")
	f.StringVar(&by, "by", "attribute", "group by: attribute, controller, sp, month (comma-separated)")
	f.StringVar(&format, "format", "table", "table, json or csv")
	return cmd
}

// statsColumns are the grouped dimensions' columns, in StatsDimensions order.
func statsColumns(st *audit.Stats) []string {
	var cols []string
	for _, d := range audit.StatsDimensions {
		for _, b := range st.By {
			if b == d {
				cols = append(cols, d)
			}
		}
	}
	return cols
}

func statsCell(r audit.StatsRow, col string) string {
	switch col {
	case "attribute":
		return r.Attribute
	case "controller":
		return r.Controller
	case "sp":
		return r.SP
	}
	return r.Month
}

func writeStatsCSV(w io.Writer, st *audit.Stats) error {
	cw := csv.NewWriter(w)
	cols := statsColumns(st)
	cw.Write(append(cols, "releases"))
	for _, r := range st.Rows {
		row := make([]string, 0, len(cols)+1)
		for _, c := range cols {
			row = append(row, statsCell(r, c))
		}
		cw.Write(output.SafeCSV(append(row, strconv.FormatInt(r.Releases, 10))))
	}
	cw.Flush()
	return cw.Error()
}

func percent(n, of int64) string {
	if of == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f %%", 100*float64(n)/float64(of))
}

func writeStatsTable(w io.Writer, st *audit.Stats) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	cols := statsColumns(st)
	for _, c := range cols {
		fmt.Fprintf(tw, "%s\t", strings.ToUpper(c))
	}
	fmt.Fprintln(tw, "RELEASES\t")
	for _, r := range st.Rows {
		for _, c := range cols {
			fmt.Fprintf(tw, "%s\t", mpass.Printable(statsCell(r, c)))
		}
		fmt.Fprintf(tw, "%d\t\n", r.Releases)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "CONTROLLER\tSERVICE PROVIDER\tRELEASES\tLEARNER NUMBER\tE-MAIL\t")
	for _, s := range st.Shares {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d (%s)\t%d (%s)\t\n", mpass.Printable(s.Controller), mpass.Printable(s.SP), s.Releases,
			s.LearnerNumber, percent(s.LearnerNumber, s.Releases), s.Email, percent(s.Email, s.Releases))
	}
	return tw.Flush()
}
