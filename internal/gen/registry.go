package gen

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// WriteRegistry writes the registry YAML that matches the workload.
func (g *Generator) WriteRegistry(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	n := Summary{Releases: g.summary.Releases, Uses: g.summary.Uses, Controllers: len(g.controllers), SPs: len(g.sps)}
	p("# Synthetic registry written by `mpass-audit gen --workload %s --records %d --seed %d --controllers %d --sps %d`.\ncontrollers:\n",
		cmp.Or(g.cfg.Workload, WorkloadNational), g.cfg.Records, g.cfg.Seed, len(g.controllers), len(g.sps))
	for _, c := range g.controllers {
		p("  - oid: %s\n    name: %s\n    schools:\n", c.oid, strconv.Quote(c.name))
		for _, s := range c.schools {
			p("      - {code: %q, name: %q}\n", s, "Koulu "+s)
		}
	}
	p("service_providers:\n")
	for _, s := range g.sps {
		valid := "from: " + s.from
		if s.to != "" {
			valid += ", to: " + s.to
		}
		p("  - id: %s\n    name: %q\n    commercial: %v\n    valid: {%s}\n    attributes: [%s]\n    purposes: [essential.service.authentication, essential.service.authorization]\n",
			s.id, s.name, s.commercial, valid, strings.Join(s.attrs, ", "))
	}
	// commercial SPs that take payments get e-mail and a payment purpose from some controllers
	p("agreements:\n")
	for i, s := range g.sps {
		if !s.commercial || i%3 != 0 {
			continue
		}
		for j := i % 7; j < len(g.controllers); j += 11 {
			n.Agreements++
			p("  - {controller: %s, sp: %s, valid: {from: 2024-08-01, to: 2027-07-31}, attributes: [%s], purposes: [essential.service.payment_processing]}\n",
				g.controllers[j].oid, s.id, mail)
		}
	}
	p("consents:\n")
	for i := 0; i < len(g.subjects); i += 50 {
		s := g.subjects[i]
		by := "guardian"
		if i%100 == 0 {
			by = "self"
		}
		n.Consents++
		p("  - {subject: %s, sp: %s, purpose: marketing.communications, given_by: %s, given: 2026-08-01T00:00:00Z}\n", s.id, g.sps[i%len(g.sps)].id, by)
	}
	p("exceptions:\n")
	for i := 0; i < len(g.sps); i += 25 {
		n.Exceptions++
		p("  - {id: EX-GEN-%03d, term: data-minimisation, rule: unapproved-attribute, sp: %s, attribute: urn:mpass.id:schoolCode, reason: \"Legacy school code, being removed\", expires: 2027-06-30}\n", i, g.sps[i].id)
	}
	g.summary = n
	return bw.Flush()
}

// AllowedServices are the services every tenth controller allows, as the management
// service's permissions would say: most SPs since 2020, some only from the middle of the
// period (a permission given mid-month), some never. The other controllers have no
// permission data. withData lists the controllers that have it.
func (g *Generator) AllowedServices() (withData []string, permissions []mpass.Permission) {
	since := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	mid := g.cfg.Start.AddDate(0, 0, g.cfg.Days/2).Add(10*time.Hour + 30*time.Minute)
	for i, c := range g.controllers {
		if i%10 != 0 {
			continue
		}
		withData = append(withData, c.oid)
		for j, s := range g.sps {
			switch {
			case j%17 == 3: // never allowed
			case j%13 == 5:
				permissions = append(permissions, mpass.Permission{Controller: c.oid, SP: s.id, From: mid, Source: "permissions"})
			default:
				permissions = append(permissions, mpass.Permission{Controller: c.oid, SP: s.id, From: since, Source: "permissions"})
			}
		}
	}
	return withData, permissions
}
