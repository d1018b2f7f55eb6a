package ingest

import (
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzFastPathAgrees: where the fastjson path takes a line, encoding/json reads the
// same fields and values from it, so the fast path changes nothing but speed.
func FuzzFastPathAgrees(f *testing.F) {
	for _, s := range []string{
		`{"kind":"release","id":"r","time":"t","sp":"s","controller":"c","subject":"x","attributes":{"mail":["a@b.fi","c"],"givenName":"Aino","uid":null}}`,
		`{"kind":"use","id":"u","time":"t","sp":"s","subject":"x","purpose":"p","attributes":["mail"]}`,
		`{"kind":"use","attributes":{"mail":null},"note":"x"}`,
		`{"kind":"release","sp":"\u00e4\"\\","attributes":{"a\nb":["\ud83d\ude00"]}}`,
		`{"kind":null,"id":null}`,
		`{"kind":"use","kind":"release"}`,
		`{"kind":"release","attributes":{"urn:mpass.id:nickname":["x"],"URN:MPASS.ID:NICKNAME":null}}`,
		`{"kind":"release","subject":"a","SUBJECT":"b"}`,
		`{"Kind":"release"}`,
		"{\"kind\":\"use\",\"subject\":\"a\u0000b\"}",
	} {
		f.Add(s)
	}
	p := &jsonlParser{normalizer: &normalizer{}}
	f.Fuzz(func(t *testing.T, line string) {
		if !utf8.ValidString(line) {
			return // rejected before parsing (checkLine)
		}
		got, ok := p.fast(&fastParser{names: map[string]string{}}, []byte(line))
		if !ok {
			return
		}
		if field, why := keysProblem([]byte(line)); why != "" {
			t.Fatalf("fast path took %q, which the precise path rejects: %s: %s", line, field, why)
		}
		var j jsonRecord
		if err := json.Unmarshal([]byte(line), &j); err != nil {
			return // e.g. invalid UTF-8 or a duplicate key fastjson reads differently: checked by the normalizer
		}
		want := j.fields()
		var err error
		switch j.Kind {
		case "release":
			want.values, err = releaseAttributes(j.Attributes)
		case "use":
			want.values, err = useAttributes(j.Attributes)
		default:
			want.values, _ = releaseAttributes(j.Attributes)
			if want.values == nil {
				want.values, _ = useAttributes(j.Attributes)
			}
		}
		if err != nil {
			t.Fatalf("fast path took %q, which the precise path rejects: %v", line, err)
		}
		if !reflect.DeepEqual(got, want) && !(len(got.values) == 0 && len(want.values) == 0 && reflect.DeepEqual(got.kind, want.kind)) {
			t.Fatalf("%q:\nfast    %+v\nprecise %+v", line, got, want)
		}
	})
}
