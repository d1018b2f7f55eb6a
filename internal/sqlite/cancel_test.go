package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

// Every scan stops with its context: cancelled by the scan's own callback after the
// first row, ScanRaw answers context.Canceled having read at most a few hundred more
// of 2,000 rows (the check interval), never all of them.
func TestScanStopsWhenCancelled(t *testing.T) {
	db := testenv.MustOpenDB(t)
	testenv.MustLoadDemo(t, db)
	var lines strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&lines, `{"kind":"release","id":"c-%d","time":"2026-10-05T07:58:12Z","sp":"https://sp.example-shop.fi/shibboleth","controller":"1.2.246.562.10.44444444440","subject":"s-%d","attributes":{"urn:mpass.id:uid":null}}`+"\n", i, i)
	}
	testenv.MustIngest(t, db, "jsonl", lines.String())
	lo, hi, err := db.SeqRange(context.Background(), mpass.KindRelease)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		scan func(ctx context.Context, each func()) error
	}{
		{"ScanRaw", func(ctx context.Context, each func()) error {
			return db.ScanRaw(ctx, mpass.Scope{}, mpass.KindRelease, lo, hi, nil, func(*sqlite.Raw) error { each(); return nil })
		}},
		{"Rejections before the scan", func(ctx context.Context, each func()) error {
			each()
			_, err := db.Rejections(ctx)
			return err
		}},
		{"Counts before the scan", func(ctx context.Context, each func()) error {
			each()
			_, err := db.Counts(ctx, "1.2.246.562.10.44444444440", "2026-10-01", "2026-10-31")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			n := 0
			err := tc.scan(ctx, func() { n++; cancel() })
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
			if n > 257 {
				t.Errorf("%d rows read after the cancel", n-1)
			}
		})
	}
}
