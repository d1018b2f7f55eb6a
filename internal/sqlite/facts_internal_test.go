package sqlite

import (
	"encoding/json"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// TestAppendFactsIsEncodingJSON: the hand-written encoder writes what encoding/json writes.
func TestAppendFactsIsEncodingJSON(t *testing.T) {
	for _, attrs := range []map[string]mpass.AttributeFacts{
		{},
		{"mail": {Values: true, Years: []int{2012, 2013}, Fingerprint: mpass.Fingerprint{1}}, "a\"b\\ä": {}},
		{"urn:mpass.id:role": {Values: true, Roles: []mpass.Role{{ClassGrade: true, Name: "Oppilas", Code: "1"}, {Name: "Opettaja"}, {Controller: "c", School: "s", Class: "7B"}}}},
		{"n": {Values: true, IdentityCode: true, DateOfBirth: true, Grade: "7"}},
	} {
		want, _ := json.Marshal(attrs)
		names, values := sortedAttributes(nil, nil, attrs)
		if got := appendFacts(nil, names, values); string(got) != string(want) {
			t.Errorf("appendFacts = %s, want %s", got, want)
		}
	}
}

// appendJSONString writes what encoding/json writes, for every byte beside ASCII text.
func TestAppendJSONStringIsEncodingJSON(t *testing.T) {
	for c := range 256 {
		for _, s := range []string{string([]byte{byte(c)}), "urn:mpass.id:" + string([]byte{byte(c)}) + "x", "ä" + string([]byte{byte(c)})} {
			want, _ := json.Marshal(s)
			if got := appendJSONString(nil, s); string(got) != string(want) {
				t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
			}
		}
	}
}
