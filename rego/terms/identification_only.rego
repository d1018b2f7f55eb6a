# METADATA
# title: Use only for identification and access rights
# description: |
#   The SP may use the released data only to identify the end user and to check their
#   access rights.
# custom:
#   term: identification-only
#   kinds: [use]
#   category: MPASSid terms
#   l10n:
#     fi:
#       title: "Käyttö vain tunnistamiseen ja käyttövaltuuksien tarkistamiseen"
#       description: "Palveluntarjoaja saa käyttää luovutettuja tietoja vain käyttäjän tunnistamiseen ja käyttövaltuuksien tarkistamiseen (MPASSid-palvelun käyttöehdot)."
#     sv:
#       title: "Användning endast för identifiering och kontroll av behörighet"
#       description: "Tjänsteleverantören får använda de utlämnade uppgifterna endast för att identifiera användaren och kontrollera behörigheten (MPASSid:s användarvillkor)."
package mpass.terms.identification_only

import data.mpass.lib

# METADATA
# title: Purpose not covered
# description: |
#   A use for a purpose other than identification or access rights, not named by a valid
#   controller–SP agreement (never for marketing) and not covered by a consent.
# custom:
#   term: identification-only
#   rule: purpose-not-covered
#   severity: high
#   clause: MPASSid service terms, use of data (identification and access rights only)
#   references: [MPASSid service terms, "GDPR Art. 5(1)(b)", "GDPR Art. 28(3)(a)"]
#   what_to_do: "Ask the SP to stop using the data for this purpose; if the purpose is needed, agree on it in writing or record the consent, then audit again."
#   l10n:
#     fi:
#       title: "Käyttötarkoitus ei ole sopimuksen tai suostumuksen kattama"
#       clause: "MPASSid-palvelun käyttöehdot, tietojen käyttö (vain tunnistaminen ja käyttövaltuudet)"
#       references: ["MPASSid-palvelun käyttöehdot", "tietosuoja-asetus, 5 artiklan 1 kohdan b alakohta", "tietosuoja-asetus, 28 artiklan 3 kohdan a alakohta"]
#       what_to_do: "Pyydä palveluntarjoajaa lopettamaan tietojen käyttö tähän tarkoitukseen. Jos tarkoitus on tarpeen, sovi siitä kirjallisesti tai kirjaa suostumus ja auditoi uudelleen."
#     sv:
#       title: "Ändamålet omfattas inte av avtal eller samtycke"
#       clause: "MPASSid:s användarvillkor, användning av uppgifter (endast identifiering och behörighet)"
#       references: ["MPASSid:s användarvillkor", "dataskyddsförordningen, artikel 5.1 b", "dataskyddsförordningen, artikel 28.3 a"]
#       what_to_do: "Be tjänsteleverantören att sluta använda uppgifterna för detta ändamål. Om ändamålet behövs, avtala om det skriftligen eller registrera samtycket och granska på nytt."
findings contains f if {
	input.kind == "use"
	not lib.identification(input.purpose)
	not covered_by_agreement
	not covered_by_consent
	f := lib.finding(rego.metadata.rule(), "fail", "", sprintf("purpose %s is not covered by an agreement or consent", [input.purpose]))
}

# A controller agreement can add purposes, but never a marketing one.
covered_by_agreement if {
	not lib.marketing(input.purpose)
	some ag in lib.agreements
	some p in ag.purposes
	lib.covers(p, input.purpose)
}

# Here a consent counts whoever gave it.
covered_by_consent if {
	some c in input.consents
	lib.covers(c.purpose, input.purpose)
	lib.consent_active(c)
}
