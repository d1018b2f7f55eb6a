package ingest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/opetushallitus/mpass-audit/internal/facts"
	"github.com/valyala/fastjson"
)

// jsonlParser reads MPASSid's JSON Lines: one object per line. A good line is read
// once with fastjson (no reflection: ingest reads every line); a line it cannot take
// is read again with encoding/json, which says precisely what is wrong.
type jsonlParser struct {
	*normalizer
	parsers sync.Pool // of *fastParser
}

// fastParser is a fastjson parser with the names it has seen: attribute names, SPs,
// controllers and purposes repeat on nearly every line, and a copy of each per line was
// a good share of ingest's garbage.
type fastParser struct {
	fastjson.Parser
	names      map[string]string
	attributes map[string]attributeName // the attribute names seen, as attribute makes them
	// values is the last line's attributes, cleared and filled again for the next: a
	// small map made per line was a fifth of the workers' time (maps.growToSmall)
	values map[string][]string
	// arena holds the last line's values, its lists cut from it (see fast)
	arena []string
}

// maxNames bounds a fastParser's names, whatever a hostile file holds.
const maxNames = 4096

// name returns b as a string, the same string for the same bytes while there is room.
func (p *fastParser) name(b []byte) string {
	if s, ok := p.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(p.names) < maxNames {
		p.names[s] = s
	}
	return s
}

// attribute returns an attribute name as logged, the same string for the same bytes
// while there is room, and whether the catalog knows it by that very name (its
// canonical name), remembered with it: a line then needs no catalog lookup for it.
func (p *fastParser) attribute(b []byte, cat *facts.Catalog) (string, bool) {
	if a, ok := p.attributes[string(b)]; ok {
		return a.name, a.canonical
	}
	a := attributeName{name: string(b)}
	c, known := cat.Resolve(a.name)
	a.canonical = known && c == a.name
	if len(p.attributes) < maxNames {
		p.attributes[a.name] = a
	}
	return a.name, a.canonical
}

// attributeName is an attribute name as logged, and whether it is canonical.
type attributeName struct {
	name      string
	canonical bool
}

// takeValues returns the parser's empty values map, or a new one for n names.
func (p *fastParser) takeValues(n int) map[string][]string {
	if m := p.values; m != nil {
		p.values = nil
		return m
	}
	return make(map[string][]string, n)
}

// recordFields are the fields of a line but its attributes.
type recordFields struct {
	Kind       string `json:"kind"`
	ID         string `json:"id"`
	Time       string `json:"time"`
	SP         string `json:"sp"`
	Controller string `json:"controller"`
	Subject    string `json:"subject"`
	Purpose    string `json:"purpose"`
}

func (r *recordFields) fields() fields {
	return fields{kind: r.Kind, id: r.ID, time: r.Time, sp: r.SP, controller: r.Controller, subject: r.Subject, purpose: r.Purpose}
}

type jsonRecord struct {
	recordFields
	Attributes json.RawMessage `json:"attributes"`
}

func (p *jsonlParser) parse(source string, l line) parsed {
	if bad, ok := checkLine(source, l); !ok {
		return bad
	}
	if blank(l.text) {
		return parsed{}
	}
	parser, _ := p.parsers.Get().(*fastParser)
	if parser == nil {
		parser = &fastParser{names: map[string]string{}, attributes: map[string]attributeName{}}
	}
	defer func() {
		clear(parser.arena) // no value is kept past its line, taken or not
		parser.arena = parser.arena[:0]
		p.parsers.Put(parser)
	}()
	if f, ok := p.fast(parser, l.text); ok {
		x := p.record(source, l, f)
		if len(f.values) <= maxFastKeys { // a line of many attributes does not make every later map that big
			clear(f.values) // nothing the record keeps refers to the map
			parser.values = f.values
		}
		return x
	}
	if field, why := keysProblem(l.text); why != "" {
		return reject(source, l, field, why)
	}
	var j jsonRecord
	if err := json.Unmarshal(l.text, &j); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te) && te.Field == "":
			return reject(source, l, "", "not one JSON object")
		case errors.As(err, &te):
			return reject(source, l, strings.TrimPrefix(te.Field, "recordFields."), fmt.Sprintf("wrong type: %s where %s is needed", te.Value, te.Type))
		case errors.As(err, &se) && strings.Contains(se.Error(), "in string literal"):
			// a raw NUL, tab or escape inside a string: JSON allows them only escaped
			return reject(source, l, "", reasonRawControl)
		}
		return reject(source, l, "", "not one JSON object: "+err.Error())
	}
	f := j.fields()
	var err error
	switch j.Kind {
	case "release":
		f.values, err = releaseAttributes(j.Attributes)
	case "use":
		f.values, err = useAttributes(j.Attributes)
	}
	if err != nil {
		return reject(source, l, "attributes", err.Error())
	}
	return p.record(source, l, f)
}

// reasonRawControl rejects a line with a control character inside a string: JSON
// allows one only escaped (\u0000), and fastjson would take it as it is.
const reasonRawControl = "not one JSON object: a control character (U+0000–U+001F) inside a string; JSON allows it only escaped"

// reasonRepeatedKey rejects an object with a key twice, or in two letter cases:
// encoding/json takes the last of a repeated key and matches field names without
// regard to case, so {"kind":"use",…,"kind":"release"} or "SUBJECT" beside "subject"
// would silently change the record, and a repeated attribute hide its first values.
const reasonRepeatedKey = "a key is repeated (also in another letter case); every key of an object must be unique"

// keysProblem reads a line's keys as encoding/json would and names the first of
// them that the line must not have: a top-level key repeated or in two letter cases, a
// known field written in another case ("SUBJECT"), an attribute name repeated or in
// two cases. It reports field and reason, or "" for a line it finds nothing wrong
// with (an invalid line among them: json.Unmarshal then says what is wrong). Keys are
// compared by simple case folding (strings.EqualFold), through a map: a line of a
// million keys costs a map, not a million squared comparisons.
func keysProblem(text []byte) (field, why string) {
	d := json.NewDecoder(bytes.NewReader(text))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return "", ""
	}
	seen := map[string]bool{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return "", ""
		}
		key, _ := tok.(string)
		fold := foldKey(key)
		if seen[fold] {
			return knownKey(fold), reasonRepeatedKey
		}
		seen[fold] = true
		if k := knownKey(fold); k != "" && k != key {
			return k, fmt.Sprintf("field names are case-sensitive: write %q", k)
		}
		if key != "attributes" {
			if skipValue(d) != nil {
				return "", ""
			}
			continue
		}
		if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
			if tok == json.Delim('[') { // a use's list of names
				for d.More() {
					if skipValue(d) != nil {
						return "", ""
					}
				}
				d.Token()
			}
			continue
		}
		names := map[string]bool{}
		for d.More() {
			tok, err := d.Token()
			if err != nil {
				return "", ""
			}
			name := foldKey(tok.(string))
			if names[name] {
				return "attributes", reasonRepeatedKey
			}
			names[name] = true
			if skipValue(d) != nil {
				return "", ""
			}
		}
		if _, err := d.Token(); err != nil {
			return "", ""
		}
	}
	return "", ""
}

// foldKey is a key in one letter case, so that keys strings.EqualFold takes for equal
// are equal (the Kelvin sign and the long s too).
func foldKey(k string) string { return strings.ToLower(strings.ToUpper(k)) }

// knownKey is the field a folded key names, or "".
func knownKey(fold string) string {
	for _, k := range knownKeys {
		if k == fold {
			return k
		}
	}
	return ""
}

// skipValue reads one value of d, however nested.
func skipValue(d *json.Decoder) error {
	depth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

var null = []byte("null")

// shownName is an attribute name as a reason may show it: a well-formed name of at
// most 128 bytes as it is, anything else (value text, an identity code, a megabyte of
// key) as "an attribute" — a reason names the field, never content of the line.
func shownName(name string) string {
	if len(name) > 128 || !facts.WellFormedName(name) {
		return "an attribute"
	}
	return name
}

// releaseAttributes decodes {"name": ["value", ...] | "value" | null}.
func releaseAttributes(raw json.RawMessage) (map[string][]string, error) {
	if len(raw) == 0 || bytes.Equal(raw, null) {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, errors.New("must be an object of attribute names to value lists")
	}
	out := make(map[string][]string, len(m))
	for name, v := range m {
		switch {
		case bytes.Equal(v, null):
			out[name] = nil
		case len(v) > 0 && v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, fmt.Errorf("%s: bad string", shownName(name))
			}
			out[name] = []string{s}
		default:
			var list []*string
			if err := json.Unmarshal(v, &list); err != nil {
				return nil, fmt.Errorf("%s: values must be a list of strings or null", shownName(name))
			}
			values := make([]string, 0, len(list))
			for _, s := range list {
				if s == nil {
					return nil, fmt.Errorf("%s: a value is null", shownName(name))
				}
				values = append(values, *s)
			}
			out[name] = values
		}
	}
	return out, nil
}

// useAttributes decodes the attribute names of a use: ["name", ...] (an object's keys
// are accepted too).
func useAttributes(raw json.RawMessage) (map[string][]string, error) {
	if len(raw) == 0 || bytes.Equal(raw, null) {
		return nil, nil
	}
	var names []string
	if err := json.Unmarshal(raw, &names); err == nil {
		out := make(map[string][]string, len(names))
		for _, n := range names {
			out[n] = nil
		}
		return out, nil
	}
	m, err := releaseAttributes(raw)
	if err != nil {
		return nil, errors.New("must be a list of attribute names")
	}
	for n := range m {
		m[n] = nil
	}
	return m, nil
}

// escapesNeedPrecise reports whether text has an escape the fast path must not read:
// one JSON does not allow (\q, \u12; fastjson keeps its raw text, encoding/json rejects
// the line) or a \uD800–\uDFFF surrogate (encoding/json makes U+FFFD of a lone one).
// Every backslash of a line fastjson parses is inside a string, so reading them left to
// right, each with what it escapes, reads the strings' escapes exactly (RFC 8259 §7).
func escapesNeedPrecise(text []byte) bool {
	for i := bytes.IndexByte(text, '\\'); i >= 0; {
		if i+1 >= len(text) {
			return true
		}
		switch text[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if i+6 > len(text) {
				return true
			}
			for _, c := range text[i+2 : i+6] {
				if hexDigit[c] == 0 {
					return true
				}
			}
			if c, d := text[i+2]|0x20, text[i+3]|0x20; c == 'd' && d >= '8' { // d8–df: a surrogate
				return true
			}
			i += 6
		default:
			return true
		}
		j := bytes.IndexByte(text[i:], '\\')
		if j < 0 {
			return false
		}
		i += j
	}
	return false
}

// hexDigit marks the bytes 0–9, a–f, A–F.
var hexDigit = [256]byte{
	'0': 1, '1': 1, '2': 1, '3': 1, '4': 1, '5': 1, '6': 1, '7': 1, '8': 1, '9': 1,
	'a': 1, 'b': 1, 'c': 1, 'd': 1, 'e': 1, 'f': 1, 'A': 1, 'B': 1, 'C': 1, 'D': 1, 'E': 1, 'F': 1,
}

// strictNumbers reports whether every number in v is one JSON allows: fastjson takes
// 01, 1., .5, +1, NaN and inf, which encoding/json rejects (RFC 8259 §6). Only a
// field the record does not read can hold a number on the fast path, so lines walk it
// rarely; fastjson's own strict validator judges each number's raw text.
func strictNumbers(v *fastjson.Value) bool {
	switch v.Type() {
	case fastjson.TypeNumber:
		var b [64]byte
		return fastjson.ValidateBytes(v.MarshalTo(b[:0])) == nil
	case fastjson.TypeArray:
		list, _ := v.Array()
		for _, x := range list {
			if !strictNumbers(x) {
				return false
			}
		}
	case fastjson.TypeObject:
		o, _ := v.Object()
		ok := true
		o.Visit(func(_ []byte, x *fastjson.Value) { ok = ok && strictNumbers(x) })
		return ok
	}
	return true
}

// rawControl reports a byte below U+0020 in text: whitespace between tokens may be a
// tab, anything else (a NUL in a string) is for encoding/json to reject. It reads
// eight bytes at a time (every line goes through it, byte by byte it was 4 % of the
// parsing workers' time): x - 0x20 in every byte borrows into a byte's top bit exactly
// where some byte of x is below 0x20 and has its own top bit clear (Bit Twiddling Hacks,
// "hasless"; the first such byte is always flagged, so the test is exact).
func rawControl(text []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(text); i += 8 {
		x := binary.LittleEndian.Uint64(text[i:])
		if (x-ones*0x20)&^x&highs != 0 {
			return true
		}
	}
	for _, c := range text[i:] {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// knownKeys are the fields of a line.
var knownKeys = [...]string{"kind", "id", "time", "sp", "controller", "subject", "purpose", "attributes"}

// fast reads a line that is one object with string fields and attributes of an
// accepted form; ok is false for anything else.
func (p *jsonlParser) fast(parser *fastParser, text []byte) (f fields, ok bool) {
	if escapesNeedPrecise(text) || rawControl(text) {
		// encoding/json makes U+FFFD of a lone surrogate, and rejects an escape JSON
		// does not have and a raw control character in a string, which fastjson takes:
		// let it
		return f, false
	}
	v, err := parser.ParseBytes(text)
	if err != nil || v.Type() != fastjson.TypeObject {
		return f, false
	}
	// encoding/json matches keys without regard to case and takes the last of a
	// repeated key: a line with a repeated key, or a key in another case, goes the
	// precise way, which rejects it (keysProblem)
	top, _ := v.Object()
	if !uniqueKeys(top, true) {
		return f, false
	}
	// the known fields in one pass over the keys (each v.Get went through them all)
	ok = true
	var attrs *fastjson.Value
	top.Visit(func(k []byte, x *fastjson.Value) {
		if string(k) == "attributes" {
			attrs = x
			return
		}
		var dst *string
		intern := true // names that repeat from line to line
		switch string(k) {
		case "kind":
			dst = &f.kind
		case "id":
			dst, intern = &f.id, false
		case "time":
			dst, intern = &f.time, false
		case "sp":
			dst = &f.sp
		case "controller":
			dst = &f.controller
		case "subject":
			dst, intern = &f.subject, false
		case "purpose":
			dst = &f.purpose
		default: // another key: encoding/json ignores it but for its syntax
			if !strictNumbers(x) {
				ok = false
			}
			return
		}
		switch x.Type() {
		case fastjson.TypeNull:
		case fastjson.TypeString:
			if intern {
				*dst = parser.name(x.GetStringBytes())
			} else {
				*dst = string(x.GetStringBytes())
			}
		default:
			ok = false
		}
	})
	if !ok || attrs == nil || attrs.Type() == fastjson.TypeNull {
		return f, ok
	}
	// the values' lists are cut from one slice per parser, used again for the next
	// line: nothing keeps a list after the record is made (facts.Extractor.Attribute
	// sorts a copy), and a list per attribute was an allocation each
	arena := parser.arena[:0]
	defer func() {
		if cap(arena) <= maxArena {
			parser.arena = arena // until parse is done with the line: then cleared
		}
	}()
	cat := p.x.Catalog()
	f.canonical = true
	name := func(k []byte) string {
		n, canonical := parser.attribute(k, cat)
		f.canonical = f.canonical && canonical
		return n
	}
	switch attrs.Type() {
	case fastjson.TypeArray: // a use's names
		if f.kind == "release" {
			return f, false
		}
		list, _ := attrs.Array()
		f.values = parser.takeValues(len(list))
		for _, x := range list {
			if x.Type() != fastjson.TypeString {
				return f, false
			}
			f.values[name(x.GetStringBytes())] = nil
		}
	case fastjson.TypeObject:
		obj, _ := attrs.Object()
		if !uniqueKeys(obj, false) {
			return f, false
		}
		f.values = parser.takeValues(obj.Len())
		obj.Visit(func(k []byte, x *fastjson.Value) {
			switch x.Type() {
			case fastjson.TypeNull:
				f.values[name(k)] = nil
			case fastjson.TypeString:
				arena = append(arena, string(x.GetStringBytes()))
				f.values[name(k)] = arena[len(arena)-1 : len(arena) : len(arena)] // an append to a list copies it
			case fastjson.TypeArray:
				list, _ := x.Array()
				start := len(arena)
				for _, e := range list {
					if e.Type() != fastjson.TypeString {
						ok = false
						return
					}
					arena = append(arena, string(e.GetStringBytes()))
				}
				if len(list) == 0 {
					f.values[name(k)] = []string{} // an empty list, not names only (nil)
					return
				}
				f.values[name(k)] = arena[start:len(arena):len(arena)]
			default:
				ok = false
			}
		})
	default:
		return f, false
	}
	return f, ok
}

// maxArena bounds the values a parser keeps room for between lines.
const maxArena = 1024

// maxFastKeys is the most keys an object may have for the fast path: uniqueKeys
// compares them pairwise, and a hostile object of many keys goes the precise way.
const maxFastKeys = 32

// uniqueKeys reports whether o's keys are ASCII, at most maxFastKeys, and no two
// equal without regard to case (ASCII keys equal so have one length: only those are
// compared); for the top-level object (top), also whether each is a known field exactly
// or no field at all. A key outside ASCII may fold to another one (the Kelvin sign to
// k): false, for keysProblem to judge. Every line's keys go through it: a known field
// written exactly is one bit (two such keys cannot fold to each other), only the other
// keys are compared, as bytes folded by hand.
func uniqueKeys(o *fastjson.Object, top bool) bool {
	if o.Len() > maxFastKeys {
		return false
	}
	var array [maxFastKeys][]byte
	keys := array[:0] // the keys that are no known field written exactly
	var seen uint16   // the known fields written exactly
	ok := true
	o.Visit(func(k []byte, _ *fastjson.Value) {
		if top {
			if i := knownIndex(k); i >= 0 {
				if seen&(1<<i) != 0 {
					ok = false
				}
				seen |= 1 << i
				return
			}
		}
		keys = append(keys, k)
	})
	if !ok {
		return false
	}
	for i, k := range keys {
		if !isASCII(k) {
			return false
		}
		if top {
			for _, known := range knownKeys {
				if len(known) == len(k) && equalFoldASCII(k, known) {
					return false
				}
			}
		}
		for _, other := range keys[:i] {
			if len(other) == len(k) && equalFoldASCII(other, k) {
				return false
			}
		}
	}
	return true
}

// knownIndex is the index in knownKeys of the field k names exactly, or -1.
func knownIndex(k []byte) int {
	switch string(k) {
	case "kind":
		return 0
	case "id":
		return 1
	case "time":
		return 2
	case "sp":
		return 3
	case "controller":
		return 4
	case "subject":
		return 5
	case "purpose":
		return 6
	case "attributes":
		return 7
	}
	return -1
}

// isASCII reports whether b holds only bytes below 0x80, eight at a time.
func isASCII(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&0x8080808080808080 != 0 {
			return false
		}
	}
	for _, c := range b[i:] {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// equalFoldASCII reports whether a and b, ASCII and of one length, are equal without
// regard to the case of their letters (as strings.EqualFold for ASCII). The last bytes
// are compared first: keys of one length mostly share a prefix ("urn:mpass.id:").
func equalFoldASCII[T string | []byte](a []byte, b T) bool {
	for i := len(a) - 1; i >= 0; i-- {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z' {
			return false
		}
	}
	return true
}
