# METADATA
# title: Purposes of processing
# description: |
#   The fideslang data-use taxonomy (v2) plus two MPASSid extensions:
#   essential.service.authorization (checking access rights) and marketing.research
#   (market and opinion research, direct marketing in the KKV guideline's reading).
#   A key covers every key below it.
package mpass.purposes

keys := {
	"analytics",
	"analytics.reporting",
	"analytics.reporting.ad_performance",
	"analytics.reporting.campaign_insights",
	"analytics.reporting.content_performance",
	"analytics.reporting.customer_behaviour",
	"collect",
	"employment",
	"employment.recruitment",
	"essential",
	"essential.fraud_detection",
	"essential.legal_obligation",
	"essential.service",
	"essential.service.authentication",
	"essential.service.authorization",
	"essential.service.notifications",
	"essential.service.notifications.email",
	"essential.service.notifications.sms",
	"essential.service.operations",
	"essential.service.operations.support",
	"essential.service.operations.improve",
	"essential.service.payment_processing",
	"essential.service.security",
	"essential.service.upgrades",
	"finance",
	"functional",
	"functional.service",
	"functional.service.improve",
	"functional.storage",
	"marketing",
	"marketing.advertising",
	"marketing.advertising.first_party",
	"marketing.advertising.first_party.contextual",
	"marketing.advertising.first_party.targeted",
	"marketing.advertising.frequency_capping",
	"marketing.advertising.negative_targeting",
	"marketing.advertising.profiling",
	"marketing.advertising.third_party",
	"marketing.advertising.third_party.targeted",
	"marketing.communications",
	"marketing.communications.email",
	"marketing.communications.sms",
	"marketing.research",
	"personalize",
	"personalize.content",
	"personalize.content.basic",
	"personalize.content.limited",
	"personalize.content.profiled",
	"personalize.system",
	"sales",
	"third_party_sharing",
	"third_party_sharing.payment_processing",
	"train_ai_system",
}

# The two purposes the MPASSid terms allow: identifying the user and checking access rights.
identification := {"essential.service.authentication", "essential.service.authorization"}
