package mpass.terms.no_age_inference_test

import data.mpass.fixtures
import data.mpass.terms.no_age_inference

findings(attributes, t) := fs if {
	fs := no_age_inference.findings with input as fixtures.release(fixtures.shop, t, attributes)
		with data.registry as fixtures.registry
}

test_age_revealing_attribute_fails_even_when_named_by_alias_or_legacy if {
	every name in [
		"urn:oid:1.3.6.1.4.1.25178.1.2.3", "urn:oid:1.3.6.1.4.1.25178.1.0.2.3",
		"urn:oid:1.2.246.21", "urn:oid:1.3.6.1.4.1.25178.1.2.15",
		"urn:mpass.id:legacyCryptId", "urn:educloudalliance.org:legacyCryptId", "age",
	] {
		some f in findings({name: {"values": false}}, "2026-10-05T07:58:12Z")
		f.rule == "age-revealing-attribute"
		f.result == "fail"
		f.severity == "critical"
		f.attribute == name
		f.term == "no-age-inference"
	}
}

test_plain_name_is_not_age_revealing if {
	count(findings({"urn:oid:2.5.4.42": {"values": true}}, "2026-10-05T07:58:12Z")) == 0
}

test_identity_code_in_any_value_fails_once_per_attribute if {
	fs := findings(
		{"urn:mpass.id:nickname": {"values": true, "identity_code": true}, "urn:oid:2.5.4.42": {"values": true}},
		"2026-10-05T07:58:12Z",
	)
	[f] := [f | some f in fs; f.rule == "age-revealing-value"]
	f.attribute == "urn:mpass.id:nickname"
	f.severity == "critical"
}

test_names_only_release_says_nothing_about_values if {
	fs := findings({"urn:mpass.id:nickname": {"values": false}}, "2026-10-05T07:58:12Z")
	count(fs) == 0
}

test_indicative_attribute_fails_when_not_approved if {
	fs := findings({"urn:mpass.id:classLevel": {"values": true, "grade": "7"}}, "2026-10-05T07:58:12Z")
	some f in fs
	f.rule == "age-indicative-attribute"
	f.result == "fail"
	f.severity == "medium"
}

test_indicative_attribute_is_a_disclosure_when_approved if {
	fs := no_age_inference.findings with input as fixtures.release(fixtures.lms, "2026-10-05T07:58:12Z", {"urn:mpass.id:classLevel": {"values": true}})
		with data.registry as fixtures.registry
	fixtures.rules(fs, "pass") == {"age-indicative-attribute"}
	fixtures.rules(fs, "fail") == set()
}

test_legacy_class_and_group_are_indicative if {
	fs := findings({"urn:mpass.id:class": {"values": false}, "urn:educloudalliance.org:group": {"values": false}}, "2026-10-05T07:58:12Z")
	{f.attribute | some f in fs; f.rule == "age-indicative-attribute"} == {"urn:mpass.id:class", "urn:educloudalliance.org:group"}
}

test_role_class_with_grade_digit_is_approved_with_the_role if {
	role := {"urn:mpass.id:role": {"values": true, "roles": [{"class_grade": true, "code": "1", "name": "Oppilas"}]}}
	fs := findings(role, "2026-10-05T07:58:12Z")
	[f] := [f | some f in fs]
	f.rule == "age-indicative-attribute"
	f.result == "pass"
	f.attribute == "urn:mpass.id:role"
}

test_role_class_fails_where_role_not_approved if {
	role := {"urn:mpass.id:role": {"values": true, "roles": [{"class_grade": true}]}}
	fs := no_age_inference.findings with input as fixtures.release("https://unknown.example", "2026-10-05T07:58:12Z", role)
		with data.registry as fixtures.registry
	fixtures.rules(fs, "fail") == {"age-indicative-attribute"}
}

test_role_class_without_grade_digit_says_nothing if {
	role := {"urn:mpass.id:role": {"values": true, "roles": [{"class_grade": false, "name": "Oppilas"}]}}
	count(findings(role, "2026-10-05T07:58:12Z")) == 0
}

test_birth_year_in_email_warns_low if {
	fs := findings({fixtures.mail: {"values": true, "years": [2012]}}, "2026-10-05T07:58:12Z")
	some f in fs
	f.rule == "birth-year-in-email"
	f.result == "warn"
	f.severity == "low"
}

test_birth_year_range_is_1990_to_the_record_year if {
	count(findings({fixtures.mail: {"years": [1989]}}, "2026-10-05T07:58:12Z")) == 0
	count(findings({fixtures.mail: {"years": [1990]}}, "2026-10-05T07:58:12Z")) == 1
	count(findings({fixtures.mail: {"years": [2026]}}, "2026-10-05T07:58:12Z")) == 1

	# a replayed 2025 record does not count 2026 as a birth year
	count(findings({fixtures.mail: {"years": [2026]}}, "2025-12-31T23:59:59Z")) == 0
}

test_only_mail_is_checked_for_birth_year if {
	count(findings({"urn:mpass.id:nickname": {"years": [2012]}}, "2026-10-05T07:58:12Z")) == 0
}

test_uses_are_not_judged if {
	fs := no_age_inference.findings with input as {"kind": "use", "attributes": {"urn:oid:1.2.246.21": {}}}
	count(fs) == 0
}

# Every role attribute tells the class grade: urn:mpass.id:role_v1.1 and the ECA
# structuredRole as urn:mpass.id:role does; approved where the role attribute is.
test_class_grade_of_legacy_roles if {
	every name in ["urn:mpass.id:role_v1.1", "urn:educloudalliance.org:structuredRole"] {
		some f in findings({name: {"values": true, "roles": [{"class_grade": true, "name": "Oppilas"}]}}, "2026-10-05T07:58:12Z")
		f.rule == "age-indicative-attribute"
		f.attribute == name
		f.result == "fail"
	}
}

test_class_grade_of_an_approved_role_is_a_disclosure if {
	reg := json.patch(fixtures.registry, [{"op": "add", "path": ["service_providers", fixtures.shop, "attributes", "-"], "value": "urn:mpass.id:role_v1.1"}])
	fs := no_age_inference.findings with input as fixtures.release(fixtures.shop, "2026-10-05T07:58:12Z", {"urn:mpass.id:role_v1.1": {"values": true, "roles": [{"class_grade": true}]}})
		with data.registry as reg
	some f in fs
	f.rule == "age-indicative-attribute"
	f.result == "pass"
}

# The legacy crypt id's keyed hash, OIDC sub and the learner number are identifiers,
# not age-revealing (TERMS.md).
test_identifiers_are_not_age_revealing if {
	every name in ["urn:mpass.id:legacyCryptIde", "sub", "urn:oid:1.3.6.1.4.1.16161.1.1.27", "urn:educloudalliance.org:authnID"] {
		count(findings({name: {"values": true}}, "2026-10-05T07:58:12Z")) == 0
	}
}
