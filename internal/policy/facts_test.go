package policy_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/policy"
	builtin "github.com/opetushallitus/mpass-audit/rego"
)

const (
	classLevel = "urn:mpass.id:classLevel"
	role       = "urn:mpass.id:role"
	mail       = "urn:oid:0.9.2342.19200300.100.1.3"
	nickname   = "urn:mpass.id:nickname"
)

// factsVariant is a record's attributes with one change to their facts.
type factsVariant struct {
	name   string
	change func(map[string]mpass.AttributeFacts)
}

func baseAttributes() map[string]mpass.AttributeFacts {
	return map[string]mpass.AttributeFacts{
		classLevel: {Values: true, Grade: "7"},
		role:       {Values: true, Roles: []mpass.Role{{ClassGrade: true, Name: "Oppilas", Code: "1"}}},
		mail:       {Values: true, Years: []int{2012}},
		nickname:   {Values: true},
	}
}

func edit(name string, f func(*mpass.AttributeFacts)) func(map[string]mpass.AttributeFacts) {
	return func(m map[string]mpass.AttributeFacts) {
		a := m[name]
		f(&a)
		m[name] = a
	}
}

// unread change facts the built-in policies promise not to read (main.rego's
// attribute_facts); read change facts they do read, or the attributes themselves.
var (
	unread = []factsVariant{
		{"another grade level", edit(classLevel, func(a *mpass.AttributeFacts) { a.Grade = "2" })},
		{"no grade level", edit(classLevel, func(a *mpass.AttributeFacts) { a.Grade = "" })},
		{"a teacher's role name and code", edit(role, func(a *mpass.AttributeFacts) { a.Roles = []mpass.Role{{ClassGrade: true, Name: "Opettaja", Code: "2"}} })},
		{"a date of birth's shape", edit(nickname, func(a *mpass.AttributeFacts) { a.DateOfBirth = true })},
		{"names only", edit(nickname, func(a *mpass.AttributeFacts) { a.Values = false })},
	}
	read = []factsVariant{
		{"an identity code", edit(nickname, func(a *mpass.AttributeFacts) { a.IdentityCode = true })},
		{"another year in the e-mail", edit(mail, func(a *mpass.AttributeFacts) { a.Years = []int{1980} })},
		{"no year in the e-mail", edit(mail, func(a *mpass.AttributeFacts) { a.Years = nil })},
		{"a class without a grade", edit(role, func(a *mpass.AttributeFacts) { a.Roles = []mpass.Role{{Name: "Oppilas", Code: "1"}} })},
		{"a second role", edit(role, func(a *mpass.AttributeFacts) { a.Roles = append(slices.Clone(a.Roles), mpass.Role{Code: "2"}) })},
		{"no e-mail", func(m map[string]mpass.AttributeFacts) { delete(m, mail) }},
	}
)

// TestBuiltinPoliciesKeepTheirFactsPromise: records whose facts differ only in fields
// main.rego's attribute_facts leaves out get the same class and, evaluated on their
// own, the same decisions; a fact it lists, or another attribute, makes another class.
// A rule that starts reading a grade level (say) without listing it fails here.
func TestBuiltinPoliciesKeepTheirFactsPromise(t *testing.T) {
	ctx := context.Background()
	e, err := policy.Load(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	reg := &mpass.Registry{ServiceProviders: []mpass.ServiceProvider{{ID: "sp", Commercial: true, Attributes: []string{nickname, mail}, Valid: mpass.DateRange{From: "2020-01-01"}}}}
	p, err := e.Prepare(ctx, reg)
	if err != nil {
		t.Fatal(err)
	}
	decide := func(attrs map[string]mpass.AttributeFacts, learner bool) []policy.Decision {
		t.Helper()
		rec := &mpass.Record{Kind: mpass.KindRelease, Time: time.Date(2026, 10, 5, 8, 0, 0, 0, time.UTC), SP: "sp",
			Controller: "1.2.246.562.10.44444444440", SubjectRole: mpass.SubjectRole{Learner: learner, RoleKnown: true}, Attributes: attrs}
		ds, err := p.Eval(ctx, policy.Input(rec, nil))
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(ds, func(a, b policy.Decision) int {
			return strings.Compare(a.Term+a.Rule+a.Attribute+a.Result, b.Term+b.Rule+b.Attribute+b.Result)
		})
		return ds
	}
	base := baseAttributes()
	baseClass, ok := e.FactsClass(base)
	if !ok {
		t.Fatal("the built-in policies make no attribute_facts promise")
	}
	for _, learner := range []bool{true, false} {
		want := decide(base, learner)
		if len(want) == 0 {
			t.Fatal("the base record gets no decisions: the test judges nothing")
		}
		for _, v := range unread {
			attrs := baseAttributes()
			v.change(attrs)
			if class, _ := e.FactsClass(attrs); class != baseClass {
				t.Errorf("%s: class %s, want the base's %s", v.name, class, baseClass)
			}
			if got := decide(attrs, learner); !slices.Equal(got, want) {
				t.Errorf("learner %v, %s: decisions\n%v\nwant the base's\n%v", learner, v.name, got, want)
			}
		}
	}
	for _, v := range read {
		attrs := baseAttributes()
		v.change(attrs)
		if class, _ := e.FactsClass(attrs); class == baseClass {
			t.Errorf("%s: the base's class %s", v.name, class)
		}
	}
}

// TestAttributeFactsPromise: a policy set without the promise has every fact count; a
// promise of a field that is no fact fails to load, naming it; roles.name keeps the
// role names apart.
func TestAttributeFactsPromise(t *testing.T) {
	ctx := context.Background()
	mainRego, err := builtin.FS.ReadFile("main.rego")
	if err != nil {
		t.Fatal(err)
	}
	const promise = "#   attribute_facts: [identity_code, years, roles.class_grade]\n"
	if !strings.Contains(string(mainRego), promise) {
		t.Fatalf("main.rego lacks %q", promise)
	}
	with := func(line string) string { return strings.Replace(string(mainRego), promise, line, 1) }

	e, err := policy.Load(ctx, policyDir(t, map[string]string{"main.rego": with("")}))
	if err != nil {
		t.Fatal(err)
	}
	if class, ok := e.FactsClass(baseAttributes()); ok || class != "" {
		t.Errorf("without the promise: class %q, %v", class, ok)
	}

	_, err = policy.Load(ctx, policyDir(t, map[string]string{"main.rego": with("#   attribute_facts: [identity_code, grades]\n")}))
	if mpass.ErrorCode(err) != mpass.EINVALID || !strings.Contains(err.Error(), "grades: not a fact field") {
		t.Errorf("a promise of grades: %v", err)
	}

	e, err = policy.Load(ctx, policyDir(t, map[string]string{"main.rego": with("#   attribute_facts: [roles.name]\n")}))
	if err != nil {
		t.Fatal(err)
	}
	teacher := baseAttributes()
	teacher[role] = mpass.AttributeFacts{Roles: []mpass.Role{{Name: "Opettaja", Code: "2"}}}
	a, _ := e.FactsClass(baseAttributes())
	b, _ := e.FactsClass(teacher)
	if a == b {
		t.Errorf("roles.name promised, yet a learner's and a teacher's roles share the class %s", a)
	}
}
