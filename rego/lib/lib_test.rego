package mpass.lib_test

import data.mpass.lib

test_covers_is_by_whole_key_segments if {
	lib.covers("marketing", "marketing")
	lib.covers("marketing", "marketing.communications.sms")
	not lib.covers("marketing.communications", "marketing.communicationsx")
	not lib.covers("marketing.communications.email", "marketing.communications")
}

test_identification_covers_its_sub_keys if {
	lib.identification("essential.service.authentication")
	lib.identification("essential.service.authorization.role")
	not lib.identification("essential.service")
}

test_within_dates if {
	lib.within({"from": "2024-01-01", "to": "2024-12-31"}, "2024-12-31")
	not lib.within({"from": "2024-01-01", "to": "2024-12-31"}, "2025-01-01")
	lib.within({}, "2025-01-01")
}

test_learner_presumption if {
	lib.learner with input.subject as {"learner": true, "role_known": true}
	lib.learner with input.subject as {"learner": false, "role_known": false}
	not lib.learner with input.subject as {"learner": false, "role_known": true}
}

test_consent_window if {
	lib.consent_active({"given": "2026-01-01T00:00:00Z", "withdrawn": null}) with input.time as "2026-01-01T00:00:00Z"
	not lib.consent_active({"given": "2026-01-01T00:00:00Z", "withdrawn": "2026-02-01T00:00:00Z"}) with input.time as "2026-02-01T00:00:00Z"
	lib.consent_active({"given": "2026-01-01T00:00:00Z"}) with input.time as "2026-01-31T00:00:00+02:00"
}

test_purpose_taxonomy_is_closed_under_parents if {
	children := {key | some key in data.mpass.purposes.keys; contains(key, ".")}
	every key in children {
		parts := split(key, ".")
		concat(".", array.slice(parts, 0, count(parts) - 1)) in data.mpass.purposes.keys
	}
	every p in data.mpass.purposes.identification {
		p in data.mpass.purposes.keys
	}
}

# Every name an attribute has gone by means one attribute: no name (canonical, friendly
# or other, compared without regard to case) belongs to two entries.
test_catalog_names_are_unique if {
	names := [n |
		some canonical, attr in data.mpass.catalog.attributes
		some n in {lower(x) | some x in array.concat([canonical, attr.friendly], attr.names)}
	]
	count(names) == count({n | some n in names})
	every _, attr in data.mpass.catalog.attributes {
		attr.age in {"none", "indicative", "revealing"}
		object.get(attr, "role", "structured") in {"structured", "name"}
	}
}

test_data_model_names_are_catalog_attributes if {
	every _, names in data.mpass.catalog.data_model {
		every name in names {
			data.mpass.catalog.attributes[name]
		}
	}
}
