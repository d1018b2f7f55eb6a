package ingest_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/ingest"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

// TestBatchesShareTransactions: with BatchesPerCommit, the batches of 5,000 lines are
// committed by threes, the last transaction whatever it holds when the input ends —
// after a short batch, or after a full one that no store follows — and the Result and
// Progress count a batch once its commit is in.
func TestBatchesShareTransactions(t *testing.T) {
	for _, tc := range []struct {
		lines, perCommit int
		after            []int
	}{
		{30_000, 3, []int{15_000, 30_000}},
		{32_000, 3, []int{15_000, 30_000, 32_000}},
		{30_000, 4, []int{20_000, 30_000}},
		{12_000, 1, []int{5_000, 10_000, 12_000}},
	} {
		db := testenv.MustOpenDB(t)
		var after []int
		in := &ingest.Ingester{Store: db, Extractor: testenv.MustExtractor(t), Options: ingest.Options{
			Format: ingest.FormatJSONL, BatchSize: 5_000, BatchesPerCommit: tc.perCommit,
			Progress: func(c sqlite.IngestCounts) { after = append(after, c.Stored) },
		}}
		res, err := in.Ingest(context.Background(), "big.jsonl", &records{n: tc.lines})
		if err != nil {
			t.Fatal(err)
		}
		rel, _, err := db.CountRecords(context.Background())
		if res.Stored != tc.lines || rel != int64(tc.lines) || err != nil || !slices.Equal(after, tc.after) {
			t.Errorf("%d lines, %d batches a commit: stored %d (%d in the database, %v), after each commit %v; want %v",
				tc.lines, tc.perCommit, res.Stored, rel, err, after, tc.after)
		}
	}
}

// TestFileBatchesPerCommit: three batches a transaction, but no more than three
// default batches of lines; a larger batch is committed alone.
func TestFileBatchesPerCommit(t *testing.T) {
	for _, tc := range []struct{ batch, want int }{{0, 3}, {1000, 3}, {20_000, 3}, {25_000, 2}, {30_000, 2}, {60_000, 1}, {100_000, 1}} {
		if got := ingest.FileBatchesPerCommit(tc.batch); got != tc.want {
			t.Errorf("FileBatchesPerCommit(%d) = %d, want %d", tc.batch, got, tc.want)
		}
	}
}

// cancelAt is records that cancels its context once it has written at lines.
type cancelAt struct {
	records
	at     int
	cancel func()
}

func (c *cancelAt) Read(p []byte) (int, error) {
	if c.i >= c.at {
		c.cancel()
	}
	return c.records.Read(p)
}

// TestCancelledIngestCountsWhatIsStored: an ingest cancelled while batches share a
// transaction answers as stored exactly the rows the database holds (the transaction
// left open is rolled back, and not counted), whenever the cancellation lands.
func TestCancelledIngestCountsWhatIsStored(t *testing.T) {
	for _, at := range []int{2_000, 30_000, 45_000, 55_000} {
		db := testenv.MustOpenDB(t)
		ctx, cancel := context.WithCancel(context.Background())
		in := &ingest.Ingester{Store: db, Extractor: testenv.MustExtractor(t), Options: ingest.Options{
			Format: ingest.FormatJSONL, BatchSize: 5_000, BatchesPerCommit: 3,
		}}
		res, err := in.Ingest(ctx, "big.jsonl", &cancelAt{records: records{n: 60_000}, at: at, cancel: cancel})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled at line %d: %v, want context.Canceled", at, err)
		}
		rel, _, err := db.CountRecords(context.Background())
		if err != nil || rel != int64(res.Stored) {
			t.Errorf("cancelled at line %d: the Result says %d stored, the database holds %d (%v)", at, res.Stored, rel, err)
		}
		t.Logf("cancelled at line %d: %d stored", at, res.Stored)
		if res.Stored%15_000 != 0 {
			t.Errorf("cancelled at line %d: %d stored, not whole transactions of 15,000", at, res.Stored)
		}
	}
}
