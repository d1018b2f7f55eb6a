package http_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/audit"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

// TestAuditOfAnUnknownControllerRefused: an auditor's audit of a controller that is in
// neither the registry nor any record is refused (404), as the CLI refuses it (exit 2);
// it never starts work that judges nothing and then reads as compliant.
func TestAuditOfAnUnknownControllerRefused(t *testing.T) {
	e := newEnv(t)
	w := e.do(t, "auditor", "POST", "/api/v1/runs", `{"controller":"`+nowhere+`"}`)
	if w.Code != 404 || !strings.Contains(w.Body.String(), "neither the registry nor any record") {
		t.Fatalf("POST /api/v1/runs of %s: %d %s, want 404", nowhere, w.Code, w.Body)
	}
	if list := e.do(t, "auditor", "GET", "/api/v1/runs", "").Body.String(); strings.Contains(list, nowhere) {
		t.Errorf("a run of %s was stored: %s", nowhere, list)
	}
}

// TestRunPageSaysNoRecordsPerTerm: a run of one day with releases and no use has no
// verdict on the use-only term (identification-only) while the other terms have one;
// the page says "no records" for it, never "compliant".
func TestRunPageSaysNoRecordsPerTerm(t *testing.T) {
	e := newEnv(t)
	a := &audit.Auditor{DB: e.db, Engine: testenv.MustEngine(t)}
	run, err := a.Run(context.Background(), mpass.Scope{Controller: city, From: "2026-10-06", To: "2026-10-06"})
	if err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string][2]string{
		"fi": {"Käyttö vain tunnistamiseen ja käyttövaltuuksien tarkistamiseen ei kirjauksia (ei arviota)", "Ei ikää paljastavia tietoja 2 hylättyä"},
		"sv": {"Användning endast för identifiering och kontroll av behörighet inga poster (ingen bedömning)", "Inga uppgifter som röjer ålder 2 underkända"},
		"en": {"Use only for identification and access rights no records (no verdict)", "No information revealing age 2 failed"},
	} {
		w := e.do(t, "dpo-city", "GET", fmt.Sprintf("/runs/%d?lang=%s", run.ID, lang), "")
		text := strings.Join(strings.Fields(visibleText(w.Body.String())), " ")
		for _, s := range want {
			if !strings.Contains(text, s) {
				t.Errorf("%s: the run page lacks %q: %s", lang, s, text)
			}
		}
	}
}

// TestStatsPage (issue 15): auditors see per SP the learner number's and the e-mail's
// share of the releases, in their language; a DPO is refused (the page sums every
// controller's releases).
func TestStatsPage(t *testing.T) {
	e := newEnv(t)
	for lang, want := range map[string]string{"fi": "Sähköpostiosoite", "sv": "E-postadress", "en": "E-mail address"} {
		w := e.do(t, "auditor", "GET", "/stats?lang="+lang, "")
		body := strings.ReplaceAll(w.Body.String(), "<wbr>", "")
		if w.Code != 200 || !strings.Contains(body, want) || !strings.Contains(body, "https://sp.example-shop.fi/shibboleth") || !strings.Contains(body, "<svg class=\"bar email\"") {
			t.Errorf("%s: %d %s", lang, w.Code, visibleText(body))
		}
	}
	if w := e.do(t, "dpo-city", "GET", "/stats", ""); w.Code != 403 {
		t.Errorf("a DPO: %d", w.Code)
	}
	if w := e.do(t, "auditor", "GET", "/stats?from=0001-01-01&to=9999-12-31", ""); w.Code != 400 {
		t.Errorf("a period over 36 months: %d", w.Code)
	}
}
