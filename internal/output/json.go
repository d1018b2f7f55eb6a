package output

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// JSON writes the OpenReports (wgpolicyk8s) shape of INTERFACE.md, streaming results.
type JSON struct{}

type jsonRun struct {
	ID              int64  `json:"id"`
	Started         string `json:"started"`
	Finished        string `json:"finished"`
	Controller      string `json:"controller"`
	From            string `json:"from"`
	To              string `json:"to"`
	PolicyDigest    string `json:"policy_digest"`
	RegistryVersion int    `json:"registry_version"`
	Previous        int64  `json:"previous,omitempty"`
}

type timestamp struct {
	Seconds int64 `json:"seconds"`
	Nanos   int   `json:"nanos"`
}

type jsonResult struct {
	Policy     string            `json:"policy"`
	Rule       string            `json:"rule"`
	Result     string            `json:"result"`
	Severity   string            `json:"severity"`
	Category   string            `json:"category"`
	Message    string            `json:"message"`
	Timestamp  timestamp         `json:"timestamp"`
	Properties map[string]string `json:"properties"`
}

// jsonTerm is one term's verdict in the run (README "audit --format json"): verdict
// fail | warn | compliant | no-records; judged, the records it judged, is left out
// where it is not known.
type jsonTerm struct {
	Policy  string `json:"policy"`
	Verdict string `json:"verdict"`
	Judged  *int64 `json:"judged,omitempty"`
}

// jsonBucket is the bucket of uses whose controller could not be found.
type jsonBucket struct {
	Label   string        `json:"label"`
	Uses    int64         `json:"uses"`
	Summary mpass.Summary `json:"summary"`
}

const rfc3339 = "2006-01-02T15:04:05Z07:00"

func (JSON) Output(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	byTerm, _, err := countTerms(r)
	if err != nil {
		return err
	}
	var terms []jsonTerm
	for _, v := range r.verdicts(byTerm) {
		t := jsonTerm{Policy: v.Term, Verdict: v.Verdict}
		if v.Judged >= 0 {
			t.Judged = &v.Judged
		}
		terms = append(terms, t)
	}
	var unknown *jsonBucket
	if u := r.ControllerUnknown; u != nil {
		unknown = &jsonBucket{Label: ControllerUnknownLabel, Uses: u.Uses, Summary: u.Summary}
	}
	head := struct {
		APIVersion        string            `json:"apiVersion"`
		Kind              string            `json:"kind"`
		Metadata          map[string]string `json:"metadata"`
		Source            string            `json:"source"`
		Run               jsonRun           `json:"run"`
		Summary           mpass.Summary     `json:"summary"`
		Terms             []jsonTerm        `json:"terms"`
		ControllerUnknown *jsonBucket       `json:"controller_unknown,omitempty"`
	}{
		APIVersion: "openreports.io/v1alpha1", Kind: "Report",
		Metadata: map[string]string{"name": "audit-" + itoa(r.Run.ID)}, Source: "mpass-audit",
		Run: jsonRun{ID: r.Run.ID, Started: r.Run.Started.Format(rfc3339), Controller: r.Run.Controller,
			From: r.Run.From, To: r.Run.To, PolicyDigest: r.Run.PolicyDigest, RegistryVersion: r.Run.RegistryVersion, Previous: r.Run.Previous},
		Summary: r.Summary, Terms: terms, ControllerUnknown: unknown,
	}
	if !r.Run.Finished.IsZero() {
		head.Run.Finished = r.Run.Finished.Format(rfc3339)
	}
	b, err := json.MarshalIndent(head, "", "  ")
	if err != nil {
		return err
	}
	bw.Write(b[:len(b)-2]) // reopen the object: results and resolved follow
	if err := writeArray(bw, "results", r.Findings, func(f *mpass.Finding) any { return result(r, f) }); err != nil {
		return err
	}
	if r.Paged {
		next := []byte("null")
		if r.Next != "" {
			next, _ = json.Marshal(r.Next) // a string always marshals
		}
		bw.WriteString(",\n  \"next\": ")
		bw.Write(next)
	}
	resolved := r.Resolved
	if resolved == nil {
		resolved = noResolved
	}
	if err := writeArray(bw, "resolved", resolved, func(f *mpass.Finding) any {
		return map[string]string{"finding": f.ID, "policy": f.Term, "rule": f.Rule, "record": f.Record,
			"sp": f.SP, "controller": f.Controller, "attribute": f.Attribute, "result": f.Result}
	}); err != nil {
		return err
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

func writeArray(bw *bufio.Writer, name string, each func(func(*mpass.Finding) error) error, conv func(*mpass.Finding) any) error {
	bw.WriteString(",\n  \"" + name + "\": [")
	n := 0
	err := each(func(f *mpass.Finding) error {
		b, err := json.Marshal(conv(f))
		if err != nil {
			return err
		}
		if n > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n    ")
		bw.Write(b)
		n++
		return nil
	})
	if n > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]")
	return err
}

func result(r *Report, f *mpass.Finding) jsonResult {
	props := map[string]string{
		"record": f.Record, "kind": string(f.Kind), "sp": f.SP, "controller": f.Controller,
		"attribute": f.Attribute, "finding": f.ID, "change": f.Change, "subject": f.Subject,
	}
	for k, v := range map[string]string{"fingerprint": f.Fingerprint, "exception": f.Exception, "exception_not_applied": f.ExceptionNotApplied, "purpose": f.Purpose} {
		if v != "" {
			props[k] = v
		}
	}
	return jsonResult{
		Policy: f.Term, Rule: f.Rule, Result: f.Result, Severity: f.Severity, Category: r.Term(f.Term).Category,
		Message: f.Message, Timestamp: timestamp{Seconds: f.Time.Unix(), Nanos: f.Time.Nanosecond()}, Properties: props,
	}
}
