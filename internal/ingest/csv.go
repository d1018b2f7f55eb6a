package ingest

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strings"
)

// csvColumns is the header RECORDS.md requires.
var csvColumns = []string{"kind", "id", "time", "sp", "controller", "subject", "purpose", "attributes"}

// csvParser reads CSV with a header row. One record is one line: a quoted field may not
// span lines, which keeps every rejection on one line number and memory bounded.
type csvParser struct {
	*normalizer
	columns []int // column index of each csvColumns name; nil until the header is read
	bad     string
}

func (p *csvParser) parse(source string, l line) parsed {
	if bad, ok := checkLine(source, l); !ok {
		return bad
	}
	if blank(l.text) {
		return parsed{}
	}
	r := csv.NewReader(bytes.NewReader(l.text))
	r.FieldsPerRecord = -1
	row, err := r.Read()
	if err != nil {
		return reject(source, l, "", "CSV: "+strings.TrimPrefix(err.Error(), "record on line 1: "))
	}
	if p.columns == nil && p.bad == "" {
		return p.readHeader(source, l, row)
	}
	if p.bad != "" {
		return reject(source, l, "", p.bad)
	}
	if len(row) != len(p.columns) {
		return reject(source, l, "", "CSV: wrong number of fields")
	}
	get := func(name int) string { return row[p.columns[name]] }
	f := fields{kind: get(0), id: get(1), time: get(2), sp: get(3), controller: get(4), subject: get(5), purpose: get(6)}
	values, err := p.csvAttributes(get(7), f.kind == "use")
	if err != nil {
		return reject(source, l, "attributes", err.Error())
	}
	f.values = values
	return p.record(source, l, f)
}

// multiField are attributes whose values hold ';' themselves (a role has seven fields):
// in name=value;name=value a segment without '=' after one of them continues its value.
var multiField = map[string]bool{
	"urn:mpass.id:role": true, "urn:educloudalliance.org:structuredRole": true, "urn:mpass.id:schoolInfo": true,
	"urn:mpass.id:educationProviderInfo": true, "urn:mpass.id:learningMaterialsCharge": true,
}

// csvAttributes parses name=value;name=value. A name without '=' is names only; for a
// use every name is.
func (p *csvParser) csvAttributes(text string, namesOnly bool) (map[string][]string, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	out := map[string][]string{}
	last, lastIdx := "", -1 // the multi-field attribute whose value is being continued
	for _, seg := range strings.Split(text, ";") {
		name, value, hasValue := strings.Cut(seg, "=")
		if !hasValue && last != "" {
			out[last][lastIdx] += ";" + seg
			continue
		}
		last = ""
		if strings.TrimSpace(name) == "" {
			if seg == "" {
				continue // a trailing or doubled ';'
			}
			return nil, errors.New("an attribute name is empty (name=value;name=value)")
		}
		if namesOnly || !hasValue {
			if _, seen := out[name]; !seen {
				out[name] = nil
			}
			continue
		}
		out[name] = append(out[name], value)
		if multiField[p.x.Catalog().Canonical(name)] {
			last, lastIdx = name, len(out[name])-1
		}
	}
	return out, nil
}

// header reads the header row before the workers start; any column order is accepted.
func (p *csvParser) header(source string, l line) parsed { return p.parse(source, l) }

// readHeader reads the header row.
func (p *csvParser) readHeader(source string, l line, row []string) parsed {
	idx := map[string]int{}
	for i, c := range row {
		idx[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(c, "\ufeff")))] = i
	}
	header := make([]int, len(csvColumns))
	for i, c := range csvColumns {
		j, ok := idx[c]
		if !ok {
			p.bad = "CSV header missing column " + c + " (need " + strings.Join(csvColumns, ",") + ")"
			return reject(source, l, c, "header missing this column")
		}
		header[i] = j
	}
	if len(row) != len(csvColumns) {
		p.bad = "CSV header has unknown columns"
		return reject(source, l, "", p.bad)
	}
	p.columns = header
	return parsed{}
}
