// Package ingest reads what MPASSid and its members log (JSON Lines, CSV, the
// Shibboleth IdP audit log), validates each record, reduces its values to facts and
// stores it in batches. A bad record is rejected with its file, line, field and reason
// and never stops the good ones.
package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"math"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/opetushallitus/mpass-audit/internal/facts"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
)

// DefaultBatchSize is how many lines go into one transaction unless Options say.
const DefaultBatchSize = 20_000

// parseChunk is the most lines a parsing worker takes at once.
const parseChunk = 5000

// lineBlock is the size of the blocks a chunk's lines are copied into.
const lineBlock = 1 << 20

// freeList keeps up to n things given back (put), for get to hand out again before it
// allocates a new one. Unlike a sync.Pool it keeps no more than n alive.
type freeList[T any] struct {
	free  chan T
	alloc func() T
}

func newFreeList[T any](n int, alloc func() T) *freeList[T] {
	return &freeList[T]{free: make(chan T, n), alloc: alloc}
}

// get is a thing given back, else a new one.
func (l *freeList[T]) get() T {
	select {
	case x := <-l.free:
		return x
	default:
		return l.alloc()
	}
}

// drop lets go of what the list keeps.
func (l *freeList[T]) drop() {
	for {
		select {
		case <-l.free:
		default:
			return
		}
	}
}

// put gives x back; it is dropped when the list is full.
func (l *freeList[T]) put(x T) {
	select {
	case l.free <- x:
	default:
	}
}

// Formats the reader understands.
const (
	FormatAuto       = "auto"
	FormatJSONL      = "jsonl"
	FormatCSV        = "csv"
	FormatShibboleth = "shibboleth"
)

// DefaultShibbolethFormat is the audit log format of Shibboleth IdP 4 and 5.
const DefaultShibbolethFormat = "%a|%ST|%T|%u|%SP|%i|%ac|%t|%attr|%n|%f|%SSO|%XX|%XA|%b|%bb|%e|%S|%SS|%s|%UA"

// Store is where batches go: each batch is stored whole or not at all (together with
// the batches it shares a transaction with, where the store can: Options.BatchesPerCommit).
// When the batches are in, Settle rejects the rows whose id is stored with another time and
// brings what the stored releases say of roles up to date.
type Store interface {
	// Encode encodes a record for InsertBatch; parsing workers call it, so it must be
	// safe for concurrent use.
	Encode(r *mpass.Record) (sqlite.Row, error)
	// InsertBatch stores rows and rejections in one transaction; it returns the rows'
	// id conflicts (a stored id with other content) as rejections, of which it stores
	// the first keep, and counts them all as rejected.
	InsertBatch(ctx context.Context, rows []sqlite.Row, rejections []mpass.Rejection, keep int) (sqlite.IngestCounts, []mpass.Rejection, error)
	// Settle rejects the rows stored since it last ran whose id a row with another
	// time holds (deleting them), stores and lists the first keep of them, and updates
	// the roles.
	Settle(ctx context.Context, keep int) (sqlite.IDConflicts, error)
	// LockIngest keeps other ingests of the process from storing until unlock.
	LockIngest() (unlock func())
}

// FileBatchesPerCommit is Options.BatchesPerCommit for a regular file read in batches
// of batchSize lines (0: DefaultBatchSize): three batches a commit took 4–8 % off the
// diverse ingest (docs/performance.md, session 18), and a file's next batch is never
// waited for long. But a transaction holds the database's write lock, and the
// service's writes (logins, tokens, POSTed records) wait for it: during a 1M file
// ingest, POSTs waited 4.3 s on average and 7.2 s at most against 1.0 and 3.7 s with a
// commit a batch, under a busy timeout of 10 s. So a transaction holds at most
// maxLinesPerCommit lines: larger batches are committed one by one, as before.
func FileBatchesPerCommit(batchSize int) int {
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	return max(1, min(3, maxLinesPerCommit/batchSize))
}

// maxLinesPerCommit bounds the lines of a transaction of several batches: three
// default batches.
const maxLinesPerCommit = 3 * DefaultBatchSize

// batchStore is a Store whose batches can share a transaction (sqlite.DB).
type batchStore interface {
	BeginBatches(ctx context.Context) (*sqlite.BatchTx, error)
}

// Options configure one ingest.
type Options struct {
	Format string // auto (default), jsonl, csv, shibboleth
	// LogFormat is the Shibboleth audit log format: "idp4" (the default, also IdP 5),
	// "idp3", or a format string such as DefaultShibbolethFormat.
	LogFormat string
	// Controller is the controller of every line of a Shibboleth log; when it is empty,
	// a line's controller comes from Flows, else Scopes, else a scope that is an OID.
	Controller string
	// FlowField is the format code (e.g. "%flow") of the field that holds a line's
	// authentication flow or upstream identity provider; Flows maps its values to
	// controllers (from --flow, or from the registry's identity providers' flows).
	FlowField string
	Flows     map[string]string
	// Scopes maps a principal's scope (after its last '@') to its controller; scopes
	// are compared case-insensitively, as DNS names are.
	Scopes map[string]string
	// SubjectField is the format code of the field that holds the subject (default %u).
	SubjectField string
	// BatchSize is how many lines go into one transaction (default DefaultBatchSize).
	BatchSize int
	// Workers parse and extract in parallel (default GOMAXPROCS).
	Workers int
	// Progress, when set, is told the running counts after each committed transaction.
	Progress func(sqlite.IngestCounts)
	// BatchesPerCommit is how many batches one transaction holds (default 1; the store
	// must be able to share one, as sqlite.DB can). The transaction holds the
	// database's write lock while the next batch is read and parsed, so only input
	// that never waits should share: a regular file, not a request body or a pipe.
	BatchesPerCommit int
	// MaxRejections is how many rejections of one source are stored and listed
	// (default DefaultMaxRejections); the rest are counted (Result.Unlisted).
	MaxRejections int
}

// DefaultMaxRejections is how many rejected lines of one source (one Ingest: a file,
// stdin, a POST body) are stored in the rejections table and listed in the Result. The
// rest are only counted, and one more row says how many: junk lines cost neither
// memory, nor database, nor answer in proportion to their number (4,000,000 junk
// lines made a 511 MB API answer and +1 GB of database), while the first thousand are
// plenty to see what is wrong with a file.
const DefaultMaxRejections = 1000

// Ingester validates, reduces and stores records.
type Ingester struct {
	Store     Store
	Extractor *facts.Extractor
	Options   Options
}

// Result is what an ingest did. Rejected counts every rejected line; Rejections
// lists the first of them (Options.MaxRejections, each batch's in line order) and
// Unlisted counts the rest, which are not stored either.
type Result struct {
	sqlite.IngestCounts
	Skipped    int               `json:"skipped"` // Shibboleth lines that are not releases
	Rejections []mpass.Rejection `json:"-"`
	Unlisted   int               `json:"unlisted"`
}

// UnlistedReason says how many more rejected lines there were than a source lists.
func UnlistedReason(n, max int) string {
	return fmt.Sprintf("and %d more rejected lines, counted but neither stored nor listed (the first %d of a source are)", n, max)
}

// line is one input line with its number.
type line struct {
	n    int
	text []byte
	long bool
}

// parsed is what a parser makes of one line: a record, a rejection, or nothing.
type parsed struct {
	record    *mpass.Record
	rejection *mpass.Rejection
	skipped   bool
	row       sqlite.Row // the record encoded for the store, on the worker that parsed it
}

// lineParser parses one line of a format. parse is called from several goroutines.
// recycle takes back the Attributes map of a record parse made once nothing refers to
// it any more.
type lineParser interface {
	parse(source string, l line) parsed
	recycle(attributes map[string]mpass.AttributeFacts)
}

// headerParser is a format whose first non-blank line is a header, read before the
// workers start so that they share it without locks.
type headerParser interface {
	header(source string, l line) parsed
}

// Ingest reads one source (name is used in messages; "-" is stdin) to the end.
// An error is returned only for a failure to read or store; bad records are counted
// and returned in the Result.
func (in *Ingester) Ingest(ctx context.Context, name string, r io.Reader) (Result, error) {
	opts := in.Options
	batch := opts.BatchSize
	if batch <= 0 {
		batch = DefaultBatchSize
	}
	// workers parse chunks of at most parseChunk lines; the writer stores a batch of
	// several: a commit writes every page the batch touched, and bigger batches touch
	// each page more often, but parsed chunks in flight are heap the collector scans
	chunkSize := min(batch, parseChunk)
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	lr := newLineReader(r)
	format := opts.Format
	if format == "" || format == FormatAuto {
		var err error
		if format, err = detect(name, lr); err != nil {
			return Result{}, err
		}
	}
	p, err := in.parser(format)
	if err != nil {
		return Result{}, err
	}

	maxRej := opts.MaxRejections
	if maxRej <= 0 {
		maxRej = DefaultMaxRejections
	}
	// one ingest at a time settles its own rows; a killed ingest's first
	defer in.Store.LockIngest()()
	if _, err := in.Store.Settle(ctx, maxRej); err != nil {
		return Result{}, fmt.Errorf("store: settle earlier rows: %w", err)
	}
	var res Result
	if h, ok := p.(headerParser); ok {
		for {
			text, n, long, err := lr.next()
			if err == io.EOF {
				return res, nil
			} else if err != nil {
				return res, fmt.Errorf("read %s:%d: %w", name, n+1, err)
			}
			l := line{n: n, text: text, long: long}
			if !long && blank(text) {
				continue
			}
			if x := h.header(name, l); x.rejection != nil {
				in.keyDigest(x.rejection)
				if _, _, err := in.Store.InsertBatch(ctx, nil, []mpass.Rejection{*x.rejection}, 0); err != nil {
					return res, fmt.Errorf("store %s: %w", name, err)
				}
				res.Rejected++
				res.Rejections = append(res.Rejections, *x.rejection)
			}
			break
		}
	}

	ctx, cancel := context.WithCancel(ctx)

	// read → parse on workers → store in input order, a bounded number of chunks in flight
	type chunk struct {
		lines  []line
		blocks [][]byte // of lineBlocks, given back once the lines are parsed
		out    chan []parsed
	}
	chunks := make(chan chunk, workers)
	ordered := make(chan chan []parsed, workers)
	// A chunk's blocks and lines are used again once its lines are parsed, and its slice
	// of parsed lines once the writer has taken them: new ones were half the 1.4 GB a 1M-record
	// ingest allocated, and the collector's cycles, the zeroing and the page faults of
	// fresh blocks (10M diverse records: 26 s of system CPU against 17 s) cost 6–8 % of
	// its CPU. A line longer than a block has one of its own. The lists are bounded: a
	// sync.Pool kept more alive (+20 MB of peak RSS against these lists' +11–14 MB).
	lineBlocks := newFreeList(4*workers, func() []byte { return make([]byte, 0, lineBlock) })
	outs := newFreeList(2*workers, func() []parsed { return nil })
	chunkLines := newFreeList(2*workers, func() []line { return make([]line, 0, chunkSize) })
	var readErr error
	go func() {
		defer close(chunks)
		defer close(ordered)
		for {
			c := chunk{out: make(chan []parsed, 1), lines: chunkLines.get()}
			var block []byte // lines are copied into blocks, not one allocation each
			for len(c.lines) < chunkSize {
				text, n, long, err := lr.next()
				if err == io.EOF {
					break
				} else if err != nil {
					readErr = fmt.Errorf("read %s:%d: %w", name, n+1, err)
					break
				}
				if len(block)+len(text) > cap(block) {
					if len(text) > lineBlock {
						block = make([]byte, 0, len(text))
					} else {
						block = lineBlocks.get()[:0]
						c.blocks = append(c.blocks, block)
					}
				}
				block = append(block, text...)
				c.lines = append(c.lines, line{n: n, text: block[len(block)-len(text) : len(block) : len(block)], long: long})
			}
			if len(c.lines) == 0 {
				return
			}
			select {
			case chunks <- c:
			case <-ctx.Done():
				return
			}
			select {
			case ordered <- c.out:
			case <-ctx.Done():
				return
			}
			if len(c.lines) < chunkSize || readErr != nil {
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range chunks {
				out := outs.get()[:0]
				for _, l := range c.lines {
					x := p.parse(name, l)
					if x.record != nil {
						// cannot fail for a record a parser made; a rejection if it ever does
						attributes := x.record.Attributes
						row, err := in.Store.Encode(x.record)
						if err != nil {
							x = reject(name, l, "kind", err.Error())
						} else {
							if row.Record.Attributes == nil {
								p.recycle(attributes) // the row holds them encoded
							}
							x.row, x.record = row, row.Record // the record as the row keeps it
						}
					}
					out = append(out, x)
				}
				c.out <- out
				// nothing parsed refers to the lines: the records' texts are copies
				for _, b := range c.blocks {
					lineBlocks.put(b)
				}
				clear(c.lines)
				chunkLines.put(c.lines[:0])
			}
		}()
	}
	defer func() { cancel(); wg.Wait() }()

	var rows, spare []sqlite.Row
	var rejections []mpass.Rejection // to list and store: the first maxRej of the source
	lines := 0
	firstUnlisted := 0 // the line of the first rejection neither stored nor listed
	unlist := func(line int) {
		res.Unlisted++
		if firstUnlisted == 0 || line < firstUnlisted {
			firstUnlisted = line
		}
	}
	// One batch is stored while the next is gathered: the writer and the parsing
	// workers then run at once instead of each waiting for the other. A stored batch's
	// conflicts are counted, and the next batch's rejections trimmed to what may still
	// be listed, before the next one goes: the first maxRej are listed in batch order.
	type storing struct {
		c          sqlite.IngestCounts
		conflicts  []mpass.Rejection
		rejections []mpass.Rejection
		rows       []sqlite.Row
		keep       int
		tx         *sqlite.BatchTx // shared with the batches before it; nil: a new one
		commit     bool            // commit tx after this batch
		err        error
	}
	// Batches share a transaction where the store can (sqlite.BatchTx) and the options
	// let them; the Result and Progress count a batch once its commit is in.
	perCommit := 1
	bs, _ := in.Store.(batchStore)
	if bs != nil {
		perCommit = max(opts.BatchesPerCommit, 1)
	}
	var open *sqlite.BatchTx // the transaction the last stored batch left open
	inOpen := 0              // batches in open
	var uncommitted sqlite.IngestCounts
	listed := len(res.Rejections) // those of committed batches (and of a header)
	defer func() {
		if open != nil { // an error or a cancellation: what is not committed is not stored
			open.Rollback()
		}
	}()
	// abandon takes the batches since the last commit out of res: their transaction
	// is rolled back (by its failure, or by the cancelled context).
	abandon := func() {
		res.IngestCounts.Sub(uncommitted)
		res.Rejections = res.Rejections[:listed]
		uncommitted = sqlite.IngestCounts{}
	}
	// committed counts the batches since the last commit in res for good, once their
	// transaction's commit is in.
	committed := func() {
		open, inOpen = nil, 0
		uncommitted, listed = sqlite.IngestCounts{}, len(res.Rejections)
		if opts.Progress != nil {
			opts.Progress(res.IngestCounts)
		}
	}
	var inFlight chan storing // nil when no batch is being stored
	inFlightRejections := 0   // listed with the batch being stored, beside its conflicts
	finish := func() error {
		if inFlight == nil {
			return nil
		}
		b := <-inFlight
		inFlight, inFlightRejections = nil, 0
		clear(b.rows)
		spare = b.rows[:0]
		if b.err != nil {
			open = nil // rolled back by its failure
			abandon()
			return fmt.Errorf("store %s: %w", name, b.err)
		}
		res.IngestCounts.Add(b.c)
		uncommitted.Add(b.c)
		res.Rejections = append(res.Rejections, b.rejections...)
		if len(b.conflicts) > 0 {
			kept := len(res.Rejections)
			res.Rejections = append(res.Rejections, b.conflicts[:min(b.keep, len(b.conflicts))]...)
			slices.SortStableFunc(res.Rejections[kept-len(b.rejections):], func(a, b mpass.Rejection) int { return a.Line - b.Line })
			for _, x := range b.conflicts[min(b.keep, len(b.conflicts)):] {
				unlist(x.Line)
			}
		}
		if open, inOpen = b.tx, inOpen+1; b.commit || b.tx == nil {
			committed()
		}
		return nil
	}
	// store stores the gathered batch; last says no batch follows it
	store := func(last bool) error {
		if err := finish(); err != nil {
			return err
		}
		if room := max(0, maxRej-len(res.Rejections)); len(rejections) > room {
			for _, x := range rejections[room:] { // gathered before the stored batch's conflicts took their room
				res.Rejected++
				unlist(x.Line)
			}
			rejections = rejections[:room]
		}
		keep := max(0, maxRej-len(res.Rejections)-len(rejections))
		done := make(chan storing, 1)
		go func(b storing) {
			if bs == nil {
				b.c, b.conflicts, b.err = in.Store.InsertBatch(ctx, b.rows, b.rejections, b.keep)
				done <- b
				return
			}
			if b.tx == nil {
				b.tx, b.err = bs.BeginBatches(ctx)
			}
			if b.err == nil {
				b.c, b.conflicts, b.err = b.tx.Insert(ctx, b.rows, b.rejections, b.keep)
			}
			if b.err == nil && b.commit {
				b.err = b.tx.Commit(ctx)
			}
			done <- b
		}(storing{rows: rows, rejections: rejections, keep: keep, tx: open, commit: last || inOpen+1 >= perCommit})
		open = nil // the batch's goroutine has it; finish takes it back
		inFlight, inFlightRejections = done, len(rejections)
		rows, rejections, lines, spare = spare, nil, 0, nil
		return nil
	}
	for out := range ordered {
		var ps []parsed
		select {
		case ps = <-out:
		case <-ctx.Done():
			finish() // the batch being stored is counted if its commit got in
			if open != nil {
				open.Rollback()
				open = nil
				abandon()
			}
			return res, ctx.Err()
		}
		for _, x := range ps {
			switch {
			case x.record != nil:
				rows = append(rows, x.row)
			case x.rejection != nil && len(res.Rejections)+inFlightRejections+len(rejections) < maxRej:
				in.keyDigest(x.rejection)
				rejections = append(rejections, *x.rejection)
			case x.rejection != nil:
				res.Rejected++
				unlist(x.rejection.Line)
			case x.skipped:
				res.Skipped++
			}
		}
		lines += len(ps)
		clear(ps) // the rows hold what the writer needs of them
		outs.put(ps)
		if lines >= batch {
			if err := store(false); err != nil {
				return res, err
			}
		}
	}
	if lines > 0 {
		if err := store(true); err != nil {
			return res, err
		}
	}
	if err := finish(); err != nil {
		return res, err
	}
	if open != nil { // the last batch filled its batch exactly: no store(true) followed
		if err := open.Commit(ctx); err != nil {
			open = nil
			abandon()
			return res, fmt.Errorf("store %s: %w", name, err)
		}
		committed()
	}
	// The parsing buffers are garbage now: give them back to the system before SQLite's
	// sorter takes its memory for the ids and roles (the ingest's peak RSS was this overlap).
	wg.Wait() // the workers, done with their input, give their last blocks back first
	lineBlocks.drop()
	outs.drop()
	chunkLines.drop()
	debug.FreeOSMemory()
	// the rows whose id a row with another time holds: rejected now, as if by their batch
	ids, err := in.Store.Settle(ctx, max(0, maxRej-len(res.Rejections)))
	if err != nil {
		return res, fmt.Errorf("store %s: %w", name, err)
	}
	res.Stored -= ids.N
	res.Rejected += ids.N
	res.Rejections = append(res.Rejections, ids.Listed...)
	if n := ids.N - len(ids.Listed); n > 0 {
		res.Unlisted += n - 1
		unlist(ids.FirstUnlisted)
	}
	if res.Unlisted > 0 {
		more := mpass.Rejection{Source: name, Line: firstUnlisted, Reason: UnlistedReason(res.Unlisted, maxRej)}
		if _, _, err := in.Store.InsertBatch(ctx, nil, []mpass.Rejection{more}, 0); err != nil {
			return res, fmt.Errorf("store %s: %w", name, err)
		}
	}
	if readErr != nil {
		return res, readErr
	}
	return res, nil
}

func (in *Ingester) parser(format string) (lineParser, error) {
	n := &normalizer{x: in.Extractor}
	switch format {
	case FormatJSONL:
		return &jsonlParser{normalizer: n}, nil
	case FormatCSV:
		return &csvParser{normalizer: n}, nil
	case FormatShibboleth:
		return newShibbolethParser(n, in.Options)
	}
	return nil, mpass.Errorf(mpass.EINVALID, "unknown format %q (auto, jsonl, csv, shibboleth)", format)
}

// detect picks a format by the file name's extension, else by the first line. A
// rotated file is named by what it was: x.jsonl.gz, idp-audit-2026-10-07.log.gz,
// idp-audit.log.2026-10-07(.gz) (the command has opened a gzip file already).
func detect(name string, lr *lineReader) (string, error) {
	if hasSuffix(name, ".gz") {
		name = name[:len(name)-len(".gz")]
	}
	switch {
	case hasSuffix(name, ".jsonl", ".ndjson", ".json"):
		return FormatJSONL, nil
	case hasSuffix(name, ".csv"):
		return FormatCSV, nil
	case hasSuffix(name, ".log"), rotatedLog(name):
		return FormatShibboleth, nil
	}
	for n := 1; ; n *= 2 {
		b, err := lr.r.Peek(min(n*512, 64<<10))
		s := strings.TrimLeft(string(b), " \t\r\n\ufeff")
		switch {
		case strings.HasPrefix(s, "{"):
			return FormatJSONL, nil
		case strings.HasPrefix(s, "kind,"):
			return FormatCSV, nil
		case strings.Contains(s, "|"):
			return FormatShibboleth, nil
		}
		if err != nil || n*512 >= 64<<10 {
			if s == "" {
				return FormatJSONL, nil // empty input: any format stores nothing
			}
			return "", mpass.Errorf(mpass.EINVALID, "%s: cannot tell the format; use --format jsonl|csv|shibboleth", name)
		}
	}
}

func hasSuffix(name string, suffixes ...string) bool {
	name = strings.ToLower(name)
	for _, s := range suffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// fields is a record as read, before validation: the same for every format.
type fields struct {
	kind, id, time, sp, controller, subject, purpose string
	// values maps a logged attribute name to its values; a nil slice means names only.
	values map[string][]string
	// canonical says that every name of values is known to the catalog by that name
	// (the reader looked them up once per name, not per line)
	canonical bool
}

// normalizer validates fields per RECORDS.md and reduces them to a stored record.
type normalizer struct {
	x *facts.Extractor
	// attributes are records' Attributes maps given back by recycle, emptied: a small
	// map made per record was a good share of the workers' time and garbage
	attributes sync.Pool
}

// recycle takes back the Attributes map of a record that nothing refers to any more
// (the store encoded it and let it go).
func (n *normalizer) recycle(m map[string]mpass.AttributeFacts) {
	if m != nil && len(m) <= maxFastKeys {
		clear(m)
		n.attributes.Put(m)
	}
}

// reject is a rejection of line l. Its Digest is the line's SHA-256 for now, in memory
// only: the Ingester keys it (keyDigest) before it is stored or answered.
func reject(source string, l line, field, reason string) parsed {
	sum := sha256.Sum256(l.text)
	return parsed{rejection: &mpass.Rejection{Source: source, Line: l.n, Field: field, Reason: reason, Digest: hex.EncodeToString(sum[:])}}
}

// keyDigest replaces a rejection's unkeyed line hash by the keyed digest that is stored
// and answered (facts.Extractor.LineDigest).
func (in *Ingester) keyDigest(r *mpass.Rejection) {
	if sum, err := hex.DecodeString(r.Digest); err == nil && len(sum) == sha256.Size {
		r.Digest = in.Extractor.LineDigest(sum)
	}
}

// checkLine rejects what no format accepts: over-long lines and invalid UTF-8.
func checkLine(source string, l line) (parsed, bool) {
	if l.long {
		return reject(source, l, "", fmt.Sprintf("line longer than %d bytes", MaxLine)), false
	}
	if !utf8.Valid(l.text) {
		return reject(source, l, "", "not valid UTF-8"), false
	}
	return parsed{}, true
}

// The store keeps a time as unix nanoseconds in an int64: the instants from
// 1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z. Outside them
// UnixNano wraps (2611 became 2026-10-05, 9999 became 1816), so such a time is
// rejected, never stored.
var (
	minStorable = time.Unix(0, math.MinInt64).UTC()
	maxStorable = time.Unix(0, math.MaxInt64).UTC()
)

// reasonTimeRange rejects a time the store cannot hold exactly (Storable).
const reasonTimeRange = "outside the times the store holds exactly (from 1677-09-21T00:12:44Z to 2262-04-11T23:47:16Z)"

// Storable reports whether the store holds t exactly (see minStorable): every reader's
// times and purge's --before are checked with it.
func Storable(t time.Time) bool {
	return !t.Before(minStorable) && !t.After(maxStorable)
}

// reasonControl rejects an identifier of a record (id, sp, controller, purpose,
// subject) that holds a control character: a NUL or an escape sequence would reach
// the database, terminals and logs as it is.
const reasonControl = "holds a control character (U+0000–U+001F or U+007F)"

// hasControl reports a C0 control character or DEL in s.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}

func blank(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 }

// canonical gives attributes their catalog names, merging the values of names that
// mean the same attribute (nil values when none of them had any). A name the catalog
// does not know is kept as it is, if it is a well-formed name (facts.WellFormedName): in no
// reader does value text become an attribute name. why says what is wrong, never
// quoting the name. Most lines use canonical names only and are returned as they are;
// known says the reader found every name canonical already (fields.canonical).
func (n *normalizer) canonical(values map[string][]string, known bool) (_ map[string][]string, why string) {
	if known { // every name canonical: only empty lists to make nil
		for name, vs := range values {
			if vs != nil && len(vs) == 0 {
				values[name] = nil
			}
		}
		return values, ""
	}
	cat := n.x.Catalog()
	same := true
	for name, vs := range values {
		c, known := cat.Resolve(name)
		if !known && !facts.WellFormedName(c) {
			return nil, reasonNotAName
		}
		same = same && c == name
		if vs != nil && len(vs) == 0 {
			values[name] = nil // as the merge below makes of an empty list
		}
	}
	if same {
		return values, ""
	}
	canonical := make(map[string][]string, len(values))
	hasValues := map[string]bool{}
	// names merged in their sorted order, not the map's: the merged values' order decides
	// the first grade level kept, the order of roles in the shape and which bad value a
	// rejection names, and a record must read the same every time (found in review)
	for _, name := range slices.Sorted(maps.Keys(values)) {
		vs := values[name]
		c := cat.Canonical(name)
		canonical[c] = append(canonical[c], vs...)
		hasValues[c] = hasValues[c] || vs != nil
	}
	for name := range canonical {
		if !hasValues[name] {
			canonical[name] = nil
		}
	}
	return canonical, ""
}

// reasonNotAName rejects a record with an attribute name that is no name: it may be
// value text, so it is neither stored nor quoted.
const reasonNotAName = "an attribute name must be a URN, or start with a letter and hold only letters, digits, _ - . : and no identity code (the name is not stored)"

func (n *normalizer) record(source string, l line, f fields) parsed {
	r := &mpass.Record{Kind: mpass.Kind(f.kind), ID: strings.TrimSpace(f.id), Source: source, Line: l.n}
	switch r.Kind {
	case mpass.KindRelease, mpass.KindUse:
	case "":
		return reject(source, l, "kind", "required (release or use)")
	default:
		return reject(source, l, "kind", "unknown kind (release or use)")
	}
	for _, req := range []struct{ name, value string }{{"time", f.time}, {"sp", f.sp}, {"subject", f.subject}} {
		if strings.TrimSpace(req.value) == "" {
			return reject(source, l, req.name, "required and non-empty")
		}
	}
	for _, x := range [...]struct{ name, value string }{{"id", f.id}, {"sp", f.sp}, {"purpose", f.purpose}} {
		if facts.ContainsIdentityCode(x.value) { // an identifier of the record, never a pupil's
			return reject(source, l, x.name, "holds a personal identity code (the record is not stored)")
		}
		if facts.ContainsEmail(x.value) {
			return reject(source, l, x.name, "holds an e-mail address (the record is not stored)")
		}
	}
	for _, x := range [...]struct{ name, value string }{{"id", f.id}, {"sp", f.sp}, {"controller", f.controller}, {"purpose", f.purpose}, {"subject", f.subject}} {
		if hasControl(x.value) { // stored or printed, it would reach terminals and logs
			return reject(source, l, x.name, reasonControl)
		}
	}
	// RFC 3339 allows a lower-case t and z; Go's parser takes the upper-case ones only
	t, err := time.Parse(time.RFC3339Nano, strings.ToUpper(strings.TrimSpace(f.time)))
	if err != nil {
		return reject(source, l, "time", "not an RFC 3339 time (e.g. 2026-10-05T07:58:12Z)")
	}
	if !Storable(t) {
		return reject(source, l, "time", reasonTimeRange)
	}
	r.Time = t.UTC()
	r.SP = strings.TrimSpace(f.sp)
	r.Subject = n.x.Pseudonym(f.subject)
	if r.Controller = strings.TrimSpace(f.controller); r.Controller != "" {
		if err := mpass.CheckControllerOID(r.Controller); err != nil {
			return reject(source, l, "controller", err.Error())
		}
	}
	canonical, why := n.canonical(f.values, f.canonical)
	if why != "" {
		return reject(source, l, "attributes", why)
	}
	if m, ok := n.attributes.Get().(map[string]mpass.AttributeFacts); ok {
		r.Attributes = m
	} else {
		r.Attributes = make(map[string]mpass.AttributeFacts, len(canonical))
	}
	for name, vs := range canonical {
		r.Attributes[name] = n.x.Attribute(name, vs)
	}
	switch r.Kind {
	case mpass.KindRelease:
		if err := n.x.Catalog().CheckOIDs(canonical); err != nil {
			return reject(source, l, "attributes", err.Error())
		}
		if r.Controller == "" {
			var err error
			if r.Controller, err = n.x.Catalog().Controller(canonical); err != nil {
				return reject(source, l, "controller", "missing, and the role or education provider names "+err.Error())
			} else if r.Controller == "" {
				return reject(source, l, "controller", "missing, and not found in urn:mpass.id:role or urn:mpass.id:educationProviderInfo")
			}
		}
		r.Role = facts.RoleStatus(r.Attributes)
		r.School = n.x.Catalog().School(canonical)
	case mpass.KindUse:
		if r.Purpose = strings.TrimSpace(f.purpose); r.Purpose == "" {
			return reject(source, l, "purpose", "required and non-empty for a use")
		}
		for name := range r.Attributes {
			r.Attributes[name] = mpass.AttributeFacts{} // a use names attributes; it has no values
		}
	}
	if r.ID == "" { // named by its line, keyed: an unkeyed hash would give its values up
		sum := sha256.Sum256(l.text)
		r.ID = "line:" + n.x.LineDigest(sum[:])[:32]
	}
	return parsed{record: r}
}

// truncate keeps a quoted bad value short in a message. Rejections of records quote no
// field of the line (any field may hold a value, an identity code say): this is for
// the command line's own options.
func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	for i := max; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return ""
}
