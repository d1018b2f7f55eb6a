package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIngestStderrBounded (issue 14, item 1): the CLI lists the first 1,000 rejected
// lines of a file on stderr and then how many more there were.
func TestIngestStderrBounded(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := range 30_000 {
		fmt.Fprintf(&b, "junk %d\n", i)
	}
	code, out, errs := run(t, dir, nil, b.String(), "ingest", "--format", "jsonl", "-")
	if code != exitFindings || !strings.Contains(out, "rejected 30000") {
		t.Fatalf("exit %d: %s", code, out)
	}
	if n := strings.Count(errs, "\n"); n != 1001 || !strings.Contains(errs, "-: and 29000 more rejected lines") {
		t.Errorf("%d lines on stderr, ending %q", n, errs[max(0, len(errs)-200):])
	}
}

// TestIDConflictIsRejected (issue 14, item 3): a harmless use from another controller
// that took the id of the demo's critical use u-0002 made the demo's u-0002 count as a
// duplicate: its finding vanished with exit 0. Now the demo's u-0002 is rejected as an
// id conflict, on stderr and in the rejections, with exit 1; the identical record
// ingested again is still a duplicate.
func TestIDConflictIsRejected(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := run(t, dir, nil, "", "registry", "load", "../../testdata/demo/registry.yaml"); code != 0 {
		t.Fatal(errs)
	}
	taker := `{"kind":"use","id":"u-0002","time":"2026-10-09T12:00:00Z","sp":"https://sp.example-shop.fi/shibboleth","controller":"1.2.246.562.10.55555555550","subject":"MPASSOID.someone-else","purpose":"essential.service.authentication","attributes":["urn:mpass.id:uid"]}` + "\n"
	if code, out, errs := run(t, dir, nil, taker, "ingest", "--format", "jsonl", "-"); code != 0 || !strings.Contains(out, "stored 1") {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	code, out, errs := run(t, dir, nil, "", "ingest", "../../testdata/demo/records.jsonl")
	if code != exitFindings || !strings.Contains(out, "stored 15, duplicate 0, rejected 1") || !strings.Contains(errs, "records.jsonl:11: id: id conflict") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	// the same files again: every record is identical to a stored one (a duplicate),
	// the conflict stays a conflict
	code, out, errs = run(t, dir, nil, "", "ingest", "../../testdata/demo/records.jsonl")
	if code != exitFindings || !strings.Contains(out, "stored 0, duplicate 15, rejected 1") || !strings.Contains(errs, "records.jsonl:11: id: id conflict") {
		t.Fatalf("again: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	if code, out, _ := run(t, dir, nil, taker, "ingest", "--format", "jsonl", "-"); code != 0 || !strings.Contains(out, "duplicate 1") {
		t.Errorf("the identical use again: exit %d: %s", code, out)
	}
}

// The planted personal data of TestNoPersonalDataStored: a name, an e-mail address
// and a checksum-valid identity code, each unlike anything else in the test data.
var planted = []string{"Ulpukka Salakuljettaja", "ulpukka.salakuljettaja2011@koulu.example.fi", "131052-308T"}

// TestNoPersonalDataStored (issue 14, item 2): a name, an e-mail address and an
// identity code planted in every field of every role attribute (urn:mpass.id:role's
// seven, the legacy four-field forms, urn:educloudalliance.org:role whole) and in a
// time field are stored nowhere: a byte scan of the database, its WAL and key file,
// stdout and stderr finds none of them (nor the raw subject).
func TestNoPersonalDataStored(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := run(t, dir, nil, "", "registry", "load", "../../testdata/demo/registry.yaml"); code != 0 {
		t.Fatal(errs)
	}
	pii := strings.Join(planted, " ")
	seven := strings.Repeat(pii+";", 6) + pii
	four := strings.Repeat(pii+";", 3) + pii
	const subject = "MPASSOID.raw-subject-0123456789abcdef"
	rel := func(id, time, attrs string) string {
		return `{"kind":"release","id":"` + id + `","time":"` + time + `","sp":"https://sp.example-shop.fi/shibboleth","controller":"1.2.246.562.10.44444444440","subject":"` + subject + `","attributes":{` + attrs + `}}` + "\n"
	}
	lines := rel("p-1", "2026-10-05T07:58:12Z", `"urn:mpass.id:role":["`+seven+`"],"urn:mpass.id:role_v1.1":["`+four+`"],"urn:educloudalliance.org:structuredRole":["`+four+`"],"urn:educloudalliance.org:role":["`+pii+`"]`) +
		rel("p-2", "2026-10-05T07:58:12Z", `"mpassRole":["1.2.246.562.10.44444444440;03082;`+pii+`;`+pii+`;`+pii+`;;"],"ecaRole":"`+pii+`"`) +
		rel("p-3", pii, `"urn:mpass.id:uid":["x"]`) +
		rel("p-4", "2026-10-05T07:58:12Z", `"urn:mpass.id:role":["`+seven+`"],"urn:mpass.id:role":null`) +
		`{"kind":"use","id":"p-5","time":"2026-10-09T12:00:00Z","sp":"s","subject":"x","purpose":"p","note":"` + pii + `","kind":"release"}` + "\n"
	code, out, errs := run(t, dir, nil, lines, "ingest", "--format", "jsonl", "-")
	if code != exitFindings || !strings.Contains(out, "stored 2, duplicate 0, rejected 3") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	if code, aout, aerrs := run(t, dir, nil, "", "audit", "--format", "json"); code != 0 {
		t.Fatalf("audit: exit %d %s", code, aerrs)
	} else {
		out += aout
		errs += aerrs
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	seen := false // the scan sees what is stored: the stored record's id
	for _, f := range append(files, "stdout", "stderr") {
		var b []byte
		switch f {
		case "stdout":
			b = []byte(out)
		case "stderr":
			b = []byte(errs)
		default:
			var err error
			if b, err = os.ReadFile(f); err != nil {
				t.Fatal(err)
			}
		}
		seen = seen || bytes.Contains(b, []byte(`p-2`))
		for _, p := range append(planted, subject, "Ulpukka", "Salakuljettaja", "308T") {
			if bytes.Contains(bytes.ToLower(b), bytes.ToLower([]byte(p))) {
				t.Errorf("%s holds %q", filepath.Base(f), p)
			}
		}
	}
	if !seen {
		t.Error("no file holds the stored record's id: the scan read nothing")
	}
}
