// Package progress shows a long command's progress (done, rate, time left) on a
// terminal, through github.com/schollz/progressbar. A nil *Bar does nothing, so a
// command that is quiet (its stderr not a terminal, or --quiet) passes nil around.
package progress

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Unit is what a bar counts.
type Unit int

const (
	Records Unit = iota // records done, records/s
	Bytes               // bytes read, MB/s
)

// Bar is one progress bar; nil is quiet.
type Bar struct{ bar *progressbar.ProgressBar }

// OnTerminal says whether progress belongs on w: w is a terminal and not quiet.
func OnTerminal(w io.Writer, quiet bool) bool {
	f, ok := w.(*os.File)
	return !quiet && ok && term.IsTerminal(int(f.Fd()))
}

// New draws a bar of total units on w (total -1: unknown, a spinner with the count and
// rate). Callers check OnTerminal first; New itself draws on any writer, for tests.
func New(w io.Writer, total int64, unit Unit, description string) *Bar {
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(description),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionOnCompletion(func() { io.WriteString(w, "\n") }), // the bar keeps its last line
	}
	if unit == Bytes {
		opts = append(opts, progressbar.OptionShowBytes(true))
	} else {
		opts = append(opts, progressbar.OptionShowIts(), progressbar.OptionSetItsString("records"))
	}
	return &Bar{bar: progressbar.NewOptions64(total, opts...)}
}

// Add counts n more units done.
func (b *Bar) Add(n int64) {
	if b != nil && n > 0 {
		_ = b.bar.Add64(n) // drawing a bar never fails a command
	}
}

// Finish completes the bar and ends its line.
func (b *Bar) Finish() {
	if b != nil {
		_ = b.bar.Finish()
	}
}

// Reader counts what is read through r on the bar; nil b answers r itself.
func (b *Bar) Reader(r io.Reader) io.Reader {
	if b == nil {
		return r
	}
	return &reader{r: r, b: b}
}

type reader struct {
	r io.Reader
	b *Bar
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.b.Add(int64(n))
	return n, err
}
