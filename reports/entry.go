package reports

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// Render writes the PDF of d in language lang (RenderContext without a deadline).
func Render(w io.Writer, d *Data, lang string) error {
	return RenderContext(context.Background(), w, d, lang)
}

// RenderContext writes the PDF of d in language lang. The same data gives the same
// bytes: the dates come from the run, the catalog is sorted, and nothing iterates a map.
//
// Every string of d comes from input of any size and alphabet (SP and record ids,
// names, reasons): it first makes each printable in place (printable.go), so a rune
// the PDF fonts cannot hold never reaches the PDF library, which panics on one, and no
// string grows a page count. Should the library panic all the same, the panic is
// recovered and returned as an EINTERNAL error naming the controller and period: a
// report that cannot be drawn fails alone, never the service or a scheduled audit.
// Nothing is written to w unless the whole document was made.
//
// ctx is checked between the stages (making the data printable, laying it out,
// writing); the layout itself is bounded by the limits of printable.go and runs to its
// end once started.
func RenderContext(ctx context.Context, w io.Writer, d *Data, lang string) error {
	if d == nil {
		return mpass.Errorf(mpass.EINVALID, "no report data")
	}
	t, err := LoadTexts(lang)
	if err != nil {
		return err
	}
	if err := printableAll(ctx, reflect.ValueOf(d), maxID); err != nil {
		return err
	}
	var buf bytes.Buffer
	err = Drawn(d, lang, func() error { return (&renderer{d: d, t: t}).render(&buf) })
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write the report of %s for %s..%s: %w", d.Controller.OID, d.From, d.To, err)
	}
	return nil
}

// Drawn runs draw and turns its panic, or an error that is neither the context's nor
// already coded (mpass.Error), into an EINTERNAL error naming the language, controller
// and period; the panic's value stays in the chain for the log, not in the message a
// user is shown. Every path that draws a report goes through it.
func Drawn(d *Data, lang string, draw func() error) (err error) {
	failed := func(cause any) error {
		return fmt.Errorf("%w: %v", mpass.Errorf(mpass.EINTERNAL, "the %s report of controller %s for %s..%s could not be drawn",
			lang, d.Controller.OID, d.From, d.To), cause)
	}
	defer func() {
		if p := recover(); p != nil {
			err = failed(p)
		}
	}()
	err = draw()
	var known *mpass.Error
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && !errors.As(err, &known) {
		return failed(err)
	}
	return err
}
