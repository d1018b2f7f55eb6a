package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

// umask sets the process's umask for the test (no test here runs in parallel).
func umask(t *testing.T, mask int) {
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

func wantMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Errorf("%s: %v", filepath.Base(path), err)
	} else if st.Mode().Perm() != want {
		t.Errorf("%s has mode %04o, want %04o", filepath.Base(path), st.Mode().Perm(), want)
	}
}

// TestFileModes: under umask 022 the database, its -wal and -shm and a backup are
// 0600 (0640 when asked), and an older database made 0644 is narrowed at open.
func TestFileModes(t *testing.T) {
	umask(t, 0o022)
	ctx := context.Background()
	for _, mode := range []os.FileMode{0, 0o640} {
		want := mode
		if want == 0 {
			want = 0o600
		}
		dir := t.TempDir()
		db := sqlite.NewDB(filepath.Join(dir, "a.db"))
		db.Mode = mode
		if err := db.Open(ctx); err != nil {
			t.Fatal(err)
		}
		testenv.MustIngest(t, db, "jsonl", releases(0, 100, "2026-10-15"))
		for _, suffix := range []string{"", "-wal", "-shm"} {
			wantMode(t, db.Path+suffix, want)
		}
		if err := db.Backup(ctx, filepath.Join(dir, "b.db"), nil); err != nil {
			t.Fatal(err)
		}
		wantMode(t, filepath.Join(dir, "b.db"), want)
		db.Close()
	}
	// made by an older version, world-readable: narrowed
	dir := t.TempDir()
	old := filepath.Join(dir, "old.db")
	os.WriteFile(old, nil, 0o644)
	db := sqlite.NewDB(old)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	db.Close()
	wantMode(t, old, 0o600)
}

// TestBackupTargets: what is not a plain, new file path is refused before anything is
// written; nothing appears in the directory.
func TestBackupTargets(t *testing.T) {
	ctx := context.Background()
	db := testenv.MustOpenDB(t)
	dir := t.TempDir()
	t.Chdir(dir)
	os.WriteFile("taken.db", []byte("keep"), 0o600)
	os.Mkdir("d", 0o700)
	for _, tc := range []struct{ path, want string }{
		{"x.db?mode=memory", "URI parameters"},
		{"file:x.db", "a URI"},
		{"FILE:x.db", "a URI"},
		{":memory:", "file path"},
		{"", "file path"},
		{"x.db#frag", "URI parameters"},
		{"d", "is a directory"},
		{"/dev/null", "special file"},
		{"no/such/x.db", "no such file"},
		{"taken.db", "exists"},
	} {
		err := db.Backup(ctx, tc.path, nil)
		if mpass.ErrorCode(err) != mpass.EINVALID || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("backup %q: %v, want %q", tc.path, err, tc.want)
		}
	}
	ents, _ := os.ReadDir(".")
	if len(ents) != 2 {
		t.Errorf("the refused backups left files: %v", ents)
	}
	if b, _ := os.ReadFile("taken.db"); string(b) != "keep" {
		t.Error("an existing file was overwritten")
	}
}

// TestBackupCancelledLeavesNothing: a backup stopped midway leaves no file at its
// target (nor a temporary one), so nothing that could pass for a good backup.
func TestBackupCancelledLeavesNothing(t *testing.T) {
	db := testenv.MustOpenDB(t)
	testenv.MustIngest(t, db, "jsonl", releases(0, 40000, "2026-10-15"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	steps := 0
	err := db.Backup(ctx, filepath.Join(dir, "b.db"), func(copied, total int) {
		steps++
		cancel()
	})
	if steps == 0 {
		t.Fatal("the database fits in one backup step: make it larger")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled backup: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("a cancelled backup left %v", ents)
	}
}

// TestKeyCheck: the first key's check value is kept; another is refused.
func TestKeyCheck(t *testing.T) {
	ctx := context.Background()
	db := testenv.MustOpenDB(t)
	st, err := db.KeyState(ctx)
	if err != nil || st.Check != "" || !st.Empty {
		t.Fatalf("new database: %+v %v", st, err)
	}
	if err := db.BindKey(ctx, "one"); err != nil {
		t.Fatal(err)
	}
	if err := db.BindKey(ctx, "one"); err != nil {
		t.Errorf("the same key again: %v", err)
	}
	if err := db.BindKey(ctx, "two"); !errors.Is(err, sqlite.ErrKeyMismatch) {
		t.Errorf("another key: %v", err)
	}
	testenv.MustIngest(t, db, "jsonl", releases(0, 1, "2026-10-15"))
	if st, _ := db.KeyState(ctx); st.Check != "one" || st.Empty {
		t.Errorf("after an ingest: %+v", st)
	}
}
