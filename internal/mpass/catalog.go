package mpass

// CatalogAttribute is one attribute of the attribute catalog (the policies' data
// data.mpass.catalog.attributes, rego/data/catalog.rego): its canonical name and every
// other name it has gone by (RECORDS.md "Every name an attribute has gone by").
type CatalogAttribute struct {
	Name     string   // canonical: the SAML name (URN or urn:oid:), or an OIDC claim that has none
	Friendly string   // the FriendlyName of data model 1.4, for readers
	Names    []string // every other name: FriendlyNames of every era, resolver ids, OIDC claims
	Age      string   // none, indicative or revealing (TERMS.md no-age-inference)
	// Role is the form of a role attribute's values: RoleStructured or RoleName; "" for
	// an attribute that is no role.
	Role string
}

// Forms of role attribute values.
const (
	// RoleStructured is <provider>;<school>;<class>;<role name>[;<role code>;...]:
	// urn:mpass.id:role, urn:mpass.id:role_v1.1, the ECA structuredRole.
	RoleStructured = "structured"
	// RoleName is a role name alone: the ECA role (ecaRole).
	RoleName = "name"
)
