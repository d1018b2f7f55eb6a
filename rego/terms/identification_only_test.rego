package mpass.terms.identification_only_test

import data.mpass.fixtures
import data.mpass.terms.identification_only

findings(purpose, t, consents) := fs if {
	fs := identification_only.findings with input as fixtures.use(purpose, t, consents)
		with data.registry as fixtures.registry
}

consent(purpose, by, given, withdrawn) := {"purpose": purpose, "given_by": by, "given": given, "withdrawn": withdrawn}

test_identification_purposes_pass if {
	count(findings("essential.service.authentication", "2026-10-09T12:00:00Z", [])) == 0
	count(findings("essential.service.authorization", "2026-10-09T12:00:00Z", [])) == 0
}

test_other_purpose_fails_high if {
	[f] := [f | some f in findings("analytics.reporting", "2026-10-09T12:00:00Z", [])]
	f.rule == "purpose-not-covered"
	f.severity == "high"
	f.result == "fail"
	f.term == "identification-only"
}

test_agreement_covers_named_purpose_while_valid if {
	count(findings("essential.service.payment_processing", "2026-10-09T12:00:00Z", [])) == 0
	count(findings("essential.service.payment_processing", "2027-01-02T00:00:00Z", [])) == 1
}

test_agreement_purpose_covers_purposes_below_it if {
	reg := json.patch(fixtures.registry, [{"op": "replace", "path": sprintf("/agreements/%s/%s/0/purposes", [fixtures.city, replace(fixtures.shop, "/", "~1")]), "value": ["essential.service.operations"]}])
	fs := identification_only.findings with input as fixtures.use("essential.service.operations.support", "2026-10-09T12:00:00Z", [])
		with data.registry as reg
	count(fs) == 0
}

test_marketing_is_never_covered_by_an_agreement if {
	reg := json.patch(fixtures.registry, [{"op": "replace", "path": sprintf("/agreements/%s/%s/0/purposes", [fixtures.city, replace(fixtures.shop, "/", "~1")]), "value": ["marketing"]}])
	fs := identification_only.findings with input as fixtures.use("marketing.communications.email", "2026-10-09T12:00:00Z", [])
		with data.registry as reg
	count(fs) == 1
}

test_consent_of_anyone_covers_the_use if {
	count(findings("marketing.communications.email", "2026-10-09T12:00:00Z", [consent("marketing.communications.email", "self", "2026-09-01T00:00:00Z", null)])) == 0
	count(findings("marketing.communications.email", "2026-10-09T12:00:00Z", [consent("marketing.communications", "guardian", "2026-09-01T00:00:00Z", null)])) == 0
}

test_consent_given_after_the_use_does_not_cover if {
	count(findings("marketing.communications.email", "2026-10-09T12:00:00Z", [consent("marketing.communications.email", "guardian", "2026-10-10T00:00:00Z", null)])) == 1
}

test_consent_withdrawn_at_or_before_the_use_does_not_cover if {
	count(findings("analytics", "2026-10-09T12:00:00Z", [consent("analytics", "self", "2026-09-01T00:00:00Z", "2026-10-09T12:00:00Z")])) == 1
	count(findings("analytics", "2026-10-09T12:00:00Z", [consent("analytics", "self", "2026-09-01T00:00:00Z", "2026-10-09T12:00:01Z")])) == 0
}

test_narrower_consent_does_not_cover_a_broader_purpose if {
	count(findings("marketing.communications", "2026-10-09T12:00:00Z", [consent("marketing.communications.email", "guardian", "2026-09-01T00:00:00Z", null)])) == 1
}

test_releases_are_not_judged if {
	fs := identification_only.findings with input as fixtures.release(fixtures.shop, "2026-10-09T12:00:00Z", {})
	count(fs) == 0
}
