package ingest

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/opetushallitus/mpass-audit/internal/facts"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// FuzzFastPathAgrees: where the fastjson path takes a line, encoding/json takes it too
// and reads the same fields and values from it, so the fast path changes nothing but
// speed: fastjson is lenient (01, NaN, "\q"), and a line encoding/json rejects must
// never be stored because the fast path read it.
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
		`{"kind":"use","note":01}`, `{"note":[1.,2]}`, `{"note":{"x":NaN}}`, `{"n":-inf}`, `{"n":+1}`, `{"n":.5e3}`,
		`{"sp":"\q"}`, `{"sp":"\u12"}`, `{"sp":"\u12zz"}`, `{"x":"\\q\u00E4\/"}`, `{"0":{"":["\0"]}}`, `{"n":-0.5E+3}`,
	} {
		f.Add(s)
	}
	cat := facts.MustCatalog([]mpass.CatalogAttribute{
		{Name: "urn:oid:0.9.2342.19200300.100.1.3", Friendly: "mail"},
		{Name: "urn:mpass.id:nickname", Friendly: "nickname"},
		{Name: "uid"},
	})
	p := &jsonlParser{normalizer: &normalizer{x: facts.NewExtractor([]byte("k"), cat)}}
	f.Add(`{"kind":"release","attributes":{"urn:mpass.id:nickname":["x"],"uid":[],"urn:oid:0.9.2342.19200300.100.1.3":null}}`)
	f.Fuzz(func(t *testing.T, line string) {
		if !utf8.ValidString(line) {
			return // rejected before parsing (checkLine)
		}
		got, ok := p.fast(&fastParser{names: map[string]string{}, attributes: map[string]attributeName{}}, []byte(line))
		if !ok {
			return
		}
		if got.canonical { // every name the catalog's own: no lookup needed for it
			for name := range got.values {
				if c, known := cat.Resolve(name); !known || c != name {
					t.Fatalf("%q: %q taken for canonical", line, name)
				}
			}
		}
		got.canonical = false
		if field, why := keysProblem([]byte(line)); why != "" {
			t.Fatalf("fast path took %q, which the precise path rejects: %s: %s", line, field, why)
		}
		var j jsonRecord
		if err := json.Unmarshal([]byte(line), &j); err != nil {
			t.Fatalf("fast path took %q, which encoding/json rejects: %v", line, err)
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

// rawControl reads eight bytes at a time: it must say what a byte-by-byte loop says, for
// every byte value at every position of a word and in the tail, beside any other bytes.
func TestRawControlAgreesWithEveryByte(t *testing.T) {
	naive := func(b []byte) bool {
		for _, c := range b {
			if c < 0x20 {
				return true
			}
		}
		return false
	}
	for _, fill := range []byte{' ', 'a', 0x7f, 0x80, 0xa0, 0xff} {
		for n := range 20 {
			for pos := range n {
				for c := range 256 {
					b := make([]byte, n)
					for i := range b {
						b[i] = fill
					}
					b[pos] = byte(c)
					if got, want := rawControl(b), naive(b); got != want {
						t.Fatalf("rawControl(%q) = %v, want %v", b, got, want)
					}
				}
			}
		}
	}
}

func FuzzRawControl(f *testing.F) {
	f.Add([]byte("{\"kind\":\"use\"}\t"))
	f.Add([]byte("\x1f\x20\x9f\xa0\xff\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		want := false
		for _, c := range b {
			want = want || c < 0x20
		}
		if rawControl(b) != want {
			t.Fatalf("rawControl(%q) = %v", b, !want)
		}
	})
}

// equalFoldASCII folds as strings.EqualFold does, for every pair of ASCII bytes, and at
// either end of a key; isASCII agrees with a byte loop at every position.
func TestEqualFoldASCIIAgreesWithEqualFold(t *testing.T) {
	for x := range 0x80 {
		for y := range 0x80 {
			for _, pad := range []string{"", "urn:mpass.id:"} {
				a, b := pad+string(rune(x))+"k", pad+string(rune(y))+"K"
				if got, want := equalFoldASCII([]byte(a), b), strings.EqualFold(a, b); got != want {
					t.Fatalf("equalFoldASCII(%q, %q) = %v, want %v", a, b, got, want)
				}
			}
		}
	}
	for n := range 20 {
		for pos := range n {
			b := []byte(strings.Repeat("a", n))
			b[pos] = 0x80
			if isASCII(b) || !isASCII(b[:pos]) {
				t.Fatalf("isASCII wrong at %d of %d", pos, n)
			}
		}
	}
}

// knownIndex names each field of knownKeys by its place there, and nothing else.
func TestKnownIndexIsKnownKeys(t *testing.T) {
	for i, k := range knownKeys {
		if knownIndex([]byte(k)) != i || knownIndex([]byte(strings.ToUpper(k))) != -1 {
			t.Errorf("knownIndex(%q) = %d, want %d", k, knownIndex([]byte(k)), i)
		}
	}
}

// An attribute logged under two of its names is one attribute whose values are merged
// in the names' sorted order, whatever order the map gives them: the first grade level,
// the roles' order in the shape and the value a rejection names depend on it.
func TestMergedNamesReadTheSameEveryTime(t *testing.T) {
	cat := facts.MustCatalog([]mpass.CatalogAttribute{{Name: "urn:mpass.id:role", Friendly: "mpassRole", Names: []string{"Role"}, Role: mpass.RoleStructured}})
	n := &normalizer{x: facts.NewExtractor([]byte("k"), cat)}
	var first []string
	for i := range 200 {
		values := map[string][]string{"Role": {"b;s;7B;Opettaja;2"}, "urn:mpass.id:role": {"a;s;7A;Oppilas;1"}, "mpassRole": {"c;s;7C;Rehtori;6"}}
		got, why := n.canonical(values, false)
		if why != "" {
			t.Fatal(why)
		}
		if i == 0 {
			first = got["urn:mpass.id:role"]
			if want := []string{"b;s;7B;Opettaja;2", "c;s;7C;Rehtori;6", "a;s;7A;Oppilas;1"}; !reflect.DeepEqual(first, want) {
				t.Fatalf("merged %q, want %q (the names' sorted order)", first, want)
			}
		} else if !reflect.DeepEqual(got["urn:mpass.id:role"], first) {
			t.Fatalf("merge %d gave %q, the first %q", i, got["urn:mpass.id:role"], first)
		}
	}
}
