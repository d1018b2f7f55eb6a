package ingest

import (
	"bytes"
	"encoding/csv"
	"strings"

	"github.com/opetushallitus/mpass-audit/internal/facts"
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
	values, why := csvAttributes(get(7), f.kind == "use", p.x.Catalog().Known)
	if why != "" {
		return reject(source, l, "attributes", why)
	}
	f.values = values
	return p.record(source, l, f)
}

// csvAttributes reads the attributes field of a CSV line (RECORDS.md "CSV"). The
// grammar, exactly:
//
//   - A field that is empty or only spaces holds no attributes.
//   - A release is name=value;name=value. The name runs up to the first '=' and the
//     value from there up to the next ';' that is followed directly by a well-formed
//     name and '=' (or to the end of the field). Every other ';' is part of the value:
//     MPASSid's own values hold ';' (a role has seven ';'-separated fields, school info
//     is "<code>;<name>"), and so a doubled or trailing ';' is too ("…;<school OID>;"
//     keeps its empty office field). Values may be empty: name= is one empty value.
//   - Inside a value, \; \= and \\ are a literal ';', '=' and '\'; an escaped ';' never
//     ends a value. Any other backslash escape, or a lone '\' at the end, could be read
//     more ways than one: the line is rejected. An unescaped '=' inside a value is text
//     ("mail=a=b" is mail with the value "a=b").
//   - Names only: in a release, bare names before the first name=value are attributes
//     logged without values ("givenName;mail;uid=x": givenName and mail names only, uid
//     one value). After a value has begun, a segment without name= always continues
//     that value, so no piece of a value is ever read as a name.
//   - A use lists names only: name;name, or name= (no value after the '='). A use with
//     a value is rejected: "mail=x;y" could be the name y or a piece of the value.
//   - A well-formed name (see facts.NameProblem) starts with an ASCII letter and holds only
//     ASCII letters, digits, '_', '-', '.' and ':', at most facts.MaxNameLen of them; after
//     "urn:oid:" come only digits and dots (a dotted OID); and it holds no personal
//     identity code (facts.ContainsIdentityCode). Every SAML name (a URN, an urn:oid:),
//     FriendlyName, resolver id and OIDC claim is one; an identity code, a date, a
//     number or a word with spaces is not.
//   - Where a name is expected (every segment of a use, and in a release every segment
//     before the first value), spaces and tabs around the name are dropped, an empty
//     segment (a doubled or trailing ';') is skipped, and anything that is not a
//     well-formed name rejects the line; so does an empty name before '=' ("=value").
//   - After a value has begun, a ';' followed by a name with spaces around it and then
//     '=' ("x=1; mail=y") could start an attribute or continue the value: rejected. So
//     is a ';' followed by a well-formed name the attribute catalog (and name map) does
//     not know, then '=': "x=abc;ZGVhZGJlZWY=" could be base64 text of the value.
//
// Rejection reasons say how to write the field and never quote it: the text may be a
// value. Values are substrings of text unless they held an escape.
func csvAttributes(text string, use bool, known func(name string) bool) (map[string][]string, string) {
	if isBlankField(text) {
		return nil, ""
	}
	escapes := strings.IndexByte(text, '\\') >= 0
	out := make(map[string][]string, 8)
	// name positions: names only, until the first name=; v is where its value begins
	i, v := 0, -1
	var name string
	for i < len(text) {
		s := skipSpaces(text, i)
		e, digits := scanName(text, s)
		n := text[s:e]
		j := skipSpaces(text, e)
		var next byte = ';'
		if j < len(text) {
			next = text[j]
		}
		if next != ';' && next != '=' {
			return nil, reasonName
		}
		if n == "" {
			if next == '=' {
				return nil, reasonEmptyName
			}
			i = j + 1 // an empty segment
			continue
		}
		if why := nameProblem(n, digits); why != "" {
			return nil, why
		}
		if next == '=' && !use {
			name, v = n, j+1
			break
		}
		if next == '=' { // a use: name= and nothing after it
			if j = skipSpaces(text, j+1); j < len(text) && text[j] != ';' {
				return nil, reasonUseValue
			}
		}
		if _, seen := out[n]; !seen {
			out[n] = nil
		}
		i = j + 1
	}
	if v < 0 {
		return out, ""
	}
	// values: each runs to the next ';' followed directly by name=, or to the end
	vals := make([]string, 0, strings.Count(text[v:], "=")+1) // one array for all values
	for {
		end, next := len(text), len(text)
		for pos := v; ; {
			j := len(text)
			if escapes {
				var why string
				if j, why = nextSemicolon(text, pos); why != "" {
					return nil, why
				}
			} else if k := strings.IndexByte(text[pos:], ';'); k >= 0 {
				j = pos + k
			}
			if j == len(text) {
				break
			}
			k := j + 1
			e, digits := scanName(text, k)
			if e > k && e < len(text) && text[e] == '=' && nameProblem(text[k:e], digits) == "" {
				if !known(text[k:e]) {
					return nil, reasonUnknownAfterValue
				}
				end, next = j, k
				break
			}
			if spacedName(text, k) {
				return nil, reasonSpaced
			}
			pos = k
		}
		value := text[v:end]
		if escapes {
			value = unescape(value)
		}
		if old, ok := out[name]; ok && old != nil {
			out[name] = append(old, value) // a name given twice: its values are added up
		} else {
			vals = append(vals, value)
			out[name] = vals[len(vals)-1 : len(vals) : len(vals)]
		}
		if next == len(text) {
			return out, ""
		}
		e, _ := scanName(text, next)
		name, v = text[next:e], e+1
	}
}

// Reasons a CSV attributes field is rejected for. They say how to write it and never
// quote the field, which may hold values.
const (
	reasonEmptyName = "an attribute name is empty (write name=value;name=value)"
	reasonName      = "an attribute name must start with a letter and hold only letters, digits, _ - . : (write name=value;name=value, and \\; \\= \\\\ for a ; = \\ inside a value)"
	reasonLongName  = "an attribute name is longer than 256 characters (write name=value;name=value, and \\; for a ; inside a value)"
	reasonOIDName   = "an attribute name urn:oid: must go on with a dotted OID (digits and dots)"
	reasonCodeName  = "an attribute name holds a personal identity code, so it is value text, not a name (write \\; for a ; inside a value)"
	reasonSpaced    = "after ';' a name with spaces around it, then '=': it could start an attribute or continue the value before it (write name=value;name=value without spaces, or \\; for a ; inside a value)"
	reasonEscape    = "a backslash in a value must come before ; = or \\ (write \\; \\= \\\\ for a literal ; = \\)"
	reasonTrailing  = "a value ends in a lone backslash (write \\\\ for a literal \\)"
	reasonUseValue  = "a use names attributes only (write name;name, without values)"
	// base64 "…;ZGVhZGJlZWY=" is a value's piece or an attribute: only a name the catalog
	// (or the name map) knows starts an attribute after a value
	reasonUnknownAfterValue = "after a value, ';' and a name the attribute catalog does not know, then '=': it could be part of the value (write \\; and \\= inside a value, or map the name with names:)"
)

// scanName returns the end of the run of name bytes from i and how many digits it holds.
func scanName(text string, i int) (end, digits int) {
	for end = i; end < len(text) && facts.IsNameByte(text[end]); end++ {
		if c := text[end]; '0' <= c && c <= '9' {
			digits++
		}
	}
	return end, digits
}

// nameProblem is why a run of name bytes holding digits digits is no attribute name
// (facts.NameProblem, with how to write the field), or "" when it is one.
func nameProblem(name string, digits int) string {
	if digits < 9 && name != "" && len(name) <= facts.MaxNameLen && ('a' <= name[0] && name[0] <= 'z' || 'A' <= name[0] && name[0] <= 'Z') &&
		!(len(name) >= 8 && strings.EqualFold(name[:8], "urn:oid:")) {
		return "" // the common case, without a second pass over the name
	}
	switch facts.NameProblem(name) {
	case nil:
		return ""
	case facts.ErrNameEmpty:
		return reasonEmptyName
	case facts.ErrNameLong:
		return reasonLongName
	case facts.ErrNameOID:
		return reasonOIDName
	case facts.ErrNameCode:
		return reasonCodeName
	}
	return reasonName
}

// spacedName reports whether text at i is spaces, a well-formed name, spaces, then '=',
// with at least one space: the segment after a ';' that could be read two ways.
func spacedName(text string, i int) bool {
	s := skipSpaces(text, i)
	e, digits := scanName(text, s)
	j := skipSpaces(text, e)
	return (s > i || j > e) && j < len(text) && text[j] == '=' && nameProblem(text[s:e], digits) == ""
}

// nextSemicolon returns the index of the next ';' from i that is not escaped (or
// len(text)), checking every escape on the way.
func nextSemicolon(text string, i int) (int, string) {
	for ; i < len(text); i++ {
		switch text[i] {
		case ';':
			return i, ""
		case '\\':
			if i+1 == len(text) {
				return 0, reasonTrailing
			}
			if c := text[i+1]; c != ';' && c != '=' && c != '\\' {
				return 0, reasonEscape
			}
			i++
		}
	}
	return len(text), ""
}

// unescape turns \; \= \\ into ; = \ in a value whose escapes nextSemicolon checked.
func unescape(raw string) string {
	if strings.IndexByte(raw, '\\') < 0 {
		return raw
	}
	b := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		if raw[i] == '\\' && i+1 < len(raw) {
			i++
		}
		b = append(b, raw[i])
	}
	return string(b)
}

func skipSpaces(text string, i int) int {
	for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
		i++
	}
	return i
}

// isBlankField reports whether a field is empty or only spaces.
func isBlankField(text string) bool { return strings.TrimSpace(text) == "" }

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
