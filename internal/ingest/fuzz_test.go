package ingest_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/ingest"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

// fuzzReader checks what must hold for any input: no panic, every line accounted for
// once (stored or rejected or blank), every rejection with a line number.
func fuzzReader(f *testing.F, format string, seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
	x := testenv.MustExtractor(f)
	f.Fuzz(func(t *testing.T, text string) {
		rec := &recorder{}
		in := &ingest.Ingester{Store: rec, Extractor: x, Options: ingest.Options{Format: format, Controller: city, BatchSize: 3}}
		res, err := in.Ingest(context.Background(), "fuzz", strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Count(text, "\n") + 1
		if len(rec.records)+len(rec.rejections)+res.Skipped > lines {
			t.Fatalf("%d records + %d rejections + %d skipped from %d lines", len(rec.records), len(rec.rejections), res.Skipped, lines)
		}
		for _, r := range rec.rejections {
			if r.Line < 1 || r.Line > lines || r.Reason == "" {
				t.Fatalf("bad rejection %+v", r)
			}
		}
		for _, r := range rec.records {
			if r.ID == "" || r.SP == "" || r.Subject == "" || r.Time.IsZero() {
				t.Fatalf("incomplete record %+v", r)
			}
		}
	})
}

// hostile is a file of testdata/hostile, a seed of the fuzz targets too.
func hostile(f *testing.F, name string) string {
	b, err := os.ReadFile("../../testdata/hostile/" + name)
	if err != nil {
		f.Fatal(err)
	}
	return string(b)
}

func FuzzJSONL(f *testing.F) {
	fuzzReader(f, ingest.FormatJSONL, hostile(f, "hostile.jsonl"),
		`{"kind":"release","id":"r-1","time":"2026-10-05T07:58:12Z","sp":"s","controller":"`+city+`","subject":"x","attributes":{"mail":["a2012@x.fi"],"urn:mpass.id:role":["`+role7+`"]}}`,
		`{"kind":"use","time":"2026-10-09T12:00:00Z","sp":"s","subject":"x","purpose":"marketing","attributes":["mail"]}`,
		"{\"kind\":\"release\"\n[[[[[[[[[[\n\xff\xfe",
		`{"kind":"release","time":"2026-10-05T07:58:12Z","sp":"s","subject":"x","attributes":{"urn:mpass.id:educationProviderInfo":"`+city+`;X"}}`,
	)
}

func FuzzCSV(f *testing.F) {
	fuzzReader(f, ingest.FormatCSV, hostile(f, "hostile.csv"),
		"kind,id,time,sp,controller,subject,purpose,attributes\nrelease,r-1,2026-10-05T07:58:12Z,s,"+city+",x,,mail=a@b.fi;givenName=A\n",
		"kind,id,time,sp,controller,subject,purpose,attributes\nuse,u,2026-10-05T07:58:12Z,s,,x,analytics,\"mail\n",
		"attributes,purpose,subject,controller,sp,time,id,kind\n,,x,,s,2026-10-05T07:58:12Z,,release\n",
	)
}

func FuzzShibboleth(f *testing.F) {
	fuzzReader(f, ingest.FormatShibboleth, hostile(f, "hostile-idp-audit.log"),
		shibLine("urn:oasis:names:tc:SAML:2.0:status:Success"),
		shibLine("x")+"\n"+shibLine(""),
		"|||||||||||||||||||||",
	)
}
