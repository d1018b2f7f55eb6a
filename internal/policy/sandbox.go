package policy

import (
	"context"
	"errors"
	"fmt"
	"runtime/metrics"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// A policy given with --policy is code from outside the product that sees every record's
// facts (issue 14): it must not be able to send them anywhere, read the process's
// environment, depend on the clock or chance (an audit must replay the same), or take
// the service down by time or memory. Limits bound the cost; the capabilities below
// bound what a policy may call. Both apply to the built-in policies as well: they keep
// to them, and one rule for every policy set leaves nothing to switch off by mistake.

// Default limits; see Limits.
const (
	DefaultEvalTimeout = 2 * time.Second
	DefaultRunTimeout  = time.Hour
	DefaultHeapGrowth  = 1 << 30 // 1 GiB
	DefaultFileBytes   = 4 << 20 // 4 MiB
	DefaultTotalBytes  = 16 << 20
	// maxFiles bounds the entries of a bundle or the policy files of a directory, so
	// that empty entries cannot make a load long either.
	maxFiles = 10_000
	// heapEvery is how often the heap guard looks at the heap: at the ~1 GB/s a
	// comprehension can allocate, it overshoots by some tens of MB at most.
	heapEvery = 10 * time.Millisecond
)

// Limits bound what the policies may cost. A zero field takes its default.
type Limits struct {
	// EvalTimeout bounds one evaluation of a query: the built-in policies judge a record
	// in well under a millisecond, so a second is already a policy gone wrong.
	EvalTimeout time.Duration
	// RunTimeout bounds one audit run (every record of the scope) or one `policy test`.
	// The national month (10M records) audits in about a minute, --exact in minutes.
	RunTimeout time.Duration
	// HeapGrowth bounds how far the process's heap may grow over its size at the start
	// of a run or an evaluation outside one. The whole audit of 10M records peaks at
	// under 200 MB RSS, so this is only reached by a policy building huge values.
	HeapGrowth uint64
	// FileBytes bounds one policy or data file, TotalBytes all of a directory's policy
	// files or a bundle's entries, decompressed: the largest built-in file is 12 KB.
	FileBytes  int64
	TotalBytes int64
}

func (l Limits) withDefaults() Limits {
	if l.EvalTimeout <= 0 {
		l.EvalTimeout = DefaultEvalTimeout
	}
	if l.RunTimeout <= 0 {
		l.RunTimeout = DefaultRunTimeout
	}
	if l.HeapGrowth == 0 {
		l.HeapGrowth = DefaultHeapGrowth
	}
	if l.FileBytes <= 0 {
		l.FileBytes = DefaultFileBytes
	}
	if l.TotalBytes <= 0 {
		l.TotalBytes = DefaultTotalBytes
	}
	return l
}

// ErrLimit is matched (errors.Is) by every error of a policy that broke a limit.
var ErrLimit = errors.New("policy limit exceeded")

// LimitError says which limit a policy broke. An audit stopped by one is marked failed
// with its text.
type LimitError struct{ msg string }

func (e *LimitError) Error() string        { return e.msg }
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

func limitErrorf(format string, args ...any) error {
	return &LimitError{msg: fmt.Sprintf(format, args...) + " (policy limit)"}
}

// denied says why a builtin is left out of the policies' capabilities, or "" when a
// policy may call it. OPA marks the builtins whose result depends on more than their
// arguments Nondeterministic: http.send, net.lookup_ip_addr, opa.runtime, time.now_ns,
// rand.intn, uuid.rfc4122, the io.jwt builtins that may fetch keys and the JSON schema
// ones that may fetch schemas. All of net.* goes too (nothing a policy judges is an
// address, and net.cidr_expand can list 2^32 addresses), and print, which would write
// facts to the service's output.
func denied(b *ast.Builtin) string {
	switch {
	case b.Name == "http.send" || strings.HasPrefix(b.Name, "net."):
		return "a policy may not reach the network"
	case b.Name == "opa.runtime":
		return "a policy may not read the runtime's environment"
	case b.Name == "time.now_ns":
		return "a decision may not depend on the clock (an audit must replay the same)"
	case b.Name == "rand.intn" || b.Name == "uuid.rfc4122":
		return "a decision may not depend on chance (an audit must replay the same)"
	case b.Name == "print" || b.Name == "internal.print":
		return "a policy may not write to the service's output"
	case b.Nondeterministic:
		return "its result may depend on more than its arguments (keys or schemas fetched over the network, the clock)"
	}
	return ""
}

// sandboxCapabilities is this OPA version's capabilities without the denied builtins
// and with no host allowed for the network.
func sandboxCapabilities() *ast.Capabilities {
	c := ast.CapabilitiesForThisVersion()
	c.Builtins = slices.DeleteFunc(slices.Clone(c.Builtins), func(b *ast.Builtin) bool { return denied(b) != "" })
	c.AllowNet = []string{}
	return c
}

// checkBuiltins names every call in the modules of a builtin the sandbox leaves out,
// with file and line. The compiler would refuse them too (an undefined function), but
// not say why.
func checkBuiltins(modules map[string]*ast.Module) error {
	why := map[string]string{}
	for _, b := range ast.CapabilitiesForThisVersion().Builtins {
		if d := denied(b); d != "" {
			why[b.Name] = d
		}
	}
	var errs []error
	check := func(op ast.Ref, loc *ast.Location) {
		name := op.String()
		if d, ok := why[name]; ok {
			errs = append(errs, fmt.Errorf("%s: %s is not allowed: %s", where(loc), name, d))
		}
	}
	names := make([]string, 0, len(modules))
	for name := range modules {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		ast.WalkExprs(modules[name], func(e *ast.Expr) bool {
			if e.IsCall() {
				check(e.Operator(), e.Location)
			}
			return false
		})
		ast.WalkTerms(modules[name], func(t *ast.Term) bool {
			if call, ok := t.Value.(ast.Call); ok && len(call) > 0 {
				if ref, ok := call[0].Value.(ast.Ref); ok {
					check(ref, t.Location)
				}
			}
			return false
		})
	}
	return errors.Join(errs...)
}

func where(loc *ast.Location) string {
	if loc == nil {
		return "?"
	}
	return fmt.Sprintf("%s:%d", loc.File, loc.Row)
}

// guard returns ctx bounded by timeout (its cause names the limit) and by the heap
// guard: ctx is cancelled when the process's heap grows more than growth over its size
// now. OPA has no memory limit of its own; its evaluation and its range-building
// builtins stop when the context is cancelled. The heap is the process's, so a
// service's other work counts too: the default leaves room for it many times over.
func guard(ctx context.Context, timeout time.Duration, what string, growth uint64) (context.Context, context.CancelFunc) {
	ctx, cancelTimeout := context.WithTimeoutCause(ctx, timeout, limitErrorf("%s ran longer than %s", what, timeout))
	ctx, cancel := context.WithCancelCause(ctx)
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := heapBytes(sample[0])
	go func() {
		t := time.NewTicker(heapEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			metrics.Read(sample)
			if now := heapBytes(sample[0]); now > base+growth {
				cancel(limitErrorf("%s grew the heap by %d MiB, over the limit of %d MiB", what, (now-base)>>20, growth>>20))
				return
			}
		}
	}()
	return ctx, func() { cancel(context.Canceled); cancelTimeout() }
}

func heapBytes(s metrics.Sample) uint64 {
	if s.Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s.Value.Uint64()
}

// stopped is err, or the limit that stopped the evaluation when ctx was cancelled by
// one: OPA itself only says that evaluation was cancelled.
func stopped(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	if cause := context.Cause(ctx); errors.Is(cause, ErrLimit) {
		return cause
	}
	return err
}

// Guard bounds an audit run: ctx gets the run deadline and the heap guard. Every
// evaluation under it has its own deadline too (Prepared.Eval).
func (e *Engine) Guard(ctx context.Context) (context.Context, context.CancelFunc) {
	return guard(ctx, e.limits.RunTimeout, "the audit run", e.limits.HeapGrowth)
}

// Limits are the limits in force.
func (e *Engine) Limits() Limits { return e.limits }
