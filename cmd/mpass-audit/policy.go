package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"

	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/spf13/cobra"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/policy"
)

func (m *Main) policyCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Work with the Rego policies in use"}
	var format string
	test := &cobra.Command{
		Use:   "test",
		Short: "Run the Rego unit tests of the policies in use (built-in or --policy)",
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := m.openEngine(cmd.Context())
			if err != nil {
				return err
			}
			results, err := e.Test(cmd.Context())
			if err != nil {
				return err
			}
			failed := 0
			for _, r := range results {
				if r.Fail || r.Error != nil {
					failed++
				}
			}
			switch format {
			case "text":
				err = writeTestText(m.Stdout, results)
			case "json":
				enc := json.NewEncoder(m.Stdout)
				enc.SetIndent("", "  ")
				err = enc.Encode(results)
			case "junit":
				err = writeJUnit(m.Stdout, e.Source, results)
			default:
				return mpass.Errorf(mpass.EINVALID, "--format %q: text, json or junit", format)
			}
			if err != nil {
				return err
			}
			if failed > 0 {
				m.exit = exitFindings
			}
			return nil
		},
	}
	test.Flags().StringVar(&format, "format", "text", "text, json or junit")
	cmd.AddCommand(test, m.termsCommand())
	return cmd
}

func (m *Main) termsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "terms",
		Short: "Print the term catalog read from the policies' METADATA (JSON)",
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := m.openEngine(cmd.Context())
			if err != nil {
				return err
			}
			enc := json.NewEncoder(m.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(map[string]any{"source": e.Source, "digest": e.Digest, "terms": e.Terms()})
		},
	}
}

// writeTestText writes each test that did not pass on a line of its own (where it is,
// its package and name, why), then the summary once.
func writeTestText(w io.Writer, results []*tester.Result) error {
	passed, failed, errored, skipped := 0, 0, 0, 0
	for _, r := range results {
		outcome := ""
		switch {
		case r.Error != nil:
			errored++
			outcome = "ERROR"
		case r.Fail:
			failed++
			outcome = "FAIL"
		case r.Skip:
			skipped++
			continue
		default:
			passed++
			continue
		}
		where := ""
		if r.Location != nil {
			where = fmt.Sprintf("%s:%d: ", r.Location.File, r.Location.Row)
		}
		if _, err := fmt.Fprintf(w, "%s%s %s.%s: %s\n", where, outcome, r.Package, r.Name, mpass.Printable(policy.FailureMessage(r))); err != nil {
			return err
		}
	}
	summary := fmt.Sprintf("%d passed, %d failed", passed, failed+errored)
	if errored > 0 {
		summary += fmt.Sprintf(" (%d with an error)", errored)
	}
	if skipped > 0 {
		summary += fmt.Sprintf(", %d skipped", skipped)
	}
	_, err := fmt.Fprintln(w, summary)
	return err
}

// writeJUnit writes the results as a JUnit XML report for CI systems, in the order
// they come (policy.Engine.Test sorts them by package and test name): each test case
// names its package (classname), test and file:line; a failure or error carries the
// message of policy.FailureMessage ("failed at FILE:LINE: EXPR", or the error).
func writeJUnit(w io.Writer, source string, results []*tester.Result) error {
	type failure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr,omitempty"`
		Text    string `xml:",chardata"`
	}
	type skipped struct{}
	type testcase struct {
		Name      string   `xml:"name,attr"`
		Classname string   `xml:"classname,attr"`
		File      string   `xml:"file,attr,omitempty"`
		Time      float64  `xml:"time,attr"`
		Failure   *failure `xml:"failure,omitempty"`
		Error     *failure `xml:"error,omitempty"`
		Skipped   *skipped `xml:"skipped,omitempty"`
	}
	type suite struct {
		XMLName  xml.Name   `xml:"testsuite"`
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Errors   int        `xml:"errors,attr"`
		Skipped  int        `xml:"skipped,attr"`
		Cases    []testcase `xml:"testcase"`
	}
	s := suite{Name: "mpass-audit policies (" + source + ")", Tests: len(results)}
	for _, r := range results {
		c := testcase{Name: r.Name, Classname: r.Package, Time: r.Duration.Seconds()}
		if r.Location != nil {
			c.File = fmt.Sprintf("%s:%d", r.Location.File, r.Location.Row)
		}
		msg := policy.FailureMessage(r)
		switch {
		case r.Error != nil:
			c.Error = &failure{Message: msg, Type: "error", Text: r.Package + "." + r.Name + ": " + msg}
			s.Errors++
		case r.Fail:
			c.Failure = &failure{Message: msg, Type: "failure", Text: r.Package + "." + r.Name + ": " + msg}
			s.Failures++
		case r.Skip:
			c.Skipped = &skipped{}
			s.Skipped++
		}
		s.Cases = append(s.Cases, c)
	}
	io.WriteString(w, xml.Header)
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(s); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
