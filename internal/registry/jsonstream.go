package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// maxElement bounds one element of an export (and one skipped top-level member): a
// service or an identity provider is a few kilobytes, certificates included, and a
// larger one would be held whole in memory.
const maxElement = 8 << 20

// errTooLarge ends a file whose element is over maxElement.
var errTooLarge = errors.New("an element of the export is larger than 8 MiB")

// guard is the reader under an export's decoder: it refuses to read more than
// maxElement (and the decoder's read-ahead) past the start of the element being read.
type guard struct {
	r       io.Reader
	read    int64
	max     int64
	path    string // of the element being read
	tripped bool
}

func (g *guard) Read(p []byte) (int, error) {
	if g.read > g.max {
		g.tripped = true
		return 0, errTooLarge
	}
	if room := g.max - g.read + 1; int64(len(p)) > room { // never far past the limit
		p = p[:room]
	}
	n, err := g.r.Read(p)
	g.read += int64(n)
	return n, err
}

// limit lets the decoder read one more element, at path, from its present offset.
func (g *guard) limit(dec *json.Decoder, path string) {
	g.max, g.path = dec.InputOffset()+maxElement, path
}

// maxFileErrors bounds the errors kept of one file: an export of the wrong shape would
// otherwise give one per element, and a reader needs the first few to fix it.
const maxFileErrors = 50

// fileErrors collects the errors of one export file, each "NAME: JSON-PATH: message",
// so that one import shows every problem of a file rather than the first.
type fileErrors struct {
	name string
	errs []string
	more int // errors beyond maxFileErrors, counted only
}

func (fe *fileErrors) add(path, format string, args ...any) {
	if len(fe.errs) == maxFileErrors {
		fe.more++
		return
	}
	fe.errs = append(fe.errs, fe.name+": "+path+": "+fmt.Sprintf(format, args...))
}

// lines are the collected errors, the last one saying how many more were left out.
func (fe *fileErrors) lines() []string {
	if fe.more > 0 {
		return append(fe.errs, fmt.Sprintf("%s: … and %d more errors", fe.name, fe.more))
	}
	return fe.errs
}

// streamArray reads a JSON export whose top level is an object holding one array under
// key (`{"services":[…]}`), decoding nothing but that array's elements, one at a time:
// each is called with the element's JSON path ("$.services[3]") and the decoder, on
// which it decodes exactly one value. Other top-level members are skipped. A file that
// is no JSON object, or has no such member, is an error that names what it holds
// instead; so are bytes after the object. Syntax and read errors end the file, and are
// returned; what each finds wrong it adds to fe itself.
func streamArray(ctx context.Context, r io.Reader, fe *fileErrors, key, shape string, each func(path string, dec *json.Decoder) error) (err error) {
	g := &guard{r: r}
	dec := json.NewDecoder(g)
	g.limit(dec, "$")
	defer func() { // the decoder's error may surface later, at another path: name the element
		if g.tripped {
			fe.add(g.path, "%v: not an export of the management service", errTooLarge)
			err = errStop
		}
	}()
	tok, err := dec.Token()
	if err != nil {
		return syntaxError(fe, "$", dec, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		fe.add("$", "not %s: the file holds %s, want {%q:[…]}", shape, jsonKind(tok), key)
		return nil
	}
	found := false
	var others []string
	for dec.More() {
		g.limit(dec, "$")
		tok, err := dec.Token()
		if err != nil {
			return syntaxError(fe, "$", dec, err)
		}
		name, _ := tok.(string)
		path := "$." + name
		if name == key && found { // encoding/json would read both: the last would not win
			fe.add(path, "%q twice: one JSON object has one value per key", key)
			return errStop
		}
		if name != key {
			g.limit(dec, path)
			others = append(others, strconv.Quote(name))
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return syntaxError(fe, path, dec, err)
			}
			continue
		}
		found = true
		tok, err = dec.Token()
		if err != nil {
			return syntaxError(fe, path, dec, err)
		}
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			fe.add(path, "want an array, found %s", jsonKind(tok))
			if d, ok := tok.(json.Delim); ok && d == '{' {
				return nil // its members would be read as the top level's: stop here
			}
			continue
		}
		for i := 0; dec.More(); i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			g.limit(dec, fmt.Sprintf("%s[%d]", path, i))
			if err := each(fmt.Sprintf("%s[%d]", path, i), dec); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // ]
			return syntaxError(fe, path, dec, err)
		}
	}
	if _, err := dec.Token(); err != nil { // }
		return syntaxError(fe, "$", dec, err)
	}
	if !found {
		what := "no members"
		if len(others) > 0 {
			what = "members " + strings.Join(others, ", ")
		}
		fe.add("$", "not %s: want {%q:[…]}, found %s", shape, key, what)
	}
	if tok, err := dec.Token(); err != io.EOF {
		if err != nil {
			return syntaxError(fe, "$", dec, err)
		}
		fe.add("$", "%s after the top-level object: one JSON value per file", jsonKind(tok))
	}
	return nil
}

// decodeElement decodes the next value of dec into v. A value of the wrong JSON type
// somewhere inside is added to fe with its path, and ok is false; the element has been
// read all the same, so the caller goes on with the next one. A syntax or read error
// is returned: nothing after it can be read.
func decodeElement(dec *json.Decoder, fe *fileErrors, path string, v any) (ok bool, err error) {
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return false, syntaxError(fe, path, dec, err)
	}
	// encoding/json takes the last of a repeated key: `"permissions":[…],"permissions":[]`
	// would silently allow every service
	if p, key := duplicateKey(raw, path); p != "" {
		fe.add(p, "%q twice: one JSON object has one value per key", key)
		return false, nil
	}
	err = json.Unmarshal(raw, v)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &te):
		p := pathAt(raw, te.Offset, path) // with the indices te.Field lacks
		if p == "" {
			if p = path; te.Field != "" {
				p += "." + te.Field
			}
		}
		fe.add(p, "want %s, found %s", goKind(te.Type), te.Value)
		return false, nil
	default:
		return false, syntaxError(fe, path, dec, err)
	}
}

// syntaxError turns a decoder's error into the file's last error: where it is, as a
// byte offset, since a path cannot be known inside broken JSON.
func syntaxError(fe *fileErrors, path string, dec *json.Decoder, err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		fe.add(path, "not valid JSON at byte %d: %v", se.Offset, err)
	case errors.Is(err, errTooLarge): // streamArray names the element
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		fe.add(path, "the file ends before its JSON does (byte %d)", dec.InputOffset())
	default:
		return fmt.Errorf("%s: read: %w", fe.name, err)
	}
	return errStop
}

// errStop ends a file after its last error has been added: the import reports it with
// the file's other errors.
var errStop = errors.New("stop")

// jsonKind names what a token opens or is, for messages.
func jsonKind(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return "an array"
		}
		return "an object"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "something else"
}

// goKind names the JSON type a Go type is decoded from, for messages.
func goKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.String()
}

// integrationID reads a management-service integration id, which its exports give as
// a number (5000101) and, in places, as a string ("6000001"): the digits, or "" when
// absent or null. ok is false for anything else.
func integrationID(raw json.RawMessage) (id string, ok bool) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return "", true
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false
		}
		s = strings.TrimSpace(s)
	}
	if s == "" || strings.Trim(s, "0123456789") != "" || len(s) > 19 {
		return "", false
	}
	return s, true
}

// smallInt reads an integer the exports give as a number or a numeric string
// (deploymentPhase): nil when absent or null.
func smallInt(raw json.RawMessage) (n *int, ok bool) {
	s, ok := integrationID(raw)
	if !ok || s == "" || len(s) > 4 {
		return nil, ok && s == ""
	}
	v, _ := strconv.Atoi(s)
	return &v, true
}

// invalid is an *mpass.Error of every line of a failed import.
func invalid(lines []string) error {
	return &mpass.Error{Code: mpass.EINVALID, Message: strings.Join(lines, "\n")}
}

// duplicateKey finds the first key that an object of a JSON value (valid, as a decoder
// read it) repeats: its path and the key, or "" where there is none.
func duplicateKey(raw json.RawMessage, path string) (string, string) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	p, key, _ := dupWalk(dec, path)
	return p, key
}

// dupWalk walks one value of dec; paths name array elements by index.
func dupWalk(dec *json.Decoder, path string) (string, string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", "", err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return "", "", nil
	}
	switch d {
	case '{':
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return "", "", err
			}
			k, _ := tok.(string)
			if seen[k] {
				return path, k, nil
			}
			seen[k] = true
			if p, key, err := dupWalk(dec, path+"."+k); p != "" || err != nil {
				return p, key, err
			}
		}
	case '[':
		for i := 0; dec.More(); i++ {
			if p, key, err := dupWalk(dec, fmt.Sprintf("%s[%d]", path, i)); p != "" || err != nil {
				return p, key, err
			}
		}
	}
	_, err = dec.Token() // } or ]
	return "", "", err
}

// pathAt is the JSON path, array indices included, of the value of raw that ends at
// byte offset end (where encoding/json reports a type error), or "" if none does.
func pathAt(raw json.RawMessage, end int64, base string) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	type level struct {
		array bool
		index int
		key   string
	}
	var stack []level
	path := func() string {
		var b strings.Builder
		b.WriteString(base)
		for _, l := range stack {
			if l.array {
				fmt.Fprintf(&b, "[%d]", l.index-1)
			} else {
				b.WriteString("." + l.key)
			}
		}
		return b.String()
	}
	expectKey := func() bool { return len(stack) > 0 && !stack[len(stack)-1].array && stack[len(stack)-1].key == "" }
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && !stack[len(stack)-1].array {
				stack[len(stack)-1].key = ""
			}
			continue
		}
		if expectKey() {
			stack[len(stack)-1].key, _ = tok.(string)
			continue
		}
		if len(stack) > 0 && stack[len(stack)-1].array {
			stack[len(stack)-1].index++
		}
		if d, ok := tok.(json.Delim); ok { // { or [: the value goes on inside
			if dec.InputOffset() >= end {
				return path()
			}
			stack = append(stack, level{array: d == '['})
			continue
		}
		if dec.InputOffset() >= end {
			return path()
		}
		if len(stack) > 0 && !stack[len(stack)-1].array {
			stack[len(stack)-1].key = ""
		}
	}
}
