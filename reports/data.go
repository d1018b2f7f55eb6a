// Package reports renders a controller's PDF compliance report: the layout in Go with
// gofpdf (codeberg.org/go-pdf/fpdf), the words per language as data in texts/, and a
// golden sample made from testdata/ beside them. It draws only what it is given: the
// numbers come from the audit package's aggregates, the same ones the JSON output uses.
package reports

import (
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// Data is everything one report shows.
type Data struct {
	Controller mpass.Controller
	From, To   string // the period, inclusive days
	Run        *mpass.Run
	Registry   RegistryInfo
	Terms      []TermSummary
	SPs        []SPSummary
	Groups     []FindingGroup
	Exceptions []mpass.Exception
	Weekly     Weekly
	Releases   int64
	// Schools are the period's releases per school they name: a school named by its
	// code in some and by its OID in others is one school.
	Schools []SchoolSummary
	Uses    int64
	// FindingsDigest is the SHA-256 of the report's findings set (see integrity_text).
	FindingsDigest string
	FindingCount   int
	// RunScope is set when the run covers more than the period: per-SP attribute counts
	// then cover the run's scope.
	RunScope *mpass.Scope
	// Evidence is what the period's verdicts rest on, from the run's frozen figures.
	Evidence Evidence
}

// Evidence is what a report's verdicts rest on: the records of the period per source,
// and the days of the period that have none. It is drawn from the run's frozen figures
// (what the run judged per day), so it does not change when records arrive or are
// purged later.
//
// A source is a kind of record, not an input file: releases as MPASSid logged them,
// uses as the service providers reported them. The records do not keep the file or
// request they came in (a record is stored once, whichever of several files held it),
// so a report cannot name files; the kind says whose account the records are.
type Evidence struct {
	Sources []EvidenceSource // releases, then uses; both always present
	Days    int              // days in the period
	// EmptyDays is how many days of the period have no record of the controller at all;
	// Gaps lists them as ranges of consecutive days, the first MaxGaps of them, and
	// MoreGaps counts the ranges not listed.
	EmptyDays int
	Gaps      []DayRange
	MoreGaps  int
}

// MaxGaps is how many ranges of days without records Evidence lists.
const MaxGaps = 4

// EvidenceSource is the records of one source in the period: how many, and the first
// and last record's time (zero when there is none).
type EvidenceSource struct {
	Kind        mpass.Kind // release: logged by MPASSid; use: reported by service providers
	Records     int64
	First, Last time.Time
}

// DayRange is days From to To, inclusive (YYYY-MM-DD); From == To for one day.
type DayRange struct {
	From, To string
}

// RegistryInfo names the registry version the run used.
type RegistryInfo struct {
	Version int
	Digest  string
}

// TermSummary is one line of the summary page.
type TermSummary struct {
	Term                      mpass.Term
	Fail, Warn, Skip, Error   int64
	New, Persisting, Resolved int64
	HasPrevious               bool
	// Judged is how many records of the period the term judged: every record of its
	// kinds (TERMS.md "No records, no verdict": none means no verdict).
	Judged int64
}

// SPSummary is one service provider's part of the period.
type SPSummary struct {
	ID, Name    string
	Known       bool
	Commercial  bool
	Releases    int64
	Uses        int64
	Received    []AttributeCount // over the run's scope
	Disclosures []AttributeCount // approved age-indicative attributes released
	Summary     mpass.Summary    // results in the period
	Worst       string           // the severity of its most severe failed or warned finding; "" none
}

// AttributeCount is an attribute with a count; Approved tells the SP may receive it.
type AttributeCount struct {
	Name     string
	Count    int64
	Approved bool
}

// FindingGroup is the findings of one rule at one SP for one attribute (releases) or
// one purpose (uses): the row a DPO acts on.
type FindingGroup struct {
	Term, Rule, SP, Severity string
	SPName                   string // the registry's name; "" for an SP it lacks
	Attribute                string // canonical URN; "" for a finding on no attribute
	AttributeName            string // its friendly name (catalog); "" where it has none
	Purpose                  string // the use's purpose key (fideslang); "" for releases
	Fail, Warn, Skip, Error  int64
	First, Last              time.Time
	Records                  []string // a few record ids
	Subjects                 []string // a few pseudonyms
}

// Count is the number of findings in the group.
func (g FindingGroup) Count() int64 { return g.Fail + g.Warn + g.Skip + g.Error }

// Weekly is releases per ISO week for the largest SPs.
type Weekly struct {
	Weeks   []string // 2026-W40
	Partial []string // the weeks only partly in the period
	Series  []Series
}

// Series is one SP's releases per week.
type Series struct {
	SP     string
	Counts []int64
}

// SchoolSummary is one school's releases in the period: the registry's school (names
// from the organisation service) or, where the registry lacks it, the code or OID the
// releases named.
type SchoolSummary struct {
	School   mpass.School
	Known    bool
	Releases int64
}
