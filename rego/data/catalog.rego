# METADATA
# title: MPASSid attribute catalog
# description: |
#   Every attribute name the auditor knows, keyed by its canonical SAML name, with the
#   names it is also logged under (FriendlyName, OIDC claim, legacy names), what it tells
#   about the user's age (none, indicative, revealing) and its fideslang data category.
#   The Go ingest maps logged names through `aliases`; unknown names are kept as they are.
# related_resources:
#   - ref: https://wiki.eduuni.fi/display/OPHPALV/MPASSid+tietomalli
#     description: MPASSid data model 1.4
package mpass.catalog

attributes := {
	"urn:oid:2.5.4.4": {"friendly": "sn", "aliases": ["sn", "surname", "family_name"], "age": "none", "category": "user.name.last"},
	"urn:oid:2.5.4.42": {"friendly": "givenName", "aliases": ["givenName", "given_name"], "age": "none", "category": "user.name.first"},
	"urn:mpass.id:nickname": {"friendly": "nickname", "aliases": ["nickname"], "age": "none", "category": "user.name"},
	"urn:mpass.id:uid": {"friendly": "mpassUsername", "aliases": ["mpassUsername", "sub"], "age": "none", "category": "user.unique_id"},
	"urn:oid:1.3.6.1.4.1.16161.1.1.27": {"friendly": "learnerId", "aliases": ["learnerId"], "age": "none", "category": "user.unique_id"},
	"urn:mpass.id:schoolInfo": {"friendly": "mpassSchoolInfo", "aliases": ["mpassSchoolInfo", "schoolInfo"], "age": "none", "category": "user.workplace"},
	"urn:mpass.id:classLevel": {"friendly": "mpassClassLevel", "aliases": ["mpassClassLevel", "classLevel"], "age": "indicative", "category": "user.demographic"},
	"urn:mpass.id:learningMaterialsCharge": {"friendly": "mpassLearningMaterialsCharge", "aliases": ["mpassLearningMaterialsCharge", "learningMaterialsCharge"], "age": "indicative", "category": "user.demographic"},
	"urn:mpass.id:role": {"friendly": "mpassRole", "aliases": ["mpassRole", "role"], "age": "none", "category": "user.job_title"},
	"urn:mpass.id:educationProviderInfo": {"friendly": "mpassEducationProviderInfo", "aliases": ["mpassEducationProviderInfo", "educationProviderInfo"], "age": "none", "category": "user.workplace"},
	"urn:mpass.id:originalIssuer": {"friendly": "originalIssuer", "aliases": ["originalIssuer"], "age": "none", "category": "system.operations"},
	"urn:oid:0.9.2342.19200300.100.1.3": {"friendly": "mail", "aliases": ["mail", "email"], "age": "none", "category": "user.contact.email"},
	# Names of older MPASSid releases, still seen in logs.
	"urn:mpass.id:schoolCode": {"friendly": "mpassSchoolCode", "aliases": ["mpassSchoolCode", "schoolCode"], "age": "none", "category": "user.workplace"},
	"urn:mpass.id:school": {"friendly": "mpassSchool", "aliases": ["mpassSchool", "school"], "age": "none", "category": "user.workplace"},
	"urn:mpass.id:class": {"friendly": "mpassClass", "aliases": ["mpassClass", "class"], "age": "indicative", "category": "user.demographic"},
	"urn:mpass.id:educationProviderId": {"friendly": "mpassEducationProviderId", "aliases": ["mpassEducationProviderId", "educationProviderId"], "age": "none", "category": "user.workplace"},
	"urn:mpass.id:educationProvider": {"friendly": "mpassEducationProvider", "aliases": ["mpassEducationProvider", "educationProvider"], "age": "none", "category": "user.workplace"},
	"urn:mpass.id:municipality": {"friendly": "mpassMunicipality", "aliases": ["mpassMunicipality", "municipality"], "age": "none", "category": "user.contact.address.city"},
	"urn:mpass.id:legacyCryptId": {"friendly": "legacyCryptId", "aliases": [], "age": "revealing", "category": "user.government_id"},
	"urn:educloudalliance.org:oid": {"friendly": "ecaOid", "aliases": [], "age": "none", "category": "user.unique_id"},
	"urn:educloudalliance.org:role": {"friendly": "ecaRole", "aliases": [], "age": "none", "category": "user.job_title"},
	"urn:educloudalliance.org:structuredRole": {"friendly": "ecaStructuredRole", "aliases": [], "age": "none", "category": "user.job_title"},
	"urn:educloudalliance.org:group": {"friendly": "ecaGroup", "aliases": [], "age": "indicative", "category": "user.demographic"},
	"urn:educloudalliance.org:legacyCryptId": {"friendly": "ecaLegacyCryptId", "aliases": [], "age": "revealing", "category": "user.government_id"},
	# Attributes MPASSid must never pass: each reveals the user's age.
	"urn:oid:1.3.6.1.4.1.25178.1.2.3": {"friendly": "schacDateOfBirth", "aliases": ["schacDateOfBirth", "birthdate"], "age": "revealing", "category": "user.demographic.date_of_birth"},
	"urn:oid:1.3.6.1.4.1.25178.1.0.2.3": {"friendly": "schacYearOfBirth", "aliases": ["schacYearOfBirth"], "age": "revealing", "category": "user.demographic.date_of_birth"},
	"urn:oid:1.2.246.21": {"friendly": "nationalIdentificationNumber", "aliases": ["nationalIdentificationNumber", "hetu"], "age": "revealing", "category": "user.government_id.national_identification_number"},
	"urn:oid:1.3.6.1.4.1.25178.1.2.15": {"friendly": "schacPersonalUniqueID", "aliases": ["schacPersonalUniqueID"], "age": "revealing", "category": "user.government_id"},
	"age": {"friendly": "age", "aliases": ["urn:mpass.id:age"], "age": "revealing", "category": "user.demographic.age_range"},
}

# The e-mail attribute, the one checked for a birth year and for learner contact data.
mail := "urn:oid:0.9.2342.19200300.100.1.3"

# The role attribute, whose third field is the class.
role := "urn:mpass.id:role"
