package ingest_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/facts"
	"github.com/opetushallitus/mpass-audit/internal/ingest"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
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
		fuzzIngest(t, x, ingest.Options{Format: format, Controller: city}, text)
	})
}

// fuzzIngest ingests text and checks what must hold for any input of any reader: every
// line accounted for once, every rejection with a line number, every record whole, and
// in no reader value text as an attribute name. It returns the records for more checks.
func fuzzIngest(t *testing.T, x *facts.Extractor, opts ingest.Options, text string) []mpass.Record {
	t.Helper()
	rec := &recorder{}
	opts.BatchSize = 3
	in := &ingest.Ingester{Store: rec, Extractor: x, Options: opts}
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
		for name := range r.Attributes {
			if why := badAttributeName(name); why != "" {
				t.Fatalf("%s:%d: stored attribute name %q %s", r.Source, r.Line, name, why)
			}
		}
	}
	return rec.records
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
		`{"kind":"release","id":"k","time":"2026-10-05T07:58:12Z","sp":"s","subject":"x","controller":"`+city+`","attributes":{"131052-308T":null,"a b":["x"],"mpass_cid":["y"]}}`,
	)
}

// FuzzCSV checks what fuzzReader checks of every reader and, over the attributes
// grammar of RECORDS.md "CSV", that no piece of a value becomes an attribute name:
// every name of a stored record is a well-formed name holding no ';', '=', '\',
// whitespace or identity code.
func FuzzCSV(f *testing.F) {
	const h = "kind,id,time,sp,controller,subject,purpose,attributes\n"
	const rel = "release,r-1,2026-10-05T07:58:12Z,s," + city + ",x,,"
	var seeds []string
	for _, attributes := range []string{
		`"urn:mpass.id:role=` + role14 + `;urn:mpass.id:schoolInfo=99901;Kuvitteelan yhtenäiskoulu;urn:mpass.id:classLevel=7"`,
		"mpassUsername=MPASSOID.x;nickname=Kuvi;" + code,
		`urn:mpass.id:nickname=K\;K\=K\\K;urn:oid:2.5.4.42=Kuvi`,
		`nickname=a\q`, `nickname=a\`, "=x", "7B=x", code + "=x", "a." + code + "=x", "uid=x; mail=y",
		"givenName;mail;uid=x;role", "mail=;uid=", "mail=a=b;uid=QUJD==", "urn:oid:2.5.x=1", "x=1;;;Kuvi Aino=2;=3",
	} {
		seeds = append(seeds, h+rel+attributes+"\n")
	}
	seeds = append(seeds,
		h+"use,u,2026-10-05T07:58:12Z,s,,x,analytics,\"mail; given_name;\"\nuse,u2,2026-10-05T07:58:12Z,s,,x,analytics,mail=x;"+code+"\n",
		hostile(f, "hostile.csv"),
		h+"release,r-1,2026-10-05T07:58:12Z,s,"+city+",x,,mail=a@b.fi;givenName=A\n",
		h+"use,u,2026-10-05T07:58:12Z,s,,x,analytics,\"mail\n",
		"attributes,purpose,subject,controller,sp,time,id,kind\n,,x,,s,2026-10-05T07:58:12Z,,release\n",
	)
	fuzzReader(f, ingest.FormatCSV, seeds...)
}

// FuzzShibboleth reads any text as an audit log in one of four layouts (the IdP 4 and
// IdP 3 defaults, a custom format with a flow field, another subject field) with the
// controller found from flows, scopes or OID scopes, never given: every line is
// accounted for once, every rejection has a line and a reason, every record is whole
// and names its attributes by well-formed names only.
func FuzzShibboleth(f *testing.F) {
	layouts := []ingest.Options{
		{},
		{LogFormat: "idp3", Scopes: map[string]string{"koulu.example.fi": city}},
		{LogFormat: "%T|%u|%SP|%attr|%S|%flow|%i", FlowField: "%flow", Flows: map[string]string{"ShibKuvitteela": city}, Scopes: map[string]string{"Koulu.Example.FI": city}},
		{LogFormat: "idp3", SubjectField: "%n", Controller: city},
	}
	const idp3 = "20261005T075812Z|urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect|_r1|" + shop + "|http://shibboleth.net/ns/profiles/saml2/sso/browser|https://mpass-proxy.example/idp/shibboleth|urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST|_r2|"
	for _, s := range []string{
		hostile(f, "hostile-idp-audit.log"),
		shibLine("urn:oasis:names:tc:SAML:2.0:status:Success"),
		shibLine("x") + "\n" + shibLine(""),
		"|||||||||||||||||||||",
		strings.Replace(shibLine(""), "2026-10-05T07:58:12.345Z", "2026-10-05T10:58:12.345+0300", 1),
		strings.Replace(shibLine(""), "urn:mpass.id:uid,givenName,urn:mpass.id:role", "", 1),
		strings.Replace(shibLine(""), "urn:mpass.id:uid,givenName,urn:mpass.id:role", "mpassUsername,131052-308T", 1),
	} {
		f.Add(s, uint8(0))
	}
	for _, s := range []string{
		idp3 + "k7Q2hX9pLm3Nv8Rw@Koulu.Example.fi|urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport|mpassUsername,ecafirstName,ecasurname,learnerId,mpassRole,mpassClass|AAdzZWNyZXQx|_c3f2e1|",
		idp3 + "k7Q2hX9pLm3Nv8Rw@1.2.246.562.10.44444444449||mpassUsername,mpassLegacyCid,ecalegacyId|AAdzZWNyZXQx|_c3f2e2|\n" + idp3 + "||||_x|",
		strings.Replace(idp3, "sso/browser", "saml2/logout", 1) + "k7Q2@koulu.example.fi||||_c3f2e3|",
		"20261005T075812Z|x|_r1|" + shop + "|p|i|b|_r2|u@koulu.example.fi|ac|mpassRole|n|_i|\n" + "20261005T075812Z|x|_r1|" + shop + "|p|i|b|_r2|u@koulu.example.fi|ac|mpassRole|n|_i",
	} {
		f.Add(s, uint8(1))
		f.Add(s, uint8(3))
	}
	f.Add("2026-10-05T07:58:12Z|u@x|"+shop+"|mpassUsername|urn:oasis:names:tc:SAML:2.0:status:Success|ShibKuvitteela|_f1\n"+
		"2026-10-05T07:58:12Z|u@KOULU.example.fi|"+shop+"|mpassUsername||OtherFlow|_f2\n"+
		"2026-10-05T07:58:12Z|u|"+shop+"|mpassUsername|||_f3", uint8(2))
	x := testenv.MustExtractor(f)
	f.Fuzz(func(t *testing.T, text string, layout uint8) {
		opts := layouts[int(layout)%len(layouts)]
		opts.Format = ingest.FormatShibboleth
		for _, r := range fuzzIngest(t, x, opts, text) {
			if r.Time.Location() != time.UTC || r.Controller == "" || len(r.Attributes) == 0 {
				t.Fatalf("incomplete record %+v", r)
			}
			for name, a := range r.Attributes {
				if a.Values {
					t.Fatalf("%s:%d: %s has values; the log names attributes only", r.Source, r.Line, name)
				}
			}
		}
	})
}
