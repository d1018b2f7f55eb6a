package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyRotate (issue 14): the key is replaced only by `key rotate --confirm`, by one
// who holds the current key; after it the new key works, the old one is refused, and
// new pseudonyms are not the old ones.
func TestKeyRotate(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "a.db.key")
	if code, out, errs := run(t, dir, nil, "", "registry", "load", "../../testdata/demo/registry.yaml"); code != 0 {
		t.Fatalf("registry load: %d %s%s", code, out, errs)
	}
	_, before, _ := run(t, dir, nil, "", "pseudonym", "MPASSOID.abc")
	oldKey, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(t, dir, nil, "", "key", "rotate"); code != exitUsage || !strings.Contains(errs, "--confirm") {
		t.Fatalf("rotate without --confirm: exit %d %s", code, errs)
	}
	if code, _, errs := run(t, dir, map[string]string{"MPASS_AUDIT_KEY": "another-key-0123456789"}, "", "key", "rotate", "--confirm"); code != exitUsage {
		t.Fatalf("rotate with another key: exit %d %s", code, errs)
	}
	if b, _ := os.ReadFile(keyFile); string(b) != string(oldKey) {
		t.Fatal("a refused rotation changed the key file")
	}
	if code, out, errs := run(t, dir, nil, "", "key", "rotate", "--confirm"); code != 0 || !strings.Contains(out, "key rotated") {
		t.Fatalf("rotate: exit %d %s%s", code, out, errs)
	}
	newKey, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(keyFile); string(newKey) == string(oldKey) || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file after rotation: same %v, mode %v", string(newKey) == string(oldKey), st.Mode().Perm())
	}
	code, after, errs := run(t, dir, nil, "", "pseudonym", "MPASSOID.abc")
	if code != 0 || after == before {
		t.Errorf("pseudonym after rotation: exit %d %q (before %q) %s", code, after, before, errs)
	}
	old := map[string]string{"MPASS_AUDIT_KEY": strings.TrimSpace(string(oldKey))}
	if code, _, errs := run(t, dir, old, "", "pseudonym", "MPASSOID.abc"); code != exitUsage || !strings.Contains(errs, "check value differs") {
		t.Errorf("the old key after rotation: exit %d %s", code, errs)
	}
}
