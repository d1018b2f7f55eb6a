package facts

import (
	"regexp"
	"strings"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// EmailYears returns the four-digit runs of 1900–2099 in an e-mail address's local part,
// candidates for a birth year; the policy decides which count.
func EmailYears(email string) []int {
	local := email
	if at := strings.LastIndexByte(email, '@'); at >= 0 {
		local = email[:at]
	}
	var years []int
	for i := 0; i < len(local); {
		if !isDigit(local[i]) {
			i++
			continue
		}
		j := i
		for j < len(local) && isDigit(local[j]) {
			j++
		}
		if j-i == 4 {
			if y := num(local[i:j]); 1900 <= y && y <= 2099 {
				years = append(years, y)
			}
		}
		i = j
	}
	return years
}

// DateOfBirthShape reports whether a whole value looks like a date: ISO 8601
// (2012-05-17), SCHAC (20120517) or Finnish (17.5.2012), and a real one.
func DateOfBirthShape(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) < 8 || len(s) > 10 || strings.Trim(s, "0123456789.-") != "" {
		return false // most values: no time.Parse, whose errors allocate
	}
	for _, layout := range [...]string{"2006-01-02", "20060102", "2.1.2006", "02.01.2006"} {
		if len(s) != len(layout) && layout != "2.1.2006" {
			continue
		}
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

// learnerRoleNames are role names that make a learner, lower-cased (TERMS.md).
var learnerRoleNames = map[string]bool{
	"oppilas": true, "opiskelija": true, "oppija": true, "student": true,
	"learner": true, "inlärare": true, "elev": true, "studerande": true,
}

// roleNames are the role names of the data model's six role codes (1 learner, 2
// teacher, 3 staff, 4 school secretary, 5 substitute teacher, 6 principal) in Finnish,
// Swedish and English, lower-cased: the only role names the auditor keeps.
var roleNames = map[string]bool{
	"opettaja": true, "lärare": true, "teacher": true,
	"henkilökunta": true, "henkilöstö": true, "personal": true, "staff": true,
	"koulusihteeri": true, "skolsekreterare": true, "school secretary": true,
	"sijaisopettaja": true, "vikarie": true, "vikarierande lärare": true, "substitute teacher": true,
	"rehtori": true, "rektor": true, "principal": true,
}

// OtherRole stands for a role name or code that was there but is not a word of the
// data model's vocabulary: the fact that a role said something is kept, its text (which
// may be a person's name, an e-mail address or an identity code) is not.
const OtherRole = "other"

// knownRoleName is a role name lower-cased where it is a word of the vocabulary
// (a learner role name or one of roleNames), OtherRole for any other text, "" for none.
func knownRoleName(name string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return ""
	}
	// an ASCII name lower-cased on the stack (every release's role has one, mostly
	// capitalised: "Oppilas"), the map's own key returned; any other through ToLower
	var buf [24]byte
	if len(name) <= len(buf) {
		ascii := true
		for i := 0; i < len(name); i++ {
			c := name[i]
			if c >= 0x80 {
				ascii = false
				break
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
		}
		if ascii {
			if k, ok := vocabulary[string(buf[:len(name)])]; ok {
				return k
			}
			return OtherRole
		}
	}
	if k, ok := vocabulary[strings.ToLower(name)]; ok {
		return k
	}
	return OtherRole
}

// vocabulary maps each name of learnerRoleNames and roleNames to itself.
var vocabulary = func() map[string]string {
	m := map[string]string{}
	for _, names := range []map[string]bool{learnerRoleNames, roleNames} {
		for n := range names {
			m[n] = n
		}
	}
	return m
}()

// knownRoleCode is a role code of the data model (1–6), OtherRole for any other text,
// "" for none.
func knownRoleCode(code string) string {
	c := strings.TrimSpace(code)
	switch {
	case c == "":
		return ""
	case len(c) == 1 && '1' <= c[0] && c[0] <= '6':
		return c
	}
	return OtherRole
}

// IsLearnerRole reports whether a role makes its holder a learner: role code 1 or a
// learner role name, case-insensitive.
func IsLearnerRole(r mpass.Role) bool {
	return r.Code == "1" || learnerRoleNames[strings.ToLower(strings.TrimSpace(r.Name))]
}

// ParseRole parses a role value: the 7-field form of data model 1.4
// (<provider OID>;<school code>;<class>;<role name>;<role code>;<school OID>;<office OID>)
// or the legacy 4-field form (<provider>;<school>;<class>;<role name>). It reports false
// for a value with fewer than four fields.
func ParseRole(v string) (mpass.Role, bool) {
	var f [5]string // the fields read; without strings.Split's allocation (every release)
	n := 0
	for {
		i := strings.IndexByte(v, ';')
		if i < 0 {
			i = len(v)
		}
		if n < len(f) {
			f[n] = strings.TrimSpace(v[:i])
		}
		n++
		if i == len(v) {
			break
		}
		v = v[i+1:]
	}
	if n < 4 {
		return mpass.Role{}, false
	}
	r := mpass.Role{Controller: f[0], School: f[1], Class: f[2], Name: f[3], Code: f[4]}
	r.ClassGrade = r.Class != "" && isDigit(r.Class[0])
	return r, true
}

// Grade reduces a class-level value to its grade digits, or "" where it has none.
func Grade(v string) string {
	v = strings.TrimSpace(v)
	i := 0
	for i < len(v) && i < 2 && isDigit(v[i]) {
		i++
	}
	return v[:i]
}

// emailShape is an e-mail address anywhere in a string: a local part, an @, and a
// domain with at least one dot.
var emailShape = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+`)

// ContainsEmail reports whether s holds something shaped like an e-mail address: a
// record's id, SP or purpose is an identifier, never a person's address (issue 14).
func ContainsEmail(s string) bool {
	return strings.IndexByte(s, '@') >= 0 && emailShape.MatchString(s)
}
