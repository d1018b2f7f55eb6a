package progress_test

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/progress"
)

func TestBarOnAnInjectedWriter(t *testing.T) {
	var buf bytes.Buffer
	b := progress.New(&buf, 1000, progress.Records, "audit")
	b.Add(400)
	b.Add(600)
	b.Finish()
	out := buf.String()
	if !strings.Contains(out, "audit") || !strings.Contains(out, "1000/1000") || !strings.Contains(out, "records/s") || !strings.HasSuffix(out, "\n") {
		t.Errorf("bar: %q", out)
	}
}

func TestReaderCountsBytes(t *testing.T) {
	var buf bytes.Buffer
	b := progress.New(&buf, 2048, progress.Bytes, "ingest")
	n, err := io.Copy(io.Discard, b.Reader(strings.NewReader(strings.Repeat("x", 2048))))
	b.Finish()
	if err != nil || n != 2048 || !strings.Contains(buf.String(), "100%") || !strings.Contains(buf.String(), "kB") {
		t.Errorf("%d %v: %q", n, err, buf.String())
	}
}

// A nil bar is quiet and passes reads through.
func TestNilBarIsQuiet(t *testing.T) {
	var b *progress.Bar
	b.Add(5)
	b.Finish()
	r := strings.NewReader("x")
	if b.Reader(r) != io.Reader(r) {
		t.Error("nil bar wraps the reader")
	}
}

// Progress belongs only on a terminal, and never with --quiet: not on a buffer, a file
// or a pipe.
func TestOnTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, w := range []io.Writer{&bytes.Buffer{}, f} {
		if progress.OnTerminal(w, false) {
			t.Errorf("%T counted as a terminal", w)
		}
	}
	if progress.OnTerminal(os.Stderr, true) {
		t.Error("--quiet ignored")
	}
}
