package mpass.terms.data_minimisation_test

import data.mpass.fixtures
import data.mpass.terms.data_minimisation

findings(sp, t, attributes) := fs if {
	fs := data_minimisation.findings with input as fixtures.release(sp, t, attributes)
		with data.registry as fixtures.registry
}

test_unknown_sp_fails_high_once if {
	fs := findings("https://unknown.example/sp", "2026-10-05T07:58:12Z", {"urn:mpass.id:uid": {}, "urn:oid:2.5.4.42": {}})
	[f] := [f | some f in fs]
	f.rule == "unknown-sp"
	f.severity == "high"
	f.result == "fail"
}

test_approved_attributes_pass if {
	count(findings(fixtures.shop, "2026-10-05T07:58:12Z", {"urn:mpass.id:uid": {}, "urn:mpass.id:role": {}})) == 0
}

test_outside_agreement_validity_fails if {
	before := findings(fixtures.shop, "2022-12-31T23:59:59Z", {"urn:mpass.id:uid": {}})
	fixtures.rules(before, "fail") == {"outside-agreement"}
	after := findings(fixtures.shop, "2027-08-01T00:00:00Z", {"urn:mpass.id:uid": {}})
	fixtures.rules(after, "fail") == {"outside-agreement"}
}

test_validity_bounds_are_inclusive if {
	count(findings(fixtures.shop, "2023-01-01T00:00:00Z", {"urn:mpass.id:uid": {}})) == 0
	count(findings(fixtures.shop, "2027-07-31T23:59:59Z", {"urn:mpass.id:uid": {}})) == 0
}

test_open_ended_validity if {
	count(findings(fixtures.lms, "2099-01-01T00:00:00Z", {"urn:mpass.id:uid": {}})) == 0
}

test_unapproved_attribute_one_finding_per_attribute if {
	fs := findings(fixtures.shop, "2026-10-05T07:58:12Z", {"urn:mpass.id:uid": {}, "urn:mpass.id:classLevel": {}, "urn:mpass.id:schoolInfo": {}})
	{f.attribute | some f in fs; f.rule == "unapproved-attribute"; f.severity == "medium"} == {"urn:mpass.id:classLevel", "urn:mpass.id:schoolInfo"}
}

test_controller_agreement_adds_attribute_while_valid if {
	count(findings(fixtures.shop, "2026-10-05T07:58:12Z", {fixtures.mail: {}})) == 0
	fs := findings(fixtures.shop, "2027-01-01T00:00:00Z", {fixtures.mail: {}})
	fixtures.rules(fs, "fail") == {"unapproved-attribute"}
}

test_agreement_of_another_controller_does_not_apply if {
	rel := object.union(fixtures.release(fixtures.shop, "2026-10-05T07:58:12Z", {fixtures.mail: {}}), {"controller": fixtures.other_city})
	fs := data_minimisation.findings with input as rel with data.registry as fixtures.registry
	fixtures.rules(fs, "fail") == {"unapproved-attribute"}
}

test_unknown_attribute_names_are_judged_as_they_are if {
	fs := findings(fixtures.shop, "2026-10-05T07:58:12Z", {"x-custom-claim": {}})
	{f.attribute | some f in fs} == {"x-custom-claim"}
}

# The city allows the shop from 2026-10-15T09:41:07Z (the management service's
# lastUpdatedOn), and the LMS from 2024 until 2026-10-20.
permitted := object.union(fixtures.registry, {
	"permission_data": {fixtures.city: true},
	"permissions": {fixtures.city: {
		fixtures.shop: [{"from": time.parse_rfc3339_ns("2026-10-15T09:41:07Z")}],
		fixtures.lms: [{"from": time.parse_rfc3339_ns("2024-01-01T00:00:00Z"), "to": time.parse_rfc3339_ns("2026-10-20T00:00:00Z")}],
	}},
})

allowed_findings(sp, t) := fs if {
	fs := data_minimisation.findings with input as fixtures.release(sp, t, {"urn:mpass.id:uid": {}})
		with data.registry as permitted
}

test_service_not_allowed_before_the_permission if {
	[f] := [f | some f in allowed_findings(fixtures.shop, "2026-10-15T09:41:06Z")]
	f.rule == "service-not-allowed"
	f.severity == "high"
	f.result == "fail"
	f.term == "data-minimisation"
}

test_service_allowed_from_the_permission_on if {
	count(allowed_findings(fixtures.shop, "2026-10-15T09:41:07Z")) == 0
	count(allowed_findings(fixtures.shop, "2026-10-31T23:00:00Z")) == 0
}

test_service_not_allowed_once_the_permission_ended if {
	count(allowed_findings(fixtures.lms, "2026-10-19T23:59:59Z")) == 0
	fixtures.rules(allowed_findings(fixtures.lms, "2026-10-20T00:00:00Z"), "fail") == {"service-not-allowed"}
}

test_a_controller_without_permission_data_is_not_judged if {
	rec := object.union(fixtures.release(fixtures.shop, "2026-10-01T00:00:00Z", {"urn:mpass.id:uid": {}}), {"controller": fixtures.other_city})
	fs := data_minimisation.findings with input as rec with data.registry as permitted
	count(fs) == 0
}

test_a_controller_with_permission_data_and_none_for_the_sp_fails if {
	reg := json.patch(permitted, [{"op": "remove", "path": ["permissions", fixtures.city, fixtures.shop]}])
	fs := data_minimisation.findings with input as fixtures.release(fixtures.shop, "2026-10-20T00:00:00Z", {"urn:mpass.id:uid": {}})
		with data.registry as reg
	fixtures.rules(fs, "fail") == {"service-not-allowed"}
}

test_an_unknown_sp_is_not_also_not_allowed if {
	fs := allowed_findings("https://unknown.example/sp", "2026-10-20T00:00:00Z")
	fixtures.rules(fs, "fail") == {"unknown-sp"}
}
