package gen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// The diverse workload's rates (issue 16), per release or per use.
const (
	DiverseRateTeacher      = 1.0 / 12  // of subjects
	DiverseRateStaff        = 0.01      // of subjects
	DiverseRateEmailYear    = 0.25      // of subjects: a four-digit year in the e-mail's local part
	DiverseRateIdentityCode = 1.0 / 500 // of released nicknames: an identity code in the nickname
	DiverseRateExtraGrade   = 1.0 / 97  // of releases: a grade level other than the subject's own (a second value, or classLevel unasked)
	DiverseRateOIDC         = 1.0 / 3   // of SPs: an OIDC client id instead of a SAML entityID
	DiverseRateAnalytics    = 0.10      // of uses
	DiverseRateMarketing    = 0.10      // of uses; the other 80 % are authentication
	DiverseSubjects         = 50_000
)

// dataModel14 is what a diverse SP is approved for a set of 2–7 from: MPASSid's data
// model 1.4 (rego/data/catalog.rego data_model.saml) and the e-mail address SPs now ask for.
var dataModel14 = []string{
	"urn:oid:2.5.4.4", "urn:oid:2.5.4.42", "urn:mpass.id:nickname", "urn:mpass.id:uid",
	"urn:oid:1.3.6.1.4.1.16161.1.1.27", "urn:mpass.id:schoolInfo", classLevel,
	"urn:mpass.id:learningMaterialsCharge", role, "urn:mpass.id:educationProviderInfo",
	"urn:mpass.id:originalIssuer", mail,
}

var (
	// Finnish, Swedish and Sámi (North, Inari, Skolt) letters, which the records carry as \u escapes.
	diverseFirst = []string{"Aino", "Väinö", "Äijä", "Östen", "Åsa", "Máret", "Ánde", "Biret", "Ovllá", "Čáhppe", "Áilu", "Sárá", "Ŋoađđi", "Đuoljá", "Šiellá", "Žaŋŋa", "Ǯiõǯǯ", "Âlgâ", "Elle", "Niillas", "Jouni", "Helmi", "Eetu", "Siiri"}
	diverseLast  = []string{"Mäkelä", "Äärelä", "Päivärinta", "Näkkäläjärvi", "Guttorm", "Länsman", "Sámmol", "Čuđe", "Sanila", "Mosnikoff", "Fofonoff", "Valle", "Ŧiehtá", "Öhman", "Åberg", "Virtanen", "Kärkkäinen"}
	schoolWords  = []string{"koulu", "skuvla", "škoovl", "skole", "yhtenäiskoulu", "lukio", "skola"}
	asciiFold    = strings.NewReplacer("ä", "a", "ö", "o", "å", "a", "á", "a", "č", "c", "đ", "d", "ŋ", "n", "š", "s", "ŧ", "t", "ž", "z", "ǯ", "z", "õ", "o", "â", "a",
		"Ä", "a", "Ö", "o", "Å", "a", "Á", "a", "Č", "c", "Đ", "d", "Ŋ", "n", "Š", "s", "Ŧ", "t", "Ž", "z", "Ǯ", "z", "Â", "a")
)

// newDiverse builds the diverse workload's world: 300 controllers with 2–15 schools
// each; 200 SPs, popularity falling as 1/rank, each approved for its own set of 2–7
// of dataModel14 (a third OIDC clients, which receive `sub` too); 50,000 subjects,
// each with a fixed school, role (one in twelve a teacher, one in a hundred other
// staff, the rest learners with grade 1–9 and a class), names, e-mail address (a
// quarter with a birth year) and learner id.
func newDiverse(cfg Config) *Generator {
	g := &Generator{diverse: true, cfg: cfg, rnd: rand.New(rand.NewPCG(cfg.Seed, 0x646976657273))}
	var schools [][2]int // controller, school index
	for i := range cfg.Controllers {
		c := controller{oid: ControllerOID(i), name: pick(g.rnd, stems) + pick(g.rnd, suffixes)}
		for j := range 2 + g.rnd.IntN(14) {
			c.schools = append(c.schools, fmt.Sprintf("%05d", 10000+i*20+j))
			schools = append(schools, [2]int{i, j})
		}
		g.controllers = append(g.controllers, c)
	}
	total := 0.0
	for i := range cfg.SPs {
		s := sp{name: fmt.Sprintf("Palvelu %03d", i), commercial: g.rnd.Float64() < 0.3, from: "2020-01-01", weight: 1 / float64(i+1)}
		if g.rnd.Float64() < DiverseRateOIDC {
			s.id = fmt.Sprintf("%016x%016x", g.rnd.Uint64(), g.rnd.Uint64()) // an OIDC client id, as the management service has them
			s.attrs = append(s.attrs, "sub")
		} else {
			s.id = fmt.Sprintf("https://sp%03d.%s.example/shibboleth", i, strings.ToLower(asciiFold.Replace(pick(g.rnd, diverseLast))))
		}
		perm := g.rnd.Perm(len(dataModel14))
		for _, k := range perm[:2+g.rnd.IntN(6)] {
			s.attrs = append(s.attrs, dataModel14[k])
		}
		if i%40 == 39 {
			s.to = cfg.Start.AddDate(0, 0, cfg.Days/2).Format(time.DateOnly)
		}
		total += s.weight
		g.sps = append(g.sps, s)
		g.cumWeight = append(g.cumWeight, total)
	}
	n := cfg.Subjects
	if n <= 0 {
		n = DiverseSubjects
	}
	for range n {
		at := schools[g.rnd.IntN(len(schools))] // bigger controllers have more pupils
		c := &g.controllers[at[0]]
		s := subject{id: fmt.Sprintf("MPASSOID.%016x%016x%08x", g.rnd.Uint64(), g.rnd.Uint64(), g.rnd.Uint32()), controller: at[0], school: c.schools[at[1]], roleCode: 1,
			first: pick(g.rnd, diverseFirst), last: pick(g.rnd, diverseLast), learner: mpass.PersonOID(g.rnd.Int64N(1e10))}
		switch r := g.rnd.Float64(); {
		case r < DiverseRateTeacher:
			s.roleCode = 2
		case r < DiverseRateTeacher+DiverseRateStaff:
			s.roleCode = 3
		default:
			s.grade = 1 + g.rnd.IntN(9)
			s.class = strconv.Itoa(s.grade) + string(rune('A'+g.rnd.IntN(4)))
		}
		local := strings.ToLower(asciiFold.Replace(s.first + "." + s.last))
		if g.rnd.Float64() < DiverseRateEmailYear {
			local += strconv.Itoa(2008 + g.rnd.IntN(12))
		}
		s.email = local + "@" + strings.ToLower(asciiFold.Replace(strings.Fields(c.name)[0])) + ".example.fi"
		g.subjects = append(g.subjects, s)
	}
	return g
}

// writeDiverse writes the diverse workload's records: in time order, as a log has
// them, spread over the period; every non-ASCII letter as a \u escape.
func (g *Generator) writeDiverse(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false)
	var escaped []byte
	span := float64(g.cfg.Days) * 86400
	// gaps whose sum stays inside the period: with a mean of span/N the N gaps overshoot
	// it half the time, and the clamp then piled records on the last second
	n := float64(max(1, g.cfg.Records))
	mean := span / (n + 4*math.Sqrt(n))
	at := 0.0
	for range g.cfg.Records {
		s := &g.subjects[g.rnd.IntN(len(g.subjects))]
		svc := g.sp()
		at = min(at+g.rnd.ExpFloat64()*mean, span-1)
		t := g.cfg.Start.Add(time.Duration(at * float64(time.Second))).Format(time.RFC3339)
		c := &g.controllers[s.controller]
		id := fmt.Sprintf("_%016x%016x", g.rnd.Uint64(), g.rnd.Uint64()) // a SAML assertion id
		var r record
		if g.rnd.Float64() < RateUse {
			g.summary.Uses++
			r = record{Kind: "use", ID: id, Time: t, SP: svc.id, Subject: s.id, Purpose: g.diversePurpose(), Attributes: svc.attrs[:1+g.rnd.IntN(len(svc.attrs))]}
			if g.rnd.Float64() < 0.5 {
				r.Controller = c.oid
			}
		} else {
			g.summary.Releases++
			r = record{Kind: "release", ID: id, Time: t, SP: svc.id, Controller: c.oid, Subject: s.id, Attributes: g.diverseValues(s, c, svc)}
		}
		line.Reset()
		if err := enc.Encode(r); err != nil {
			return err
		}
		escaped = escapeNonASCII(escaped[:0], line.Bytes())
		if _, err := bw.Write(escaped); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func (g *Generator) diversePurpose() string {
	switch r := g.rnd.Float64(); {
	case r < DiverseRateMarketing:
		return pick(g.rnd, []string{"marketing.communications.email", "marketing.advertising.first_party.targeted"})
	case r < DiverseRateMarketing+DiverseRateAnalytics:
		return "analytics.reporting"
	}
	return "essential.service.authentication"
}

func (g *Generator) diverseValues(s *subject, c *controller, svc *sp) map[string][]string {
	v := make(map[string][]string, len(svc.attrs)+1)
	for _, a := range svc.attrs {
		switch a {
		case "sub":
			v[a] = []string{pairwise(s.id, svc.id)} // pairwise, as the proxy computes it
		case "urn:mpass.id:uid":
			v[a] = []string{s.id}
		case role:
			v[a] = []string{strings.Join([]string{c.oid, s.school, s.class, roleNames[s.roleCode], strconv.Itoa(s.roleCode), "", ""}, ";")}
		case "urn:oid:2.5.4.42":
			v[a] = []string{s.first}
		case "urn:oid:2.5.4.4":
			v[a] = []string{s.last}
		case "urn:mpass.id:nickname":
			nick := s.first
			if g.rnd.Float64() < DiverseRateIdentityCode {
				nick += " " + pick(g.rnd, testCodes)
			}
			v[a] = []string{nick}
		case classLevel:
			if s.grade > 0 {
				v[a] = []string{strconv.Itoa(s.grade)}
			}
		case "urn:mpass.id:schoolInfo":
			v[a] = []string{s.school + ";" + c.name + " " + schoolWords[int(s.school[4]-'0')%len(schoolWords)]}
		case "urn:mpass.id:learningMaterialsCharge":
			v[a] = []string{"0;" + s.school}
		case "urn:mpass.id:educationProviderInfo":
			v[a] = []string{c.oid + ";" + c.name}
		case "urn:mpass.id:originalIssuer":
			v[a] = []string{c.oid}
		case "urn:oid:1.3.6.1.4.1.16161.1.1.27":
			v[a] = []string{s.learner}
		case mail:
			v[a] = []string{s.email}
		}
	}
	if g.rnd.Float64() < DiverseRateExtraGrade {
		// another grade than the subject's own: a second value where the SP gets
		// classLevel (a learner's), the attribute itself where it does not
		grade := 1 + g.rnd.IntN(8)
		if grade >= s.grade && s.grade > 0 {
			grade++
		}
		v[classLevel] = append(v[classLevel], strconv.Itoa(grade))
	}
	return v
}

// escapeNonASCII appends src to dst with every non-ASCII rune written as a JSON \u
// escape (a UTF-16 surrogate pair above the BMP), as some logging stacks write them.
// src is JSON, whose non-ASCII bytes are all inside strings.
func escapeNonASCII(dst, src []byte) []byte {
	for len(src) > 0 {
		if src[0] < utf8.RuneSelf {
			dst = append(dst, src[0])
			src = src[1:]
			continue
		}
		r, n := utf8.DecodeRune(src)
		src = src[n:]
		if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
			dst = fmt.Appendf(dst, `\u%04x\u%04x`, r1, r2)
		} else {
			dst = fmt.Appendf(dst, `\u%04x`, r)
		}
	}
	return dst
}

// pairwise is an OIDC pairwise subject identifier for a user at an SP.
func pairwise(subject, sp string) string {
	h := fnv.New128a()
	h.Write([]byte(subject + "\x00" + sp))
	return fmt.Sprintf("%x", h.Sum(nil))
}
