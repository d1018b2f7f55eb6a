package output

import (
	"strings"
	"unicode/utf8"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// formulaStarts are the characters a spreadsheet may read a cell as a formula by (OWASP
// "CSV Injection": = + - @, a tab, a carriage return; a line feed too), with the
// full-width forms some spreadsheets fold to them.
const formulaStarts = "=+-@\t\r\n＝＋－＠"

// CSVCell makes a cell safe to open and to print. It neutralises formula injection: a
// cell that begins with a formula character, or with spaces and then one (spreadsheets
// may skip leading spaces), gets a leading apostrophe, which spreadsheets show as text
// and do not evaluate. An SP id, a record id or an attribute name comes from logs anyone
// can shape, and a cell =HYPERLINK(…) or -2+3 would otherwise run in the DPO's
// spreadsheet. Then its control characters are escaped (mpass.Printable), as a CSV on
// stdout is read in a terminal as often as in a spreadsheet.
func CSVCell(s string) string {
	r, _ := utf8.DecodeRuneInString(strings.TrimLeft(s, " "))
	if strings.ContainsRune(formulaStarts, r) {
		s = "'" + s
	}
	return mpass.Printable(s)
}

// SafeCSV neutralises every cell of row (CSVCell) in place and returns it: the one
// helper for every CSV the product writes (audit --format csv, the pages' findings.csv).
func SafeCSV(row []string) []string {
	for i, c := range row {
		row[i] = CSVCell(c)
	}
	return row
}
