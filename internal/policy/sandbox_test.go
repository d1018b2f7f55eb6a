package policy_test

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/policy"
	builtin "github.com/opetushallitus/mpass-audit/rego"
)

// policyDir writes the built-in policies and the extra files to a new directory: a
// user's policy set that differs from the built-in one by those files.
func policyDir(t *testing.T, extra map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "policies")
	if err := os.CopyFS(dir, builtin.FS); err != nil {
		t.Fatal(err)
	}
	for name, text := range extra {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestSandboxRefusesBuiltins: a policy (or a policy test) that calls a builtin reaching
// the network, the runtime, the clock, chance or the output fails to load, with the
// file, the line and the builtin; the listener a policy would post to hears nothing.
func TestSandboxRefusesBuiltins(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	for _, tc := range []struct {
		name, file, body, want string
	}{
		{"http.send posts the facts", "terms/leak.rego", `findings contains "x" if {
	http.send({"method": "POST", "url": "` + srv.URL + `", "body": input})
}`, "terms/leak.rego:4: http.send is not allowed: a policy may not reach the network"},
		{"http.send inside a ref", "terms/leak.rego", `findings contains "x" if {
	x := http.send({"method": "GET", "url": "` + srv.URL + `"}).body
	x.y
}`, "terms/leak.rego:4: http.send is not allowed"},
		{"net.lookup_ip_addr", "terms/dns.rego", `findings contains "x" if net.lookup_ip_addr("example.org")`, "terms/dns.rego:3: net.lookup_ip_addr is not allowed"},
		{"net.cidr_expand", "terms/dns.rego", `findings contains x if some x in net.cidr_expand("0.0.0.0/0")`, "net.cidr_expand is not allowed"},
		{"time.now_ns", "terms/clock.rego", `findings contains "late" if time.now_ns() > 0`, "terms/clock.rego:3: time.now_ns is not allowed: a decision may not depend on the clock"},
		{"rand.intn", "terms/dice.rego", `findings contains "x" if rand.intn("k", 6) == 0`, "terms/dice.rego:3: rand.intn is not allowed: a decision may not depend on chance"},
		{"uuid.rfc4122", "terms/dice.rego", `findings contains uuid.rfc4122("k")`, "uuid.rfc4122 is not allowed"},
		{"opa.runtime", "terms/env.rego", `findings contains opa.runtime().env.MPASS_AUDIT_KEY`, "terms/env.rego:3: opa.runtime is not allowed: a policy may not read the runtime's environment"},
		{"print", "terms/out.rego", `findings contains "x" if print(input)`, "terms/out.rego:3: print is not allowed"},
		{"io.jwt.decode_verify", "terms/jwt.rego", `findings contains "x" if io.jwt.decode_verify("a.b.c", {"cert": "k"})[0]`, "io.jwt.decode_verify is not allowed"},
		{"in a policy test", "terms/leak_test.rego", `test_leak if http.send({"method": "GET", "url": "` + srv.URL + `"})`, "terms/leak_test.rego:3: http.send is not allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkg := "package mpass.terms." + strings.TrimSuffix(filepath.Base(tc.file), ".rego") + "\n\n"
			dir := policyDir(t, map[string]string{tc.file: pkg + tc.body + "\n"})
			e, err := policy.Load(context.Background(), dir)
			if err == nil {
				results, terr := e.Test(context.Background()) // what would have run
				t.Fatalf("loaded; tests %d %v", len(results), terr)
			}
			if mpass.ErrorCode(err) != mpass.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant %q", err, tc.want)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the listener got %d requests", n)
	}
}

// bomb is a term that builds a list of 10^8 numbers: gigabytes if nothing stops it.
const bomb = `package mpass.terms.bomb

findings contains {"term": "bomb"} if {
	count([i | some i in numbers.range(1, 100000000)]) > 0
}
`

// TestLimitsStopRunawayPolicies: a policy building a huge value is stopped by the
// evaluation deadline or the heap guard, whichever the limits make come first, with an
// error naming the limit.
func TestLimitsStopRunawayPolicies(t *testing.T) {
	dir := policyDir(t, map[string]string{"terms/bomb.rego": bomb})
	reg := &mpass.Registry{ServiceProviders: []mpass.ServiceProvider{{ID: "sp", Attributes: []string{"urn:mpass.id:uid"}, Valid: mpass.DateRange{From: "2020-01-01"}}}}
	rec := &mpass.Record{Kind: mpass.KindRelease, Time: time.Date(2026, 10, 5, 8, 0, 0, 0, time.UTC), SP: "sp", Controller: "1.2.246.562.10.44444444440",
		Attributes: map[string]mpass.AttributeFacts{"urn:mpass.id:uid": {Values: true}}}
	for _, tc := range []struct {
		name   string
		limits policy.Limits
		want   string
	}{
		{"evaluation deadline", policy.Limits{EvalTimeout: 200 * time.Millisecond}, "one evaluation of data.mpass.main.results ran longer than 200ms"},
		// the deadline is a backstop here: the heap guard must come first
		{"heap guard", policy.Limits{EvalTimeout: 20 * time.Second, HeapGrowth: 64 << 20}, "the audit run grew the heap by"},
		{"run deadline", policy.Limits{EvalTimeout: 20 * time.Second, RunTimeout: 200 * time.Millisecond}, "the audit run ran longer than 200ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e, err := policy.Load(ctx, dir, policy.WithLimits(tc.limits))
			if err != nil {
				t.Fatal(err)
			}
			p, err := e.Prepare(ctx, reg)
			if err != nil {
				t.Fatal(err)
			}
			gctx, cancel := e.Guard(ctx)
			defer cancel()
			_, err = p.Eval(gctx, policy.Input(rec, nil))
			if !errors.Is(err, policy.ErrLimit) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant %q", err, tc.want)
			}
		})
	}
}

// TestPolicyFileLimits: a directory's policy file over the limit, or files over the
// total, are refused; so is a FIFO named like a policy (it would block the load).
func TestPolicyFileLimits(t *testing.T) {
	big := "package mpass.terms.big\n\n# " + strings.Repeat("x", 5<<20) + "\n"
	if _, err := policy.Load(context.Background(), policyDir(t, map[string]string{"terms/big.rego": big})); mpass.ErrorCode(err) != mpass.EINVALID ||
		!strings.Contains(err.Error(), "terms/big.rego: 5242908 bytes, over the limit of 4194304 bytes") {
		t.Errorf("a 5 MiB file: %v", err)
	}
	if _, err := policy.Load(context.Background(), policyDir(t, nil), policy.WithLimits(policy.Limits{TotalBytes: 10_000})); err == nil ||
		!strings.Contains(err.Error(), "exceed 10000 bytes together") {
		t.Errorf("the built-in files under a 10 kB total: %v", err)
	}
	dir := policyDir(t, nil)
	if err := syscall.Mkfifo(filepath.Join(dir, "terms", "pipe.rego"), 0o600); err != nil {
		t.Skip("no FIFO:", err)
	}
	if _, err := policy.Load(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "terms/pipe.rego: not a regular file") {
		t.Errorf("a FIFO: %v", err)
	}
}

// TestOversizedBundle: a bundle file holding a 64 MiB policy file is refused (as a
// gzip stream of zeros it takes some 64 kB on disk).
func TestOversizedBundle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.tar.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	const size = 64 << 20
	err = tw.WriteHeader(&tar.Header{Name: "terms/big.rego", Mode: 0o644, Size: size, Typeflag: tar.TypeReg})
	if err == nil {
		_, err = io.CopyN(tw, zeroReader{}, size)
	}
	if err = errors.Join(err, tw.Close(), zw.Close(), f.Close()); err != nil {
		t.Fatal(err)
	}
	_, err = policy.Load(context.Background(), path)
	if mpass.ErrorCode(err) != mpass.EINVALID || !strings.Contains(err.Error(), "terms/big.rego: 67108864 bytes, over the limit of 4194304 bytes") {
		t.Errorf("err = %v", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestHostilePolicyCorpus: each policy of testdata/hostile/policies, added to the
// built-in set as a term of its own, is refused at load with the error its first line
// names ("# want: ...").
func TestHostilePolicyCorpus(t *testing.T) {
	files, err := filepath.Glob("../../testdata/hostile/policies/*.rego")
	if err != nil || len(files) < 3 {
		t.Fatalf("corpus: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(b), "\n")
			want, ok := strings.CutPrefix(first, "# want: ")
			if !ok {
				t.Fatalf("%s: no '# want:' line", f)
			}
			dir := policyDir(t, map[string]string{"terms/" + filepath.Base(f): string(b)})
			_, err = policy.Load(context.Background(), dir)
			if mpass.ErrorCode(err) != mpass.EINVALID || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v\nwant %q", err, want)
			}
		})
	}
}
