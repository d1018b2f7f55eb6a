package mpass

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Printable returns s with every rune a terminal or log reader could mistake for
// something else escaped as in a Go string literal: control characters (\n, \r, \t,
// \x1b of an ANSI escape), other non-printing runes (bidirectional overrides, U+2028)
// and invalid UTF-8 (\xff). Printable text, backslashes included, is left as it is, so
// a normal name or file name reads unchanged.
//
// Anything shaped by input (an SP id, a record id, a file name, a rejection reason) is
// passed through it before it reaches a terminal or a plain-text log: a record could
// otherwise recolour the terminal, rewrite the line above or forge a line of its own.
func Printable(s string) string {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || !strconv.IsPrint(r) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[i])&0xf, 16))
		case strconv.IsPrint(r):
			b.WriteString(s[i : i+size])
		default:
			q := strconv.QuoteRune(r) // '\x1b', '\n', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}
