// Package registry reads the registry YAML of RECORDS.md (controllers and schools,
// service providers, controller–SP agreements, consents, exceptions) into a validated
// mpass.Registry: attribute names canonical, consent subjects pseudonymised, every
// reference checked. Errors name the file, line and field.
package registry

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/opetushallitus/mpass-audit/internal/facts"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// Vocabulary is what the policies in use know: purpose keys and term and rule ids.
type Vocabulary struct {
	Purposes map[string]bool
	Rules    map[string]map[string]bool // term id → rule ids
}

type file struct {
	Names            yaml.Node   `yaml:"names"`
	Controllers      []yaml.Node `yaml:"controllers"`
	ServiceProviders []yaml.Node `yaml:"service_providers"`
	Agreements       []yaml.Node `yaml:"agreements"`
	Consents         []yaml.Node `yaml:"consents"`
	Exceptions       []yaml.Node `yaml:"exceptions"`
}

type dateRange struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

type controller struct {
	OID     string `yaml:"oid"`
	Name    string `yaml:"name"`
	Schools []struct {
		Code string `yaml:"code"`
		OID  string `yaml:"oid"` // optional: releases name a school by either
		Name string `yaml:"name"`
	} `yaml:"schools"`
}

// serviceProvider's fields other than id and name are pointers: an overlay replaces
// what an entry gives of an imported SP, and keeps what it leaves out.
type serviceProvider struct {
	ID         string     `yaml:"id"`
	Name       string     `yaml:"name"`
	Commercial *bool      `yaml:"commercial"`
	Valid      *dateRange `yaml:"valid"`
	Attributes *[]string  `yaml:"attributes"`
	Purposes   *[]string  `yaml:"purposes"`
}

type agreement struct {
	Controller string    `yaml:"controller"`
	SP         string    `yaml:"sp"`
	Valid      dateRange `yaml:"valid"`
	Attributes []string  `yaml:"attributes"`
	Purposes   []string  `yaml:"purposes"`
}

type consent struct {
	Subject   string `yaml:"subject"`
	SP        string `yaml:"sp"`
	Purpose   string `yaml:"purpose"`
	GivenBy   string `yaml:"given_by"`
	Given     string `yaml:"given"`
	Withdrawn string `yaml:"withdrawn"`
}

type exception struct {
	ID         string `yaml:"id"`
	Term       string `yaml:"term"`
	Rule       string `yaml:"rule"`
	SP         string `yaml:"sp"`
	Controller string `yaml:"controller"`
	Attribute  string `yaml:"attribute"`
	Reason     string `yaml:"reason"`
	Expires    string `yaml:"expires"`
}

// problems collects every error of a file, so one load shows them all.
type problems struct {
	name string
	errs []error
}

func (p *problems) add(line int, field, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = field + ": " + msg
	}
	p.errs = append(p.errs, fmt.Errorf("%s:%d: %s", p.name, line, msg))
}

// unique checks that an entry's id is given and not seen before, and records it.
func (p *problems) unique(line int, seen map[string]bool, id, what string) {
	if strings.TrimSpace(id) == "" {
		p.add(line, "id", "required")
	} else if seen[id] {
		p.add(line, "id", "duplicate %s %s", what, id)
	}
	seen[id] = true
}

// Parse reads a registry file. name is used in messages. Attribute names are made
// canonical through the catalog and the file's own name map (`names:`, another
// deployment's names → canonical URNs); warnings name each attribute name that neither
// knows, with file and line: it is kept as it is, and approves only that name.
func Parse(name string, data []byte, x *facts.Extractor, vocab Vocabulary) (r *mpass.Registry, warnings []string, err error) {
	p, warnings, err := parse(name, data, nil, x, vocab)
	if err != nil {
		return nil, nil, err
	}
	return p.reg, warnings, nil
}

// parsed is a registry file as read, with what an overlay needs to know beyond it.
type parsed struct {
	reg *mpass.Registry
	// given are the fields each service provider entry gives (by SP id), for an overlay
	// to replace only those of an imported SP.
	given map[string]spFields
}

// spFields are the optional fields a service_providers entry gives.
type spFields struct{ commercial, valid, attributes, purposes bool }

// parse reads a registry file. References of agreements and consents may name the
// controllers and service providers of base (nil: none) as well as the file's own:
// that is how an overlay refers to what `registry import` brought.
func parse(name string, data []byte, base *mpass.Registry, x *facts.Extractor, vocab Vocabulary) (pr *parsed, warnings []string, err error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, nil, mpass.Errorf(mpass.EINVALID, "%s: %v", name, err)
	}
	sum := sha256.Sum256(data)
	r := &mpass.Registry{Digest: "sha256:" + hex.EncodeToString(sum[:])}
	r.Sources = []mpass.Source{{Kind: SourceKindRegistry, Name: name, Digest: r.Digest}}
	pr = &parsed{reg: r, given: map[string]spFields{}}
	p := &problems{name: name}
	r.Names = parseNames(p, &f.Names, x.Catalog())
	cat, err := x.Catalog().WithNames(r.Names)
	if err != nil { // parseNames has checked every entry
		return nil, nil, mpass.Errorf(mpass.EINVALID, "%s: names: %v", name, err)
	}
	// canon makes the names of an entry's list field canonical, warning of unknown ones
	canon := func(n *yaml.Node, field string, names []string) []string {
		out := make([]string, 0, len(names))
		for _, a := range names {
			if !cat.Known(a) {
				warnings = append(warnings, fmt.Sprintf("%s:%d: %s: %q is not in the attribute catalog: kept as it is (map another deployment's name under names:)",
					name, valueLine(n, field, a), field, a))
			}
			out = append(out, cat.Canonical(a))
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	checkPurposes := func(n *yaml.Node, field string, keys []string) {
		for _, k := range keys {
			if !vocab.Purposes[k] {
				p.add(valueLine(n, field, k), field, "unknown purpose key %q (a fideslang data-use key)", k)
			}
		}
	}

	controllers := map[string]bool{}
	sps := map[string]bool{}
	if base != nil {
		for _, c := range base.Controllers {
			controllers[c.OID] = false // known, but not the file's own: no duplicate
		}
		for _, sp := range base.ServiceProviders {
			sps[sp.ID] = false
		}
	}
	known := func(m map[string]bool, k string) bool { _, ok := m[k]; return ok }
	for _, n := range f.Controllers {
		var c controller
		if !decode(p, &n, &c) {
			continue
		}
		if err := mpass.CheckControllerOID(c.OID); err != nil {
			p.add(fieldLine(&n, "oid"), "oid", "%v", err)
		} else if controllers[c.OID] {
			p.add(fieldLine(&n, "oid"), "oid", "duplicate controller %s", c.OID)
		}
		controllers[c.OID] = true
		mc := mpass.Controller{OID: c.OID, Name: c.Name}
		codes := map[string]bool{}
		for _, s := range c.Schools {
			if s.Code == "" || codes[s.Code] {
				p.add(fieldLine(&n, "schools"), "schools", "school code %q is empty or repeated", s.Code)
			}
			codes[s.Code] = true
			if s.OID != "" {
				if err := mpass.CheckControllerOID(s.OID); err != nil {
					p.add(fieldLine(&n, "schools"), "schools", "%v", err)
				}
			}
			mc.Schools = append(mc.Schools, mpass.School{Code: s.Code, OID: s.OID, Name: s.Name})
		}
		r.Controllers = append(r.Controllers, mc)
	}

	for _, n := range f.ServiceProviders {
		var s serviceProvider
		if !decode(p, &n, &s) {
			continue
		}
		p.unique(fieldLine(&n, "id"), sps, s.ID, "service provider")
		given := spFields{commercial: s.Commercial != nil, valid: s.Valid != nil, attributes: s.Attributes != nil, purposes: s.Purposes != nil}
		pr.given[s.ID] = given
		sp := mpass.ServiceProvider{ID: s.ID, Name: s.Name}
		if given.commercial {
			sp.Commercial = *s.Commercial
		}
		if given.valid {
			sp.Valid = checkRange(p, &n, *s.Valid)
		}
		var attrs []string
		if given.attributes {
			attrs = *s.Attributes
		}
		sp.Attributes = canon(&n, "attributes", attrs)
		if given.purposes {
			sp.Purposes = *s.Purposes
			checkPurposes(&n, "purposes", sp.Purposes)
		}
		r.ServiceProviders = append(r.ServiceProviders, sp)
	}

	for _, n := range f.Agreements {
		var a agreement
		if !decode(p, &n, &a) {
			continue
		}
		if !known(controllers, a.Controller) {
			if err := mpass.CheckControllerOID(a.Controller); err != nil {
				p.add(fieldLine(&n, "controller"), "controller", "%v", err)
			} else {
				p.add(fieldLine(&n, "controller"), "controller", "%q is not a controller of this registry", a.Controller)
			}
		}
		if !known(sps, a.SP) {
			p.add(fieldLine(&n, "sp"), "sp", "%q is not a service provider of this registry", a.SP)
		}
		valid := checkRange(p, &n, a.Valid)
		checkPurposes(&n, "purposes", a.Purposes)
		r.Agreements = append(r.Agreements, mpass.Agreement{
			Controller: a.Controller, SP: a.SP, Valid: valid, Attributes: canon(&n, "attributes", a.Attributes), Purposes: a.Purposes,
		})
	}

	for _, n := range f.Consents {
		var c consent
		if !decode(p, &n, &c) {
			continue
		}
		if strings.TrimSpace(c.Subject) == "" {
			p.add(fieldLine(&n, "subject"), "subject", "required")
		}
		if !known(sps, c.SP) {
			p.add(fieldLine(&n, "sp"), "sp", "%q is not a service provider of this registry", c.SP)
		}
		checkPurposes(&n, "purpose", []string{c.Purpose})
		if c.GivenBy != "guardian" && c.GivenBy != "self" {
			p.add(fieldLine(&n, "given_by"), "given_by", "%q: must be guardian or self", c.GivenBy)
		}
		mc := mpass.Consent{Subject: x.Pseudonym(c.Subject), SP: c.SP, Purpose: c.Purpose, GivenBy: c.GivenBy}
		var err error
		if mc.Given, err = time.Parse(time.RFC3339, c.Given); err != nil {
			p.add(fieldLine(&n, "given"), "given", "%q is not an RFC 3339 time", c.Given)
		}
		mc.Given = mc.Given.UTC()
		if c.Withdrawn != "" && c.Withdrawn != "null" {
			w, err := time.Parse(time.RFC3339, c.Withdrawn)
			if err != nil {
				p.add(fieldLine(&n, "withdrawn"), "withdrawn", "%q is not an RFC 3339 time", c.Withdrawn)
			} else if w = w.UTC(); w.Before(mc.Given) {
				p.add(fieldLine(&n, "withdrawn"), "withdrawn", "before given")
			}
			mc.Withdrawn = &w
		}
		r.Consents = append(r.Consents, mc)
	}

	exceptions := map[string]bool{}
	for _, n := range f.Exceptions {
		var e exception
		if !decode(p, &n, &e) {
			continue
		}
		p.unique(fieldLine(&n, "id"), exceptions, e.ID, "exception")
		if rules, ok := vocab.Rules[e.Term]; !ok {
			p.add(fieldLine(&n, "term"), "term", "unknown term %q", e.Term)
		} else if e.Rule != "" && !rules[e.Rule] {
			p.add(fieldLine(&n, "rule"), "rule", "term %s has no rule %q", e.Term, e.Rule)
		}
		if e.SP == "" {
			p.add(fieldLine(&n, "sp"), "sp", "required")
		}
		if e.Controller != "" {
			if err := mpass.CheckControllerOID(e.Controller); err != nil {
				p.add(fieldLine(&n, "controller"), "controller", "%v", err)
			}
		}
		if strings.TrimSpace(e.Reason) == "" {
			p.add(fieldLine(&n, "reason"), "reason", "required: an accepted risk needs its reason")
		}
		if _, err := time.Parse(time.DateOnly, e.Expires); err != nil {
			p.add(fieldLine(&n, "expires"), "expires", "%q is not a date (YYYY-MM-DD)", e.Expires)
		}
		attr := ""
		if e.Attribute != "" {
			attr = canon(&n, "attribute", []string{e.Attribute})[0]
		}
		r.Exceptions = append(r.Exceptions, mpass.Exception{
			ID: e.ID, Term: e.Term, Rule: e.Rule, SP: e.SP, Controller: e.Controller, Attribute: attr, Reason: e.Reason, Expires: e.Expires,
		})
	}
	if len(p.errs) > 0 {
		return nil, nil, &mpass.Error{Code: mpass.EINVALID, Message: errors.Join(p.errs...).Error(), PerLine: true}
	}
	return pr, warnings, nil
}

// parseNames reads a name map: a YAML mapping of names to the canonical URN (or any
// catalog name) of the attribute each means. Each entry is checked against the catalog.
func parseNames(p *problems, n *yaml.Node, cat *facts.Catalog) map[string]string {
	if n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.add(n.Line, "names", "must be a mapping of names to canonical attribute names")
		return nil
	}
	names := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode {
			p.add(k.Line, "names", "each entry is name: canonical-URN")
			continue
		}
		if _, dup := names[k.Value]; dup {
			p.add(k.Line, "names", "%q mapped twice", k.Value)
			continue
		}
		if err := cat.CheckName(k.Value, v.Value); err != nil {
			p.add(k.Line, "names", "%v", err)
			continue
		}
		names[k.Value] = cat.Canonical(v.Value)
	}
	return names
}

// ParseNames reads a name map file (`ingest --names FILE.yaml`): name: canonical-URN
// per line, each checked against the catalog; errors name the file and line.
func ParseNames(name string, data []byte, cat *facts.Catalog) (map[string]string, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, mpass.Errorf(mpass.EINVALID, "%s: %v", name, err)
	}
	p := &problems{name: name}
	var names map[string]string
	if len(n.Content) > 0 {
		names = parseNames(p, n.Content[0], cat)
	}
	if len(p.errs) > 0 {
		return nil, &mpass.Error{Code: mpass.EINVALID, Message: errors.Join(p.errs...).Error(), PerLine: true}
	}
	return names, nil
}

// valueLine is the line of value in the entry's field (a scalar or a list of scalars),
// or the entry's own line where the field cannot be found.
func valueLine(n *yaml.Node, field, value string) int {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != field {
			continue
		}
		v := n.Content[i+1]
		if v.Kind == yaml.ScalarNode {
			return v.Line
		}
		for _, item := range v.Content {
			if item.Value == value {
				return item.Line
			}
		}
		return v.Line
	}
	return n.Line
}

// fieldLine is the line of a field of the mapping n, its key's own line; a dotted field
// (valid.from) is looked up level by level. Where n does not give the field (a
// required one left out), it is n's own line, the entry's.
func fieldLine(n *yaml.Node, field string) int {
	line := n.Line
	for name := range strings.SplitSeq(field, ".") {
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		if n.Kind != yaml.MappingNode {
			return line
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == name {
				line, n, found = n.Content[i].Line, n.Content[i+1], true
				break
			}
		}
		if !found {
			return line
		}
	}
	return line
}

// decode decodes one entry strictly: an unknown field is an error, as at the top level
// (yaml.Node.Decode alone would ignore it).
func decode(p *problems, n *yaml.Node, v any) bool {
	budget := maxExpandedNodes
	expanded, err := expandAliases(n, &budget)
	var b []byte
	if err == nil {
		b, err = yaml.Marshal(expanded)
	}
	if err == nil {
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		err = dec.Decode(v)
	}
	if err != nil {
		msg := err.Error()
		msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:\n")
		msg = lineRef.ReplaceAllString(msg, "")
		p.add(n.Line, "", "%s", strings.TrimSpace(msg))
		return false
	}
	return true
}

// maxExpandedNodes bounds the nodes one entry may have once its aliases are
// expanded: a "billion laughs" of aliases of aliases is refused, not expanded.
const maxExpandedNodes = 100_000

// errTooManyAliases refuses an entry whose aliases expand beyond maxExpandedNodes.
var errTooManyAliases = fmt.Errorf("its aliases expand to more than %d nodes", maxExpandedNodes)

// expandAliases is a copy of n with every alias replaced by (a copy of) what it
// names, and no anchors. An entry is decoded on its own, re-encoded (decode): an alias
// to an anchor of another entry — `valid: *school-year` under one SP, defined under
// another, or `<<: *defaults` — would otherwise be an "unknown anchor". Anchors and
// aliases so work across the whole file, as YAML means them. budget counts the nodes
// made (maxExpandedNodes).
func expandAliases(n *yaml.Node, budget *int) (*yaml.Node, error) {
	if *budget--; *budget < 0 {
		return nil, errTooManyAliases
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		c, err := expandAliases(n.Alias, budget)
		if err != nil {
			return nil, err
		}
		c.Line, c.Column = n.Line, n.Column
		return c, nil
	}
	c := *n
	c.Anchor = ""
	c.Content = nil
	for _, child := range n.Content {
		x, err := expandAliases(child, budget)
		if err != nil {
			return nil, err
		}
		c.Content = append(c.Content, x)
	}
	return &c, nil
}

// lineRef is yaml's "line N: " within the re-encoded entry, meaningless to the reader.
var lineRef = regexp.MustCompile(`(?m)^\s*line \d+: `)

func checkRange(p *problems, n *yaml.Node, r dateRange) mpass.DateRange {
	for _, x := range [...]struct{ field, day string }{{"valid.from", r.From}, {"valid.to", r.To}} {
		if x.day == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, x.day); err != nil {
			p.add(fieldLine(n, x.field), x.field, "%q is not a date (YYYY-MM-DD)", x.day)
		}
	}
	if r.From != "" && r.To != "" && r.To < r.From {
		p.add(fieldLine(n, "valid.to"), "valid.to", "%s is before valid.from %s", r.To, r.From)
	}
	return mpass.DateRange{From: r.From, To: r.To}
}
