package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// jsonlParser reads MPASSid's JSON Lines: one object per line.
type jsonlParser struct{ *normalizer }

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
	// one pass over a good line; a bad one is read again, slowly, to say what is wrong
	var fast fastRecord
	if err := json.Unmarshal(l.text, &fast); err == nil && fast.Attributes.fits(fast.Kind) {
		f := fast.fields()
		f.values = fast.Attributes.values()
		return p.record(source, l, f)
	}
	var j jsonRecord
	if err := json.Unmarshal(l.text, &j); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if te.Field == "" {
				return reject(source, l, "", "not one JSON object")
			}
			return reject(source, l, strings.TrimPrefix(te.Field, "recordFields."), fmt.Sprintf("wrong type: %s where %s is needed", te.Value, te.Type))
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

var null = []byte("null")

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
				return nil, fmt.Errorf("%s: bad string", name)
			}
			out[name] = []string{s}
		default:
			var list []*string
			if err := json.Unmarshal(v, &list); err != nil {
				return nil, fmt.Errorf("%s: values must be a list of strings or null", name)
			}
			values := make([]string, 0, len(list))
			for _, s := range list {
				if s == nil {
					return nil, fmt.Errorf("%s: a value is null", name)
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

// fastRecord decodes a good line in one pass. Its attributes take any of the accepted
// forms; anything else fails, and the line is read again by the precise path.
type fastRecord struct {
	recordFields
	Attributes attributes `json:"attributes"`
}

type attributes struct {
	list []string             // a use's names
	obj  map[string]valueList // a release's values (a use may name attributes so too)
}

var errSlowPath = errors.New("read precisely")

func (a *attributes) UnmarshalJSON(b []byte) error {
	switch b[0] {
	case 'n':
		return nil
	case '[':
		if bytes.Contains(b, null) {
			return errSlowPath
		}
		return json.Unmarshal(b, &a.list)
	case '{':
		return json.Unmarshal(b, &a.obj)
	}
	return errSlowPath
}

// fits reports whether the form suits the kind: a release has an object.
func (a *attributes) fits(kind string) bool { return kind != "release" || a.list == nil }

// values is the attributes as fields holds them: nil values for names only.
func (a *attributes) values() map[string][]string {
	if a.list == nil && a.obj == nil {
		return nil
	}
	out := make(map[string][]string, len(a.list)+len(a.obj))
	for _, n := range a.list {
		out[n] = nil
	}
	for n, v := range a.obj {
		out[n] = v.values
	}
	return out
}

// valueList is an attribute's values: a list of strings, one string, or null.
type valueList struct{ values []string }

func (v *valueList) UnmarshalJSON(b []byte) error {
	switch b[0] {
	case 'n':
		v.values = nil
		return nil
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v.values = []string{s}
		return nil
	case '[':
		if bytes.Contains(b, null) {
			return errSlowPath // a null among the values: the precise path says so
		}
		v.values = []string{}
		return json.Unmarshal(b, &v.values)
	}
	return errSlowPath
}
