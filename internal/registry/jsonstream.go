package registry

import (
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
func streamArray(ctx context.Context, r io.Reader, fe *fileErrors, key, shape string, each func(path string, dec *json.Decoder) error) error {
	dec := json.NewDecoder(r)
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
		tok, err := dec.Token()
		if err != nil {
			return syntaxError(fe, "$", dec, err)
		}
		name, _ := tok.(string)
		path := "$." + name
		if name != key {
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
	err = dec.Decode(v)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &te):
		p := path
		if te.Field != "" {
			p += "." + te.Field
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
