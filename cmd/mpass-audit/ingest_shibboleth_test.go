package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	kuvitteela = "1.2.246.562.10.12345678903"
	v4Log      = "../../testdata/mpassid/idp-audit-v4.log"
	v3Log      = "../../testdata/mpassid/idp-audit-v3.log"
)

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	if _, err := z.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOpenInput: a gzip file is read as it is, known by its magic bytes.
func TestOpenInput(t *testing.T) {
	dir := t.TempDir()
	text := []byte("line one\nline two\n")
	z := gzipped(t, text)
	for _, tc := range []struct {
		name, file string
		data       []byte
		stdin      []byte
		want       string
		err        string
	}{
		{name: "plain", file: "a.log", data: text, want: string(text)},
		{name: "gzip by name", file: "a.log.gz", data: z, want: string(text)},
		{name: "gzip without .gz", file: "idp-audit.log.2026-10-07", data: z, want: string(text)},
		{name: "two gzip members, as cat a.gz b.gz", file: "ab.gz", data: append(append([]byte{}, z...), z...), want: string(text) + string(text)},
		{name: "plain named .gz", file: "b.log.gz", data: text, want: string(text)},
		{name: "one byte", file: "c.log", data: []byte{0x1f}, want: "\x1f"},
		{name: "empty", file: "d.log", data: nil, want: ""},
		{name: "gzip on stdin", file: "-", stdin: z, want: string(text)},
		{name: "plain stdin", file: "-", stdin: text, want: string(text)},
		{name: "broken gzip header", file: "e.log.gz", data: []byte{0x1f, 0x8b, 0, 0}, err: "e.log.gz: a gzip file that cannot be read"},
		{name: "missing", file: "missing.log", err: "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.file
			if path != "-" {
				path = filepath.Join(dir, tc.file)
				if tc.data != nil || tc.name != "missing" {
					writeFile(t, path, tc.data)
				}
			}
			r, closer, err := openInput(path, bytes.NewReader(tc.stdin), nil)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer closer.Close()
			got, err := io.ReadAll(r)
			if err != nil || string(got) != tc.want {
				t.Errorf("read %q (%v), want %q", got, err, tc.want)
			}
		})
	}
}

// TestIngestShibbolethFlags: what the ingest command makes of the Shibboleth flags and
// of rotated, compressed logs.
func TestIngestShibbolethFlags(t *testing.T) {
	dir := t.TempDir()
	v4, err := os.ReadFile(v4Log)
	if err != nil {
		t.Fatal(err)
	}
	rotated := writeFile(t, filepath.Join(dir, "idp-audit.log.2026-10-07"), gzipped(t, v4))
	rotatedGz := writeFile(t, filepath.Join(dir, "idp-audit-2026-10-07.log.gz"), gzipped(t, v4))
	anonymous := writeFile(t, filepath.Join(dir, "upload.bin"), gzipped(t, []byte(`{"kind":"use","id":"u-1","time":"2026-10-09T12:00:00Z","sp":"s","subject":"x","purpose":"analytics"}`+"\n")))
	flowLog := writeFile(t, filepath.Join(dir, "flows.log"), []byte(
		"2026-10-07T10:58:12+0300|u1|https://sso.oppimateriaali.example/shibboleth|mpassUsername,mpassRole|ShibKuvitteela|_flow1\n"+
			"2026-10-07T10:58:13+0300|u2|https://sso.oppimateriaali.example/shibboleth|mpassUsername,mpassRole|OpinsysKuvitteela|_flow2\n"+
			"2026-10-07T10:58:14+0300|u3@1.2.246.562.10.44444444440|https://sso.oppimateriaali.example/shibboleth|mpassUsername|Unknown|_flow3\n"+
			"2026-10-07T10:58:15+0300|u4|https://sso.oppimateriaali.example/shibboleth|mpassUsername|Unknown|_flow4\n"))
	flowArgs := []string{"ingest", "--log-format", "%T|%u|%SP|%attr|%flow|%i", "--flow-field", "%flow", "--flow", "ShibKuvitteela=" + kuvitteela, "--flow", "OpinsysKuvitteela=" + kuvitteela}
	scope := "--scope=KUVITTEELA.example=" + kuvitteela
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  string
		err  string
	}{
		{"idp4, scopes in any case", []string{"ingest", scope, v4Log}, 0, "stored 3, duplicate 0, rejected 0, skipped 2 (not releases)", ""},
		{"the gzip copy: duplicates", []string{"ingest", scope, v4Log + ".gz"}, 0, "stored 0, duplicate 3, rejected 0, skipped 2", ""},
		{"rotated, compressed, no .gz", []string{"ingest", scope, rotated}, 0, "stored 0, duplicate 3, rejected 0, skipped 2", ""},
		{"rotated, compressed, .log.gz", []string{"ingest", scope, rotatedGz}, 0, "duplicate 3", ""},
		{"compressed JSON Lines by content", []string{"ingest", anonymous}, 0, "stored 1, duplicate 0, rejected 0", ""},
		{"compressed on stdin", []string{"ingest", scope, "--format", "shibboleth", "-"}, 0, "duplicate 3", ""},
		{"idp3 without a controller", []string{"ingest", "--log-format", "idp3", v3Log}, 1, "rejected 2", "idp-audit-v3.log:1: controller: not found: its principal has no @scope; give --controller OID"},
		{"idp3 read as idp4", []string{"ingest", "--controller", kuvitteela, v3Log}, 1, "rejected 2", "14 fields where the log format has 21 (an IdP 3 log? --log-format idp3)"},
		{"idp3", []string{"ingest", "--log-format", "idp3", "--controller", kuvitteela, v3Log}, 0, "stored 2, duplicate 0, rejected 0", ""},
		{"flows", append(flowArgs, flowLog), 1, "stored 3, duplicate 0, rejected 1", "flows.log:4: controller: not found: its %flow is not mapped by --flow, its principal has no @scope"},
		{"subject field", []string{"ingest", "--format", "shibboleth", "--log-format", "%T|%u|%SP|%attr|%flow|%i", "--subject-field", "%flow", "--controller", kuvitteela, flowLog}, 1, "stored 1, duplicate 0, rejected 3", "flows.log:1: id: id conflict"}, // the same assertion ids read with other subjects and controllers
		{"controller check digit", []string{"ingest", "--controller", "1.2.246.562.10.12345678900", v4Log}, 2, "", `--controller "1.2.246.562.10.12345678900" has a wrong check digit: it should end in 3`},
		{"flow check digit", append(flowArgs, "--flow", "X=1.2.246.562.10.44444444449", flowLog), 2, "", `--flow X: "1.2.246.562.10.44444444449" has a wrong check digit: it should end in 0`},
		{"flow not NAME=OID", append(flowArgs, "--flow", kuvitteela, flowLog), 2, "", "want NAME=OID"},
		{"scope check digit", []string{"ingest", "--scope", "koulu.example.fi=1.2.246.562.10.44444444449", v4Log}, 2, "", "should end in 0"},
		{"scope not SCOPE=OID", []string{"ingest", "--scope", "=" + kuvitteela, v4Log}, 2, "", "want SCOPE=OID"},
		{"flows without a flow field", []string{"ingest", "--flow", "A=" + kuvitteela, v4Log}, 2, "", "--flow-field"},
		{"a flow field without flows", []string{"ingest", "--flow-field", "%ac", v4Log}, 2, "", "--flow-field %ac: give --flow NAME=OID for its values, or import the identity providers"},
		{"a flow field not in the format", []string{"ingest", "--flow-field", "%flow", "--flow", "A=" + kuvitteela, v4Log}, 2, "", `log format "idp4" has no %flow (the flow field)`},
		{"a subject field not in the format", []string{"ingest", "--log-format", "idp3", "--subject-field", "%uid", v3Log}, 2, "", `log format "idp3" has no %uid`},
		{"an unknown log format", []string{"ingest", "--log-format", "idp6", v4Log}, 2, "", `log format "idp6" is neither idp3, idp4 nor a format string`},
		{"a bad gzip file", []string{"ingest", writeFile(t, filepath.Join(dir, "bad.log.gz"), []byte{0x1f, 0x8b, 9, 9, 9})}, 2, "", "bad.log.gz: a gzip file that cannot be read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdin := ""
			if tc.args[len(tc.args)-1] == "-" {
				stdin = string(gzipped(t, v4))
			}
			code, out, errs := run(t, dir, nil, stdin, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errs, tc.err) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, out, errs)
			}
			if code == exitUsage && strings.Count(strings.TrimSpace(errs), "\n") > 0 {
				t.Errorf("usage error is not one line: %q", errs)
			}
			// no principal ever reaches the output
			for _, id := range []string{"r4Tg7Yh2", "w2Sx4Dc6", "p9Oi8Uy7", "k7Q2hX9p", "m2Zr8Kq4"} {
				if strings.Contains(out+errs, id) {
					t.Errorf("output holds the user id %s…", id)
				}
			}
		})
	}
}
