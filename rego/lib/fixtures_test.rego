# Shared test fixtures: a registry like the one in shared/spec/RECORDS.md and record builders.
package mpass.fixtures

shop := "https://sp.example-shop.fi/shibboleth"

lms := "https://lms.example.fi/sp"

city := "1.2.246.562.10.44444444440"

other_city := "1.2.246.562.10.00000000001"

mail := "urn:oid:0.9.2342.19200300.100.1.3"

registry := {
	"service_providers": {
		shop: {
			"commercial": true,
			"valid": {"from": "2023-01-01", "to": "2027-07-31"},
			"attributes": ["urn:mpass.id:uid", "urn:oid:2.5.4.42", "urn:oid:2.5.4.4", "urn:mpass.id:role"],
			"purposes": ["essential.service.authentication", "essential.service.authorization"],
		},
		lms: {
			"commercial": false,
			"valid": {"from": "2020-01-01"},
			"attributes": ["urn:mpass.id:uid", "urn:mpass.id:classLevel", "urn:mpass.id:role"],
			"purposes": ["essential.service.authentication"],
		},
	},
	"agreements": {city: {shop: [{
		"valid": {"from": "2024-08-01", "to": "2026-12-31"},
		"attributes": [mail],
		"purposes": ["essential.service.payment_processing"],
	}]}},
	"exceptions": [],
}

learner := {"learner": true, "role_known": true}

teacher := {"learner": false, "role_known": true}

unknown_role := {"learner": false, "role_known": false}

# release(sp, time, attributes): a release of a learner of the city.
release(sp, t, attributes) := {
	"kind": "release",
	"time": t,
	"sp": sp,
	"controller": city,
	"subject": learner,
	"attributes": attributes,
}

use(purpose, t, consents) := {
	"kind": "use",
	"time": t,
	"sp": shop,
	"controller": city,
	"subject": learner,
	"purpose": purpose,
	"attributes": [mail],
	"consents": consents,
}

# rules(findings, result): the rule ids of the findings with that result.
rules(findings, result) := {f.rule | some f in findings; f.result == result}
