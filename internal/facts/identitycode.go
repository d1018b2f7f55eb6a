package facts

import (
	"time"
	"unicode"
	"unicode/utf8"
)

// checkChars maps DDMMYYNNN mod 31 to the check character of a Finnish personal
// identity code (henkilötunnus).
const checkChars = "0123456789ABCDEFHJKLMNPRSTUVWXY"

// centuries maps a century sign to the century it adds to YY. The signs Y X W V U and
// B C D E F were added in 2023 beside - and A.
var centuries = map[byte]int{
	'+': 1800,
	'-': 1900, 'Y': 1900, 'X': 1900, 'W': 1900, 'V': 1900, 'U': 1900,
	'A': 2000, 'B': 2000, 'C': 2000, 'D': 2000, 'E': 2000, 'F': 2000,
}

// ContainsIdentityCode reports whether s contains a checksum-valid Finnish personal
// identity code as a whole token (TERMS.md, "Identity codes"): neither glued to a
// letter nor to a digit on either side, so MPASSOID.3b9e170398a9134f… holds none; its
// century sign and check character upper-case exactly; DDMMYY a real date. Individual
// numbers 900–999 (temporary and test codes) count.
func ContainsIdentityCode(s string) bool {
	const n = 11
	for i := 0; i+n <= len(s); i++ {
		// cheap rejections first: ingest asks this of every value
		if !isDigit(s[i+5]) {
			i += 5 // no code starting at i to i+5 has a digit at i+5 as it needs
			continue
		}
		if !isDigit(s[i]) || !isDigit(s[i+9]) || !centurySign(s[i+6]) {
			continue
		}
		if i > 0 && gluedBefore(s[:i]) {
			continue
		}
		if i+n < len(s) && gluedAfter(s[i+n:]) {
			continue
		}
		if IsIdentityCode(s[i : i+n]) {
			return true
		}
	}
	return false
}

// gluedBefore reports whether the text before a candidate ends in a letter or digit.
func gluedBefore(before string) bool {
	c := before[len(before)-1]
	if c < utf8.RuneSelf {
		return isDigit(c) || ('a' <= c|0x20 && c|0x20 <= 'z')
	}
	r, _ := utf8.DecodeLastRuneInString(before)
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// gluedAfter reports whether the text after a candidate starts with a letter or digit.
func gluedAfter(after string) bool {
	c := after[0]
	if c < utf8.RuneSelf {
		return isDigit(c) || ('a' <= c|0x20 && c|0x20 <= 'z')
	}
	r, _ := utf8.DecodeRuneInString(after)
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// IsIdentityCode reports whether s is exactly one checksum-valid identity code: DDMMYY
// of a real date, an upper-case century sign, three digits and the upper-case check
// character of DDMMYYNNN mod 31.
func IsIdentityCode(s string) bool {
	if len(s) != 11 {
		return false
	}
	for _, i := range [...]int{0, 1, 2, 3, 4, 5, 7, 8, 9} {
		if !isDigit(s[i]) {
			return false
		}
	}
	century, ok := centuries[s[6]]
	if !ok {
		return false
	}
	day := num(s[0:2])
	month := num(s[2:4])
	year := century + num(s[4:6])
	if month < 1 || month > 12 || day < 1 {
		return false
	}
	if d := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC); d.Day() != day {
		return false // 31.4. or 29.2. of a common year
	}
	n := num(s[0:6])*1000 + num(s[7:10])
	return checkChars[n%31] == s[10]
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// centurySign reports whether c is one of the century signs (see centuries), without
// the map lookup: every digit run of every value (OIDs, school codes) is a candidate.
func centurySign(c byte) bool {
	switch c {
	case '+', '-', 'Y', 'X', 'W', 'V', 'U', 'A', 'B', 'C', 'D', 'E', 'F':
		return true
	}
	return false
}

// num parses a run of ASCII digits already checked by the caller.
func num(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
