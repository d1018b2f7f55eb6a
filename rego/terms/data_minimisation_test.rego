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
