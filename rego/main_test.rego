package mpass.main_test

import data.mpass.fixtures
import data.mpass.main

exception(extra) := object.union(
	{
		"id": "EX-2026-014", "term": "data-minimisation", "rule": "unapproved-attribute",
		"sp": fixtures.shop, "controller": fixtures.city, "attribute": "urn:mpass.id:classLevel",
		"reason": "grade-level content", "expires": "2027-06-30",
	},
	extra,
)

results(t, attributes, exceptions) := rs if {
	rs := main.results with input as fixtures.release(fixtures.shop, t, attributes)
		with data.registry as object.union(fixtures.registry, {"exceptions": exceptions})
}

result_of(rs, rule) := {r.result | some r in rs; r.rule == rule}

test_results_gather_every_term if {
	rs := results("2026-10-05T07:58:12Z", {"urn:oid:1.2.246.21": {"identity_code": true}, fixtures.mail: {}}, [])
	{r.term | some r in rs} == {"no-age-inference", "data-minimisation", "no-direct-marketing-to-minors"}
}

test_exception_turns_a_fail_into_skip_with_its_id if {
	rs := results("2026-10-05T07:58:12Z", {"urn:mpass.id:classLevel": {}}, [exception({})])
	some r in rs
	r.rule == "unapproved-attribute"
	r.result == "skip"
	r.exception == "EX-2026-014"

	# the age-indicative finding about the same attribute belongs to another term
	result_of(rs, "age-indicative-attribute") == {"fail"}
}

test_exception_covers_records_up_to_its_expiry_date_only if {
	result_of(results("2027-06-30T23:59:59Z", {"urn:mpass.id:classLevel": {}}, [exception({})]), "unapproved-attribute") == {"skip"}
	result_of(results("2027-07-01T00:00:00Z", {"urn:mpass.id:classLevel": {}}, [exception({})]), "unapproved-attribute") == {"fail"}
}

test_exception_without_rule_matches_every_rule_of_its_term if {
	rs := results("2026-10-05T07:58:12Z", {"urn:mpass.id:classLevel": {}}, [exception({"term": "no-age-inference", "rule": null})])
	result_of(rs, "age-indicative-attribute") == {"skip"}
	result_of(rs, "unapproved-attribute") == {"fail"}
}

test_exception_attribute_and_controller_narrow_it if {
	rs := results("2026-10-05T07:58:12Z", {"urn:mpass.id:schoolInfo": {}}, [exception({})])
	result_of(rs, "unapproved-attribute") == {"fail"}
	rs2 := main.results with input as object.union(fixtures.release(fixtures.shop, "2026-10-05T07:58:12Z", {"urn:mpass.id:classLevel": {}}), {"controller": fixtures.other_city})
		with data.registry as object.union(fixtures.registry, {"exceptions": [exception({})]})
	result_of(rs2, "unapproved-attribute") == {"fail"}
}

test_exception_never_hides_a_critical_finding if {
	ex := exception({"term": "no-age-inference", "rule": "", "attribute": "urn:oid:1.2.246.21"})
	rs := results("2026-10-05T07:58:12Z", {"urn:oid:1.2.246.21": {}}, [ex])
	some r in rs
	r.rule == "age-revealing-attribute"
	r.result == "fail"
	r.exception_not_applied == "EX-2026-014"
}

test_passes_are_never_excepted if {
	rs := main.results with input as fixtures.release(fixtures.lms, "2026-10-05T07:58:12Z", {"urn:mpass.id:classLevel": {}})
		with data.registry as object.union(fixtures.registry, {"exceptions": [exception({"term": "no-age-inference", "rule": "", "sp": fixtures.lms})]})
	result_of(rs, "age-indicative-attribute") == {"pass"}
}

test_exception_of_another_sp_does_not_apply if {
	at := "2026-10-05T07:58:12Z"
	result_of(results(at, {"urn:mpass.id:classLevel": {}}, [exception({"sp": fixtures.lms})]), "unapproved-attribute") == {"fail"}
	rs := results(at, {"urn:mpass.id:classLevel": {}}, [exception({"sp": fixtures.lms, "id": "EX-2026-001"}), exception({})])
	some r in rs
	r.rule == "unapproved-attribute"
	r.exception == "EX-2026-014"
}
