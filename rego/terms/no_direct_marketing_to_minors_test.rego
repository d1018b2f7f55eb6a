package mpass.terms.no_direct_marketing_to_minors_test

import data.mpass.fixtures
import data.mpass.terms.no_direct_marketing_to_minors as term

use_findings(subject, purpose, consents) := fs if {
	fs := term.findings with input as object.union(fixtures.use(purpose, "2026-10-09T12:00:00Z", consents), {"subject": subject})
		with data.registry as fixtures.registry
}

guardian(purpose, given, withdrawn) := {"purpose": purpose, "given_by": "guardian", "given": given, "withdrawn": withdrawn}

own(purpose, given, withdrawn) := {"purpose": purpose, "given_by": "self", "given": given, "withdrawn": withdrawn}

test_marketing_to_learner_without_consent_fails_critical if {
	[f] := [f | some f in use_findings(fixtures.learner, "marketing.communications.email", [])]
	f.rule == "marketing-without-guardian-consent"
	f.severity == "critical"
	f.result == "fail"
	contains(f.message, "a learner")
}

test_market_research_is_marketing if {
	count(use_findings(fixtures.learner, "marketing.research", [])) == 1
}

test_unknown_role_is_presumed_learner_and_says_so if {
	[f] := [f | some f in use_findings(fixtures.unknown_role, "marketing.advertising", [])]
	contains(f.message, "presumed")
}

test_marketing_to_teacher_is_not_judged_here if {
	count(use_findings(fixtures.teacher, "marketing.communications.email", [])) == 0
}

test_guardian_consent_before_the_use_passes if {
	count(use_findings(fixtures.learner, "marketing.communications.email", [guardian("marketing.communications.email", "2026-09-01T00:00:00Z", null)])) == 0
}

test_guardian_consent_for_a_broader_purpose_covers if {
	count(use_findings(fixtures.learner, "marketing.communications.sms", [guardian("marketing.communications", "2026-09-01T00:00:00Z", null)])) == 0
}

test_own_consent_does_not_count if {
	count(use_findings(fixtures.learner, "marketing.communications.email", [own("marketing.communications.email", "2026-09-01T00:00:00Z", null)])) == 1
}

test_consent_given_after_the_use_fails if {
	count(use_findings(fixtures.learner, "marketing.communications.email", [guardian("marketing.communications.email", "2026-10-09T12:00:01Z", null)])) == 1
}

test_consent_withdrawn_before_the_use_fails if {
	count(use_findings(fixtures.learner, "marketing.communications.email", [guardian("marketing.communications.email", "2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z")])) == 1
}

test_objection_after_an_earlier_consent_fails if {
	consents := [
		guardian("marketing.communications.email", "2026-08-01T00:00:00Z", null),
		own("marketing.communications", "2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z"),
	]
	count(use_findings(fixtures.learner, "marketing.communications.email", consents)) == 1
}

test_consent_renewed_after_an_objection_passes if {
	consents := [
		guardian("marketing.communications.email", "2026-08-01T00:00:00Z", "2026-09-01T00:00:00Z"),
		guardian("marketing.communications.email", "2026-09-15T00:00:00Z", null),
	]
	count(use_findings(fixtures.learner, "marketing.communications.email", consents)) == 0
}

test_non_marketing_use_is_not_judged_here if {
	count(use_findings(fixtures.learner, "analytics", [])) == 0
}

test_learner_email_to_commercial_sp_warns_medium if {
	fs := term.findings with input as fixtures.release(fixtures.shop, "2026-10-05T07:58:12Z", {fixtures.mail: {"values": false}})
		with data.registry as fixtures.registry
	[f] := [f | some f in fs]
	f.rule == "learner-email-to-commercial-sp"
	f.result == "warn"
	f.severity == "medium"
	f.attribute == fixtures.mail
}

test_learner_email_to_non_commercial_or_unknown_sp_says_nothing if {
	count(term.findings) == 0 with input as fixtures.release(fixtures.lms, "2026-10-05T07:58:12Z", {fixtures.mail: {}})
		with data.registry as fixtures.registry
	count(term.findings) == 0 with input as fixtures.release("https://unknown.example", "2026-10-05T07:58:12Z", {fixtures.mail: {}})
		with data.registry as fixtures.registry
}

test_teacher_email_to_commercial_sp_says_nothing if {
	rel := object.union(fixtures.release(fixtures.shop, "2026-10-05T07:58:12Z", {fixtures.mail: {}}), {"subject": fixtures.teacher})
	count(term.findings) == 0 with input as rel with data.registry as fixtures.registry
}
