package facts

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// Catalog maps every name an attribute has gone by to its canonical name (RECORDS.md
// "Every name an attribute has gone by"). It is built from the policies' attribute
// catalog, so ingest and the registry loaders read a name the same way, and it is
// read-only once built: safe for concurrent use.
type Catalog struct {
	exact      map[string]string // every name → canonical
	fold       map[string]string // lower-cased name → canonical, where that is unambiguous
	roles      map[string]string // canonical → role form
	structured []string          // canonical names of structured roles, urn:mpass.id:role first
	attrs      map[string]mpass.CatalogAttribute
}

// NewCatalog builds a catalog from the attribute catalog. It fails when one name
// means two attributes.
func NewCatalog(attrs []mpass.CatalogAttribute) (*Catalog, error) {
	c := &Catalog{exact: map[string]string{}, fold: map[string]string{}, roles: map[string]string{}, attrs: map[string]mpass.CatalogAttribute{}}
	for _, a := range attrs {
		c.attrs[a.Name] = a
		if a.Role != "" {
			c.roles[a.Name] = a.Role
			if a.Role == mpass.RoleStructured {
				c.structured = append(c.structured, a.Name)
			}
		}
	}
	slices.SortFunc(c.structured, func(a, b string) int { // urn:mpass.id:role first
		return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b))
	})
	ambiguous := map[string]bool{}
	for _, a := range attrs {
		for _, n := range append([]string{a.Name, a.Friendly}, a.Names...) {
			if n = strings.TrimSpace(n); n == "" {
				continue
			}
			if other, ok := c.exact[n]; ok && other != a.Name {
				return nil, fmt.Errorf("attribute catalog: %q names both %s and %s", n, other, a.Name)
			}
			c.exact[n] = a.Name
			l := strings.ToLower(n)
			if other, ok := c.fold[l]; ok && other != a.Name {
				ambiguous[l] = true
			}
			c.fold[l] = a.Name
		}
	}
	for l := range ambiguous {
		delete(c.fold, l)
	}
	return c, nil
}

// MustCatalog is NewCatalog for catalogs known to be sound (tests, built-in policies).
func MustCatalog(attrs []mpass.CatalogAttribute) *Catalog {
	c, err := NewCatalog(attrs)
	if err != nil {
		panic(err)
	}
	return c
}

// Canonical returns the canonical name of a logged attribute name: an exact match
// first, then one without regard to case where only one attribute has that name. An
// unknown name is kept as it is (trimmed).
func (c *Catalog) Canonical(name string) string {
	if v, ok := c.exact[name]; ok {
		return v
	}
	name = strings.TrimSpace(name)
	if v, ok := c.exact[name]; ok {
		return v
	}
	if v, ok := c.fold[strings.ToLower(name)]; ok {
		return v
	}
	return name
}

// Known reports whether the catalog has name under any of its names.
func (c *Catalog) Known(name string) bool {
	_, known := c.Resolve(name)
	return known
}

// Resolve is Canonical, and whether the catalog knows the name.
func (c *Catalog) Resolve(name string) (canonical string, known bool) {
	canonical = c.Canonical(name)
	_, known = c.attrs[canonical]
	return canonical, known
}

// RoleForm is the form of a canonical role attribute's values (mpass.RoleStructured,
// mpass.RoleName), or "" for an attribute that is no role.
func (c *Catalog) RoleForm(canonical string) string { return c.roles[canonical] }

// WithNames returns a catalog that also knows another deployment's names (a name map:
// name → the canonical name, or any name the catalog knows, of the attribute it means).
// A target the catalog does not know, or a name that already means another attribute,
// is an error: a name means one thing everywhere.
func (c *Catalog) WithNames(names map[string]string) (*Catalog, error) {
	if len(names) == 0 {
		return c, nil
	}
	n := &Catalog{exact: maps.Clone(c.exact), fold: maps.Clone(c.fold), roles: c.roles, structured: c.structured, attrs: c.attrs}
	folds := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(names)) {
		if err := c.CheckName(name, names[name]); err != nil {
			return nil, err
		}
		target := c.Canonical(names[name])
		n.exact[name] = target
		l := strings.ToLower(name)
		if other, ok := folds[l]; ok && other != target {
			delete(n.fold, l) // FOO and foo of two attributes: each matched exactly only
			continue
		}
		folds[l] = target
		if other, ok := n.fold[l]; !ok || other == target {
			n.fold[l] = target
		}
	}
	for l, target := range folds {
		if n.fold[l] != target {
			delete(n.fold, l)
		}
	}
	return n, nil
}

// CheckName tells whether name may be mapped to target in a name map.
func (c *Catalog) CheckName(name, target string) error {
	if err := NameProblem(name); err != nil {
		return fmt.Errorf("a mapped name: %w", err) // not quoted: it may be value text
	}
	t := c.Canonical(target)
	if _, ok := c.attrs[t]; !ok {
		return fmt.Errorf("%s: %q is not an attribute of the catalog (give its canonical URN)", name, target)
	}
	if was := c.Canonical(name); was != name && was != t {
		return fmt.Errorf("%s: already means %s in the catalog, not %s", name, was, t)
	} else if _, ok := c.attrs[name]; ok && name != t {
		return fmt.Errorf("%s: is itself an attribute of the catalog", name)
	}
	return nil
}

func rank(name string) int {
	if name == Role {
		return 0
	}
	return 1
}
