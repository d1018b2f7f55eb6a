package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// shellScript is what the sqlite3 shell baseline runs, %s the CSV file quoted for the
// shell's dot-command parser (see shellQuote).
const shellScript = `PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
CREATE TABLE records (id TEXT PRIMARY KEY, kind TEXT, time TEXT, sp TEXT, controller TEXT, subject TEXT, purpose TEXT, attributes TEXT);
.import --csv %s records
`

// shellQuote quotes a dot-command argument of the sqlite3 shell: a path with a space
// is otherwise two arguments.
func shellQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// sqlite3Version is the first two fields of `sqlite3 --version` (version and date), or
// an error that says how to install the shell when it is not on PATH.
func sqlite3Version() (string, error) {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		return "", errors.New("the sqlite3 shell baseline needs the sqlite3 command-line shell on PATH: install Debian's sqlite3 package (apt-get install sqlite3)")
	}
	out, err := exec.Command("sqlite3", "--version").Output()
	if err != nil {
		return "", fmt.Errorf("sqlite3 --version: %v", err)
	}
	f := strings.Fields(string(out))
	if len(f) < 2 {
		return "", fmt.Errorf("sqlite3 --version: unexpected output %q", out)
	}
	return f[0] + " " + f[1], nil
}

// csvRecord is the part of a record the CSV carries.
type csvRecord struct {
	Kind       string          `json:"kind"`
	ID         string          `json:"id"`
	Time       string          `json:"time"`
	SP         string          `json:"sp"`
	Controller string          `json:"controller"`
	Subject    string          `json:"subject"`
	Purpose    string          `json:"purpose"`
	Attributes json.RawMessage `json:"attributes"`
}

// writeCSV streams the JSON Lines records of r to w as CSV rows of 8 columns, no
// header: id, kind, time, sp, controller, subject, purpose and the record's attribute
// names joined by a space (a release's keys of its attributes object in their order, a
// use's array items). It returns how many rows it wrote.
func writeCSV(w io.Writer, r io.Reader) (int, error) {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<20))
	cw := csv.NewWriter(w)
	n := 0
	row := make([]string, 8)
	var names []string
	for {
		var rec csvRecord
		if err := dec.Decode(&rec); err == io.EOF {
			break
		} else if err != nil {
			return n, fmt.Errorf("record %d: %w", n+1, err)
		}
		var err error
		if names, err = attributeNames(names[:0], rec.Attributes); err != nil {
			return n, fmt.Errorf("record %d (%s): attributes: %w", n+1, rec.ID, err)
		}
		row[0], row[1], row[2], row[3] = rec.ID, rec.Kind, rec.Time, rec.SP
		row[4], row[5], row[6], row[7] = rec.Controller, rec.Subject, rec.Purpose, strings.Join(names, " ")
		if err := cw.Write(row); err != nil {
			return n, err
		}
		n++
	}
	cw.Flush()
	return n, cw.Error()
}

// attributeNames appends to names the keys of an attributes object, in their order, or
// the items of an attributes array.
func attributeNames(names []string, raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return names, nil
	}
	if raw[0] == '[' {
		var items []string
		if err := json.Unmarshal(raw, &items); err != nil {
			return names, err
		}
		return append(names, items...), nil
	}
	if raw[0] != '{' {
		return names, fmt.Errorf("want an object or an array, not %.20s", raw)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // {
		return names, err
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return names, err
		}
		names = append(names, t.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return names, err
		}
	}
	return names, nil
}

// prepareCSV writes dir/records.csv from dir/records.jsonl unless it is there (generated
// data is kept between runs) and returns its path.
func prepareCSV(dir string) (string, error) {
	path := filepath.Join(dir, "records.csv")
	// kept only while it is newer than the records it was written from
	if csv, err := os.Stat(path); err == nil {
		if jsonl, err := os.Stat(filepath.Join(dir, "records.jsonl")); err == nil && !csv.ModTime().Before(jsonl.ModTime()) {
			return path, nil
		}
	}
	in, err := os.Open(filepath.Join(dir, "records.jsonl"))
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.Create(path + ".tmp")
	if err != nil {
		return "", err
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	if _, err := writeCSV(bw, in); err != nil {
		out.Close()
		return "", fmt.Errorf("%s: %w", in.Name(), err)
	}
	if err := bw.Flush(); err != nil {
		out.Close()
		return "", err
	}
	if err := out.Close(); err != nil {
		return "", err
	}
	return path, os.Rename(path+".tmp", path)
}

// shellImport times the sqlite3 shell importing dir's records.csv into a fresh
// database, checks that it holds n records and deletes it.
func shellImport(ctx context.Context, dir string, n int) (step, error) {
	csvPath, err := prepareCSV(dir)
	if err != nil {
		return step{}, err
	}
	db := filepath.Join(dir, "shell.db")
	removeDB(db)
	defer removeDB(db)
	cmd := exec.Command("sqlite3", "-bail", db)
	cmd.Stdin = strings.NewReader(fmt.Sprintf(shellScript, shellQuote(csvPath)))
	cmd.Stdout = io.Discard // the journal mode
	s, stderr, err := runMeasured(cmd, false)
	if err != nil {
		return s, err
	}
	if stderr != "" {
		return s, fmt.Errorf("sqlite3 shell import of %s: %s", csvPath, stderr)
	}
	conn, err := sql.Open("sqlite3", "file:"+db)
	if err != nil {
		return s, err
	}
	defer conn.Close()
	var got int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM records`).Scan(&got); err != nil {
		return s, fmt.Errorf("sqlite3 shell import: count the records: %w", err)
	}
	if got != n {
		return s, fmt.Errorf("sqlite3 shell import of %s: the database holds %d records, not %d", csvPath, got, n)
	}
	return s, nil
}
