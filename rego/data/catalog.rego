# METADATA
# title: MPASSid attribute catalog
# description: |
#   Every attribute the auditor knows, keyed by its canonical SAML name, with every other
#   name it has gone by (RECORDS.md "Every name an attribute has gone by"): the
#   FriendlyName of every era, the MPASSid proxy's attribute-resolver ids (what the
#   Shibboleth audit log's %attr lists), OIDC claims and older SAML names. For each: what
#   it tells about the user's age (none, indicative, revealing), its fideslang data
#   category, and for a role attribute the form of its values (role: structured,
#   <provider>;<school>;<class>;<role name>[;<role code>;...], or name, a role name alone).
#   This is the one source of names: ingest and the registry loaders map a logged name to
#   its canonical name through `friendly` and `names`; a name that none of them is stays
#   as it is, an unknown attribute. Names are matched exactly, then without regard to case
#   where that is unambiguous.
# related_resources:
#   - ref: https://wiki.eduuni.fi/display/OPHPALV/MPASSid+tietomalli
#     description: MPASSid data model 1.4
#   - ref: https://github.com/mpassid/ansible-MPASSid-proxy
#     description: the MPASSid proxy's attribute-resolver (resolver ids, FriendlyNames, OIDC claims)
package mpass.catalog

attributes := {
	# Data model 1.4.
	"urn:oid:2.5.4.4": {"friendly": "sn", "names": ["surname", "family_name", "ecasurname", "urn:mace:dir:attribute-def:sn"], "age": "none", "category": "user.name.last"},
	"urn:oid:2.5.4.42": {"friendly": "givenName", "names": ["given_name", "ecafirstName", "urn:mace:dir:attribute-def:givenName"], "age": "none", "category": "user.name.first"},
	"urn:mpass.id:nickname": {"friendly": "nickname", "names": [], "age": "none", "category": "user.name"},
	"urn:mpass.id:uid": {"friendly": "mpassUsername", "names": ["mpass_uid"], "age": "none", "category": "user.unique_id"},
	"urn:oid:1.3.6.1.4.1.16161.1.1.27": {"friendly": "learnerId", "names": [], "age": "none", "category": "user.unique_id"},
	"urn:mpass.id:schoolInfo": {"friendly": "mpassSchoolInfo", "names": ["schoolInfo"], "age": "none", "category": "user.workplace"},
	"urn:mpass.id:classLevel": {"friendly": "mpassClassLevel", "names": ["classLevel"], "age": "indicative", "category": "user.demographic"},
	"urn:mpass.id:learningMaterialsCharge": {"friendly": "mpassLearningMaterialsCharge", "names": ["learningMaterialsCharge"], "age": "indicative", "category": "user.demographic"},
	"urn:mpass.id:role": {"friendly": "mpassRole", "names": ["role", "mpass_role"], "age": "none", "category": "user.job_title", "role": "structured"},
	"urn:mpass.id:educationProviderInfo": {"friendly": "mpassEducationProviderInfo", "names": ["educationProviderInfo"], "age": "none", "category": "user.workplace"},
	"urn:mpass.id:originalIssuer": {"friendly": "originalIssuer", "names": [], "age": "none", "category": "system.operations"},
	"urn:oid:0.9.2342.19200300.100.1.3": {"friendly": "mail", "names": ["email", "urn:mace:dir:attribute-def:mail"], "age": "none", "category": "user.contact.email"},
	# OIDC `sub` is a pairwise identifier computed by the proxy (resolver id `subject`),
	# not urn:mpass.id:uid: an identifier of its own, with no SAML name.
	"sub": {"friendly": "sub", "names": ["subject"], "age": "none", "category": "user.unique_id.pseudonymous"},
	# Names of older MPASSid releases, still seen in logs.
	"urn:mpass.id:schoolCode": {"friendly": "mpassSchoolCode", "names": ["schoolCode", "mpass_schoolCode"], "age": "none", "category": "user.workplace"},
	"urn:mpass.id:school": {"friendly": "mpassSchool", "names": ["school", "mpass_school"], "age": "none", "category": "user.workplace"},
	"urn:mpass.id:class": {"friendly": "mpassClass", "names": ["class", "mpass_class"], "age": "indicative", "category": "user.demographic"},
	"urn:mpass.id:educationProviderId": {"friendly": "mpassEducationProviderOid", "names": ["mpassEducationProviderId", "educationProviderId"], "age": "none", "category": "user.workplace"},
	"urn:mpass.id:educationProvider": {"friendly": "mpassEducationProviderName", "names": ["mpassEducationProvider", "educationProvider"], "age": "none", "category": "user.workplace"},
	"urn:mpass.id:municipality": {"friendly": "mpassMunicipality", "names": ["municipality", "mpass_municipality"], "age": "none", "category": "user.contact.address.city"},
	"urn:mpass.id:municipalityCode": {"friendly": "municipalityCode", "names": ["mpassMunicipalityCode", "mpass_municipalitycode"], "age": "none", "category": "user.contact.address.city"},
	"urn:mpass.id:role_v1.1": {"friendly": "mpassRoleV11", "names": ["role_v1.1"], "age": "none", "category": "user.job_title", "role": "structured"},
	# The legacy crypt id is an MD5 of the personal identity code: small enough to brute-force.
	"urn:mpass.id:legacyCryptId": {"friendly": "legacyCryptId", "names": ["mpassLegacyCid", "mpass_cid"], "age": "revealing", "category": "user.government_id"},
	# Its keyed hash (HMAC-SHA-256 with the proxy's secret) is an identifier, not age-revealing.
	"urn:mpass.id:legacyCryptIde": {"friendly": "mpassLegacyCide", "names": ["legacyCryptIde", "mpass_cide"], "age": "none", "category": "user.unique_id.pseudonymous"},
	# The Educloud Alliance (ECA) set of MPASSid's first years.
	"urn:educloudalliance.org:oid": {"friendly": "ecaOid", "names": ["urn:educloudalliance.org:OID", "oid", "ecausername"], "age": "none", "category": "user.unique_id"},
	"urn:educloudalliance.org:role": {"friendly": "ecaRole", "names": ["ecaroles"], "age": "none", "category": "user.job_title", "role": "name"},
	"urn:educloudalliance.org:structuredRole": {"friendly": "ecaStructuredRole", "names": ["ecastructuredRoles"], "age": "none", "category": "user.job_title", "role": "structured"},
	"urn:educloudalliance.org:group": {"friendly": "ecaGroup", "names": ["ecagroups"], "age": "indicative", "category": "user.demographic"},
	"urn:educloudalliance.org:legacyCryptId": {"friendly": "ecaLegacyCryptId", "names": ["ecalegacyId"], "age": "revealing", "category": "user.government_id"},
	"urn:educloudalliance.org:authnID": {"friendly": "authnid", "names": [], "age": "none", "category": "user.unique_id.pseudonymous"},
	"urn:educloudalliance.org:authenticator": {"friendly": "idpId", "names": [], "age": "none", "category": "system.operations"},
	"urn:educloudalliance.org:school": {"friendly": "ecaSchool", "names": ["ecaschools"], "age": "none", "category": "user.workplace"},
	"urn:educloudalliance.org:municipality": {"friendly": "ecaMunicipality", "names": ["ecamunicipalities"], "age": "none", "category": "user.contact.address.city"},
	# eduPerson attributes of the proxy's first configuration.
	"urn:oid:0.9.2342.19200300.100.1.1": {"friendly": "uid", "names": ["urn:mace:dir:attribute-def:uid"], "age": "none", "category": "user.unique_id"},
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.6": {"friendly": "eduPersonPrincipalName", "names": ["eppn", "urn:mace:dir:attribute-def:eduPersonPrincipalName"], "age": "none", "category": "user.unique_id"},
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.9": {"friendly": "eduPersonScopedAffiliation", "names": ["urn:mace:dir:attribute-def:eduPersonScopedAffiliation"], "age": "none", "category": "user.job_title"},
	# Attributes MPASSid must never pass: each reveals the user's age.
	"urn:oid:1.3.6.1.4.1.25178.1.2.3": {"friendly": "schacDateOfBirth", "names": ["birthdate"], "age": "revealing", "category": "user.demographic.date_of_birth"},
	"urn:oid:1.3.6.1.4.1.25178.1.0.2.3": {"friendly": "schacYearOfBirth", "names": [], "age": "revealing", "category": "user.demographic.date_of_birth"},
	"urn:oid:1.2.246.21": {"friendly": "nationalIdentificationNumber", "names": ["hetu"], "age": "revealing", "category": "user.government_id.national_identification_number"},
	"urn:oid:1.3.6.1.4.1.25178.1.2.15": {"friendly": "schacPersonalUniqueID", "names": [], "age": "revealing", "category": "user.government_id"},
	"age": {"friendly": "age", "names": ["urn:mpass.id:age"], "age": "revealing", "category": "user.demographic.age_range"},
}

# The e-mail attribute, the one checked for a birth year and for learner contact data.
mail := "urn:oid:0.9.2342.19200300.100.1.3"

# The attributes of MPASSid's data model 1.4, which every service receives (MPASSid has
# no per-service attribute lists): what `registry import` approves an imported SP for,
# by protocol. An OIDC client also receives `sub`, its pairwise identifier.
data_model := {
	"saml": [
		"urn:oid:2.5.4.4", "urn:oid:2.5.4.42", "urn:mpass.id:nickname", "urn:mpass.id:uid",
		"urn:oid:1.3.6.1.4.1.16161.1.1.27", "urn:mpass.id:schoolInfo", "urn:mpass.id:classLevel",
		"urn:mpass.id:learningMaterialsCharge", "urn:mpass.id:role", "urn:mpass.id:educationProviderInfo",
		"urn:mpass.id:originalIssuer",
	],
	"oidc": [
		"sub", "urn:oid:2.5.4.4", "urn:oid:2.5.4.42", "urn:mpass.id:nickname", "urn:mpass.id:uid",
		"urn:oid:1.3.6.1.4.1.16161.1.1.27", "urn:mpass.id:schoolInfo", "urn:mpass.id:classLevel",
		"urn:mpass.id:learningMaterialsCharge", "urn:mpass.id:role", "urn:mpass.id:educationProviderInfo",
		"urn:mpass.id:originalIssuer",
	],
}
