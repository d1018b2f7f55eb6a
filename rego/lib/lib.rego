# METADATA
# title: Helpers shared by the terms
# description: |
#   Purpose hierarchy, time windows, approval of attributes, the learner presumption and
#   the shape of a finding. The terms judge one record (`input`) against the registry
#   (`data.registry`); the Go side reduces values to facts before they reach here.
package mpass.lib

import data.mpass.catalog

# covers(parent, child): a purpose key covers itself and every key below it.
covers(parent, child) if parent == child

covers(parent, child) if startswith(child, concat("", [parent, "."]))

# marketing(p): any direct-marketing purpose, market research included.
marketing(p) if covers("marketing", p)

# identification(p): identifying the user or checking access rights.
identification(p) if {
	some allowed in data.mpass.purposes.identification
	covers(allowed, p)
}

# date of the record: the day part of its UTC RFC 3339 time.
date := substring(input.time, 0, 10)

# year of the record, for "the current year" of birth-year checks.
year := to_number(substring(input.time, 0, 4))

# within(range, day): inclusive date range, an absent bound is open.
within(range, day) if {
	object.get(range, "from", "0000-01-01") <= day
	day <= object.get(range, "to", "9999-12-31")
}

sp := data.registry.service_providers[input.sp]

known_sp if sp

# agreements: controller–SP agreements valid on the record's date.
agreements contains ag if {
	some ag in data.registry.agreements[input.controller][input.sp]
	within(ag.valid, date)
}

# approved(name): the SP's registry list or a valid controller–SP agreement has it.
approved(name) if name in sp.attributes

approved(name) if {
	some ag in agreements
	name in ag.attributes
}

# consent_active(c): given ≤ record time < withdrawn.
consent_active(c) if {
	now := time.parse_rfc3339_ns(input.time)
	time.parse_rfc3339_ns(c.given) <= now
	not withdrawn_by(c, now)
}

withdrawn_by(c, now) if time.parse_rfc3339_ns(c.withdrawn) <= now

# learner: the subject showed a learner role to this SP, or no role at all (presumed).
learner if input.subject.learner

learner if not input.subject.role_known

# who describes the subject in a message, saying when learner status is only presumed.
who := "a learner" if input.subject.learner

else := "a subject presumed a learner (no role seen)"

age_class(name) := object.get(catalog.attributes, [name, "age"], "none")

# finding builds one result of a rule; term, rule and severity come from the rule's
# annotations, so the texts live in one place.
finding(meta, result, attribute, message) := {
	"term": meta.custom.term,
	"rule": meta.custom.rule,
	"severity": meta.custom.severity,
	"result": result,
	"attribute": attribute,
	"message": message,
}

# permission_data: the controller's allowed services were loaded (from the management
# service); a controller without them is not judged by service-not-allowed.
permission_data if data.registry.permission_data[input.controller]

# allowed_service: a permission of the controller covered the SP at the record's instant
# (from ≤ time < to; a set's permission was expanded to its members at import).
allowed_service if {
	now := time.parse_rfc3339_ns(input.time)
	some p in data.registry.permissions[input.controller][input.sp]
	p.from <= now
	not ended_by(p, now)
}

ended_by(p, now) if p.to <= now
