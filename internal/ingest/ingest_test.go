package ingest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/gen"
	"github.com/opetushallitus/mpass-audit/internal/ingest"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

const (
	city  = "1.2.246.562.10.44444444440"
	shop  = "https://sp.example-shop.fi/shibboleth"
	aino  = "MPASSOID.391ea8eb34f1e27024ab1342603537bdbd494900"
	role7 = city + ";03082;7B;Oppilas;1;1.2.246.562.10.55555555550;"
)

// recorder is a Store that keeps what it is given, for parser tests; store tests use
// the real database.
type recorder struct {
	records    []mpass.Record
	rejections []mpass.Rejection
}

func (r *recorder) InsertBatch(_ context.Context, rows []sqlite.Row, rej []mpass.Rejection, _ int) (sqlite.IngestCounts, []mpass.Rejection, error) {
	for _, row := range rows {
		r.records = append(r.records, *row.Record)
	}
	r.rejections = append(r.rejections, rej...)
	return sqlite.IngestCounts{Stored: len(rows), Rejected: len(rej)}, nil, nil
}

func (r *recorder) Settle(context.Context, int) (sqlite.IDConflicts, error) {
	return sqlite.IDConflicts{}, nil
}

func (r *recorder) LockIngest() func() { return func() {} }

func (r *recorder) Encode(rec *mpass.Record) (sqlite.Row, error) { return sqlite.Encode(rec) }

func run(t *testing.T, opts ingest.Options, text string) *recorder {
	t.Helper()
	rec := &recorder{}
	in := &ingest.Ingester{Store: rec, Extractor: testenv.MustExtractor(t), Options: opts}
	if _, err := in.Ingest(context.Background(), "in.txt", strings.NewReader(text)); err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestJSONLRejections(t *testing.T) {
	good := `{"kind":"release","id":"r-1","time":"2026-10-05T07:58:12Z","sp":"` + shop + `","controller":"` + city + `","subject":"` + aino + `","attributes":{"urn:mpass.id:uid":["x"]}}`
	for _, tc := range []struct {
		name, line, field, reason string
	}{
		{"invalid UTF-8", "{\"kind\":\"release\xff\"}", "", "not valid UTF-8"},
		{"not JSON", `{"kind":`, "", "not one JSON object"},
		{"an array", `[1,2]`, "", "not one JSON object"},
		{"two objects", good + good, "", "not one JSON object"},
		{"unknown kind", `{"kind":"login","time":"2026-10-05T07:58:12Z","sp":"s","subject":"x"}`, "kind", "unknown kind"},
		{"no kind", `{"time":"2026-10-05T07:58:12Z","sp":"s","subject":"x"}`, "kind", "required"},
		{"attributes not an object", `{"kind":"release","time":"2026-10-05T07:58:12Z","sp":"s","controller":"` + city + `","subject":"x","attributes":[1]}`, "attributes", "must be an object"},
		{"values not strings", `{"kind":"release","time":"2026-10-05T07:58:12Z","sp":"s","controller":"` + city + `","subject":"x","attributes":{"mail":[1]}}`, "attributes", "list of strings"},
		{"time not a string", `{"kind":"release","time":20261005,"sp":"s","subject":"x"}`, "time", "wrong type"},
		{"time not RFC 3339", `{"kind":"release","time":"5.10.2026 7:58","sp":"s","controller":"` + city + `","subject":"x"}`, "time", "not an RFC 3339 time"},
		{"bad controller", `{"kind":"release","time":"2026-10-05T07:58:12Z","sp":"s","controller":"1.2.246.562.24.123","subject":"x"}`, "controller", "not an OPH organisation OID"},
		{"controller not found", `{"kind":"release","time":"2026-10-05T07:58:12Z","sp":"s","subject":"x","attributes":{"urn:mpass.id:uid":["x"]}}`, "controller", "missing"},
		{"no time", `{"kind":"release","sp":"s","controller":"` + city + `","subject":"x"}`, "time", "required"},
		{"empty sp", `{"kind":"release","time":"2026-10-05T07:58:12Z","sp":" ","controller":"` + city + `","subject":"x"}`, "sp", "required"},
		{"no subject", `{"kind":"release","time":"2026-10-05T07:58:12Z","sp":"s","controller":"` + city + `"}`, "subject", "required"},
		{"use without purpose", `{"kind":"use","time":"2026-10-05T07:58:12Z","sp":"s","subject":"x"}`, "purpose", "required"},
		// fastjson, which reads good lines, takes these; JSON does not (RFC 8259 §6, §7)
		{"a number JSON does not have", strings.Replace(good, `"id"`, `"note":01,"id"`, 1), "", "not one JSON object"},
		{"NaN", strings.Replace(good, `"id"`, `"note":[NaN],"id"`, 1), "", "not one JSON object"},
		{"an escape JSON does not have", strings.Replace(good, `["x"]`, `["\q"]`, 1), "", "not one JSON object"},
		{"a short unicode escape", strings.Replace(good, `["x"]`, `["\u12"]`, 1), "", "not one JSON object"},
		{"use attributes not names", `{"kind":"use","time":"2026-10-05T07:58:12Z","sp":"s","subject":"x","purpose":"analytics","attributes":7}`, "attributes", "list of attribute names"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := run(t, ingest.Options{Format: ingest.FormatJSONL}, good+"\n\n"+tc.line+"\n"+strings.Replace(good, "r-1", "r-2", 1)+"\n")
			if len(rec.records) != 2 {
				t.Errorf("stored %d good records, want 2 (a bad neighbour drops none)", len(rec.records))
			}
			if len(rec.rejections) != 1 {
				t.Fatalf("rejections = %v, want 1", rec.rejections)
			}
			r := rec.rejections[0]
			if r.Source != "in.txt" || r.Line != 3 || r.Field != tc.field || !strings.Contains(r.Reason, tc.reason) || len(r.Digest) != 64 {
				t.Errorf("rejection = %+v (%s), want line 3 field %q reason containing %q", r, r.Error(), tc.field, tc.reason)
			}
		})
	}
}

func TestJSONLRelease(t *testing.T) {
	line := `{"kind":"release","id":"r-0001","time":"2026-10-05T09:58:12+02:00","sp":"` + shop + `","subject":"` + aino + `",` +
		`"attributes":{"mpassUsername":["` + aino + `"],"given_name":"Aino","mail":["aino.2012@x.fi"],"urn:mpass.id:role":["` + role7 + `"],"x-custom":null}}`
	rec := run(t, ingest.Options{}, line) // auto: sniffs JSON
	if len(rec.records) != 1 {
		t.Fatalf("records = %v, rejections = %v", rec.records, rec.rejections)
	}
	r := rec.records[0]
	x := testenv.MustExtractor(t)
	if r.Controller != city {
		t.Errorf("controller from role = %q", r.Controller)
	}
	if r.Subject != x.Pseudonym(aino) || strings.Contains(r.Subject, "MPASSOID") {
		t.Errorf("subject %q is not the pseudonym", r.Subject)
	}
	if got := r.Time.Format("2006-01-02T15:04:05Z07:00"); got != "2026-10-05T07:58:12Z" {
		t.Errorf("time = %s, want UTC", got)
	}
	for _, name := range []string{"urn:mpass.id:uid", "urn:oid:2.5.4.42", "urn:oid:0.9.2342.19200300.100.1.3", "urn:mpass.id:role", "x-custom"} {
		if _, ok := r.Attributes[name]; !ok {
			t.Errorf("attribute %s missing from %v", name, r.Attributes)
		}
	}
	if r.Attributes["x-custom"].Values {
		t.Error("null values should be names only")
	}
	if y := r.Attributes["urn:oid:0.9.2342.19200300.100.1.3"].Years; len(y) != 1 || y[0] != 2012 {
		t.Errorf("mail years = %v", y)
	}
	if r.Role != mpass.RoleLearner {
		t.Errorf("role = %v, want learner", r.Role)
	}
}

func TestJSONLUseControllerIsOptional(t *testing.T) {
	rec := run(t, ingest.Options{Format: ingest.FormatJSONL}, `{"kind":"use","time":"2026-10-09T12:00:00Z","sp":"s","subject":"x","purpose":"marketing.communications.email","attributes":["email"],"note":"autumn campaign"}`)
	if len(rec.records) != 1 || rec.records[0].Controller != "" || !strings.HasPrefix(rec.records[0].ID, "line:") {
		t.Fatalf("records = %+v, rejections = %v", rec.records, rec.rejections)
	}
	if _, ok := rec.records[0].Attributes["urn:oid:0.9.2342.19200300.100.1.3"]; !ok {
		t.Errorf("use attribute names not canonical: %v", rec.records[0].Attributes)
	}
}

func TestCSV(t *testing.T) {
	text := "kind,id,time,sp,controller,subject,purpose,attributes\n" +
		"release,r-1,2026-10-05T07:58:12Z," + shop + "," + city + "," + aino + ",,urn:mpass.id:uid=" + aino + ";givenName=Aino;mail=\n" +
		"release,r-2,2026-10-05T07:58:12Z," + shop + ",,x,,\"urn:mpass.id:role=" + role7 + "\"\n" +
		"use,u-1,2026-10-09T12:00:00Z," + shop + ",," + aino + ",marketing.communications.email,mail\n" +
		"release,r-3,\"2026-10-05T07:58:12Z," + shop + "\n" + // quoting error
		"release,r-4,2026-10-05T07:58:12Z\n" + // field count
		"release,r-5,yesterday," + shop + "," + city + ",x,,\n"
	rec := run(t, ingest.Options{}, text)
	if len(rec.records) != 3 {
		t.Fatalf("records = %d, rejections = %v", len(rec.records), rec.rejections)
	}
	if !rec.records[0].Attributes["urn:oid:0.9.2342.19200300.100.1.3"].Values {
		t.Error("mail= is an empty value, not names only")
	}
	if rec.records[1].Controller != city {
		t.Errorf("controller from role = %q", rec.records[1].Controller)
	}
	want := []struct {
		line          int
		field, reason string
	}{{5, "", "CSV"}, {6, "", "wrong number of fields"}, {7, "time", "RFC 3339"}}
	if len(rec.rejections) != len(want) {
		t.Fatalf("rejections = %v", rec.rejections)
	}
	for i, w := range want {
		r := rec.rejections[i]
		if r.Line != w.line || r.Field != w.field || !strings.Contains(r.Reason, w.reason) {
			t.Errorf("rejection %d = %s, want line %d field %q %q", i, r.Error(), w.line, w.field, w.reason)
		}
	}
}

func TestCSVBadHeaderRejectsEveryLine(t *testing.T) {
	rec := run(t, ingest.Options{Format: ingest.FormatCSV}, "kind,id,time\nrelease,r-1,2026-10-05T07:58:12Z\n")
	if len(rec.records) != 0 || len(rec.rejections) != 2 || rec.rejections[0].Field != "sp" {
		t.Fatalf("records %v rejections %v", rec.records, rec.rejections)
	}
}

func shibLine(status string) string {
	f := make([]string, 21)
	f[0] = "192.0.2.10"
	f[2] = "2026-10-05T07:58:12.345Z"
	f[3] = aino + "@" + city
	f[4] = shop
	f[5] = "_a1b2c3"
	f[8] = "urn:mpass.id:uid,givenName,urn:mpass.id:role"
	f[17] = status
	return strings.Join(f, "|")
}

func TestShibboleth(t *testing.T) {
	text := shibLine("urn:oasis:names:tc:SAML:2.0:status:Success") + "\n" +
		shibLine("urn:oasis:names:tc:SAML:2.0:status:Responder") + "\n" +
		"too|few|fields\n" +
		strings.Replace(shibLine(""), "2026-10-05T07:58:12.345Z", "20261006T080000Z", 1) + "\n" +
		strings.Replace(shibLine(""), "2026-10-05T07:58:12.345Z", "soon", 1) + "\n"
	rec := &recorder{}
	in := &ingest.Ingester{Store: rec, Extractor: testenv.MustExtractor(t), Options: ingest.Options{Format: ingest.FormatShibboleth}}
	res, err := in.Ingest(context.Background(), "idp-audit.log", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 1 || len(rec.records) != 2 || len(rec.rejections) != 2 {
		t.Fatalf("skipped %d records %d rejections %v", res.Skipped, len(rec.records), rec.rejections)
	}
	r := rec.records[0]
	if r.ID != "_a1b2c3" || r.Controller != city || len(r.Attributes) != 3 || r.Attributes["urn:mpass.id:role"].Values {
		t.Errorf("record = %+v", r)
	}
	if rec.rejections[0].Line != 3 || !strings.Contains(rec.rejections[0].Reason, "3 fields where the log format has 21") {
		t.Errorf("rejection = %s", rec.rejections[0].Error())
	}
	if rec.rejections[1].Line != 5 || rec.rejections[1].Field != "%T" {
		t.Errorf("rejection = %s", rec.rejections[1].Error())
	}
}

func TestShibbolethControllerOption(t *testing.T) {
	line := strings.Replace(shibLine(""), "@"+city, "@koulu.example.fi", 1)
	if rec := run(t, ingest.Options{Format: ingest.FormatShibboleth}, line); len(rec.rejections) != 1 || rec.rejections[0].Field != "controller" {
		t.Fatalf("without a controller: %v", rec.rejections)
	}
	if rec := run(t, ingest.Options{Format: ingest.FormatShibboleth, Controller: city}, line); len(rec.records) != 1 {
		t.Fatalf("--controller: %v", rec.rejections)
	}
	if rec := run(t, ingest.Options{Format: ingest.FormatShibboleth, Scopes: map[string]string{"koulu.example.fi": city}}, line); len(rec.records) != 1 || rec.records[0].Controller != city {
		t.Fatalf("--scope: %v", rec.rejections)
	}
	custom := ingest.Options{Format: ingest.FormatShibboleth, LogFormat: "%T|%u|%SP|%attr", Controller: city}
	if rec := run(t, custom, "2026-10-05T07:58:12Z|u1|"+shop+"|mail,givenName"); len(rec.records) != 1 {
		t.Fatalf("custom format: %v", rec.rejections)
	}
}

func TestOverlongLineIsRejectedAndReadingGoesOn(t *testing.T) {
	good := `{"kind":"use","id":"u-1","time":"2026-10-09T12:00:00Z","sp":"s","subject":"x","purpose":"analytics"}`
	long := `{"kind":"use","note":"` + strings.Repeat("a", ingest.MaxLine+10) + `"}`
	rec := run(t, ingest.Options{Format: ingest.FormatJSONL}, long+"\n"+good)
	if len(rec.records) != 1 || len(rec.rejections) != 1 || rec.rejections[0].Line != 1 || !strings.Contains(rec.rejections[0].Reason, "longer than") {
		t.Fatalf("records %d rejections %v", len(rec.records), rec.rejections)
	}
}

func TestIngestIsIdempotent(t *testing.T) {
	db := testenv.MustOpenDB(t)
	text := `{"kind":"release","id":"r-1","time":"2026-10-05T07:58:12Z","sp":"s","controller":"` + city + `","subject":"x","attributes":{}}
{"kind":"use","time":"2026-10-09T12:00:00Z","sp":"s","subject":"x","purpose":"analytics"}
not json`
	first := testenv.MustIngest(t, db, "jsonl", text)
	second := testenv.MustIngest(t, db, "jsonl", text)
	if first.Stored != 2 || first.Rejected != 1 {
		t.Errorf("first = %+v", first.IngestCounts)
	}
	if second.Stored != 0 || second.Duplicate != 2 || second.Rejected != 1 {
		t.Errorf("second = %+v, want everything duplicate", second.IngestCounts)
	}
	rel, uses, err := db.CountRecords(context.Background())
	if err != nil || rel != 1 || uses != 1 {
		t.Errorf("stored %d releases %d uses (%v)", rel, uses, err)
	}
	rej, err := db.Rejections(context.Background())
	if err != nil || len(rej) != 1 {
		t.Errorf("rejections kept = %v (%v), want the one line once", rej, err)
	}
}

// TestDuplicatesAcrossStatements checks the counts where a batch spans several
// multi-row INSERT statements: a repeated id within one statement, within the batch,
// or already stored counts as a duplicate, never as stored, and nothing is lost.
func TestDuplicatesAcrossStatements(t *testing.T) {
	line := func(kind string, i int) string {
		if kind == "use" {
			return fmt.Sprintf(`{"kind":"use","id":"u-%d","time":"2026-10-09T12:00:00Z","sp":"s","subject":"x%d","purpose":"analytics"}`, i, i)
		}
		return fmt.Sprintf(`{"kind":"release","id":"r-%d","time":"2026-10-05T07:58:12Z","sp":"s","controller":"%s","subject":"x%d","attributes":{}}`, i, city, i)
	}
	lines := func(kind string, from, to int, repeat ...int) []string {
		var out []string
		for i := from; i < to; i++ {
			out = append(out, line(kind, i))
		}
		for _, i := range repeat {
			out = append(out, line(kind, i))
		}
		return out
	}
	db := testenv.MustOpenDB(t)
	for _, step := range []struct {
		name                string
		lines               []string
		stored, duplicate   int
		releases, usesAfter int64
	}{
		{"200 releases and 30 uses", append(lines("release", 0, 200), lines("use", 0, 30)...), 230, 0, 200, 30},
		{"the same and 10 more", append(append(lines("release", 0, 200), lines("use", 0, 30)...), lines("release", 200, 210)...), 10, 230, 210, 30},
		{"ids repeated in one statement and across statements", lines("release", 300, 450, 301, 302, 449, 301), 150, 4, 360, 30},
		{"uses repeated", lines("use", 100, 170, 100, 169), 70, 2, 360, 100},
	} {
		res := testenv.MustIngest(t, db, "jsonl", strings.Join(step.lines, "\n"))
		if res.Stored != step.stored || res.Duplicate != step.duplicate {
			t.Errorf("%s: stored %d duplicate %d, want %d and %d", step.name, res.Stored, res.Duplicate, step.stored, step.duplicate)
		}
		rel, uses, err := db.CountRecords(context.Background())
		if err != nil || rel != step.releases || uses != step.usesAfter {
			t.Errorf("%s: %d releases and %d uses stored (%v), want %d and %d", step.name, rel, uses, err, step.releases, step.usesAfter)
		}
	}
}

// TestBatchesSpanParsingChunks checks that a transaction holds whole parsing chunks
// up to the batch size: 30,000 lines with a batch of 12,000 are parsed in chunks of
// 5,000 and stored in two transactions of 15,000, the last one when the input ends.
func TestBatchesSpanParsingChunks(t *testing.T) {
	db := testenv.MustOpenDB(t)
	var after []int
	in := &ingest.Ingester{Store: db, Extractor: testenv.MustExtractor(t), Options: ingest.Options{
		Format: ingest.FormatJSONL, BatchSize: 12_000,
		Progress: func(c sqlite.IngestCounts) { after = append(after, c.Stored) },
	}}
	res, err := in.Ingest(context.Background(), "big.jsonl", &records{n: 30_000})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != 30_000 || !slices.Equal(after, []int{15_000, 30_000}) {
		t.Errorf("stored %d, after each transaction %v; want 30000 and [15000 30000]", res.Stored, after)
	}
}

// records writes n release lines on demand, so the test never holds the input.
type records struct {
	n, i int
	buf  []byte
}

func (r *records) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.i == r.n {
			return 0, io.EOF
		}
		r.buf = fmt.Appendf(nil, `{"kind":"release","id":"r-%d","time":"2026-10-05T07:58:12Z","sp":"%s","controller":"%s","subject":"MPASSOID.%d","attributes":{"urn:mpass.id:uid":["MPASSOID.%d"],"givenName":["Aino"],"urn:mpass.id:role":["%s"]}}`+"\n",
			r.i, shop, city, r.i%5000, r.i%5000, role7)
		r.i++
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// TestReusedBlocksLeaveRecordsWhole: a chunk's lines are read into blocks used again
// once the chunk is parsed (21 MB of lines through 8 blocks of 1 MiB here), so no
// record may keep a byte of a block: every record must still say what its own line
// said after the blocks held later lines.
func TestReusedBlocksLeaveRecordsWhole(t *testing.T) {
	const n = 60_000
	rec := &recorder{}
	in := &ingest.Ingester{Store: rec, Extractor: testenv.MustExtractor(t), Options: ingest.Options{Format: ingest.FormatJSONL}}
	if _, err := in.Ingest(context.Background(), "gen.jsonl", &records{n: n}); err != nil {
		t.Fatal(err)
	}
	if len(rec.records) != n {
		t.Fatalf("%d records, want %d (rejections %v)", len(rec.records), n, rec.rejections)
	}
	x := testenv.MustExtractor(t)
	for i, r := range rec.records {
		if want := fmt.Sprintf("r-%d", i); r.ID != want || r.Line != i+1 || r.SP != shop || r.Controller != city ||
			r.Subject != x.Pseudonym(fmt.Sprintf("MPASSOID.%d", i%5000)) {
			t.Fatalf("record %d: %+v, want id %s from line %d", i, r, want, i+1)
		}
	}
}

// TestIngestMemoryIsFlat streams 300,000 records (about 105 MB) and checks that the
// heap stays well below the input size: the reader streams, it never reads it whole.
func TestIngestMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 300,000 records")
	}
	const n = 300_000
	db := testenv.MustOpenDB(t)
	in := &ingest.Ingester{Store: db, Extractor: testenv.MustExtractor(t), Options: ingest.Options{BatchSize: 1000}}
	// the heap sampled is this ingest's, not an earlier test's garbage
	runtime.GC()
	src := &sampling{r: &records{n: n}, total: n * 350} // about 350 bytes a line
	res, err := in.Ingest(context.Background(), "gen.jsonl", src)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != n {
		t.Fatalf("stored %d", res.Stored)
	}
	const bound = 64 << 20
	t.Logf("heap peak %d MB for %d MB of input; first third %d MB, last third %d MB", src.peak>>20, src.read>>20, src.thirds[0]>>20, src.thirds[2]>>20)
	if src.peak > bound {
		t.Errorf("heap peaked at %d MB, want under %d MB", src.peak>>20, bound>>20)
	}
	if src.thirds[2] > src.thirds[0]*3/2+(4<<20) {
		t.Errorf("the heap grows with the input: %d MB in the first third, %d MB in the last", src.thirds[0]>>20, src.thirds[2]>>20)
	}
}

// sampling reads through r and samples the heap every 4 MB read; with total set, it
// keeps the peak of each third of the input too.
type sampling struct {
	r          io.Reader
	read, peak uint64
	total      uint64
	thirds     [3]uint64
}

func (s *sampling) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if s.read/(4<<20) != (s.read+uint64(n))/(4<<20) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		s.peak = max(s.peak, m.HeapAlloc)
		if s.total > 0 {
			i := min(2, 3*s.read/s.total)
			s.thirds[i] = max(s.thirds[i], m.HeapAlloc)
		}
	}
	s.read += uint64(n)
	return n, err
}

// BenchmarkJSONL parses and reduces records (no store): the work of ingest's workers.
func BenchmarkJSONL(b *testing.B) {
	in := &ingest.Ingester{Store: &recorder{}, Extractor: testenv.MustExtractor(b), Options: ingest.Options{Format: ingest.FormatJSONL}}
	for b.Loop() {
		rec := &recorder{}
		in.Store = rec
		if _, err := in.Ingest(context.Background(), "bench", &records{n: 10_000}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(10_000*b.N)/b.Elapsed().Seconds(), "records/s")
}

// A byte order mark before the first line is no content, in every format.
func TestByteOrderMark(t *testing.T) {
	line := `{"kind":"release","id":"b1","time":"2026-10-05T07:58:12Z","sp":"` + shop + `","controller":"` + city + `","subject":"s","attributes":{"mail":null}}`
	if got := run(t, ingest.Options{Format: ingest.FormatJSONL}, "\ufeff"+line+"\n"); len(got.records) != 1 {
		t.Errorf("JSON Lines after a BOM: %v", got.rejections)
	}
}

// OPH OIDs inside values and identity codes in a record's own fields reject the record,
// with the digit it should have and without quoting the field.
func TestRecordChecks(t *testing.T) {
	rel := func(id, attrs string) string {
		return `{"kind":"release","id":"` + id + `","time":"2026-10-05T07:58:12Z","sp":"` + shop + `","controller":"` + city + `","subject":"s","attributes":{` + attrs + `}}`
	}
	for _, tc := range []struct{ name, line, field, reason string }{
		{"learner number", rel("r1", `"learnerId":["1.2.246.562.24.43210987654"]`), "attributes", "a learner number has a wrong check digit: it should end in 3"},
		{"learner number of another arc", rel("r1", `"learnerId":["1.2.246.562.10.12345678903"]`), "attributes", "no learner number"},
		{"school OID of a role", rel("r1", `"mpassRole":["`+city+`;99901;7B;Oppilas;1;1.2.246.562.10.23456789018;"]`), "attributes", "should end in 7"},
		{"education provider", rel("r1", `"mpassEducationProviderInfo":["1.2.246.562.10.12345678904;K"]`), "attributes", "should end in 3"},
		{"identity code in the id", rel("131052-308T", `"mail":null`), "id", "holds a personal identity code"},
		{"lower-case t and z", strings.Replace(strings.Replace(rel("r1", `"mail":null`), "T07", "t07", 1), "12Z", "12z", 1), "", ""},
	} {
		got := run(t, ingest.Options{Format: ingest.FormatJSONL}, tc.line)
		if tc.field == "" {
			if len(got.records) != 1 {
				t.Errorf("%s: %v", tc.name, got.rejections)
			}
			continue
		}
		if len(got.rejections) != 1 || got.rejections[0].Field != tc.field || !strings.Contains(got.rejections[0].Reason, tc.reason) {
			t.Errorf("%s: %+v, want %s: %s", tc.name, got.rejections, tc.field, tc.reason)
		} else if strings.Contains(got.rejections[0].Reason, "43210987654") || strings.Contains(got.rejections[0].Reason, "131052-308T") {
			t.Errorf("%s: the reason quotes the value: %s", tc.name, got.rejections[0].Reason)
		}
	}
}

// TestLineDigestsAreKeyed (issue 14): a rejected line and a record without an id are
// named by a keyed digest, never by the line's plain SHA-256, which anyone holding the
// database could test guesses against (an identity code alone on a line).
func TestLineDigestsAreKeyed(t *testing.T) {
	const junk = "131052-308T"
	line := `{"kind":"use","time":"2026-10-09T12:00:00Z","sp":"s","subject":"` + junk + `","purpose":"analytics"}`
	rec := run(t, ingest.Options{Format: ingest.FormatJSONL}, junk+"\n"+line)
	plain := func(s string) string { sum := sha256.Sum256([]byte(s)); return hex.EncodeToString(sum[:]) }
	if len(rec.rejections) != 1 || len(rec.records) != 1 {
		t.Fatalf("records %v, rejections %v", rec.records, rec.rejections)
	}
	if d := rec.rejections[0].Digest; len(d) != 64 || d == plain(junk) {
		t.Errorf("rejection digest %q is the line's plain SHA-256 or malformed", d)
	}
	if id := rec.records[0].ID; !strings.HasPrefix(id, "line:") || strings.Contains(plain(line), strings.TrimPrefix(id, "line:")) {
		t.Errorf("id %q is not a keyed digest of the line", id)
	}
}

// encodeOnly is a Store that encodes with a real database (its names and shapes
// known, as in the middle of a big ingest) and stores nothing: the parsing workers'
// whole work, without the writer's.
type encodeOnly struct{ *sqlite.DB }

func (e encodeOnly) InsertBatch(_ context.Context, rows []sqlite.Row, rej []mpass.Rejection, _ int) (sqlite.IngestCounts, []mpass.Rejection, error) {
	return sqlite.IngestCounts{Stored: len(rows), Rejected: len(rej)}, nil, nil
}

func (e encodeOnly) Settle(context.Context, int) (sqlite.IDConflicts, error) {
	return sqlite.IDConflicts{}, nil
}

// BenchmarkDiverseWorkers parses, reduces and encodes the diverse workload (issue 16)
// on one worker: per record, the CPU the ingest's workers spend.
func BenchmarkDiverseWorkers(b *testing.B) {
	const n = 20_000
	records, registry := testenv.MustGenerate(b, gen.Config{Records: n, Seed: 1, Workload: gen.WorkloadDiverse})
	db := testenv.MustOpenDB(b)
	testenv.MustLoadRegistry(b, db, registry)
	testenv.MustIngest(b, db, ingest.FormatJSONL, records) // names and shapes known
	in := &ingest.Ingester{Store: encodeOnly{db}, Extractor: testenv.MustExtractor(b), Options: ingest.Options{Format: ingest.FormatJSONL, Workers: 1}}
	for b.Loop() {
		if _, err := in.Ingest(context.Background(), "bench", strings.NewReader(records)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}
