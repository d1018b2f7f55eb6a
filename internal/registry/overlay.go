package registry

import (
	"cmp"
	"maps"
	"slices"

	"github.com/opetushallitus/mpass-audit/internal/facts"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// Overlay reads a registry YAML (RECORDS.md "Registry (YAML)", validated as `registry
// load` validates it, name map included) as an overlay on base, the registry that
// `registry import` built from MPASSid's exports, and returns base with the overlay
// applied; base is not changed. The overlay adds what no OPH system holds:
//
//   - For a service provider base has, the overlay's `commercial`, `valid`,
//     `attributes` and `purposes` each replace base's where the overlay gives them
//     (a DPA's narrower or other attribute list, an agreement's validity), and a
//     non-empty `name` replaces its name; what the overlay leaves out stays. A
//     service provider base lacks is added as the overlay gives it.
//   - For a controller base has, a non-empty `name` replaces its default name (its
//     names by language stay) and each school is added, or names a school base has by
//     that code; a controller base lacks is added (it has no permission data).
//   - Agreements, consents and exceptions are added; they may refer to base's
//     controllers and service providers. `names:` becomes the registry's name map.
//
// Errors are those of Parse, with file and line; warnings too.
func Overlay(name string, data []byte, base *mpass.Registry, x *facts.Extractor, vocab Vocabulary) (*mpass.Registry, []string, error) {
	p, warnings, err := parse(name, data, base, x, vocab)
	if err != nil {
		return nil, nil, err
	}
	o := p.reg
	out := *base
	out.Controllers = slices.Clone(base.Controllers)
	out.ServiceProviders = slices.Clone(base.ServiceProviders)
	out.Agreements = append(slices.Clone(base.Agreements), o.Agreements...)
	out.Consents = append(slices.Clone(base.Consents), o.Consents...)
	out.Exceptions = append(slices.Clone(base.Exceptions), o.Exceptions...)
	if len(o.Names) > 0 {
		out.Names = maps.Clone(base.Names)
		if out.Names == nil {
			out.Names = map[string]string{}
		}
		maps.Copy(out.Names, o.Names)
	}

	for _, oc := range o.Controllers {
		i := slices.IndexFunc(out.Controllers, func(c mpass.Controller) bool { return c.OID == oc.OID })
		if i < 0 {
			out.Controllers = append(out.Controllers, oc)
			continue
		}
		c := &out.Controllers[i]
		if oc.Name != "" {
			c.Name = oc.Name
		}
		c.Schools = slices.Clone(c.Schools)
		for _, s := range oc.Schools {
			j := slices.IndexFunc(c.Schools, func(x mpass.School) bool { return x.Code == s.Code })
			if j < 0 {
				c.Schools = append(c.Schools, s)
				continue
			}
			if s.Name != "" {
				c.Schools[j].Name = s.Name
			}
			if s.OID != "" { // the registry YAML's schools may give their OID
				c.Schools[j].OID = s.OID
			}
		}
		sortSchools(c.Schools)
	}
	slices.SortFunc(out.Controllers, func(a, b mpass.Controller) int { return cmp.Compare(a.OID, b.OID) })

	for _, os := range o.ServiceProviders {
		i := slices.IndexFunc(out.ServiceProviders, func(sp mpass.ServiceProvider) bool { return sp.ID == os.ID })
		if i < 0 {
			out.ServiceProviders = append(out.ServiceProviders, os)
			continue
		}
		sp := &out.ServiceProviders[i]
		g := p.given[os.ID]
		if os.Name != "" {
			sp.Name = os.Name
		}
		if g.commercial {
			sp.Commercial = os.Commercial
		}
		if g.valid {
			sp.Valid = os.Valid
		}
		if g.attributes {
			sp.Attributes = os.Attributes
		}
		if g.purposes {
			sp.Purposes = os.Purposes
		}
	}
	slices.SortFunc(out.ServiceProviders, func(a, b mpass.ServiceProvider) int { return cmp.Compare(a.ID, b.ID) })
	return &out, warnings, nil
}

// sortSchools orders schools as the database returns them: by code, else by OID.
func sortSchools(s []mpass.School) {
	slices.SortFunc(s, func(a, b mpass.School) int { return cmp.Compare(cmp.Or(a.Code, a.OID), cmp.Or(b.Code, b.OID)) })
}
