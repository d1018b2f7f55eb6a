// Command mpass-audit audits how pupils' personal data flows through MPASSid: it
// ingests attribute releases and uses, judges them against the agreement terms in Rego
// and reports to each controller's data-protection officer.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// memoryLimit is the Go heap's soft limit unless GOMEMLIMIT says otherwise: a national
// audit then collects garbage more often instead of growing past what OPH's machines
// give it (SQLite's page caches and the binary come on top, about 40 MB). An audit's
// live heap is 80–100 MB at 10M records, so the limit sets how often it collects: at
// 128 MiB a third of its CPU went to the collector (10M diverse records: 69.0 s,
// peak RSS 202 MB; 160 MiB 60.7 s, 209 MB; 192 MiB 55.5 s, 235 MB; 224 MiB 51.2 s,
// 263 MB — over issue 16's 256 MB).
const memoryLimit = 192 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	code := m.Run(ctx, os.Args[1:])
	m.Close()
	os.Exit(code)
}
