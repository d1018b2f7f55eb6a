# METADATA
# title: No direct marketing to minors
# description: |
#   KKV guideline 3.1.1: no direct marketing to under-15s without a guardian's consent.
#   MPASSid passes no age, so every learner is a presumed under-15.
# custom:
#   term: no-direct-marketing-to-minors
#   kinds: [release, use]
#   category: Consumer protection
package mpass.terms.no_direct_marketing_to_minors

import data.mpass.catalog
import data.mpass.lib

# METADATA
# title: Marketing to a learner without a guardian's consent
# description: |
#   A marketing use for a learner with no guardian's consent given before the use and not
#   withdrawn before it. The pupil's own consent does not count; an objection after the
#   consent voids it.
# custom:
#   term: no-direct-marketing-to-minors
#   rule: marketing-without-guardian-consent
#   severity: critical
#   clause: KKV guideline on marketing in schools (2021), 3.1.1
#   references: [KKV guideline 3.1.1, "GDPR Art. 8", "GDPR Art. 21"]
findings contains f if {
	input.kind == "use"
	lib.marketing(input.purpose)
	lib.learner
	not guardian_consent
	f := lib.finding(rego.metadata.rule(), "fail", "", sprintf("%s use for %s without a guardian's consent", [input.purpose, lib.who]))
}

guardian_consent if {
	some c in input.consents
	c.given_by == "guardian"
	lib.covers(c.purpose, input.purpose)
	lib.consent_active(c)
	not objected_since(c.given)
}

# objected_since(t): a consent covering the purpose was withdrawn (an objection) after t
# and at or before the use.
objected_since(t) if {
	some o in input.consents
	lib.covers(o.purpose, input.purpose)
	o.withdrawn
	lib.withdrawn_by(o, time.parse_rfc3339_ns(input.time))
	time.parse_rfc3339_ns(o.withdrawn) > time.parse_rfc3339_ns(t)
}

# METADATA
# title: Learner's e-mail released to a commercial SP
# description: |
#   Contact data of a presumed minor at a commercial service; the controller should check
#   the agreement that allows it.
# custom:
#   term: no-direct-marketing-to-minors
#   rule: learner-email-to-commercial-sp
#   severity: medium
#   clause: KKV guideline on marketing in schools (2021), 3.1.1; MPASSid service terms
#   references: [KKV guideline 3.1.1, "GDPR Art. 5(1)(b)", "GDPR Art. 8"]
findings contains f if {
	input.kind == "release"
	lib.sp.commercial
	input.attributes[catalog.mail]
	lib.learner
	f := lib.finding(rego.metadata.rule(), "warn", catalog.mail, sprintf("e-mail of %s released to a commercial service provider", [lib.who]))
}
