# METADATA
# title: No information revealing age
# description: MPASSid passes no information from which the user's age can be inferred.
# custom:
#   term: no-age-inference
#   kinds: [release]
#   category: MPASSid terms
package mpass.terms.no_age_inference

import data.mpass.catalog
import data.mpass.lib

# METADATA
# title: Age-revealing attribute released
# description: |
#   A date or year of birth, a personal identity code, an age or a legacy crypt id (an MD5 of
#   the identity code) was released. It fails whether or not the SP is approved for it.
# custom:
#   term: no-age-inference
#   rule: age-revealing-attribute
#   severity: critical
#   clause: MPASSid service terms, attributes; MPASSid data model 1.4 (no attribute reveals age)
#   references: [MPASSid data model 1.4, "GDPR Art. 5(1)(c)", "GDPR Art. 8"]
findings contains f if {
	input.kind == "release"
	some name, _ in input.attributes
	lib.age_class(name) == "revealing"
	f := lib.finding(rego.metadata.rule(), "fail", name, sprintf("%s reveals the user's age and must never be released", [name]))
}

# METADATA
# title: Personal identity code in a released value
# description: |
#   A released value contains a checksum-valid Finnish personal identity code, which
#   carries the date of birth. Evidence shows the attribute and a keyed fingerprint only.
# custom:
#   term: no-age-inference
#   rule: age-revealing-value
#   severity: critical
#   clause: MPASSid service terms, attributes; MPASSid data model 1.4 (no attribute reveals age)
#   references: [MPASSid data model 1.4, "GDPR Art. 5(1)(c)", "GDPR Art. 8"]
findings contains f if {
	input.kind == "release"
	some name, a in input.attributes
	a.identity_code
	f := lib.finding(rego.metadata.rule(), "fail", name, sprintf("a value of %s contains a personal identity code", [name]))
}

# METADATA
# title: Age-indicative attribute released
# description: |
#   The grade level, the class or the learning-materials charge lets the SP infer an age
#   range. It fails when the SP is not approved for it and is listed as a disclosure when it is.
# custom:
#   term: no-age-inference
#   rule: age-indicative-attribute
#   severity: medium
#   clause: MPASSid service terms, attributes; MPASSid data model 1.4 (classLevel, class, learningMaterialsCharge)
#   references: [MPASSid data model 1.4, "GDPR Art. 5(1)(c)"]
findings contains f if {
	input.kind == "release"
	some name, _ in input.attributes
	lib.age_class(name) == "indicative"
	f := lib.finding(rego.metadata.rule(), indicative_result(name), name, sprintf("%s indicates the user's age range", [name]))
}

# METADATA
# title: Age-indicative attribute released
# description: |
#   The class field of a role (its third field) starts with a grade digit, in any role
#   attribute: urn:mpass.id:role, urn:mpass.id:role_v1.1 or the ECA structuredRole. It is
#   approved where the role attribute that carries it is.
# custom:
#   term: no-age-inference
#   rule: age-indicative-attribute
#   severity: medium
#   clause: MPASSid service terms, attributes; MPASSid data model 1.4 (role class field)
#   references: [MPASSid data model 1.4, "GDPR Art. 5(1)(c)"]
findings contains f if {
	input.kind == "release"
	some name, a in input.attributes
	some role in a.roles
	role.class_grade
	f := lib.finding(rego.metadata.rule(), indicative_result(name), name, sprintf("the class field of %s starts with a grade level", [name]))
}

indicative_result(name) := "pass" if lib.approved(name)

else := "fail"

# METADATA
# title: Birth year in an e-mail address
# description: The local part of a released e-mail address holds a plausible birth year.
# custom:
#   term: no-age-inference
#   rule: birth-year-in-email
#   severity: low
#   clause: MPASSid service terms, attributes (no information from which age can be inferred)
#   references: [MPASSid data model 1.4, "GDPR Art. 5(1)(c)"]
findings contains f if {
	input.kind == "release"
	some y in input.attributes[catalog.mail].years
	y >= 1990
	y <= lib.year
	f := lib.finding(rego.metadata.rule(), "warn", catalog.mail, "the e-mail address holds a four-digit year that may be a birth year")
}
