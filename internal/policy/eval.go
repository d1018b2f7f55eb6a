package policy

import (
	"context"
	"fmt"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// Decision is one result the policies give for one record. It carries nothing of the
// record itself, so one decision may stand for every record of the same shape.
type Decision struct {
	Term                string `json:"term"`
	Rule                string `json:"rule"`
	Severity            string `json:"severity"`
	Result              string `json:"result"`
	Attribute           string `json:"attribute"`
	Message             string `json:"message"`
	Exception           string `json:"exception,omitempty"`
	ExceptionNotApplied string `json:"exception_not_applied,omitempty"`
}

// Prepared is the audit query prepared against one registry version.
type Prepared struct {
	q       rego.PreparedEvalQuery
	timeout time.Duration
}

// Prepare compiles the audit query once with the registry as data.registry.
func (e *Engine) Prepare(ctx context.Context, reg *mpass.Registry) (*Prepared, error) {
	q, err := rego.New(
		rego.Query(Query),
		rego.Compiler(e.compiler),
		rego.Capabilities(e.caps),
		rego.Store(e.store(RegistryData(reg))),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", Query, err)
	}
	return &Prepared{q: q, timeout: e.limits.EvalTimeout}, nil
}

// Eval evaluates the policies for one input document (see Input) within the
// evaluation deadline; the heap is guarded by the run's context (Engine.Guard). Safe
// for concurrent use.
func (p *Prepared) Eval(ctx context.Context, input ast.Value) ([]Decision, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, p.timeout, limitErrorf("one evaluation of %s ran longer than %s", Query, p.timeout))
	defer cancel()
	rs, err := p.q.Eval(ctx, rego.EvalParsedInput(input))
	if err = stopped(ctx, err); err != nil {
		return nil, fmt.Errorf("policy evaluation: %w", err)
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, nil
	}
	list, ok := rs[0].Expressions[0].Value.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: not a set of findings", Query)
	}
	out := make([]Decision, 0, len(list))
	for _, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: a finding is not an object", Query)
		}
		str := func(k string) string { s, _ := m[k].(string); return s }
		d := Decision{Term: str("term"), Rule: str("rule"), Severity: str("severity"), Result: str("result"),
			Attribute: str("attribute"), Message: str("message"), Exception: str("exception"), ExceptionNotApplied: str("exception_not_applied")}
		if d.Term == "" || d.Rule == "" || d.Result == "" {
			return nil, fmt.Errorf("%s: a finding lacks term, rule or result: %v", Query, m)
		}
		out = append(out, d)
	}
	return out, nil
}

// RegistryData is the registry as the policies see it (data.registry).
func RegistryData(r *mpass.Registry) map[string]any {
	sps := map[string]any{}
	for _, sp := range r.ServiceProviders {
		sps[sp.ID] = map[string]any{
			"name": sp.Name, "commercial": sp.Commercial, "valid": rangeData(sp.Valid),
			"attributes": anyList(sp.Attributes), "purposes": anyList(sp.Purposes),
		}
	}
	agreements := map[string]any{}
	for _, a := range r.Agreements {
		bySP, _ := agreements[a.Controller].(map[string]any)
		if bySP == nil {
			bySP = map[string]any{}
			agreements[a.Controller] = bySP
		}
		list, _ := bySP[a.SP].([]any)
		bySP[a.SP] = append(list, map[string]any{
			"valid": rangeData(a.Valid), "attributes": anyList(a.Attributes), "purposes": anyList(a.Purposes),
		})
	}
	exceptions := make([]any, 0, len(r.Exceptions))
	for _, e := range r.Exceptions {
		exceptions = append(exceptions, map[string]any{
			"id": e.ID, "term": e.Term, "rule": e.Rule, "sp": e.SP, "controller": e.Controller,
			"attribute": e.Attribute, "reason": e.Reason, "expires": e.Expires,
		})
	}
	// permissions: controller → SP → [{from, to}] in UTC nanoseconds (to absent: still
	// allowed); permission_data: the controllers whose allowed services were loaded
	permissions, withData := map[string]any{}, map[string]any{}
	for _, c := range r.Controllers {
		if c.PermissionData {
			withData[c.OID] = true
		}
	}
	for _, p := range r.Permissions {
		bySP, _ := permissions[p.Controller].(map[string]any)
		if bySP == nil {
			bySP = map[string]any{}
			permissions[p.Controller] = bySP
		}
		window := map[string]any{"from": p.From.UnixNano()}
		if p.To != nil {
			window["to"] = p.To.UnixNano()
		}
		list, _ := bySP[p.SP].([]any)
		bySP[p.SP] = append(list, window)
	}
	return map[string]any{"service_providers": sps, "agreements": agreements, "exceptions": exceptions,
		"permissions": permissions, "permission_data": withData}
}

func rangeData(r mpass.DateRange) map[string]any {
	m := map[string]any{}
	if r.From != "" {
		m["from"] = r.From
	}
	if r.To != "" {
		m["to"] = r.To
	}
	return m
}

func anyList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// Input is the document the policies judge for one record: its facts, what all of its
// subject's releases to the SP say of the role, and (for a use) the subject's consents
// at that SP. It holds neither the record id nor the subject.
func Input(r *mpass.Record, consents []mpass.Consent) ast.Value {
	attrs := ast.NewObject()
	for name, a := range r.Attributes {
		attrs.Insert(ast.StringTerm(name), ast.NewTerm(factsValue(r.Kind, a)))
	}
	obj := ast.NewObject(
		ast.Item(ast.StringTerm("kind"), ast.StringTerm(string(r.Kind))),
		ast.Item(ast.StringTerm("time"), ast.StringTerm(r.Time.UTC().Format(time.RFC3339Nano))),
		ast.Item(ast.StringTerm("sp"), ast.StringTerm(r.SP)),
		ast.Item(ast.StringTerm("controller"), ast.StringTerm(r.Controller)),
		ast.Item(ast.StringTerm("subject"), ast.ObjectTerm(
			ast.Item(ast.StringTerm("learner"), ast.BooleanTerm(r.SubjectRole.Learner)),
			ast.Item(ast.StringTerm("role_known"), ast.BooleanTerm(r.SubjectRole.RoleKnown)),
		)),
		ast.Item(ast.StringTerm("attributes"), ast.NewTerm(attrs)),
	)
	if r.Kind == mpass.KindUse {
		obj.Insert(ast.StringTerm("purpose"), ast.StringTerm(r.Purpose))
		list := make([]*ast.Term, 0, len(consents))
		for _, c := range consents {
			withdrawn := ast.NullTerm()
			if c.Withdrawn != nil {
				withdrawn = ast.StringTerm(c.Withdrawn.UTC().Format(time.RFC3339Nano))
			}
			list = append(list, ast.ObjectTerm(
				ast.Item(ast.StringTerm("purpose"), ast.StringTerm(c.Purpose)),
				ast.Item(ast.StringTerm("given_by"), ast.StringTerm(c.GivenBy)),
				ast.Item(ast.StringTerm("given"), ast.StringTerm(c.Given.UTC().Format(time.RFC3339Nano))),
				ast.Item(ast.StringTerm("withdrawn"), withdrawn),
			))
		}
		obj.Insert(ast.StringTerm("consents"), ast.ArrayTerm(list...))
	}
	return obj
}

func factsValue(kind mpass.Kind, a mpass.AttributeFacts) ast.Value {
	o := ast.NewObject(ast.Item(ast.StringTerm("values"), ast.BooleanTerm(a.Values)))
	if kind == mpass.KindUse {
		return o
	}
	if a.IdentityCode {
		o.Insert(ast.StringTerm("identity_code"), ast.BooleanTerm(true))
	}
	if a.DateOfBirth {
		o.Insert(ast.StringTerm("dob"), ast.BooleanTerm(true))
	}
	if len(a.Years) > 0 {
		years := make([]*ast.Term, len(a.Years))
		for i, y := range a.Years {
			years[i] = ast.IntNumberTerm(y)
		}
		o.Insert(ast.StringTerm("years"), ast.ArrayTerm(years...))
	}
	if a.Grade != "" {
		o.Insert(ast.StringTerm("grade"), ast.StringTerm(a.Grade))
	}
	if len(a.Roles) > 0 {
		roles := make([]*ast.Term, len(a.Roles))
		for i, r := range a.Roles {
			roles[i] = ast.ObjectTerm(
				ast.Item(ast.StringTerm("class_grade"), ast.BooleanTerm(r.ClassGrade)),
				ast.Item(ast.StringTerm("name"), ast.StringTerm(r.Name)),
				ast.Item(ast.StringTerm("code"), ast.StringTerm(r.Code)),
			)
		}
		o.Insert(ast.StringTerm("roles"), ast.ArrayTerm(roles...))
	}
	return o
}
