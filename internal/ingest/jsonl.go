package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// jsonlParser reads MPASSid's JSON Lines: one object per line.
type jsonlParser struct{ *normalizer }

type jsonRecord struct {
	Kind       string          `json:"kind"`
	ID         string          `json:"id"`
	Time       string          `json:"time"`
	SP         string          `json:"sp"`
	Controller string          `json:"controller"`
	Subject    string          `json:"subject"`
	Purpose    string          `json:"purpose"`
	Attributes json.RawMessage `json:"attributes"`
}

func (p *jsonlParser) parse(source string, l line) parsed {
	if bad, ok := checkLine(source, l); !ok {
		return bad
	}
	if blank(l.text) {
		return parsed{}
	}
	var j jsonRecord
	if err := json.Unmarshal(l.text, &j); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if te.Field == "" {
				return reject(source, l, "", "not one JSON object")
			}
			return reject(source, l, te.Field, fmt.Sprintf("wrong type: %s where %s is needed", te.Value, te.Type))
		}
		return reject(source, l, "", "not one JSON object: "+err.Error())
	}
	f := fields{kind: j.Kind, id: j.ID, time: j.Time, sp: j.SP, controller: j.Controller, subject: j.Subject, purpose: j.Purpose}
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
