package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"

	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/spf13/cobra"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
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
				if !r.Pass() {
					failed++
				}
			}
			switch format {
			case "text":
				err = tester.PrettyReporter{Output: m.Stdout, Verbose: false}.Report(channel(results))
				fmt.Fprintf(m.Stdout, "%d passed, %d failed\n", len(results)-failed, failed)
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

func channel(results []*tester.Result) chan *tester.Result {
	ch := make(chan *tester.Result, len(results))
	for _, r := range results {
		ch <- r
	}
	close(ch)
	return ch
}

// writeJUnit writes the results as a JUnit XML report for CI systems.
func writeJUnit(w io.Writer, source string, results []*tester.Result) error {
	type failure struct {
		Message string `xml:"message,attr"`
	}
	type testcase struct {
		Name      string   `xml:"name,attr"`
		Classname string   `xml:"classname,attr"`
		Time      float64  `xml:"time,attr"`
		Failure   *failure `xml:"failure,omitempty"`
		Error     *failure `xml:"error,omitempty"`
	}
	type suite struct {
		XMLName  xml.Name   `xml:"testsuite"`
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Errors   int        `xml:"errors,attr"`
		Cases    []testcase `xml:"testcase"`
	}
	s := suite{Name: "mpass-audit policies (" + source + ")", Tests: len(results)}
	for _, r := range results {
		c := testcase{Name: r.Name, Classname: r.Package, Time: r.Duration.Seconds()}
		if r.Error != nil {
			c.Error = &failure{Message: r.Error.Error()}
			s.Errors++
		} else if r.Fail {
			c.Failure = &failure{Message: "test failed"}
			s.Failures++
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
