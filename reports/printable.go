package reports

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
)

// Every string of a report's Data comes from input of any size and alphabet: SP and
// record ids, names, exception reasons. Before the layout sees them they are made
// printable here, so that nothing a record holds can crash the PDF library or bloat
// the report:
//
//   - A rune the report's fonts cannot draw becomes U+FFFD, visibly: anything outside
//     the Basic Multilingual Plane (emoji; the PDF library's font maps end at U+FFFF and
//     it panics past them), invalid UTF-8, surrogates, private use, unassigned code
//     points, and any BMP rune for which one of the Go fonts has no glyph.
//   - Control and format characters become U+FFFD too: a control character (newlines
//     included — the only line breaks of a report are the ones the layout puts there;
//     ids never hold one) and every format character, which covers the bidi overrides,
//     embeddings, isolates and marks (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F,
//     U+061C) and the invisible joiners and spaces: an SP name must not reorder the
//     text around it or pass for another. Only in free text (maxText fields) does a
//     line break or tab become a space, since a YAML reason may span lines.
//   - A string over its limit (maxID runes for ids, names and titles maxName, free text maxText)
//     is cut to head + "…" + the first 8 hex digits of the SHA-256 of the whole string
//     (before any replacement), the result exactly the limit long. Two long ids that
//     share their head stay apart, and the digest finds the record with
//     `printf %s ID | sha256sum`.
const (
	maxID   = 96  // ids and every field not named below: one row of a table
	maxName = 160 // Name, Names, Title: an organisation's or service's name
	maxText = 480 // Reason, Clause, Description, References, Message: prose
	digestN = 8   // hex digits of the SHA-256 after a cut
)

// limitOf is the rune limit of a Data field by its name; nested values (a slice's
// elements, a map's values) take their field's.
func limitOf(field string) int {
	switch field {
	case "Name", "Names", "Title":
		return maxName
	case "Reason", "Clause", "Description", "References", "Message", "WhatToDo":
		return maxText
	}
	return maxID
}

// glyphs is the set of BMP runes that every font of the report has a glyph for, as a
// bitset (8 KiB): built once from the embedded fonts, then only read. A string may be
// set in any of them (regular, bold, italic; mono for digests), so a rune must be in all.
var glyphs = sync.OnceValue(func() *[0x10000 / 64]uint64 {
	var set [0x10000 / 64]uint64
	for i := range set {
		set[i] = ^uint64(0)
	}
	var buf sfnt.Buffer
	for _, ttf := range [][]byte{goregular.TTF, gobold.TTF, goitalic.TTF, gomono.TTF} {
		f, err := sfnt.Parse(ttf)
		if err != nil {
			panic("reports: embedded Go font: " + err.Error()) // the binary's own bytes
		}
		for r := range rune(0x10000) {
			if i, err := f.GlyphIndex(&buf, r); err != nil || i == 0 {
				set[r/64] &^= 1 << (r % 64)
			}
		}
	}
	return &set
})

// hasGlyph reports whether every font of the report draws r.
func hasGlyph(r rune) bool {
	return r >= 0 && r < 0x10000 && glyphs()[r/64]&(1<<(r%64)) != 0
}

// shown reports whether r may reach the PDF as it is (see the comment on the limits).
func shown(r rune) bool {
	if r >= 0x20 && r < 0x7F {
		return true // ASCII letters, digits, punctuation and the space: every font has them
	}
	if r == utf8.RuneError || r > 0xFFFF || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Cs, unicode.Co, unicode.Zl, unicode.Zp) {
		return false
	}
	if !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs) {
		return false // unassigned
	}
	return hasGlyph(r)
}

// printable is s as the report can show it in a field of the given rune limit.
func printable(s string, limit int) string {
	n := 0
	clean := true
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || (r != utf8.RuneError && !shown(r)) {
			clean = false
			break
		}
		i += size
		n++
	}
	if clean && n <= limit {
		return s
	}
	var b strings.Builder
	head := limit - 1 - digestN
	n = 0
	for _, r := range s {
		if n == head && utf8.RuneCountInString(s) > limit {
			sum := sha256.Sum256([]byte(s))
			b.WriteString("…")
			b.WriteString(hex.EncodeToString(sum[:])[:digestN])
			break
		}
		switch {
		case limit == maxText && (r == '\n' || r == '\r' || r == '\t'):
			r = ' '
		case !shown(r):
			r = '\uFFFD'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// printableAll makes every settable string reachable from v printable, in place, with
// the limit of the field that holds it. It stops with ctx's error when ctx ends (the
// data of a national report is large).
func printableAll(ctx context.Context, v reflect.Value, limit int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return printableAll(ctx, v.Elem(), limit)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				if err := printableAll(ctx, v.Field(i), limitOf(f.Name)); err != nil {
					return err
				}
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := printableAll(ctx, v.Index(i), limit); err != nil {
				return err
			}
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			if err := printableAll(ctx, e, limit); err != nil {
				return err
			}
			v.SetMapIndex(k, e)
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(printable(v.String(), limit))
		}
	}
	return nil
}
