// Package audit runs the policies over the stored records: it streams the records of a
// scope, evaluates them on every core with the query prepared once, stores every finding
// with a stable id, marks each new or persisting against the previous run of the same
// scope, and keeps the per-SP aggregates the reports are drawn from.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/policy"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
)

// Auditor runs audits.
type Auditor struct {
	DB      *sqlite.DB
	Engine  *policy.Engine
	Logger  *slog.Logger
	Workers int // evaluators; default GOMAXPROCS
	// BatchSize is how many findings a worker hands the writer at once (default 1000).
	BatchSize int
	// Exact evaluates every record on its own, never reusing a decision: the baseline
	// the fast path is measured and tested against.
	Exact bool
	// OnProgress, when set, is told every thousand records judged how many are done and
	// how many stored records the run may judge at most (those outside its scope are
	// counted in total but never judged: a scoped run ends short of it). It is called
	// from the judging workers, so it must be safe for concurrent use.
	OnProgress func(done, total int64)
}

// Run audits the scope with the latest registry and stores the run.
func (a *Auditor) Run(ctx context.Context, scope mpass.Scope) (*mpass.Run, error) {
	run, finish, err := a.Begin(ctx, scope)
	if err != nil {
		return nil, err
	}
	return run, finish(ctx)
}

// Begin validates the scope, prepares the policies against the latest registry and
// stores the run as running; finish judges the records and marks the run finished or
// failed. The service answers with the run's id while finish goes on.
func (a *Auditor) Begin(ctx context.Context, scope mpass.Scope) (run *mpass.Run, finish func(context.Context) error, err error) {
	if err := scope.Validate(); err != nil {
		return nil, nil, err
	}
	reg, err := a.DB.LatestRegistry(ctx)
	if err != nil {
		return nil, nil, err
	}
	if scope.Controller != "" && reg.ControllerName(scope.Controller) == "" {
		// an audit of a controller that is in neither the registry nor any record would
		// report it "audited" with nothing to judge: a typo, most likely
		id, err := a.DB.NameID(ctx, scope.Controller)
		if err != nil {
			return nil, nil, err
		}
		if id == 0 {
			return nil, nil, mpass.Errorf(mpass.ENOTFOUND, "controller %s is in neither the registry nor any record", scope.Controller)
		}
	}
	// catch up after a killed ingest: its rows' ids merged, their roles counted
	unlock := a.DB.LockIngest()
	ids, err := a.DB.Settle(ctx, catchUpRejections)
	unlock()
	if err != nil {
		return nil, nil, err
	}
	if ids.N > 0 {
		a.logger().Warn("id conflicts of an unfinished ingest rejected", "rejected", ids.N, "listed_in_rejections", len(ids.Listed))
	}
	prepared, err := a.Engine.Prepare(ctx, reg)
	if err != nil {
		return nil, nil, err
	}
	run = &mpass.Run{Scope: scope, PolicyDigest: a.Engine.Digest, RegistryVersion: reg.Version}
	if err := a.DB.CreateRun(ctx, run); err != nil {
		return nil, nil, err
	}
	finish = func(ctx context.Context) error {
		if err := a.guardedJudge(ctx, run, reg, prepared); err != nil {
			if ferr := a.DB.FailRun(context.WithoutCancel(ctx), run.ID, err.Error()); ferr != nil {
				err = errors.Join(err, ferr)
			}
			return fmt.Errorf("audit run %d: %w", run.ID, err)
		}
		if err := a.DB.FinishRun(ctx, run); err != nil {
			return err
		}
		a.logger().Info("audit finished", "run", run.ID, "controller", scope.Controller, "from", scope.From, "to", scope.To,
			"fail", run.Summary.Fail, "warn", run.Summary.Warn, "skip", run.Summary.Skip, "pass", run.Summary.Pass)
		return nil
	}
	return run, finish, nil
}

// guardedJudge judges within the policies' run deadline and heap guard. When a limit
// stopped the run, that limit is the error (and the failed run's reason), whichever
// part of the run (an evaluation, a database read) noticed the cancellation first.
func (a *Auditor) guardedJudge(ctx context.Context, run *mpass.Run, reg *mpass.Registry, prepared *policy.Prepared) error {
	gctx, cancel := a.Engine.Guard(ctx)
	defer cancel()
	err := a.judge(gctx, run, reg, prepared)
	if cause := context.Cause(gctx); err != nil && gctx.Err() != nil && errors.Is(cause, policy.ErrLimit) && !errors.Is(err, policy.ErrLimit) {
		err = fmt.Errorf("policy evaluation: %w", cause)
	}
	return err
}

func (a *Auditor) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

// catchUpRejections is how many of an unfinished ingest's id conflicts an audit stores
// as rejections when it settles them (as many as one ingest lists).
const catchUpRejections = 1000

// FindingID is stable across runs for the same record, term, rule and attribute.
// It is the first 12 bytes of SHA-256 over the five, each followed by a zero byte, in
// 24 lower-case hex digits. The input is put together on the stack when it fits (an
// audit makes millions of these).
func FindingID(kind mpass.Kind, record, term, rule, attribute string) string {
	var buf [512]byte
	b := buf[:0]
	for _, s := range [...]string{string(kind), record, term, rule, attribute} {
		b = append(append(b, s...), 0)
	}
	sum := sha256.Sum256(b)
	var out [24]byte
	hex.Encode(out[:], sum[:12])
	return string(out[:])
}
