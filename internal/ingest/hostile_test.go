package ingest_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/ingest"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

// expected reads a corpus's .expected file: "# stored N", "# skipped N", and one
// "line<TAB>field<TAB>reason" per rejected line.
func expected(t *testing.T, path string) (stored, skipped int, rejections []mpass.Rejection) {
	f, err := os.Open(path + ".expected")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if n, ok := strings.CutPrefix(l, "# stored "); ok {
			stored, _ = strconv.Atoi(n)
			continue
		}
		if n, ok := strings.CutPrefix(l, "# skipped "); ok {
			skipped, _ = strconv.Atoi(n)
			continue
		}
		f := strings.Split(l, "\t")
		line, _ := strconv.Atoi(f[0])
		rejections = append(rejections, mpass.Rejection{Line: line, Field: f[1], Reason: f[2]})
	}
	return stored, skipped, rejections
}

// TestHostileCorpus ingests every file of testdata/hostile into a real database: each
// bad line is rejected with its line, field and reason, every good record is stored,
// and the counts match the expected ones line by line.
func TestHostileCorpus(t *testing.T) {
	for _, name := range []string{"hostile.jsonl", "hostile.csv", "hostile-idp-audit.log", "terminal.jsonl"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("..", "..", "testdata", "hostile", name)
			wantStored, wantSkipped, want := expected(t, path)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			db := testenv.MustOpenDB(t)
			in := &ingest.Ingester{Store: db, Extractor: testenv.MustExtractor(t), Options: ingest.Options{BatchSize: 3}}
			res, err := in.Ingest(context.Background(), name, f)
			if err != nil {
				t.Fatal(err)
			}
			if res.Stored != wantStored || res.Skipped != wantSkipped || res.Rejected != len(want) {
				t.Errorf("stored %d skipped %d rejected %d, want %d, %d, %d", res.Stored, res.Skipped, res.Rejected, wantStored, wantSkipped, len(want))
			}
			for i, w := range want {
				if i >= len(res.Rejections) {
					t.Errorf("missing rejection of line %d (%s: %s)", w.Line, w.Field, w.Reason)
					continue
				}
				got := res.Rejections[i]
				if got.Source != name || got.Line != w.Line || got.Field != w.Field || !strings.Contains(got.Reason, w.Reason) {
					t.Errorf("rejection %d: %s, want line %d field %q reason %q", i, got.Error(), w.Line, w.Field, w.Reason)
				}
			}
			kept, err := db.Rejections(context.Background())
			if err != nil || len(kept) != len(want) {
				t.Errorf("kept %d rejections (%v), want %d", len(kept), err, len(want))
			}
			rel, uses, _ := db.CountRecords(context.Background())
			if int(rel+uses) != wantStored {
				t.Errorf("database holds %d records, want %d", rel+uses, wantStored)
			}
		})
	}
}

// endless is a line of n bytes with no end of line, made as it is read.
type endless struct{ n int }

func (e *endless) Read(p []byte) (int, error) {
	if e.n == 0 {
		return 0, io.EOF
	}
	k := min(len(p), e.n)
	for i := range p[:k] {
		p[i] = 'a'
	}
	e.n -= k
	return k, nil
}

// TestHugeLineKeepsMemoryBounded: a 200 MB line is rejected without being held.
func TestHugeLineKeepsMemoryBounded(t *testing.T) {
	rec := &recorder{}
	in := &ingest.Ingester{Store: rec, Extractor: testenv.MustExtractor(t), Options: ingest.Options{Format: ingest.FormatJSONL}}
	src := &sampling{r: io.MultiReader(&endless{n: 200 << 20}, strings.NewReader("\n"+`{"kind":"use","id":"u","time":"2026-10-09T12:00:00Z","sp":"s","subject":"x","purpose":"analytics"}`))}
	if _, err := in.Ingest(context.Background(), "huge.jsonl", src); err != nil {
		t.Fatal(err)
	}
	if len(rec.rejections) != 1 || rec.rejections[0].Line != 1 || len(rec.records) != 1 {
		t.Fatalf("rejections %v records %d", rec.rejections, len(rec.records))
	}
	if src.peak > 32<<20 {
		t.Errorf("heap peaked at %d MB reading a 200 MB line", src.peak>>20)
	}
}
