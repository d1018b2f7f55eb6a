# METADATA
# title: Data minimisation
# description: |
#   MPASSid carries only data necessary for the provision of education; an SP receives
#   only the attributes approved for it.
# custom:
#   term: data-minimisation
#   kinds: [release]
#   category: MPASSid terms
package mpass.terms.data_minimisation

import data.mpass.lib

# METADATA
# title: Release to an unknown service provider
# description: The SP is not in the registry, so it is approved for nothing.
# custom:
#   term: data-minimisation
#   rule: unknown-sp
#   severity: high
#   clause: MPASSid joining agreement (liittymissopimus), registered services only
#   references: [MPASSid joining agreement, "GDPR Art. 5(1)(c)", "GDPR Art. 28"]
findings contains f if {
	input.kind == "release"
	not lib.known_sp
	f := lib.finding(rego.metadata.rule(), "fail", "", "the service provider is not in the registry")
}

# METADATA
# title: Release outside the SP's agreement validity
# description: The release happened before the SP's agreement started or after it ended.
# custom:
#   term: data-minimisation
#   rule: outside-agreement
#   severity: high
#   clause: MPASSid joining agreement (liittymissopimus), validity
#   references: [MPASSid joining agreement, "GDPR Art. 5(1)(c)"]
findings contains f if {
	input.kind == "release"
	lib.known_sp
	valid := object.get(lib.sp, "valid", {})
	not lib.within(valid, lib.date)
	f := lib.finding(rego.metadata.rule(), "fail", "", sprintf("released outside the agreement valid %s..%s", [object.get(valid, "from", ""), object.get(valid, "to", "")]))
}

# METADATA
# title: Attribute not approved for the SP
# description: |
#   The attribute is neither in the SP's registry list nor added by a controller–SP
#   agreement valid on the release date. One finding per attribute.
# custom:
#   term: data-minimisation
#   rule: unapproved-attribute
#   severity: medium
#   clause: MPASSid service terms, attributes released to a service
#   references: [MPASSid service terms, "GDPR Art. 5(1)(c)"]
findings contains f if {
	input.kind == "release"
	lib.known_sp
	some name, _ in input.attributes
	not lib.approved(name)
	f := lib.finding(rego.metadata.rule(), "fail", name, sprintf("%s is not approved for this service provider", [name]))
}
