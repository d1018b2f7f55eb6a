# METADATA
# title: Audit entry point
# description: |
#   Collects the findings of every term package under data.mpass.terms (a policy
#   directory that adds a package there adds a term, with no Go change) and applies the
#   registry's exceptions. The Go engine queries `data.mpass.main.results`.
# custom:
#   # A promise the auditor relies on to reuse decisions: a finding depends on a record's
#   # time only through its day compared with the dates of its SP's registry entries
#   # (the SP's validity, its agreements, its exceptions), its year, and whether a
#   # permission of data.registry.permissions covers its instant; on the registry's
#   # other entries only through those naming its controller at its SP; and holds
#   # nothing of the record itself (no id, time or subject). Remove it from a policy set
#   # that breaks it, and every record is evaluated on its own.
#   decision_time: day
#   # Another: of an attribute's facts the policies read only these fields (besides which
#   # attributes a record has), so records whose facts differ only in others (a grade
#   # level, a role's name or code) share their decisions. List a field here before a
#   # rule reads it; remove the list, and every fact counts.
#   attribute_facts: [identity_code, years, roles.class_grade]
package mpass.main

import data.mpass.lib

results contains result(f) if some f in data.mpass.terms[_].findings

# result(f): a matching exception turns a fail or warn into a skip, never a critical one.
result(f) := object.union(f, {"result": "skip", "exception": ids[0]}) if {
	f.result in {"fail", "warn"}
	f.severity != "critical"
	ids := sort(exceptions(f))
	count(ids) > 0
} else := object.union(f, {"exception_not_applied": ids[0]}) if {
	f.result in {"fail", "warn"}
	ids := sort(exceptions(f))
	count(ids) > 0
} else := f

exceptions(f) := {ex.id |
	some ex in sp_exceptions
	matches(ex, f)
}

# sp_exceptions: the registry's exceptions for the record's SP, gathered once per record
# rather than once per finding.
sp_exceptions := [ex | some ex in data.registry.exceptions; ex.sp == input.sp]

matches(ex, f) if {
	ex.term == f.term
	object.get(ex, "rule", f.rule) in {f.rule, "", null}
	object.get(ex, "controller", input.controller) in {input.controller, "", null}
	object.get(ex, "attribute", f.attribute) in {f.attribute, "", null}
	lib.date <= ex.expires
}
