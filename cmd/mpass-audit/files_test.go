package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const demoController = "1.2.246.562.10.44444444440"

// loadDemo loads the demo registry and records into dir's a.db with env's key.
func loadDemo(t *testing.T, dir string, env map[string]string) {
	t.Helper()
	for _, args := range [][]string{
		{"registry", "load", "../../testdata/demo/registry.yaml"},
		{"ingest", "../../testdata/demo/records.jsonl"},
	} {
		if code, out, errs := run(t, dir, env, "", args...); code != 0 {
			t.Fatalf("%v: %d %s %s", args, code, out, errs)
		}
	}
}

func countRecords(t *testing.T, path string) int64 {
	t.Helper()
	db := openDB(t, path)
	defer db.Close()
	rel, uses, err := db.CountRecords(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rel + uses
}

// TestKeyNeverReplaced (issue 14 item 7): a database opened with another key, or
// without the key file it was made with (a backup restored alone), is refused with
// exit 2 and left as it was; no key file is made beside it; a key file that group or
// others may read is refused with how to fix it.
func TestKeyNeverReplaced(t *testing.T) {
	dir := t.TempDir()
	loadDemo(t, dir, nil) // a new database: its key file is made
	db, keyFile := filepath.Join(dir, "a.db"), filepath.Join(dir, "a.db.key")
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	_, pseudonym, _ := run(t, dir, nil, "", "pseudonym", "MPASSOID.1")

	other := map[string]string{"MPASS_AUDIT_KEY": "another-key-0123456789abcdef"}
	for _, args := range [][]string{
		{"ingest", "../../testdata/demo/records.jsonl"},
		{"pseudonym", "MPASSOID.1"},
		{"registry", "load", "../../testdata/demo/registry.yaml"},
	} {
		code, out, errs := run(t, dir, other, "", args...)
		if code != exitUsage || !strings.Contains(errs, "is not the key of database") || out != "" {
			t.Errorf("%v with another key: %d %q %q", args, code, out, errs)
		}
	}
	if n := countRecords(t, db); n != 16 {
		t.Errorf("%d records after the refused ingest, want the 16", n)
	}

	// a backup restored without its key file
	backup := filepath.Join(dir, "restored.db")
	if code, out, errs := run(t, dir, nil, "", "backup", backup); code != 0 {
		t.Fatal(out, errs)
	}
	for _, args := range [][]string{{"ingest", "../../testdata/demo/records.jsonl"}, {"pseudonym", "x"}} {
		code, _, errs := run(t, dir, nil, "", append([]string{"--db", backup}, args...)...)
		if code != exitUsage || !strings.Contains(errs, "restored.db.key of database") || !strings.Contains(errs, "is missing") {
			t.Errorf("%v without the key file: %d %q", args, code, errs)
		}
	}
	if _, err := os.Stat(backup + ".key"); !os.IsNotExist(err) {
		t.Errorf("a key file was made beside the restored database: %v", err)
	}
	if n := countRecords(t, backup); n != 16 {
		t.Errorf("%d records in the restored database, want 16", n)
	}
	// with its key file back, it works and keeps its pseudonyms
	os.WriteFile(backup+".key", key, 0o600)
	code, out, errs := run(t, dir, nil, "", "--db", backup, "ingest", "../../testdata/demo/records.jsonl")
	if code != 0 || !strings.Contains(out, "duplicate 16") {
		t.Errorf("restored with its key: %d %s %s", code, out, errs)
	}
	if _, p, _ := run(t, dir, nil, "", "--db", backup, "pseudonym", "MPASSOID.1"); p != pseudonym {
		t.Errorf("pseudonym %q after the restore, was %q", p, pseudonym)
	}

	// a key file others may read
	os.Chmod(keyFile, 0o644)
	code, _, errs = run(t, dir, nil, "", "pseudonym", "x")
	if code != exitUsage || !strings.Contains(errs, "mode 0644") || !strings.Contains(errs, "chmod 600 "+keyFile) {
		t.Errorf("0644 key file: %d %q", code, errs)
	}
	os.Chmod(keyFile, 0o640)
	if code, _, _ := run(t, dir, nil, "", "pseudonym", "x"); code != exitUsage {
		t.Errorf("0640 key file accepted")
	}
}

// TestFileModesUnderUmask: under umask 022 the database, its -wal, the key file, a
// backup, a report and gen's files are 0600; MPASS_AUDIT_FILE_MODE=0640 widens all
// but the key.
func TestFileModesUnderUmask(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
	for _, tc := range []struct {
		env  map[string]string
		mode os.FileMode
	}{{nil, 0o600}, {map[string]string{"MPASS_AUDIT_FILE_MODE": "0640"}, 0o640}} {
		dir := t.TempDir()
		loadDemo(t, dir, tc.env)
		for _, args := range [][]string{
			{"report", "--controller", demoController, "--period", "2026-10", "-o", filepath.Join(dir, "r.pdf")},
			{"backup", filepath.Join(dir, "b.db")},
			{"gen", "--records", "10", "-o", filepath.Join(dir, "g.jsonl")},
		} {
			if code, out, errs := run(t, dir, tc.env, "", args...); code != 0 {
				t.Fatalf("%v: %d %s %s", args, code, out, errs)
			}
		}
		for name, want := range map[string]os.FileMode{"a.db": tc.mode, "a.db.key": 0o600, "r.pdf": tc.mode,
			"b.db": tc.mode, "g.jsonl": tc.mode, "registry.yaml": tc.mode} {
			if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Mode().Perm() != want {
				t.Errorf("%s: %v %v, want %04o", name, st.Mode(), err, want)
			}
		}
		// the -wal and -shm while a writer has them open
		m := &Main{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(k string) string { return tc.env[k] }, DBPath: filepath.Join(dir, "a.db")}
		db, err := m.openDB(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Purge(context.Background(), "2026-10-02"); err != nil {
			t.Fatal(err)
		}
		for _, suffix := range []string{"-wal", "-shm"} {
			if st, err := os.Stat(filepath.Join(dir, "a.db"+suffix)); err != nil || st.Mode().Perm() != tc.mode {
				t.Errorf("a.db%s: %v %v, want %04o", suffix, st.Mode(), err, tc.mode)
			}
		}
		m.Close()
	}
	if code, _, errs := run(t, t.TempDir(), map[string]string{"MPASS_AUDIT_FILE_MODE": "0644"}, "", "audit"); code != exitUsage || !strings.Contains(errs, "0600") {
		t.Errorf("MPASS_AUDIT_FILE_MODE=0644: %d %s", code, errs)
	}
}

// TestOutputsWholeOrNotAtAll (issue 14 item 11): a report that cannot be written
// whole (the real binary under a file size limit, as on a full disk) leaves the
// previous PDF byte for byte; backup targets that are no plain new file are refused.
func TestOutputsWholeOrNotAtAll(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"MPASS_AUDIT_KEY": testKey}
	loadDemo(t, dir, env)
	pdf := filepath.Join(dir, "r.pdf")
	report := []string{"report", "--controller", demoController, "--period", "2026-10", "-o", pdf}
	if code, out, errs := run(t, dir, env, "", report...); code != 0 {
		t.Fatal(out, errs)
	}
	good, _ := os.ReadFile(pdf)
	if len(good) < 48<<10 {
		t.Fatalf("the report is %d bytes: too small for the file size limit below", len(good))
	}
	cmd := exec.Command(os.Args[0], append([]string{"--db", filepath.Join(dir, "a.db")}, report...)...)
	cmd.Env = append(os.Environ(), "MPASS_AUDIT_AS_MAIN=1", "MPASS_AUDIT_KEY="+testKey, "MPASS_AUDIT_TEST_FSIZE=40960")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "file too large") {
		t.Fatalf("report under a 40 KiB file size limit: %v %s", err, out)
	}
	if now, _ := os.ReadFile(pdf); !bytes.Equal(now, good) {
		t.Errorf("the failed report changed the previous one (%d bytes, was %d)", len(now), len(good))
	}
	if ents, _ := filepath.Glob(filepath.Join(dir, ".r.pdf*")); len(ents) != 0 {
		t.Errorf("temporary files left: %v", ents)
	}

	for _, tc := range []struct{ target, want string }{
		{"x.db?mode=memory", "URI parameters"},
		{"file:" + filepath.Join(dir, "x.db"), "a URI"},
		{dir, "is a directory"},
		{"/dev/null", "special file"},
		{pdf, "exists"},
	} {
		code, out, errs := run(t, dir, env, "", "backup", tc.target)
		if code != exitUsage || strings.Contains(out, "written") || !strings.Contains(errs, tc.want) {
			t.Errorf("backup %q: %d %q %q", tc.target, code, out, errs)
		}
	}
	if _, err := os.Stat("x.db"); !os.IsNotExist(err) {
		t.Errorf("x.db: %v", err)
	}
	if code, _, errs := run(t, dir, env, "", "report", "--controller", demoController, "--period", "2026-10", "-o", dir); code != exitUsage || !strings.Contains(errs, "is a directory") {
		t.Errorf("report -o DIR: %d %s", code, errs)
	}
}
