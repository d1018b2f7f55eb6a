// Package policy wraps OPA: it loads the Rego policies (built in, a directory or an OPA
// bundle), reads the term catalog from their METADATA, prepares the audit query once
// per run and runs the policies' own unit tests.
package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	builtin "github.com/opetushallitus/mpass-audit/rego"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// Query is the entry point every policy set provides.
const Query = "data.mpass.main.results"

// Engine is a compiled policy set.
type Engine struct {
	// Source says where the policies came from ("built-in", a directory or a bundle).
	Source string
	// Digest is a SHA-256 over the policy modules and data, recorded with every audit.
	Digest string

	modules  map[string]*ast.Module // without tests
	tests    map[string]*ast.Module // tests only
	data     map[string]any         // bundle data, if any
	compiler *ast.Compiler
	caps     *ast.Capabilities
	limits   Limits
	terms    []mpass.Term
	// dayDecisions: the policies promise (data.mpass.main METADATA custom.decision_time:
	// day) that a decision depends on time only through the day and the year.
	dayDecisions bool
	// attributeFacts: the fields of an attribute's facts the policies promise to read
	// (custom.attribute_facts of the same METADATA); nil when they promise nothing.
	attributeFacts map[string]bool
}

// DayDecisions reports whether decisions may be reused across records of one shape
// whose days fall between the same registry dates (see main.rego).
func (e *Engine) DayDecisions() bool { return e.dayDecisions }

// factFields are the fields of an attribute's facts as the policies see them
// (input.attributes[name]), in the words custom.attribute_facts lists them with.
var factFields = []string{"values", "identity_code", "dob", "years", "grade", "roles", "roles.class_grade", "roles.name", "roles.code"}

// readAttributeFacts reads the attribute_facts promise: a list of factFields.
func readAttributeFacts(v any) (map[string]bool, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%v: not a list of fact fields (%s)", v, strings.Join(factFields, ", "))
	}
	fields := map[string]bool{}
	for _, x := range list {
		f, _ := x.(string)
		if !slices.Contains(factFields, f) {
			return nil, fmt.Errorf("%v: not a fact field (%s)", x, strings.Join(factFields, ", "))
		}
		fields[f] = true
	}
	return fields, nil
}

// FactsClass is what the policies can tell of a record's attributes under their
// attribute_facts promise (see main.rego): the attribute names, each with its facts cut
// down to the fields promised, as a canonical string (JSON, names sorted). Records
// alike in all else whose attributes give one class get the same decisions. A role
// list keeps its length when any roles field is promised, and is dropped when none is.
// ok is false when the policies promise nothing: then every fact counts.
func (e *Engine) FactsClass(attrs map[string]mpass.AttributeFacts) (class string, ok bool) {
	f := e.attributeFacts
	if f == nil {
		return "", false
	}
	anyRole := f["roles"] || f["roles.class_grade"] || f["roles.name"] || f["roles.code"]
	cut := make(map[string]mpass.AttributeFacts, len(attrs))
	for name, a := range attrs {
		var c mpass.AttributeFacts
		if f["values"] {
			c.Values = a.Values
		}
		if f["identity_code"] {
			c.IdentityCode = a.IdentityCode
		}
		if f["dob"] {
			c.DateOfBirth = a.DateOfBirth
		}
		if f["years"] {
			c.Years = a.Years
		}
		if f["grade"] {
			c.Grade = a.Grade
		}
		if anyRole && len(a.Roles) > 0 {
			c.Roles = make([]mpass.Role, len(a.Roles))
			for i, r := range a.Roles {
				if f["roles"] {
					c.Roles[i] = r
					continue
				}
				if f["roles.class_grade"] {
					c.Roles[i].ClassGrade = r.ClassGrade
				}
				if f["roles.name"] {
					c.Roles[i].Name = r.Name
				}
				if f["roles.code"] {
					c.Roles[i].Code = r.Code
				}
			}
		}
		cut[name] = c
	}
	b, err := json.Marshal(cut) // a map's keys sorted; cannot fail for these types
	if err != nil {
		return "", false
	}
	return string(b), true
}

// Option configures Load.
type Option func(*Engine)

// WithLimits sets the limits the policies run under (zero fields keep their defaults).
func WithLimits(l Limits) Option { return func(e *Engine) { e.limits = l.withDefaults() } }

// Load loads the built-in policies (source == "") or those of a directory or an OPA
// bundle (.tar.gz), within the sandbox: files over the size limits, and calls of a
// builtin the capabilities leave out, are refused with the file (and line).
func Load(ctx context.Context, source string, opts ...Option) (*Engine, error) {
	e := &Engine{modules: map[string]*ast.Module{}, tests: map[string]*ast.Module{}, caps: sandboxCapabilities(), limits: Limits{}.withDefaults()}
	for _, o := range opts {
		o(e)
	}
	var files map[string][]byte
	var data map[string]any
	var err error
	switch {
	case source == "":
		files, err = readFS(builtin.FS, e.limits)
		source = "built-in"
	case strings.HasSuffix(source, ".tar.gz") || strings.HasSuffix(source, ".tgz"):
		files, data, err = readBundleFile(source, e.limits)
	default:
		var st os.FileInfo
		if st, err = os.Stat(source); err == nil && !st.IsDir() {
			err = fmt.Errorf("%s: not a directory or an OPA bundle (.tar.gz)", source)
		} else if err == nil {
			files, err = readFS(os.DirFS(source), e.limits)
		}
	}
	if err != nil {
		return nil, mpass.Errorf(mpass.EINVALID, "policy %s: %v", source, err)
	}
	e.Source, e.data = source, data
	h := sha256.New()
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		m, err := ast.ParseModuleWithOpts(name, string(files[name]), ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
		if err != nil {
			return nil, mpass.Errorf(mpass.EINVALID, "policy %s", err)
		}
		if strings.HasSuffix(name, "_test.rego") {
			e.tests[name] = m
			continue
		}
		e.modules[name] = m
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(files[name]))
		h.Write(files[name])
	}
	if len(data) > 0 {
		fmt.Fprintf(h, "data\x00%v", data) // fmt prints maps sorted
	}
	e.Digest = "sha256:" + hex.EncodeToString(h.Sum(nil))

	if err := errors.Join(checkBuiltins(e.modules), checkBuiltins(e.tests)); err != nil {
		return nil, mpass.Errorf(mpass.EINVALID, "policy %s: %v", source, err)
	}
	e.compiler = ast.NewCompiler().WithCapabilities(e.caps).WithEnablePrintStatements(false)
	if e.compiler.Compile(e.modules); e.compiler.Failed() {
		return nil, mpass.Errorf(mpass.EINVALID, "policy %s: %v", source, e.compiler.Errors)
	}
	for _, ref := range e.compiler.GetAnnotationSet().Flatten() {
		if ref.GetPackage() != nil && ref.GetRule() == nil && ref.Path.String() == "data.mpass.main" {
			e.dayDecisions = ref.Annotations.Custom["decision_time"] == "day"
			if e.attributeFacts, err = readAttributeFacts(ref.Annotations.Custom["attribute_facts"]); err != nil {
				return nil, mpass.Errorf(mpass.EINVALID, "policy %s: data.mpass.main METADATA custom.attribute_facts: %v", source, err)
			}
		}
	}
	if e.terms, err = readTerms(e.compiler); err != nil {
		return nil, mpass.Errorf(mpass.EINVALID, "policy %s: %v", source, err)
	}
	if e.compiler.RuleTree.Find(ast.MustParseRef(Query)) == nil {
		return nil, mpass.Errorf(mpass.EINVALID, "policy %s: no %s", source, Query)
	}
	return e, nil
}

// readTerms builds the term catalog from the annotations: a package annotation with
// custom.term describes a term; a rule annotation with custom.term and custom.rule one
// of its rules.
func readTerms(c *ast.Compiler) ([]mpass.Term, error) {
	byID := map[string]*mpass.Term{}
	var rules []*ast.AnnotationsRef
	for _, ref := range c.GetAnnotationSet().Flatten() {
		a := ref.Annotations
		term, _ := a.Custom["term"].(string)
		if term == "" {
			continue
		}
		if ref.GetRule() != nil {
			rules = append(rules, ref)
			continue
		}
		t := &mpass.Term{ID: term, Title: a.Title, Description: paragraph(a.Description)}
		t.Category, _ = a.Custom["category"].(string)
		for _, k := range strings_(a.Custom["kinds"]) {
			t.Kinds = append(t.Kinds, mpass.Kind(k))
		}
		for lang, v := range maps_(a.Custom["l10n"]) {
			m := maps_(v)
			t.L10n = setKey(t.L10n, lang, mpass.TermText{Title: str(m["title"]), Description: strings.TrimSpace(str(m["description"]))})
		}
		byID[term] = t
	}
	for _, ref := range rules {
		a := ref.Annotations
		term := a.Custom["term"].(string)
		t, ok := byID[term]
		if !ok {
			return nil, fmt.Errorf("%s: rule of term %q, which no package describes", ref.Location, term)
		}
		id, _ := a.Custom["rule"].(string)
		if i := slices.IndexFunc(t.Rules, func(r mpass.Rule) bool { return r.ID == id }); i >= 0 {
			continue // one rule id may be produced by several Rego rules
		}
		r := mpass.Rule{ID: id, Title: a.Title, Description: paragraph(a.Description), References: strings_(a.Custom["references"])}
		r.Severity, _ = a.Custom["severity"].(string)
		r.Clause, _ = a.Custom["clause"].(string)
		r.WhatToDo = strings.TrimSpace(str(a.Custom["what_to_do"]))
		for lang, v := range maps_(a.Custom["l10n"]) {
			m := maps_(v)
			r.L10n = setKey(r.L10n, lang, mpass.RuleText{Title: str(m["title"]), Clause: str(m["clause"]),
				References: strings_(m["references"]), WhatToDo: strings.TrimSpace(str(m["what_to_do"]))})
		}
		if id == "" || r.Severity == "" {
			return nil, fmt.Errorf("%s: custom.rule and custom.severity required", ref.Location)
		}
		t.Rules = append(t.Rules, r)
	}
	terms := make([]mpass.Term, 0, len(byID))
	for _, t := range byID {
		terms = append(terms, *t)
	}
	slices.SortFunc(terms, func(a, b mpass.Term) int { return strings.Compare(a.ID, b.ID) })
	return terms, nil
}

// paragraph joins the source lines of a METADATA text (a YAML block keeps the policy
// file's line breaks) into one paragraph that a page or report wraps itself.
func paragraph(s string) string { return strings.Join(strings.Fields(s), " ") }

func str(v any) string { s, _ := v.(string); return s }

func maps_(v any) map[string]any { m, _ := v.(map[string]any); return m }

func setKey[V any](m map[string]V, k string, v V) map[string]V {
	if m == nil {
		m = map[string]V{}
	}
	m[k] = v
	return m
}

func strings_(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Terms is the term catalog, sorted by id.
func (e *Engine) Terms() []mpass.Term { return slices.Clone(e.terms) }

// Vocabulary is what a registry may name: purpose keys and term and rule ids.
func (e *Engine) Vocabulary(ctx context.Context) (purposes map[string]bool, rules map[string]map[string]bool, err error) {
	v, err := e.evalData(ctx, "data.mpass.purposes.keys")
	if err != nil {
		return nil, nil, err
	}
	purposes = map[string]bool{}
	for _, k := range strings_(v) {
		purposes[k] = true
	}
	rules = map[string]map[string]bool{}
	for _, t := range e.terms {
		rules[t.ID] = map[string]bool{}
		for _, r := range t.Rules {
			rules[t.ID][r.ID] = true
		}
	}
	return purposes, rules, nil
}

// Attributes is the attribute catalog (data.mpass.catalog.attributes), sorted by
// canonical name.
func (e *Engine) Attributes(ctx context.Context) ([]mpass.CatalogAttribute, error) {
	attrs, err := e.catalog(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]mpass.CatalogAttribute, 0, len(attrs))
	for name, a := range attrs {
		c := mpass.CatalogAttribute{Name: name, Names: strings_(a["names"])}
		c.Friendly, _ = a["friendly"].(string)
		c.Age, _ = a["age"].(string)
		c.Role, _ = a["role"].(string)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b mpass.CatalogAttribute) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// DataModel is the attributes of MPASSid's data model by protocol (saml, oidc), the
// canonical names an imported SP is approved for (data.mpass.catalog.data_model).
func (e *Engine) DataModel(ctx context.Context) (map[string][]string, error) {
	v, err := e.evalData(ctx, "data.mpass.catalog.data_model")
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	out := make(map[string][]string, len(m))
	for protocol, names := range m {
		out[protocol] = strings_(names)
	}
	return out, nil
}

// FriendlyNames maps canonical attribute names to the short names a reader knows
// (mail, givenName, mpassClassLevel).
func (e *Engine) FriendlyNames(ctx context.Context) (map[string]string, error) {
	attrs, err := e.catalog(ctx)
	out := make(map[string]string, len(attrs))
	for name, a := range attrs {
		if f, _ := a["friendly"].(string); f != "" {
			out[name] = f
		}
	}
	return out, err
}

func (e *Engine) catalog(ctx context.Context) (map[string]map[string]any, error) {
	v, err := e.evalData(ctx, "data.mpass.catalog.attributes")
	if err != nil {
		return nil, err
	}
	attrs, _ := v.(map[string]any)
	out := make(map[string]map[string]any, len(attrs))
	for name, a := range attrs {
		m, _ := a.(map[string]any)
		out[name] = m
	}
	return out, nil
}

// evalData evaluates a data query outside an audit run, under the evaluation deadline
// and a heap guard of its own.
func (e *Engine) evalData(ctx context.Context, query string) (any, error) {
	ctx, cancel := guard(ctx, e.limits.EvalTimeout, "the query "+query, e.limits.HeapGrowth)
	defer cancel()
	rs, err := rego.New(rego.Query(query), rego.Compiler(e.compiler), rego.Capabilities(e.caps), rego.Store(e.store(nil))).Eval(ctx)
	if err = stopped(ctx, err); err != nil {
		return nil, fmt.Errorf("policy %s: %w", query, err)
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, fmt.Errorf("policy %s: undefined", query)
	}
	return rs[0].Expressions[0].Value, nil
}

func (e *Engine) store(registry map[string]any) storage.Store {
	data := map[string]any{}
	for k, v := range e.data {
		data[k] = v
	}
	if registry != nil {
		data["registry"] = registry
	}
	// AST values on read: a store of Go values converts what a rule reads (the whole
	// registry subtree under data.registry.exceptions, say) on every evaluation; a national
	// audit evaluates tens of thousands of times (issue 16).
	return inmem.NewFromObjectWithOpts(data, inmem.OptReturnASTValuesOnRead(true))
}
