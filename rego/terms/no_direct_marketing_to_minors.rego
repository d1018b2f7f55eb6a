# METADATA
# title: No direct marketing to minors
# description: |
#   KKV guideline 3.1.1: no direct marketing to under-15s without a guardian's consent.
#   MPASSid passes no age, so every learner is a presumed under-15.
# custom:
#   term: no-direct-marketing-to-minors
#   kinds: [release, use]
#   category: Consumer protection
#   l10n:
#     fi:
#       title: "Ei suoramarkkinointia alaikäisille"
#       description: "KKV:n linjaus 3.1.1: ei suoramarkkinointia alle 15-vuotiaille ilman huoltajan suostumusta. MPASSid ei välitä ikää, joten jokaista oppijaa pidetään alle 15-vuotiaana."
#     sv:
#       title: "Ingen direktmarknadsföring till minderåriga"
#       description: "KKV:s riktlinje 3.1.1: ingen direktmarknadsföring till barn under 15 år utan vårdnadshavares samtycke. MPASSid förmedlar ingen ålder, så varje elev antas vara under 15 år."
package mpass.terms.no_direct_marketing_to_minors

import data.mpass.catalog
import data.mpass.lib

# METADATA
# title: Marketing to a learner without a guardian's consent
# description: |
#   A marketing use for a learner with no guardian's consent given before the use and not
#   withdrawn before it. The pupil's own consent does not count; an objection after the
#   consent voids it.
# custom:
#   term: no-direct-marketing-to-minors
#   rule: marketing-without-guardian-consent
#   severity: critical
#   clause: KKV guideline on marketing in schools (2021), 3.1.1
#   references: [KKV guideline 3.1.1, "GDPR Art. 8", "GDPR Art. 21"]
#   what_to_do: "Demand that the SP stop direct marketing to pupils at once; marketing needs a guardian's consent given beforehand. Consider notifying the Consumer Ombudsman."
#   l10n:
#     fi:
#       title: "Markkinointi oppijalle ilman huoltajan suostumusta"
#       clause: "KKV:n linjaus markkinoinnista kouluissa (2021), 3.1.1"
#       references: ["KKV:n linjaus 3.1.1", "tietosuoja-asetus, 8 artikla", "tietosuoja-asetus, 21 artikla"]
#       what_to_do: "Vaadi palveluntarjoajaa lopettamaan suoramarkkinointi oppilaille heti; markkinointi edellyttää huoltajan etukäteen antamaa suostumusta. Harkitse ilmoitusta kuluttaja-asiamiehelle."
#     sv:
#       title: "Marknadsföring till elev utan vårdnadshavares samtycke"
#       clause: "KKV:s riktlinje om marknadsföring i skolor (2021), 3.1.1"
#       references: ["KKV:s riktlinje 3.1.1", "dataskyddsförordningen, artikel 8", "dataskyddsförordningen, artikel 21"]
#       what_to_do: "Kräv att tjänsteleverantören genast slutar med direktmarknadsföring till elever; marknadsföring kräver vårdnadshavarens samtycke i förväg. Överväg att anmäla till konsumentombudsmannen."
findings contains f if {
	input.kind == "use"
	lib.marketing(input.purpose)
	lib.learner
	not guardian_consent
	f := lib.finding(rego.metadata.rule(), "fail", "", sprintf("%s use for %s without a guardian's consent", [input.purpose, lib.who]))
}

guardian_consent if {
	some c in input.consents
	c.given_by == "guardian"
	lib.covers(c.purpose, input.purpose)
	lib.consent_active(c)
	not objected_since(c.given)
}

# objected_since(t): a consent covering the purpose was withdrawn (an objection) after t
# and at or before the use.
objected_since(t) if {
	some o in input.consents
	lib.covers(o.purpose, input.purpose)
	o.withdrawn
	lib.withdrawn_by(o, time.parse_rfc3339_ns(input.time))
	time.parse_rfc3339_ns(o.withdrawn) > time.parse_rfc3339_ns(t)
}

# METADATA
# title: Learner's e-mail released to a commercial SP
# description: |
#   Contact data of a presumed minor at a commercial service; the controller should check
#   the agreement that allows it.
# custom:
#   term: no-direct-marketing-to-minors
#   rule: learner-email-to-commercial-sp
#   severity: medium
#   clause: KKV guideline on marketing in schools (2021), 3.1.1; MPASSid service terms
#   references: [KKV guideline 3.1.1, "GDPR Art. 5(1)(b)", "GDPR Art. 8"]
#   what_to_do: "Check that the agreement with this commercial SP allows pupils' e-mail addresses and forbids marketing to them; if not, stop releasing e-mail addresses to it."
#   l10n:
#     fi:
#       title: "Oppijan sähköpostiosoite kaupalliselle palveluntarjoajalle"
#       clause: "KKV:n linjaus markkinoinnista kouluissa (2021), 3.1.1; MPASSid-palvelun käyttöehdot"
#       references: ["KKV:n linjaus 3.1.1", "tietosuoja-asetus, 5 artiklan 1 kohdan b alakohta", "tietosuoja-asetus, 8 artikla"]
#       what_to_do: "Tarkista, että sopimus tämän kaupallisen palveluntarjoajan kanssa sallii oppilaiden sähköpostiosoitteet ja kieltää niihin markkinoinnin. Jos ei, lopeta sähköpostiosoitteiden luovutus sille."
#     sv:
#       title: "Elevs e-postadress till kommersiell tjänsteleverantör"
#       clause: "KKV:s riktlinje om marknadsföring i skolor (2021), 3.1.1; MPASSid:s användarvillkor"
#       references: ["KKV:s riktlinje 3.1.1", "dataskyddsförordningen, artikel 5.1 b", "dataskyddsförordningen, artikel 8"]
#       what_to_do: "Kontrollera att avtalet med denna kommersiella tjänsteleverantör tillåter elevernas e-postadresser och förbjuder marknadsföring till dem. Om inte, sluta lämna ut e-postadresser till den."
findings contains f if {
	input.kind == "release"
	lib.sp.commercial
	input.attributes[catalog.mail]
	lib.learner
	f := lib.finding(rego.metadata.rule(), "warn", catalog.mail, sprintf("e-mail of %s released to a commercial service provider", [lib.who]))
}
