// Package gen writes a deterministic synthetic MPASSid workload: hundreds of
// controllers and their schools, about two hundred service providers with different
// approved attribute sets, learners and staff, their logins and the SPs' uses of their
// data, with a known small rate of violations of every rule of TERMS.md. The same seed
// gives the same bytes. No real person's data is in it: names are drawn from lists and
// identity codes are DVV test codes.
package gen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// ControllerOID is the OID of the i-th generated controller: an organisation OID with
// a valid check digit.
func ControllerOID(i int) string { return mpass.OrganisationOID(1000000000 + int64(i)*7919) }

// Config sizes a workload.
type Config struct {
	Records     int
	Seed        uint64
	Controllers int       // default 300
	SPs         int       // default 200
	Start       time.Time // first day; default 2026-10-01
	Days        int       // default 31
	// Workload is WorkloadNational (the default) or WorkloadDiverse.
	Workload string
	// Subjects is how many users log in; 0 is the workload's default (national: a
	// fifth of Records; diverse: 50,000).
	Subjects int
}

// The workloads gen writes. Their distributions are stated in docs/performance.md.
const (
	// WorkloadNational: 300 controllers of 1–8 schools, 200 SPs approved for uid and
	// role and each optional attribute with probability 0.4, a subject per five
	// records, and small rates of every violation (the Rate constants).
	WorkloadNational = "national"
	// WorkloadDiverse: the shape issue 16 describes, closer to MPASSid's real variety
	// (see newDiverse).
	WorkloadDiverse = "diverse"
)

// Rates of violations, per release or per use, so tests and benchmarks know roughly
// how many findings to expect.
const (
	RateUnknownSP       = 0.001
	RateUnapproved      = 0.01
	RateIndicative      = 0.005
	RateRevealing       = 0.0005
	RateIdentityCode    = 0.0005
	RateBirthYearEmail  = 0.02 // of released e-mail addresses
	RateUse             = 0.05 // of records
	RateMarketingUse    = 0.05 // of uses
	RateOtherPurposeUse = 0.05 // of uses
)

var (
	stems      = []string{"Järve", "Mänty", "Koivu", "Kallio", "Niemi", "Lahti", "Harju", "Mäki", "Salo", "Vaara", "Ranta", "Kumpu", "Joki", "Laakso", "Pelto", "Soađegili", "Čeavetjávri", "Aapa", "Kivi", "Lumi"}
	suffixes   = []string{"lan kaupunki", "n kunta", "län kunta", "n kaupunki", " gielda"}
	firstNames = []string{"Aino", "Eetu", "Helmi", "Onni", "Máret", "Ánde", "Väinö", "Sofia", "Elias", "Lumi", "Niilo", "Inka", "Åsa", "Oskar"}
	lastNames  = []string{"Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Sara", "Guttorm", "Lindqvist", "Heikkinen", "Koskinen", "Järvinen"}
	// DVV's published test identity codes.
	testCodes = []string{"010594Y9032", "020594X903P", "030594W903B", "010516B903X", "020516C903K", "131052-308T"}
	roleNames = map[int]string{1: "Oppilas", 2: "Opettaja", 3: "Henkilökunta", 6: "Rehtori"}
)

const (
	mail       = "urn:oid:0.9.2342.19200300.100.1.3"
	role       = "urn:mpass.id:role"
	classLevel = "urn:mpass.id:classLevel"
)

type controller struct {
	oid, name string
	schools   []string
}

type sp struct {
	id, name   string
	commercial bool
	from, to   string
	attrs      []string
	weight     float64
}

type subject struct {
	id         string
	controller int
	school     string
	roleCode   int
	grade      int
	class      string
	// the diverse workload's fixed values
	first, last, email, learner string
}

// Generator holds one workload's world.
// Summary counts what a Generator wrote: the records of its last WriteRecords (releases
// and uses), and the entries of its last WriteRegistry.
type Summary struct {
	Releases, Uses                                     int
	Controllers, SPs, Agreements, Consents, Exceptions int
}

// Summary counts what g wrote last.
func (g *Generator) Summary() Summary { return g.summary }

type Generator struct {
	diverse     bool
	summary     Summary
	cfg         Config
	rnd         *rand.Rand
	controllers []controller
	sps         []sp
	cumWeight   []float64
	subjects    []subject
}

// New builds the world of a workload.
func New(cfg Config) *Generator {
	if cfg.Controllers <= 0 {
		cfg.Controllers = 300
	}
	if cfg.SPs <= 0 {
		cfg.SPs = 200
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	}
	if cfg.Days <= 0 {
		cfg.Days = 31
	}
	if cfg.Workload == WorkloadDiverse {
		return newDiverse(cfg)
	}
	g := &Generator{cfg: cfg, rnd: rand.New(rand.NewPCG(cfg.Seed, 0x6d70617373))}
	for i := range cfg.Controllers {
		c := controller{oid: ControllerOID(i), name: pick(g.rnd, stems) + pick(g.rnd, suffixes)}
		for j := range 1 + g.rnd.IntN(8) {
			c.schools = append(c.schools, fmt.Sprintf("%05d", 10000+i*10+j))
		}
		g.controllers = append(g.controllers, c)
	}
	base := []string{"urn:mpass.id:uid", role}
	optional := []string{"urn:oid:2.5.4.42", "urn:oid:2.5.4.4", classLevel, "urn:mpass.id:schoolInfo", "urn:mpass.id:nickname", "urn:oid:1.3.6.1.4.1.16161.1.1.27", mail}
	total := 0.0
	for i := range cfg.SPs {
		s := sp{id: fmt.Sprintf("https://sp%03d.example.fi/sp", i), name: fmt.Sprintf("Palvelu %03d", i), commercial: g.rnd.Float64() < 0.3,
			from: "2020-01-01", attrs: append([]string(nil), base...), weight: 1 / float64(i+1)}
		for _, a := range optional {
			if g.rnd.Float64() < 0.4 {
				s.attrs = append(s.attrs, a)
			}
		}
		if i%40 == 39 {
			s.to = cfg.Start.AddDate(0, 0, cfg.Days/2).Format(time.DateOnly) // the agreement ends mid-period
		}
		total += s.weight
		g.sps = append(g.sps, s)
		g.cumWeight = append(g.cumWeight, total)
	}
	n := cfg.Subjects
	if n <= 0 {
		n = max(cfg.Records/5, 10)
	}
	for i := range n {
		c := g.rnd.IntN(len(g.controllers))
		s := subject{id: fmt.Sprintf("MPASSOID.%040x", uint64(i)*2654435761+cfg.Seed), controller: c, school: pick(g.rnd, g.controllers[c].schools), roleCode: 1}
		switch r := g.rnd.Float64(); {
		case r < 0.08:
			s.roleCode = 2
		case r < 0.10:
			s.roleCode = 3
		case r < 0.105:
			s.roleCode = 6
		}
		if s.roleCode == 1 {
			s.grade = 1 + g.rnd.IntN(9)
			s.class = strconv.Itoa(s.grade) + string(rune('A'+g.rnd.IntN(3)))
		}
		g.subjects = append(g.subjects, s)
	}
	return g
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// sp draws an SP, the popular ones far more often.
func (g *Generator) sp() *sp {
	x := g.rnd.Float64() * g.cumWeight[len(g.cumWeight)-1]
	lo, hi := 0, len(g.cumWeight)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if g.cumWeight[mid] < x {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return &g.sps[lo]
}

type record struct {
	Kind       string `json:"kind"`
	ID         string `json:"id"`
	Time       string `json:"time"`
	SP         string `json:"sp"`
	Controller string `json:"controller,omitempty"`
	Subject    string `json:"subject"`
	Purpose    string `json:"purpose,omitempty"`
	Attributes any    `json:"attributes"`
	Note       string `json:"note,omitempty"`
}

// WriteRecords writes cfg.Records records as JSON Lines.
func (g *Generator) WriteRecords(w io.Writer) error {
	g.summary.Releases, g.summary.Uses = 0, 0
	if g.diverse {
		return g.writeDiverse(w)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	// logins arrive in time order, as a log has them: exponential gaps whose mean
	// spreads the records over the period
	span := float64(g.cfg.Days) * 86400
	mean := span / float64(max(1, g.cfg.Records))
	at := 0.0
	for i := range g.cfg.Records {
		s := &g.subjects[g.rnd.IntN(len(g.subjects))]
		svc := g.sp()
		at = min(at+g.rnd.ExpFloat64()*mean, span-1)
		t := g.cfg.Start.Add(time.Duration(at) * time.Second).Format(time.RFC3339)
		c := &g.controllers[s.controller]
		var r record
		if g.rnd.Float64() < RateUse {
			g.summary.Uses++
			r = record{Kind: "use", ID: fmt.Sprintf("u-%d", i), Time: t, SP: svc.id, Subject: s.id, Purpose: g.purpose(), Attributes: []string{"urn:mpass.id:uid"}}
			if g.rnd.Float64() < 0.5 {
				r.Controller = c.oid
			}
		} else {
			g.summary.Releases++
			r = record{Kind: "release", ID: fmt.Sprintf("r-%d", i), Time: t, SP: svc.id, Controller: c.oid, Subject: s.id, Attributes: g.values(s, c, svc)}
			if g.rnd.Float64() < RateUnknownSP {
				r.SP = fmt.Sprintf("https://unregistered%d.example.net/sp", g.rnd.IntN(5))
			}
		}
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func (g *Generator) purpose() string {
	switch r := g.rnd.Float64(); {
	case r < RateMarketingUse:
		return pick(g.rnd, []string{"marketing.communications.email", "marketing.advertising.first_party.targeted", "marketing.research"})
	case r < RateMarketingUse+RateOtherPurposeUse:
		return pick(g.rnd, []string{"analytics.reporting", "essential.service.payment_processing", "personalize.content.profiled"})
	case r < 0.6:
		return "essential.service.authentication"
	}
	return "essential.service.authorization"
}

func (g *Generator) values(s *subject, c *controller, svc *sp) map[string][]string {
	v := map[string][]string{}
	first, last := pick(g.rnd, firstNames), pick(g.rnd, lastNames)
	attrs := svc.attrs
	if g.rnd.Float64() < RateUnapproved {
		attrs = append(attrs[:len(attrs):len(attrs)], "urn:mpass.id:schoolCode")
	}
	if g.rnd.Float64() < RateIndicative && s.roleCode == 1 {
		attrs = append(attrs[:len(attrs):len(attrs)], classLevel)
	}
	if g.rnd.Float64() < RateRevealing {
		attrs = append(attrs[:len(attrs):len(attrs)], "urn:mpass.id:legacyCryptId")
	}
	for _, a := range attrs {
		switch a {
		case "urn:mpass.id:uid":
			v[a] = []string{s.id}
		case role:
			class := s.class
			v[a] = []string{strings.Join([]string{c.oid, s.school, class, roleNames[s.roleCode], strconv.Itoa(s.roleCode), "", ""}, ";")}
		case "urn:oid:2.5.4.42":
			v[a] = []string{first}
		case "urn:oid:2.5.4.4":
			v[a] = []string{last}
		case "urn:mpass.id:nickname":
			v[a] = []string{first}
		case classLevel:
			if s.grade > 0 {
				v[a] = []string{strconv.Itoa(s.grade)}
			}
		case "urn:mpass.id:schoolInfo", "urn:mpass.id:schoolCode":
			v[a] = []string{s.school + ";Koulu " + s.school}
		case "urn:oid:1.3.6.1.4.1.16161.1.1.27":
			v[a] = []string{mpass.PersonOID(g.rnd.Int64N(1e10))}
		case mail:
			local := strings.ToLower(first + "." + last)
			if g.rnd.Float64() < RateBirthYearEmail {
				local += strconv.Itoa(2008 + g.rnd.IntN(10))
			}
			v[a] = []string{local + "@koulu.example.fi"}
		case "urn:mpass.id:legacyCryptId":
			v[a] = []string{fmt.Sprintf("%032x", g.rnd.Uint64())}
		}
	}
	if g.rnd.Float64() < RateIdentityCode {
		v["urn:mpass.id:nickname"] = []string{pick(g.rnd, testCodes)}
	}
	return v
}
