# METADATA
# title: Use only for identification and access rights
# description: |
#   The SP may use the released data only to identify the end user and to check their
#   access rights.
# custom:
#   term: identification-only
#   kinds: [use]
#   category: MPASSid terms
package mpass.terms.identification_only

import data.mpass.lib

# METADATA
# title: Purpose not covered
# description: |
#   A use for a purpose other than identification or access rights, not named by a valid
#   controller–SP agreement (never for marketing) and not covered by a consent.
# custom:
#   term: identification-only
#   rule: purpose-not-covered
#   severity: high
#   clause: MPASSid service terms, use of data (identification and access rights only)
#   references: [MPASSid service terms, "GDPR Art. 5(1)(b)", "GDPR Art. 28(3)(a)"]
findings contains f if {
	input.kind == "use"
	not lib.identification(input.purpose)
	not covered_by_agreement
	not covered_by_consent
	f := lib.finding(rego.metadata.rule(), "fail", "", sprintf("purpose %s is not covered by an agreement or consent", [input.purpose]))
}

# A controller agreement can add purposes, but never a marketing one.
covered_by_agreement if {
	not lib.marketing(input.purpose)
	some ag in lib.agreements
	some p in ag.purposes
	lib.covers(p, input.purpose)
}

# Here a consent counts whoever gave it.
covered_by_consent if {
	some c in input.consents
	lib.covers(c.purpose, input.purpose)
	lib.consent_active(c)
}
