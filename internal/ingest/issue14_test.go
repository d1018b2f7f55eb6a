package ingest_test

import (
	"context"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/ingest"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
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

// junk is n rejected lines of a few kinds (not JSON, a wrong type, a line that quotes
// an identity code in its time), as an attacker with an ingest token would post them.
func junk(n int) string {
	var b strings.Builder
	for i := range n {
		switch i % 3 {
		case 0:
			b.WriteString("not json " + strconv.Itoa(i) + "\n")
		case 1:
			b.WriteString(`{"kind":"use","id":"j` + strconv.Itoa(i) + `","time":true}` + "\n")
		default:
			b.WriteString(`{"kind":"use","id":"j` + strconv.Itoa(i) + `","time":"131052-308T","sp":"s","subject":"x","purpose":"p"}` + "\n")
		}
	}
	return b.String()
}

// TestRejectionsBounded (issue 14, item 1): 200,000 junk lines are all counted, the
// first DefaultMaxRejections are stored and listed, one more row says how many more
// there were, and the live heap does not grow with their number (sampled after each
// batch, after a collection: no timing).
func TestRejectionsBounded(t *testing.T) {
	const n = 200_000
	db := testenv.MustOpenDB(t)
	var heap []uint64
	sample := func(sqlite.IngestCounts) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap = append(heap, ms.HeapAlloc)
	}
	in := &ingest.Ingester{Store: db, Extractor: testenv.MustExtractor(t), Options: ingest.Options{Format: ingest.FormatJSONL, Progress: sample}}
	text := junk(n) + `{"kind":"use","id":"u-good","time":"2026-10-09T12:00:00Z","sp":"s","subject":"x","purpose":"p"}` + "\n"
	res, err := in.Ingest(context.Background(), "junk.jsonl", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if res.Rejected != n || res.Stored != 1 || len(res.Rejections) != ingest.DefaultMaxRejections || res.Unlisted != n-ingest.DefaultMaxRejections {
		t.Fatalf("rejected %d stored %d listed %d unlisted %d", res.Rejected, res.Stored, len(res.Rejections), res.Unlisted)
	}
	for i, r := range res.Rejections {
		if r.Line != i+1 {
			t.Fatalf("rejection %d is of line %d: the first ones are listed, in line order", i, r.Line)
		}
	}
	kept, err := db.Rejections(context.Background())
	if err != nil || len(kept) != ingest.DefaultMaxRejections+1 {
		t.Fatalf("stored %d rejections (%v), want %d and the count of the rest", len(kept), err, ingest.DefaultMaxRejections+1)
	}
	more := kept[len(kept)-1]
	if more.Line != ingest.DefaultMaxRejections+1 || !strings.Contains(more.Reason, "and 199000 more rejected lines") {
		t.Errorf("last stored rejection %s", more.Error())
	}
	if len(heap) < 5 {
		t.Fatalf("%d heap samples", len(heap))
	}
	// the heap after the last batch is that after the first, give or take the
	// collector's noise; listing all 200,000 would be about 40 MB more
	first, last := heap[0], heap[len(heap)-1]
	if last > first+8<<20 {
		t.Errorf("live heap grew from %d MB to %d MB over %d junk lines (samples %v)", first>>20, last>>20, n, heap)
	}
}

// TestIDConflicts (issue 14, item 3): of records with one id only identical ones (in
// what the store keeps) are duplicates; one with other content — another value, time,
// controller or purpose — is rejected as an id conflict with its line, in a later
// ingest and within one batch alike.
func TestIDConflicts(t *testing.T) {
	db := testenv.MustOpenDB(t)
	in := &ingest.Ingester{Store: db, Extractor: testenv.MustExtractor(t), Options: ingest.Options{Format: ingest.FormatJSONL}}
	rel := func(id, value string) string {
		return `{"kind":"release","id":"` + id + `","time":"2026-10-05T07:58:12Z","sp":"` + shop + `","controller":"` + city + `","subject":"` + aino + `","attributes":{"urn:oid:2.5.4.42":["` + value + `"]}}` + "\n"
	}
	use := func(id, purpose string) string {
		return `{"kind":"use","id":"` + id + `","time":"2026-10-09T12:00:00Z","sp":"` + shop + `","subject":"` + aino + `","purpose":"` + purpose + `","note":"` + id + purpose + `"}` + "\n"
	}
	first := rel("r-1", "Aino") + use("u-1", "analytics") + rel("r-2", "Aino") + rel("r-2", "Eino") + use("u-2", "analytics") + use("u-2", "marketing")
	res, err := in.Ingest(context.Background(), "a.jsonl", strings.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != 4 || res.Duplicate != 0 || res.Rejected != 2 || len(res.Rejections) != 2 || res.Rejections[0].Line != 4 || res.Rejections[1].Line != 6 {
		t.Fatalf("within a batch: %+v %v", res.IngestCounts, res.Rejections)
	}
	// a later file: identical records (a use's note is not kept) are duplicates
	second := rel("r-1", "Aino") + use("u-1", "analytics") + rel("r-1", "Eino") + use("u-1", "marketing")
	if res, err = in.Ingest(context.Background(), "b.jsonl", strings.NewReader(second)); err != nil {
		t.Fatal(err)
	}
	if res.Stored != 0 || res.Duplicate != 2 || res.Rejected != 2 {
		t.Fatalf("later: %+v %v", res.IngestCounts, res.Rejections)
	}
	for i, r := range res.Rejections {
		if r.Source != "b.jsonl" || r.Line != 3+i || r.Field != "id" || r.Reason != sqlite.ReasonIDConflict || len(r.Digest) != len("row:")+64 {
			t.Errorf("rejection %+v", r)
		}
	}
	kept, err := db.Rejections(context.Background())
	if err != nil || len(kept) != 4 {
		t.Fatalf("stored rejections %v %v", kept, err)
	}
}

// TestRejectionsListedInBatchOrder: a batch is stored while the next is gathered, and
// the first MaxRejections rejections are still listed in the order of the batches, a
// batch's id conflicts before the next batch's bad lines, whichever the writer finished
// first. Batches of four lines: four releases; three conflicts with them and one more
// release; four bad lines. Five may be listed.
func TestRejectionsListedInBatchOrder(t *testing.T) {
	rel := func(id, value string) string {
		return `{"kind":"release","id":"` + id + `","time":"2026-10-05T07:58:12Z","sp":"` + shop + `","controller":"` + city + `","subject":"` + aino + `","attributes":{"urn:oid:2.5.4.42":["` + value + `"]}}` + "\n"
	}
	text := rel("a", "Aino") + rel("b", "Aino") + rel("c", "Aino") + rel("d", "Aino") +
		rel("a", "Eino") + rel("b", "Eino") + rel("c", "Eino") + rel("e", "Aino") +
		"junk\njunk\njunk\njunk\n"
	for range 20 { // the writer's timing differs from run to run; the answer may not
		db := testenv.MustOpenDB(t)
		in := &ingest.Ingester{Store: db, Extractor: testenv.MustExtractor(t), Options: ingest.Options{Format: ingest.FormatJSONL, BatchSize: 4, MaxRejections: 5}}
		res, err := in.Ingest(context.Background(), "a.jsonl", strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		var lines []int
		for _, r := range res.Rejections {
			lines = append(lines, r.Line)
		}
		if res.Stored != 5 || res.Rejected != 7 || res.Unlisted != 2 || !slices.Equal(lines, []int{5, 6, 7, 9, 10}) {
			t.Fatalf("%+v, unlisted %d, listed lines %v; want stored 5, rejected 7, unlisted 2, lines [5 6 7 9 10]", res.IngestCounts, res.Unlisted, lines)
		}
		kept, err := db.Rejections(context.Background())
		if err != nil || len(kept) != 6 || kept[5].Line != 11 {
			t.Fatalf("stored rejections %v (%v): want the five listed and one of the two more from line 11", kept, err)
		}
	}
}

// TestIDWithAnotherTimeIsRejected (issue 16): a stored id read again with another
// time is an id conflict too, found when the ingest settles its rows rather than by
// a unique index on the id: the Result counts and lists it with its line, as the
// batch's own conflicts, and the row is not kept.
func TestIDWithAnotherTimeIsRejected(t *testing.T) {
	db := testenv.MustOpenDB(t)
	in := &ingest.Ingester{Store: db, Extractor: testenv.MustExtractor(t), Options: ingest.Options{Format: ingest.FormatJSONL}}
	rel := func(id, at string) string {
		return `{"kind":"release","id":"` + id + `","time":"` + at + `","sp":"` + shop + `","controller":"` + city + `","subject":"` + aino + `","attributes":{"urn:oid:2.5.4.42":["Aino"]}}` + "\n"
	}
	for _, tc := range []struct {
		name, text                  string
		stored, duplicate, rejected int
		lines                       []int
	}{
		{"within a file", rel("r-1", "2026-10-05T07:58:12Z") + rel("r-2", "2026-10-05T07:59:00Z") + rel("r-1", "2026-10-05T08:00:00Z"), 2, 0, 1, []int{3}},
		{"in a later file", rel("r-1", "2026-10-05T07:58:12Z") + rel("r-1", "2026-10-06T07:58:12Z") + rel("r-3", "2026-10-06T07:58:12Z") + rel("r-2", "2025-10-05T07:59:00Z"), 1, 1, 2, []int{2, 4}},
	} {
		res, err := in.Ingest(context.Background(), "a.jsonl", strings.NewReader(tc.text))
		if err != nil {
			t.Fatal(err)
		}
		var lines []int
		for _, r := range res.Rejections {
			if r.Source != "a.jsonl" || r.Field != "id" || r.Reason != sqlite.ReasonIDConflict {
				t.Errorf("%s: rejection %+v", tc.name, r)
			}
			lines = append(lines, r.Line)
		}
		if res.Stored != tc.stored || res.Duplicate != tc.duplicate || res.Rejected != tc.rejected || !slices.Equal(lines, tc.lines) {
			t.Errorf("%s: %+v, lines %v; want stored %d, duplicate %d, rejected %d, lines %v", tc.name, res.IngestCounts, lines, tc.stored, tc.duplicate, tc.rejected, tc.lines)
		}
	}
	if rel, _, err := db.CountRecords(context.Background()); err != nil || rel != 3 {
		t.Errorf("%d releases stored (%v), want r-1, r-2 and r-3 once", rel, err)
	}
}
