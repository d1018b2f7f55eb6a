package mpass

import (
	"cmp"
	"context"
	"time"
)

// Scope is what an audit covers: one controller or all (""), and a range of days.
type Scope struct {
	Controller string `json:"controller"`
	From       string `json:"from"` // day, inclusive; "" = unbounded
	To         string `json:"to"`   // day, inclusive; "" = unbounded
}

// Covers reports whether s covers all of o: the same or all controllers, and its days.
func (s Scope) Covers(o Scope) bool {
	if s.Controller != "" && s.Controller != o.Controller {
		return false
	}
	if s.From != "" && (o.From == "" || o.From < s.From) {
		return false
	}
	if s.To != "" && (o.To == "" || o.To > s.To) {
		return false
	}
	return true
}

// Run statuses. A run that did not finish (the process was killed) stays "running"
// until the store marks it failed at the next open.
const (
	RunRunning  = "running"
	RunFinished = "finished"
	RunFailed   = "failed"
)

// Run is one audit: what it covered, with which policies and registry, and its counts.
type Run struct {
	ID              int64     `json:"id"`
	Started         time.Time `json:"started"`
	Finished        time.Time `json:"finished"`
	Status          string    `json:"status"`
	Scope                     // controller, from, to
	PolicyDigest    string    `json:"policy_digest"`
	RegistryVersion int       `json:"registry_version"`
	Summary         Summary   `json:"summary"`
	Previous        int64     `json:"previous,omitempty"` // the run of the same scope before it
	// Frozen tells the run stored what it judged per controller and day (its reports
	// are drawn from that alone); runs stored before that was kept have not.
	Frozen bool `json:"-"`
}

// Summary counts results. Pass counts each record–term pair with no other result.
type Summary struct {
	Pass  int64 `json:"pass"`
	Fail  int64 `json:"fail"`
	Warn  int64 `json:"warn"`
	Error int64 `json:"error"`
	Skip  int64 `json:"skip"`
}

// Add counts one result.
func (s *Summary) Add(result string, n int64) {
	switch result {
	case ResultPass:
		s.Pass += n
	case ResultFail:
		s.Fail += n
	case ResultWarn:
		s.Warn += n
	case ResultError:
		s.Error += n
	case ResultSkip:
		s.Skip += n
	}
}

// Times is s with every count multiplied by n.
func (s Summary) Times(n int64) Summary {
	return Summary{Pass: s.Pass * n, Fail: s.Fail * n, Warn: s.Warn * n, Error: s.Error * n, Skip: s.Skip * n}
}

// Merge adds o's counts to s.
func (s *Summary) Merge(o Summary) {
	s.Pass += o.Pass
	s.Fail += o.Fail
	s.Warn += o.Warn
	s.Error += o.Error
	s.Skip += o.Skip
}

// Finding is one result of one rule about one record (and attribute).
type Finding struct {
	ID         string    `json:"finding"` // stable: record, term, rule, attribute
	RunID      int64     `json:"run"`
	Term       string    `json:"policy"`
	Rule       string    `json:"rule"`
	Result     string    `json:"result"`
	Severity   string    `json:"severity"`
	Message    string    `json:"message"`
	Record     string    `json:"record"`
	Kind       Kind      `json:"kind"`
	Time       time.Time `json:"time"`
	SP         string    `json:"sp"`
	Controller string    `json:"controller"`
	Subject    string    `json:"subject"` // pseudonym
	Attribute  string    `json:"attribute,omitempty"`
	Purpose    string    `json:"purpose,omitempty"` // a use's purpose (fideslang key); "" for releases
	// Fingerprint is the keyed fingerprint of the attribute's values, the only evidence
	// of a value a finding carries.
	Fingerprint string `json:"fingerprint,omitempty"`
	Exception   string `json:"exception,omitempty"`
	// ExceptionNotApplied names an exception that matched a critical finding.
	ExceptionNotApplied string `json:"exception_not_applied,omitempty"`
	Change              string `json:"change"` // new | persisting
}

// Change values of a finding against the previous run of the same scope.
const (
	ChangeNew        = "new"
	ChangePersisting = "persisting"
)

// SPStats is what one controller released to and had used by one SP over a whole run:
// which attributes, how many approved age-indicative ones, and the results.
type SPStats struct {
	Controller  string           `json:"controller"`
	SP          string           `json:"sp"`
	Releases    int64            `json:"releases"`
	Uses        int64            `json:"uses"`
	Attributes  map[string]int64 `json:"attributes"`  // name → releases carrying it
	Disclosures map[string]int64 `json:"disclosures"` // approved age-indicative attribute → releases
	Summary     Summary          `json:"summary"`
}

// DayCount is what a run judged of one kind of record of one controller at one SP on
// one UTC day: how many records; First and Last are the first and last time of the
// controller's records of that kind on that day, at any SP (what a report's evidence
// needs, kept once per controller-day rather than per SP).
type DayCount struct {
	Controller  string // "" for uses whose controller could not be found
	SP          string
	Day         string // YYYY-MM-DD, UTC
	Kind        Kind
	Records     int64
	First, Last time.Time
}

// Term describes one agreement term and its rules, read from the policies' METADATA.
// L10n holds its title and description in other languages than the METADATA's English
// (custom.l10n.<lang>), keyed by language (fi, sv).
type Term struct {
	ID          string              `json:"id"`
	Title       string              `json:"title"`
	Description string              `json:"description"`
	Category    string              `json:"category"`
	Kinds       []Kind              `json:"kinds"`
	Rules       []Rule              `json:"rules"`
	L10n        map[string]TermText `json:"l10n,omitempty"`
	Path        []string            `json:"-"` // package path
}

// TermText is a term's words in one language.
type TermText struct {
	Title       string `json:"title"`
	Description string `json:"description"`
}

// Text is the term's words in lang: the METADATA's translation where it has one, each
// missing field in English (a policy of one's own need not translate).
func (t Term) Text(lang string) TermText {
	l := t.L10n[lang]
	return TermText{Title: cmp.Or(l.Title, t.Title), Description: cmp.Or(l.Description, t.Description)}
}

// Rule describes one rule of a term. WhatToDo is the controller's recommended action
// (custom.what_to_do); L10n its words in other languages (custom.l10n.<lang>).
type Rule struct {
	ID          string              `json:"id"`
	Title       string              `json:"title"`
	Description string              `json:"description"`
	Severity    string              `json:"severity"`
	Clause      string              `json:"clause"`
	References  []string            `json:"references"`
	WhatToDo    string              `json:"what_to_do,omitempty"`
	L10n        map[string]RuleText `json:"l10n,omitempty"`
}

// RuleText is a rule's words in one language.
type RuleText struct {
	Title      string   `json:"title"`
	Clause     string   `json:"clause"`
	References []string `json:"references"`
	WhatToDo   string   `json:"what_to_do"`
}

// Text is the rule's words in lang, each missing field in English.
func (r Rule) Text(lang string) RuleText {
	l := r.L10n[lang]
	refs := l.References
	if len(refs) != len(r.References) {
		refs = r.References // a partial list would pair the wrong texts
	}
	return RuleText{Title: cmp.Or(l.Title, r.Title), Clause: cmp.Or(l.Clause, r.Clause), References: refs, WhatToDo: cmp.Or(l.WhatToDo, r.WhatToDo)}
}

// Rule is the term's rule of that id (false where it has none).
func (t Term) Rule(id string) (Rule, bool) {
	for _, r := range t.Rules {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// FindingTally is how many findings of a run have one term, SP, result and change.
type FindingTally struct {
	Term, SP, Result string
	New              bool
	N                int64
}

// FindingFilter selects findings of a run. Controllers, when not nil, limits them to
// those controllers (a DPO's scope; [""] selects the findings whose controller could
// not be found).
type FindingFilter struct {
	RunID       int64
	Controllers []string
	Term        string
	SP          string
	Result      string
	Severity    string
	From, To    string // days, inclusive
	Rule        string
	// BySeverity orders the findings most severe first (then as usual): a reader's
	// pages show what needs action first, the API keeps its documented order.
	BySeverity bool
	// After, when set, selects the findings after that key in the findings' order (a
	// keyset page: the next page of a script reading a run in pieces); not with
	// BySeverity.
	After  *FindingKey
	Offset int
	Limit  int
}

// FindingKey is a finding's place in the findings' order: policy (term), rule, sp,
// record, attribute, and the finding id, which tells apart a release and a use of the
// same record id.
type FindingKey struct {
	Term, Rule, SP, Record, Attribute, Finding string
}

// Key is the finding's place in the findings' order.
func (f *Finding) Key() FindingKey {
	return FindingKey{Term: f.Term, Rule: f.Rule, SP: f.SP, Record: f.Record, Attribute: f.Attribute, Finding: f.ID}
}

// RunService stores audit runs and their findings.
type RunService interface {
	CreateRun(ctx context.Context, run *Run) error
	FinishRun(ctx context.Context, run *Run) error
	FailRun(ctx context.Context, id int64, reason string) error
	FindRun(ctx context.Context, id int64) (*Run, error)
	// FindRuns lists finished runs newest first; controllers limits them as in FindingFilter.
	FindRuns(ctx context.Context, controllers []string) ([]*Run, error)
	// PreviousRun is the newest finished run of the same scope started before run.
	PreviousRun(ctx context.Context, run *Run) (*Run, error)
}

// Severities of a rule, most severe first (TERMS.md).
var Severities = []string{"critical", "high", "medium", "low"}

// SeverityRank orders severities most severe first: 0 for critical; an unknown one
// after low.
func SeverityRank(s string) int {
	for i, v := range Severities {
		if v == s {
			return i
		}
	}
	return len(Severities)
}
