package http_test

import (
	"strings"
	"testing"
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
