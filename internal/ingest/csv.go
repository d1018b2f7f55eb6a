package ingest

import (
	"bytes"
	"encoding/csv"
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
	if attrs := strings.TrimSpace(get(7)); attrs != "" {
		f.values = map[string][]string{}
		for _, pair := range strings.Split(attrs, ";") {
			name, value, hasValue := strings.Cut(pair, "=")
			if strings.TrimSpace(name) == "" {
				return reject(source, l, "attributes", "an attribute name is empty (name=value;name=value)")
			}
			if f.kind == "use" || !hasValue {
				if _, seen := f.values[name]; !seen {
					f.values[name] = nil // names only
				}
				continue
			}
			f.values[name] = append(f.values[name], value)
		}
	}
	return p.record(source, l, f)
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
