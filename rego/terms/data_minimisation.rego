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
# title: Release to a service the controller had not allowed
# description: |
#   Since the management service's version 2.0 (January 2024) a controller chooses which
#   services its pupils may reach, and the management service keeps every change. A
#   release to a service the controller had not allowed at the release's time (directly,
#   through a service set, or in Opinsys' allowedServiceProviders) fails. A controller
#   whose allowed services were not loaded is not judged by this rule.
# custom:
#   term: data-minimisation
#   rule: service-not-allowed
#   severity: high
#   clause: MPASSid management service 2.0, the education provider's allowed services; MPASSid joining agreement (liittymissopimus)
#   references: [MPASSid joining agreement, "GDPR Art. 5(1)(c)", "GDPR Art. 25(2)"]
findings contains f if {
	input.kind == "release"
	lib.known_sp
	lib.permission_data
	not lib.allowed_service
	f := lib.finding(rego.metadata.rule(), "fail", "", "the controller had not allowed this service at the time of the release")
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
