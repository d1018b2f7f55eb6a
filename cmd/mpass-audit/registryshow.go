package main

import (
	"cmp"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/registry"
)

// writeRegistryTable prints a registry version for a reader: its sources, each
// controller with its names, identity providers, schools and allowed services (since
// and until, UTC; "always" for a permission that counts from before any record), then
// the SPs, agreements, consents (pseudonyms only: the registry holds no raw ids) and
// exceptions. `registry show --format json` gives every field.
func writeRegistryTable(w io.Writer, reg *mpass.Registry) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	// a registry is input: every cell and name is escaped (mpass.Printable), so no
	// control character reaches the terminal nor breaks the columns
	row := func(cells ...string) {
		for i, c := range cells {
			cells[i] = mpass.Printable(c)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	flush := func() { tw.Flush(); fmt.Fprintln(w) }

	fmt.Fprintf(w, "Registry version %d, loaded %s, %s\n\n", reg.Version, reg.Loaded.UTC().Format(time.RFC3339), reg.Digest)
	if len(reg.Sources) > 0 {
		fmt.Fprintln(w, "Sources")
		for _, s := range reg.Sources {
			row("  "+s.Kind, s.Name, s.Digest)
		}
		flush()
	}

	perms := map[string][]mpass.Permission{}
	for _, p := range reg.Permissions {
		perms[p.Controller] = append(perms[p.Controller], p)
	}
	idps := map[string][]string{}
	for _, idp := range reg.IdentityProviders {
		idps[idp.Controller] = append(idps[idp.Controller], fmt.Sprintf("%s (%s)", cmp.Or(idp.Flow, idp.IdpID, "-"), strings.Trim(idp.Type+", "+idp.IdpID, ", ")))
	}
	fmt.Fprintf(w, "Controllers (%d)\n", len(reg.Controllers))
	for _, c := range reg.Controllers {
		fmt.Fprintf(w, "  %s  %s\n", mpass.Printable(c.OID), mpass.Printable(cmp.Or(c.Name, "(no name)")+otherNames(c.Names, c.Name)))
		if len(idps[c.OID]) > 0 {
			fmt.Fprintf(w, "    identity providers: %s\n", mpass.Printable(strings.Join(idps[c.OID], "; ")))
		}
		if len(c.Schools) > 0 {
			fmt.Fprintf(w, "    schools (%d)\n", len(c.Schools))
			for _, s := range c.Schools {
				under := ""
				if s.Parent != "" && s.Parent != c.OID { // a school under another organisation of the controller
					under = "  (under " + s.Parent + ")"
				}
				row("      "+cmp.Or(s.Code, "-"), cmp.Or(s.OID, "-"), cmp.Or(s.Name, "(no name)")+otherNames(s.Names, s.Name)+under)
			}
			tw.Flush()
		}
		switch ps := perms[c.OID]; {
		case !c.PermissionData && len(ps) == 0:
			fmt.Fprintln(w, "    allowed services: no permission data (service-not-allowed cannot be checked)")
		default:
			if !c.PermissionData {
				fmt.Fprintln(w, "    allowed services: no permission data now (service-not-allowed cannot be checked); earlier ones:")
			} else {
				fmt.Fprintf(w, "    allowed services (%d)\n", len(ps))
			}
			row("      SERVICE", "SET", "SINCE", "UNTIL", "SOURCE")
			for _, p := range ps {
				until := "-"
				if p.To != nil {
					until = p.To.UTC().Format(time.RFC3339)
				}
				set := "-"
				if p.Set != "" {
					set = p.Set + " " + reg.SetName(p.Set)
				}
				row("      "+p.SP, set, since(p.From), until, p.Source)
			}
			tw.Flush()
		}
	}
	fmt.Fprintln(w)

	fmt.Fprintf(w, "Service providers (%d)\n", len(reg.ServiceProviders))
	if len(reg.ServiceProviders) > 0 {
		row("  ID", "NAME", "PROTOCOL", "PHASE", "VENDOR", "BUSINESS ID", "COMMERCIAL", "VALID", "SETS", "TEST LEARNER", "ATTRIBUTES", "PURPOSES")
		for _, sp := range reg.ServiceProviders {
			phase := "-"
			if sp.DeploymentPhase != nil {
				phase = strconv.Itoa(*sp.DeploymentPhase)
			}
			row("  "+sp.ID, cmp.Or(sp.Name, "-"), cmp.Or(sp.Protocol, "-"), phase, cmp.Or(sp.VendorOID, "-"), cmp.Or(sp.BusinessID, "-"),
				yesNo(sp.Commercial), dateRange(sp.Valid), cmp.Or(strings.Join(sp.Sets, ","), "-"), yesNo(sp.TestLearnerID),
				strconv.Itoa(len(sp.Attributes)), cmp.Or(strings.Join(sp.Purposes, ","), "-"))
		}
	}
	flush()

	fmt.Fprintf(w, "Agreements (%d)\n", len(reg.Agreements))
	if len(reg.Agreements) > 0 {
		row("  CONTROLLER", "SP", "VALID", "ATTRIBUTES", "PURPOSES")
		for _, a := range reg.Agreements {
			row("  "+a.Controller, a.SP, dateRange(a.Valid), cmp.Or(strings.Join(a.Attributes, ","), "-"), cmp.Or(strings.Join(a.Purposes, ","), "-"))
		}
	}
	flush()

	fmt.Fprintf(w, "Consents (%d)\n", len(reg.Consents))
	if len(reg.Consents) > 0 {
		row("  SUBJECT (PSEUDONYM)", "SP", "PURPOSE", "GIVEN BY", "GIVEN", "WITHDRAWN")
		for _, c := range reg.Consents {
			withdrawn := "-"
			if c.Withdrawn != nil {
				withdrawn = c.Withdrawn.UTC().Format(time.RFC3339)
			}
			row("  "+c.Subject, c.SP, c.Purpose, c.GivenBy, c.Given.UTC().Format(time.RFC3339), withdrawn)
		}
	}
	flush()

	fmt.Fprintf(w, "Exceptions (%d)\n", len(reg.Exceptions))
	if len(reg.Exceptions) > 0 {
		row("  ID", "TERM", "RULE", "SP", "CONTROLLER", "ATTRIBUTE", "EXPIRES", "REASON")
		for _, e := range reg.Exceptions {
			row("  "+e.ID, e.Term, cmp.Or(e.Rule, "-"), e.SP, cmp.Or(e.Controller, "-"), cmp.Or(e.Attribute, "-"), e.Expires, e.Reason)
		}
	}
	return tw.Flush()
}

// since prints a permission's From: "always" for one without a time of its own.
func since(t time.Time) string {
	if t.Equal(registry.Epoch()) {
		return "always"
	}
	return t.UTC().Format(time.RFC3339)
}

// otherNames lists the names by language that differ from the default name.
func otherNames(names map[string]string, name string) string {
	var out []string
	for _, lang := range []string{"fi", "sv", "en"} {
		if n := names[lang]; n != "" && n != name {
			out = append(out, lang+": "+n)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return " [" + strings.Join(out, "; ") + "]"
}

func dateRange(r mpass.DateRange) string {
	if r.From == "" && r.To == "" {
		return "open"
	}
	return cmp.Or(r.From, "…") + ".." + cmp.Or(r.To, "…")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
