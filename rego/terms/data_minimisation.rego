# METADATA
# title: Data minimisation
# description: |
#   MPASSid carries only data necessary for the provision of education; an SP receives
#   only the attributes approved for it.
# custom:
#   term: data-minimisation
#   kinds: [release]
#   category: MPASSid terms
#   l10n:
#     fi:
#       title: "Tietojen minimointi"
#       description: "MPASSid välittää vain opetuksen järjestämiseksi tarpeelliset tiedot; palveluntarjoaja saa vain sille hyväksytyt attribuutit."
#     sv:
#       title: "Uppgiftsminimering"
#       description: "MPASSid förmedlar endast uppgifter som behövs för att ordna undervisning; en tjänsteleverantör får endast de attribut som godkänts för den."
package mpass.terms.data_minimisation

import data.mpass.lib

# METADATA
# title: Release to an unknown service provider
# description: The SP is not in the registry, so it is approved for nothing.
# custom:
#   term: data-minimisation
#   rule: unknown-sp
#   severity: high
#   clause: MPASSid joining agreement (liittymissopimus), registered services only
#   references: [MPASSid joining agreement, "GDPR Art. 5(1)(c)", "GDPR Art. 28"]
#   what_to_do: "Find out what the service is; if it is used legitimately, have it registered in MPASSid with an agreement, otherwise ask OPH to block it."
#   l10n:
#     fi:
#       title: "Luovutus rekisteröimättömälle palveluntarjoajalle"
#       clause: "MPASSid-liittymissopimus, vain rekisteröidyt palvelut"
#       references: ["MPASSid-liittymissopimus", "tietosuoja-asetus, 5 artiklan 1 kohdan c alakohta", "tietosuoja-asetus, 28 artikla"]
#       what_to_do: "Selvitä, mikä palvelu on. Jos sitä käytetään asianmukaisesti, rekisteröi se MPASSidiin sopimuksineen; muuten pyydä Opetushallitusta estämään se."
#     sv:
#       title: "Utlämnande till en tjänsteleverantör som inte finns i registret"
#       clause: "MPASSid anslutningsavtal (liittymissopimus), endast registrerade tjänster"
#       references: ["MPASSid anslutningsavtal", "dataskyddsförordningen, artikel 5.1 c", "dataskyddsförordningen, artikel 28"]
#       what_to_do: "Ta reda på vilken tjänst det är. Om den används på rätt sätt, registrera den i MPASSid med avtal; annars be Utbildningsstyrelsen blockera den."
findings contains f if {
	input.kind == "release"
	not lib.known_sp
	f := lib.finding(rego.metadata.rule(), "fail", "", "the service provider is not in the registry")
}

# METADATA
# title: Release to a service the controller had not allowed
# description: |
#   Since the management service's version 2.0 (January 2024) a controller chooses which
#   services its pupils may reach, and the management service keeps every change. A
#   release to a service the controller had not allowed at the release's time (directly,
#   through a service set, or in Opinsys' allowedServiceProviders) fails. A controller
#   whose allowed services were not loaded is not judged by this rule.
# custom:
#   term: data-minimisation
#   rule: service-not-allowed
#   severity: high
#   clause: MPASSid management service 2.0, the education provider's allowed services; MPASSid joining agreement (liittymissopimus)
#   references: [MPASSid joining agreement, "GDPR Art. 5(1)(c)", "GDPR Art. 25(2)"]
#   what_to_do: "Check the allowed services in the MPASSid management service: allow the service if the pupils should use it, otherwise report the release to OPH."
#   l10n:
#     fi:
#       title: "Luovutus palveluun, jota rekisterinpitäjä ei ollut sallinut"
#       clause: "MPASSid-hallintapalvelu 2.0, koulutustoimijan sallimat palvelut; MPASSid-liittymissopimus"
#       references: ["MPASSid-liittymissopimus", "tietosuoja-asetus, 5 artiklan 1 kohdan c alakohta", "tietosuoja-asetus, 25 artiklan 2 kohta"]
#       what_to_do: "Tarkista sallitut palvelut MPASSid-hallintapalvelussa: salli palvelu, jos oppilaiden kuuluu käyttää sitä, muuten ilmoita luovutuksesta Opetushallitukselle."
#     sv:
#       title: "Utlämnande till en tjänst som den personuppgiftsansvarige inte hade tillåtit"
#       clause: "MPASSid förvaltningstjänst 2.0, utbildningsanordnarens tillåtna tjänster; MPASSid anslutningsavtal (liittymissopimus)"
#       references: ["MPASSid anslutningsavtal", "dataskyddsförordningen, artikel 5.1 c", "dataskyddsförordningen, artikel 25.2"]
#       what_to_do: "Kontrollera de tillåtna tjänsterna i MPASSid förvaltningstjänst: tillåt tjänsten om eleverna ska använda den, annars anmäl utlämnandet till Utbildningsstyrelsen."
findings contains f if {
	input.kind == "release"
	lib.known_sp
	lib.permission_data
	not lib.allowed_service
	f := lib.finding(rego.metadata.rule(), "fail", "", "the controller had not allowed this service at the time of the release")
}

# METADATA
# title: Release outside the SP's agreement validity
# description: The release happened before the SP's agreement started or after it ended.
# custom:
#   term: data-minimisation
#   rule: outside-agreement
#   severity: high
#   clause: MPASSid joining agreement (liittymissopimus), validity
#   references: [MPASSid joining agreement, "GDPR Art. 5(1)(c)"]
#   what_to_do: "Renew the agreement with the SP or correct its dates in the registry; if the agreement has ended, ask OPH to stop releases to the SP."
#   l10n:
#     fi:
#       title: "Luovutus sopimuksen voimassaolon ulkopuolella"
#       clause: "MPASSid-liittymissopimus, voimassaolo"
#       references: ["MPASSid-liittymissopimus", "tietosuoja-asetus, 5 artiklan 1 kohdan c alakohta"]
#       what_to_do: "Uusi sopimus palveluntarjoajan kanssa tai korjaa sen päivämäärät rekisteriin. Jos sopimus on päättynyt, pyydä Opetushallitusta lopettamaan luovutukset palveluntarjoajalle."
#     sv:
#       title: "Utlämnande utanför avtalets giltighetstid"
#       clause: "MPASSid anslutningsavtal (liittymissopimus), giltighetstid"
#       references: ["MPASSid anslutningsavtal", "dataskyddsförordningen, artikel 5.1 c"]
#       what_to_do: "Förnya avtalet med tjänsteleverantören eller rätta dess datum i registret. Om avtalet har upphört, be Utbildningsstyrelsen stoppa utlämnandet till tjänsteleverantören."
findings contains f if {
	input.kind == "release"
	lib.known_sp
	valid := object.get(lib.sp, "valid", {})
	not lib.within(valid, lib.date)
	f := lib.finding(rego.metadata.rule(), "fail", "", sprintf("released outside the agreement valid %s..%s", [object.get(valid, "from", ""), object.get(valid, "to", "")]))
}

# METADATA
# title: Attribute not approved for the SP
# description: |
#   The attribute is neither in the SP's registry list nor added by a controller–SP
#   agreement valid on the release date. One finding per attribute.
# custom:
#   term: data-minimisation
#   rule: unapproved-attribute
#   severity: medium
#   clause: MPASSid service terms, attributes released to a service
#   references: [MPASSid service terms, "GDPR Art. 5(1)(c)"]
#   what_to_do: "Approve the attribute for the SP in the registry if it needs it; otherwise ask OPH to stop releasing it to the SP."
#   l10n:
#     fi:
#       title: "Attribuuttia ei ole hyväksytty palveluntarjoajalle"
#       clause: "MPASSid-palvelun käyttöehdot, palvelulle luovutettavat attribuutit"
#       references: ["MPASSid-palvelun käyttöehdot", "tietosuoja-asetus, 5 artiklan 1 kohdan c alakohta"]
#       what_to_do: "Hyväksy attribuutti palveluntarjoajalle rekisterissä, jos se tarvitsee sitä; muuten pyydä Opetushallitusta lopettamaan sen luovutus palveluntarjoajalle."
#     sv:
#       title: "Attributet är inte godkänt för tjänsteleverantören"
#       clause: "MPASSid:s användarvillkor, attribut som lämnas ut till en tjänst"
#       references: ["MPASSid:s användarvillkor", "dataskyddsförordningen, artikel 5.1 c"]
#       what_to_do: "Godkänn attributet för tjänsteleverantören i registret om den behöver det; annars be Utbildningsstyrelsen sluta lämna ut det till tjänsteleverantören."
findings contains f if {
	input.kind == "release"
	lib.known_sp
	some name, _ in input.attributes
	not lib.approved(name)
	f := lib.finding(rego.metadata.rule(), "fail", name, sprintf("%s is not approved for this service provider", [name]))
}
