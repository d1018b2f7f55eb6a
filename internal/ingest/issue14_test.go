package ingest_test

import (
	"strings"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/ingest"
)

// TestRepeatedKeysRejected (issue 14, item 4): JSON's last-wins and encoding/json's
// case-insensitive field match would let a line change itself: a second "kind" turns a
// use into a release, "SUBJECT" overrides "subject", a repeated attribute hides its
// first values (an identity code behind a null). Each is rejected, on the fast path and
// on the precise one alike.
func TestRepeatedKeysRejected(t *testing.T) {
	use := `{"kind":"use","id":"u-1","time":"2026-10-09T12:00:00Z","sp":"` + shop + `","subject":"` + aino + `","purpose":"analytics"`
	rel := `{"kind":"release","id":"r-1","time":"2026-10-05T07:58:12Z","sp":"` + shop + `","controller":"` + city + `","subject":"` + aino + `"`
	for _, tc := range []struct{ name, line, field, reason string }{
		{"second kind", use + `,"kind":"release"}`, "kind", "a key is repeated"},
		{"SUBJECT beside subject", use + `,"SUBJECT":"other"}`, "subject", "a key is repeated"},
		{"Kelvin-sign kind", use + `,"\u212aind":"release"}`, "kind", "a key is repeated"},
		{"SUBJECT alone", strings.Replace(use, `"subject"`, `"SUBJECT"`, 1) + `}`, "subject", "field names are case-sensitive"},
		{"repeated attribute", rel + `,"attributes":{"urn:mpass.id:nickname":["131052-308T"],"urn:mpass.id:nickname":null}}`, "attributes", "a key is repeated"},
		{"attribute in two cases", rel + `,"attributes":{"urn:mpass.id:nickname":null,"URN:mpass.id:nickname":["131052-308T"]}}`, "attributes", "a key is repeated"},
		{"repeated attribute in a nested line", rel + `,"note":{"a":[1,{"b":2}]},"attributes":{"mail":["x"],"mail":["y"]}}`, "attributes", "a key is repeated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := run(t, ingest.Options{Format: ingest.FormatJSONL}, tc.line+"\n")
			if len(rec.records) != 0 || len(rec.rejections) != 1 {
				t.Fatalf("records %v rejections %v", rec.records, rec.rejections)
			}
			if r := rec.rejections[0]; r.Field != tc.field || !strings.Contains(r.Reason, tc.reason) {
				t.Errorf("rejected as %s, want %s: %s", r.Error(), tc.field, tc.reason)
			}
			if strings.Contains(rec.rejections[0].Reason, "131052") {
				t.Errorf("reason quotes the line: %s", rec.rejections[0].Reason)
			}
		})
	}
	// keys that only look alike are distinct: accepted
	rec := run(t, ingest.Options{Format: ingest.FormatJSONL}, rel+`,"note":"a","notes":"b","attributes":{"mail":["x"],"urn:oid:2.5.4.42":["y"]}}`+"\n")
	if len(rec.records) != 1 {
		t.Fatalf("distinct keys rejected: %v", rec.rejections)
	}
}

// TestTimesTheStoreCannotHold (issue 14, item 5): unix nanoseconds hold 1677-09-21 to
// 2262-04-11; a time outside is rejected by every reader with that reason, never
// wrapped (2611 was audited as 2026-10-05, 9999 as 1816).
func TestTimesTheStoreCannotHold(t *testing.T) {
	const reason = "outside the times the store holds exactly"
	for _, tc := range []struct {
		name  string
		opts  ingest.Options
		text  string
		field string
	}{
		{"jsonl 2611", ingest.Options{Format: ingest.FormatJSONL}, `{"kind":"use","id":"u","time":"2611-10-05T07:58:12Z","sp":"s","subject":"x","purpose":"p"}`, "time"},
		{"jsonl 9999", ingest.Options{Format: ingest.FormatJSONL}, `{"kind":"use","id":"u","time":"9999-12-31T23:59:59Z","sp":"s","subject":"x","purpose":"p"}`, "time"},
		{"jsonl 1600", ingest.Options{Format: ingest.FormatJSONL}, `{"kind":"use","id":"u","time":"1600-01-01T00:00:00+02:00","sp":"s","subject":"x","purpose":"p"}`, "time"},
		{"jsonl a nanosecond after", ingest.Options{Format: ingest.FormatJSONL}, `{"kind":"use","id":"u","time":"2262-04-11T23:47:16.854775808Z","sp":"s","subject":"x","purpose":"p"}`, "time"},
		{"csv 2611", ingest.Options{Format: ingest.FormatCSV}, "kind,id,time,sp,controller,subject,purpose,attributes\nuse,u,2611-10-05T07:58:12Z,s,,x,p,mail", "time"},
		{"shibboleth 2611", ingest.Options{Format: ingest.FormatShibboleth, Controller: city}, strings.Replace(shibLine(""), "2026-10-05T07:58:12.345Z", "2611-10-05T07:58:12Z", 1), "%T"},
		{"shibboleth compact 1600", ingest.Options{Format: ingest.FormatShibboleth, Controller: city}, strings.Replace(shibLine(""), "2026-10-05T07:58:12.345Z", "16000101T000000Z", 1), "%T"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := run(t, tc.opts, tc.text+"\n")
			if len(rec.records) != 0 || len(rec.rejections) != 1 {
				t.Fatalf("records %v rejections %v", rec.records, rec.rejections)
			}
			if r := rec.rejections[0]; r.Field != tc.field || !strings.Contains(r.Reason, reason) {
				t.Errorf("rejected as %s", r.Error())
			}
		})
	}
	// the last nanosecond the store holds is kept exactly
	rec := run(t, ingest.Options{Format: ingest.FormatJSONL}, `{"kind":"use","id":"u","time":"2262-04-11T23:47:16.854775807Z","sp":"s","subject":"x","purpose":"p"}`+"\n")
	if len(rec.records) != 1 || rec.records[0].Time.UnixNano() != 1<<63-1 {
		t.Fatalf("records %v rejections %v", rec.records, rec.rejections)
	}
}

// TestControlCharacters (issue 14, smaller items): a raw NUL or other control
// character inside a JSON string (a value or a key) is not JSON and is rejected, where
// fastjson would have taken it; an escaped one in an identifier of the record is
// rejected too, as it would reach the database and terminals; a BOM on line 1 is no
// content.
func TestControlCharacters(t *testing.T) {
	const use = `{"kind":"use","id":"u-1","time":"2026-10-09T12:00:00Z","sp":"s","subject":"x","purpose":"analytics"`
	for _, tc := range []struct{ name, line, field, reason string }{
		{"raw NUL in a value", strings.Replace(use, `"x"`, "\"x\x00Aino\"", 1) + "}", "", "a control character (U+0000–U+001F) inside a string"},
		{"raw NUL in a key", use + ",\"no\x00te\":1}", "", "a control character (U+0000–U+001F) inside a string"},
		{"raw escape in an attribute name", use + ",\"attributes\":[\"ma\x1bil\"]}", "", "a control character (U+0000–U+001F) inside a string"},
		{"raw tab in a value", strings.Replace(use, `"analytics"`, "\"analy\ttics\"", 1) + "}", "", "a control character (U+0000–U+001F) inside a string"},
		{"escaped NUL in the id", strings.Replace(use, `"u-1"`, `"u-1\u0000"`, 1) + "}", "id", "holds a control character"},
		{"escaped ESC in the sp", strings.Replace(use, `"s"`, `"s\u001b[2J"`, 1) + "}", "sp", "holds a control character"},
		{"DEL in the purpose", strings.Replace(use, `"analytics"`, "\"analytics\x7f\"", 1) + "}", "purpose", "holds a control character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := run(t, ingest.Options{Format: ingest.FormatJSONL}, tc.line+"\n")
			if len(rec.records) != 0 || len(rec.rejections) != 1 {
				t.Fatalf("records %v rejections %v", rec.records, rec.rejections)
			}
			if r := rec.rejections[0]; r.Field != tc.field || !strings.Contains(r.Reason, tc.reason) {
				t.Errorf("rejected as %s", r.Error())
			}
		})
	}
	// whitespace between tokens may be a tab; a BOM starts line 1
	rec := run(t, ingest.Options{Format: ingest.FormatJSONL}, "\ufeff"+use+"}\n\t"+strings.Replace(use, "u-1", "u-2", 1)+"\t}\n")
	if len(rec.records) != 2 {
		t.Fatalf("records %v rejections %v", rec.records, rec.rejections)
	}
}

// TestShibbolethUserAgentWithBar (issue 14, smaller items): %UA, the last field of the
// IdP 4 format, is what the browser sent and may hold '|': the line is read, not
// rejected for its field count. A format that does not end in %UA still counts exactly.
func TestShibbolethUserAgentWithBar(t *testing.T) {
	line := shibLine("") + "Mozilla/5.0 (X11; Linux x86_64) | Firefox/140.0 |"
	rec := run(t, ingest.Options{Format: ingest.FormatShibboleth, Controller: city}, line+"\n")
	if len(rec.records) != 1 || len(rec.rejections) != 0 {
		t.Fatalf("records %v rejections %v", rec.records, rec.rejections)
	}
	rec = run(t, ingest.Options{Format: ingest.FormatShibboleth, Controller: city, LogFormat: "idp3"}, "20261005T075812Z|b|_r1|"+shop+"|p|i|b|_r2|u@x|ac|mpassRole|n|_i||extra\n")
	if len(rec.rejections) != 1 || !strings.Contains(rec.rejections[0].Reason, "15 fields where the log format has 14") {
		t.Fatalf("records %v rejections %v", rec.records, rec.rejections)
	}
}
