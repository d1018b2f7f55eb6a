# METADATA
# title: No information revealing age
# description: MPASSid passes no information from which the user's age can be inferred.
# custom:
#   term: no-age-inference
#   kinds: [release]
#   category: MPASSid terms
#   l10n:
#     fi:
#       title: "Ei ikää paljastavia tietoja"
#       description: "MPASSid ei välitä tietoja, joista käyttäjän ikä voidaan päätellä."
#     sv:
#       title: "Inga uppgifter som röjer ålder"
#       description: "MPASSid förmedlar inga uppgifter av vilka användarens ålder kan härledas."
package mpass.terms.no_age_inference

import data.mpass.catalog
import data.mpass.lib

# METADATA
# title: Age-revealing attribute released
# description: |
#   A date or year of birth, a personal identity code, an age or a legacy crypt id (an MD5 of
#   the identity code) was released. It fails whether or not the SP is approved for it.
# custom:
#   term: no-age-inference
#   rule: age-revealing-attribute
#   severity: critical
#   clause: MPASSid service terms, attributes; MPASSid data model 1.4 (no attribute reveals age)
#   references: [MPASSid data model 1.4, "GDPR Art. 5(1)(c)", "GDPR Art. 8"]
#   what_to_do: "Stop the release at once: ask OPH to remove the attribute from the service's configuration and ask the SP to delete the values it received."
#   l10n:
#     fi:
#       title: "Ikää paljastava attribuutti luovutettu"
#       clause: "MPASSid-palvelun käyttöehdot, attribuutit; MPASSid-tietomalli 1.4 (mikään attribuutti ei paljasta ikää)"
#       references: ["MPASSid-tietomalli 1.4", "tietosuoja-asetus, 5 artiklan 1 kohdan c alakohta", "tietosuoja-asetus, 8 artikla"]
#       what_to_do: "Lopeta luovutus heti: pyydä Opetushallitusta poistamaan attribuutti palvelun asetuksista ja palveluntarjoajaa poistamaan saamansa tiedot."
#     sv:
#       title: "Attribut som röjer ålder har lämnats ut"
#       clause: "MPASSid:s användarvillkor, attribut; MPASSid datamodell 1.4 (inget attribut röjer ålder)"
#       references: ["MPASSid datamodell 1.4", "dataskyddsförordningen, artikel 5.1 c", "dataskyddsförordningen, artikel 8"]
#       what_to_do: "Stoppa utlämnandet genast: be Utbildningsstyrelsen ta bort attributet ur tjänstens inställningar och tjänsteleverantören radera de uppgifter den fått."
findings contains f if {
	input.kind == "release"
	some name, _ in input.attributes
	lib.age_class(name) == "revealing"
	f := lib.finding(rego.metadata.rule(), "fail", name, sprintf("%s reveals the user's age and must never be released", [name]))
}

# METADATA
# title: Personal identity code in a released value
# description: |
#   A released value contains a checksum-valid Finnish personal identity code, which
#   carries the date of birth. Evidence shows the attribute and a keyed fingerprint only.
# custom:
#   term: no-age-inference
#   rule: age-revealing-value
#   severity: critical
#   clause: MPASSid service terms, attributes; MPASSid data model 1.4 (no attribute reveals age)
#   references: [MPASSid data model 1.4, "GDPR Art. 5(1)(c)", "GDPR Art. 8"]
#   what_to_do: "Find the source record (by the pseudonym) and correct it so no identity code is stored in that attribute; ask the SP to delete the values it received."
#   l10n:
#     fi:
#       title: "Henkilötunnus luovutetussa arvossa"
#       clause: "MPASSid-palvelun käyttöehdot, attribuutit; MPASSid-tietomalli 1.4 (mikään attribuutti ei paljasta ikää)"
#       references: ["MPASSid-tietomalli 1.4", "tietosuoja-asetus, 5 artiklan 1 kohdan c alakohta", "tietosuoja-asetus, 8 artikla"]
#       what_to_do: "Etsi lähdetieto (pseudonyymin avulla) ja korjaa se niin, ettei attribuutissa ole henkilötunnusta. Pyydä palveluntarjoajaa poistamaan saamansa tiedot."
#     sv:
#       title: "Personbeteckning i ett utlämnat värde"
#       clause: "MPASSid:s användarvillkor, attribut; MPASSid datamodell 1.4 (inget attribut röjer ålder)"
#       references: ["MPASSid datamodell 1.4", "dataskyddsförordningen, artikel 5.1 c", "dataskyddsförordningen, artikel 8"]
#       what_to_do: "Leta upp källuppgiften (med pseudonymen) och rätta den så att attributet inte innehåller någon personbeteckning. Be tjänsteleverantören radera de uppgifter den fått."
findings contains f if {
	input.kind == "release"
	some name, a in input.attributes
	a.identity_code
	f := lib.finding(rego.metadata.rule(), "fail", name, sprintf("a value of %s contains a personal identity code", [name]))
}

# METADATA
# title: Age-indicative attribute released
# description: |
#   The grade level, the class or the learning-materials charge lets the SP infer an age
#   range. It fails when the SP is not approved for it and is listed as a disclosure when it is.
# custom:
#   term: no-age-inference
#   rule: age-indicative-attribute
#   severity: medium
#   clause: MPASSid service terms, attributes; MPASSid data model 1.4 (classLevel, class, learningMaterialsCharge)
#   references: [MPASSid data model 1.4, "GDPR Art. 5(1)(c)"]
#   what_to_do: "Check whether the SP needs the grade or class; if it does, approve it for the SP in the registry, otherwise ask OPH to stop releasing it."
#   l10n:
#     fi:
#       title: "Ikää osoittava attribuutti luovutettu"
#       clause: "MPASSid-palvelun käyttöehdot, attribuutit; MPASSid-tietomalli 1.4 (classLevel, class, learningMaterialsCharge)"
#       references: ["MPASSid-tietomalli 1.4", "tietosuoja-asetus, 5 artiklan 1 kohdan c alakohta"]
#       what_to_do: "Tarkista, tarvitseeko palveluntarjoaja vuosiluokan tai luokan. Jos tarvitsee, hyväksy attribuutti palveluntarjoajalle rekisterissä; muuten pyydä Opetushallitusta lopettamaan sen luovutus."
#     sv:
#       title: "Attribut som antyder ålder har lämnats ut"
#       clause: "MPASSid:s användarvillkor, attribut; MPASSid datamodell 1.4 (classLevel, class, learningMaterialsCharge)"
#       references: ["MPASSid datamodell 1.4", "dataskyddsförordningen, artikel 5.1 c"]
#       what_to_do: "Kontrollera om tjänsteleverantören behöver årskursen eller klassen. Om den gör det, godkänn attributet för tjänsteleverantören i registret; annars be Utbildningsstyrelsen sluta lämna ut det."
findings contains f if {
	input.kind == "release"
	some name, _ in input.attributes
	lib.age_class(name) == "indicative"
	f := lib.finding(rego.metadata.rule(), indicative_result(name), name, sprintf("%s indicates the user's age range", [name]))
}

# METADATA
# title: Age-indicative attribute released
# description: |
#   The class field of a role (its third field) starts with a grade digit, in any role
#   attribute: urn:mpass.id:role, urn:mpass.id:role_v1.1 or the ECA structuredRole. It is
#   approved where the role attribute that carries it is.
# custom:
#   term: no-age-inference
#   rule: age-indicative-attribute
#   severity: medium
#   clause: MPASSid service terms, attributes; MPASSid data model 1.4 (role class field)
#   references: [MPASSid data model 1.4, "GDPR Art. 5(1)(c)"]
#   what_to_do: "Check whether the SP needs the grade or class; if it does, approve it for the SP in the registry, otherwise ask OPH to stop releasing it."
#   l10n:
#     fi:
#       title: "Ikää osoittava attribuutti luovutettu"
#       clause: "MPASSid-palvelun käyttöehdot, attribuutit; MPASSid-tietomalli 1.4 (roolin luokkakenttä)"
#       references: ["MPASSid-tietomalli 1.4", "tietosuoja-asetus, 5 artiklan 1 kohdan c alakohta"]
#       what_to_do: "Tarkista, tarvitseeko palveluntarjoaja vuosiluokan tai luokan. Jos tarvitsee, hyväksy attribuutti palveluntarjoajalle rekisterissä; muuten pyydä Opetushallitusta lopettamaan sen luovutus."
#     sv:
#       title: "Attribut som antyder ålder har lämnats ut"
#       clause: "MPASSid:s användarvillkor, attribut; MPASSid datamodell 1.4 (rollens klassfält)"
#       references: ["MPASSid datamodell 1.4", "dataskyddsförordningen, artikel 5.1 c"]
#       what_to_do: "Kontrollera om tjänsteleverantören behöver årskursen eller klassen. Om den gör det, godkänn attributet för tjänsteleverantören i registret; annars be Utbildningsstyrelsen sluta lämna ut det."
findings contains f if {
	input.kind == "release"
	some name, a in input.attributes
	some role in a.roles
	role.class_grade
	f := lib.finding(rego.metadata.rule(), indicative_result(name), name, sprintf("the class field of %s starts with a grade level", [name]))
}

indicative_result(name) := "pass" if lib.approved(name)

else := "fail"

# METADATA
# title: Birth year in an e-mail address
# description: The local part of a released e-mail address holds a plausible birth year.
# custom:
#   term: no-age-inference
#   rule: birth-year-in-email
#   severity: low
#   clause: MPASSid service terms, attributes (no information from which age can be inferred)
#   references: [MPASSid data model 1.4, "GDPR Art. 5(1)(c)"]
#   what_to_do: "Change the pupils' e-mail address format so it holds no year (for example at the next account renewal)."
#   l10n:
#     fi:
#       title: "Syntymävuosi sähköpostiosoitteessa"
#       clause: "MPASSid-palvelun käyttöehdot, attribuutit (ei tietoja, joista ikä voidaan päätellä)"
#       references: ["MPASSid-tietomalli 1.4", "tietosuoja-asetus, 5 artiklan 1 kohdan c alakohta"]
#       what_to_do: "Muuta oppilaiden sähköpostiosoitteiden muotoa niin, ettei niissä ole vuosilukua (esimerkiksi seuraavan tunnusten uusimisen yhteydessä)."
#     sv:
#       title: "Födelseår i e-postadressen"
#       clause: "MPASSid:s användarvillkor, attribut (inga uppgifter av vilka ålder kan härledas)"
#       references: ["MPASSid datamodell 1.4", "dataskyddsförordningen, artikel 5.1 c"]
#       what_to_do: "Ändra elevernas e-postadressformat så att det inte innehåller något årtal (till exempel vid nästa förnyelse av kontona)."
findings contains f if {
	input.kind == "release"
	some y in input.attributes[catalog.mail].years
	y >= 1990
	y <= lib.year
	f := lib.finding(rego.metadata.rule(), "warn", catalog.mail, "the e-mail address holds a four-digit year that may be a birth year")
}
