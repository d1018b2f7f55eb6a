package atomicfile_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/atomicfile"
)

// TestFailedWriteKeepsTheOldFile: a write that fails halfway (a render error, a full
// disk) leaves the previous file byte for byte and no temporary file behind.
func TestFailedWriteKeepsTheOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.pdf")
	if err := atomicfile.WriteFile(path, atomicfile.DefaultMode, func(w io.Writer) error {
		_, err := io.WriteString(w, "good report")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("render failed")
	err := atomicfile.WriteFile(path, atomicfile.DefaultMode, func(w io.Writer) error {
		io.WriteString(w, strings.Repeat("half a report ", 10000))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want the render's", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "good report" {
		t.Errorf("previous file now %.40q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("files left: %v", ents)
	}
}

// TestModeWhateverTheUmask: files are 0600 (or 0640) under umask 022 and 0.
func TestModeWhateverTheUmask(t *testing.T) {
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) })
	dir := t.TempDir()
	for _, mode := range []os.FileMode{atomicfile.DefaultMode, atomicfile.GroupMode} {
		p := filepath.Join(dir, mode.String())
		if err := atomicfile.WriteFile(p, mode, func(w io.Writer) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s: %v %v", p, st.Mode(), err)
		}
	}
	q := filepath.Join(dir, "backup.db")
	if err := atomicfile.CreateByName(q, atomicfile.DefaultMode, func(tmp string) error {
		return os.WriteFile(tmp, []byte("x"), 0o644)
	}); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(q); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("%s: %v %v", q, st.Mode(), err)
	}
}

func TestTargets(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, []byte("keep"), 0o600)
	nothing := func(string) error { return nil }
	for _, tc := range []struct{ path, want string }{
		{"", "no file name"},
		{dir, "is a directory"},
		{"/dev/null", "special file"},
		{filepath.Join(dir, "no", "such.pdf"), "no such file"},
		{filepath.Join(file, "x.pdf"), "not a directory"},
		{file, "exists"},
	} {
		err := atomicfile.CreateByName(tc.path, atomicfile.DefaultMode, nothing)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.path, err, tc.want)
		}
	}
	if b, _ := os.ReadFile(file); string(b) != "keep" {
		t.Errorf("existing file now %q", b)
	}
	// a symbolic link is refused, and the file it names left alone: a planted link
	// must not make a report overwrite another file (issue 14)
	link := filepath.Join(dir, "link")
	os.Symlink(file, link)
	if err := atomicfile.WriteFile(link, atomicfile.DefaultMode, func(w io.Writer) error {
		_, err := io.WriteString(w, "new")
		return err
	}); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("writing through a link: %v", err)
	}
	if b, _ := os.ReadFile(file); string(b) != "keep" {
		t.Errorf("link target now %q", b)
	}
	if _, err := atomicfile.ParseMode("0644"); err == nil {
		t.Error("0644 accepted")
	}
	if m, err := atomicfile.ParseMode("0640"); err != nil || m != 0o640 {
		t.Errorf("0640: %v %v", m, err)
	}
}
